//! The parsed, in-memory form of the enabled restrictions and the gateway's first check: pure
//! functions over a snapshot, so they are tested without a database or a GeoIP file.

use std::net::IpAddr;

use ipnet::IpNet;

use super::geo::{GeoLookup, Location};
use crate::model::{RestrictionCategory, RestrictionScope, RestrictionState};
use crate::services::error::{ServiceError, ServiceResult};
use crate::store::restrictions::RestrictionRow;

/// The path Barong never restricts, so a whitelisted-out operator can always redeem a whitelink.
pub const ACCESS_PATH: &str = "api/v2/barong/identity/users/access";

/// Barong's default code for a restriction (whitelist entries always get it).
pub fn default_code(category: RestrictionCategory, scope: RestrictionScope) -> i64 {
    use RestrictionScope::{Continent, Country, IpSubnet};
    match (category, scope) {
        (RestrictionCategory::Maintenance, _) => 471,
        (_, Continent | Country) => 423,
        (_, IpSubnet) => 403,
        _ => 401,
    }
}

/// Login paths a blocklogin restriction denies: the sessions endpoint and everything under it
/// (`…/sessions/auth0`), in both URL forms. Barong matched the exact path only
/// (docs/barong-weaknesses-fixed.md#w-blocklogin-subpaths).
pub fn is_login_path(path: &str) -> bool {
    ["api/v2/barong/identity/sessions", "api/v2/identity/sessions"]
        .iter()
        .any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

#[derive(Debug, Clone, PartialEq)]
pub enum Matcher {
    All,
    Ip(IpAddr),
    Subnet(IpNet),
    Continent(String),
    Country(String),
}

impl Matcher {
    /// Parses a stored restriction; `None` for a value this build cannot use (logged by the caller).
    pub fn parse(scope: RestrictionScope, value: &str) -> Option<Matcher> {
        let value = value.trim();
        match scope {
            RestrictionScope::All => Some(Matcher::All),
            RestrictionScope::Ip => value.parse().ok().map(Matcher::Ip),
            RestrictionScope::IpSubnet => parse_subnet(value).map(Matcher::Subnet),
            RestrictionScope::Continent if !value.is_empty() => Some(Matcher::Continent(value.to_lowercase())),
            RestrictionScope::Country if !value.is_empty() => Some(Matcher::Country(value.to_lowercase())),
            _ => None,
        }
    }

    fn needs_geo(&self) -> bool {
        matches!(self, Matcher::Continent(_) | Matcher::Country(_))
    }

    fn matches(&self, ip: Option<IpAddr>, raw_ip: &str, geo: &mut Geo<'_>) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Ip(want) => ip.map_or(raw_ip == want.to_string(), |ip| canonical(ip) == *want),
            Matcher::Subnet(net) => ip.is_some_and(|ip| net.contains(&canonical(ip))),
            Matcher::Continent(v) => geo.get(ip).is_some_and(|l| l.continent.contains(v)),
            Matcher::Country(v) => geo.get(ip).is_some_and(|l| l.country.contains(v)),
        }
    }
}

/// A CIDR (`10.0.0.0/8`, `2001:db8::/32`), host bits cleared; a bare address is refused.
pub fn parse_subnet(value: &str) -> Option<IpNet> {
    value.contains('/').then(|| value.parse::<IpNet>().ok()).flatten().map(|n| n.trunc())
}

/// IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`, as a dual-stack listener reports them) compare
/// as the IPv4 address they carry.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's location, looked up at most once per decision and only when a rule needs it.
struct Geo<'a> {
    lookup: Option<&'a dyn GeoLookup>,
    done: bool,
    found: Option<Location>,
}

impl Geo<'_> {
    fn get(&mut self, ip: Option<IpAddr>) -> Option<&Location> {
        if !self.done {
            self.done = true;
            self.found = match (self.lookup, ip) {
                (Some(g), Some(ip)) => g.locate(canonical(ip)),
                _ => None,
            };
        }
        self.found.as_ref()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: i64,
    pub matcher: Matcher,
    pub code: u16,
}

/// The enabled restrictions, per category (in `RestrictionCategory::ALL` order), each list in
/// scope order.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub rules: [Vec<Rule>; 4],
}

impl Snapshot {
    /// Keeps the enabled rows this build understands; the others are returned for a log line.
    pub fn build(rows: &[RestrictionRow]) -> (Snapshot, Vec<i64>) {
        let mut snap = Snapshot::default();
        let mut skipped = Vec::new();
        for r in rows.iter().filter(|r| RestrictionState::parse(&r.state) == Some(RestrictionState::Enabled)) {
            let category = RestrictionCategory::parse(&r.category);
            let scope = RestrictionScope::parse(&r.scope);
            let (Some(category), Some(scope)) = (category, scope) else {
                skipped.push(r.id);
                continue;
            };
            let Some(matcher) = Matcher::parse(scope, &r.value) else {
                skipped.push(r.id);
                continue;
            };
            let cat = RestrictionCategory::ALL.iter().position(|c| *c == category).unwrap_or(0);
            let code = if category == RestrictionCategory::Whitelist { None } else { r.code };
            let code = code.unwrap_or_else(|| default_code(category, scope));
            let code = u16::try_from(code).ok().filter(|c| (100..=999).contains(c)).unwrap_or(401);
            snap.rules[cat].push(Rule { id: r.id, matcher, code });
        }
        for list in &mut snap.rules {
            list.sort_by_key(|r| (scope_rank(&r.matcher), r.id));
        }
        (snap, skipped)
    }

    pub fn is_empty(&self) -> bool {
        self.rules.iter().all(Vec::is_empty)
    }

    pub fn contains(&self, id: i64) -> bool {
        self.rules.iter().flatten().any(|r| r.id == id)
    }

    pub fn uses_geo(&self) -> bool {
        self.rules.iter().flatten().any(|r| r.matcher.needs_geo())
    }

    /// The gateway's first check: whitelist → maintenance → blacklist → blocklogin, first match
    /// per category (docs/compatibility.md#restriction-order).
    pub fn check(&self, path: &str, ip: &str, geo: Option<&dyn GeoLookup>) -> ServiceResult<()> {
        if self.is_empty() || path == ACCESS_PATH {
            return Ok(());
        }
        let parsed: Option<IpAddr> = ip.trim().parse().ok();
        let mut geo = Geo { lookup: geo, done: false, found: None };
        for (cat, rules) in self.rules.iter().enumerate() {
            let Some(rule) = rules.iter().find(|r| r.matcher.matches(parsed, ip, &mut geo)) else { continue };
            match RestrictionCategory::ALL[cat] {
                RestrictionCategory::Whitelist => return Ok(()),
                RestrictionCategory::Maintenance => {
                    return Err(ServiceError::restricted(rule.code, "authz.restrict.maintenance"));
                }
                RestrictionCategory::Blacklist => {
                    return Err(ServiceError::restricted(rule.code, "authz.restrict.blacklist"));
                }
                RestrictionCategory::Blocklogin if is_login_path(path) => {
                    return Err(ServiceError::restricted(rule.code, "authz.restrict.blocklogin"));
                }
                RestrictionCategory::Blocklogin => {}
            }
        }
        Ok(())
    }

    /// Whether a client at `ip` matches `matcher` (used to end sessions on blocklogin).
    pub fn matches(matcher: &Matcher, ip: &str, geo: Option<&dyn GeoLookup>) -> bool {
        let parsed: Option<IpAddr> = ip.trim().parse().ok();
        matcher.matches(parsed, ip, &mut Geo { lookup: geo, done: false, found: None })
    }
}

/// Barong's scope order: its code's, continent before country, though its documentation said
/// otherwise (docs/compatibility.md#restriction-order).
fn scope_rank(m: &Matcher) -> u8 {
    match m {
        Matcher::All => 0,
        Matcher::Ip(_) => 1,
        Matcher::Subnet(_) => 2,
        Matcher::Continent(_) => 3,
        Matcher::Country(_) => 4,
    }
}
