use std::net::IpAddr;
use std::sync::Arc;

use super::cache::Restrictions;
use super::geo::{GeoLookup, Location};
use super::rules::{Snapshot, default_code, is_login_path};
use crate::model::{RestrictionCategory, RestrictionScope};
use crate::services::error::{Refusal, ServiceError};
use crate::store::restrictions::RestrictionRow;

/// 203.0.113.0/24 is in Japan (Asia), 198.51.100.0/24 in the US (North America).
struct FakeGeo;

impl GeoLookup for FakeGeo {
    fn locate(&self, ip: IpAddr) -> Option<Location> {
        let s = ip.to_string();
        let (country, continent) = if s.starts_with("203.0.113.") {
            (["jp", "japan"], ["as", "asia"])
        } else if s.starts_with("198.51.100.") {
            (["us", "united states"], ["na", "north america"])
        } else {
            return None;
        };
        Some(Location {
            country: country.iter().map(|s| s.to_string()).collect(),
            continent: continent.iter().map(|s| s.to_string()).collect(),
            country_name: Some(country[1].to_string()),
        })
    }
}

fn row(id: i64, category: &str, scope: &str, value: &str, code: Option<i64>) -> RestrictionRow {
    RestrictionRow {
        id,
        category: category.into(),
        scope: scope.into(),
        value: value.into(),
        code,
        state: "enabled".into(),
        created_at: 0,
        updated_at: 0,
    }
}

fn cache(rows: &[RestrictionRow]) -> Restrictions {
    let r = Restrictions::with_geo(Some(Box::new(FakeGeo)));
    r.install(rows, 1);
    r
}

fn denial(r: &Restrictions, path: &str, ip: &str) -> Option<(u16, String)> {
    match r.check(path, ip) {
        Ok(()) => None,
        Err(ServiceError::Refused { why: Refusal::Restricted(status), keys }) => Some((status, keys.join(","))),
        Err(e) => panic!("internal: {e}"),
    }
}

const API: &str = "api/v2/peatio/market/orders";
const LOGIN: &str = "api/v2/barong/identity/sessions";

#[test]
fn no_restrictions_allow_everything() {
    let r = cache(&[]);
    assert_eq!(denial(&r, API, "1.2.3.4"), None);
    assert_eq!(denial(&r, LOGIN, "not an ip"), None);
}

#[test]
fn maintenance_and_blacklist_answer_with_their_codes() {
    let r = cache(&[row(1, "maintenance", "all", "all", Some(471))]);
    assert_eq!(denial(&r, API, "1.2.3.4"), Some((471, "authz.restrict.maintenance".into())));
    let r = cache(&[row(1, "blacklist", "ip", "1.2.3.4", Some(401))]);
    assert_eq!(denial(&r, API, "1.2.3.4"), Some((401, "authz.restrict.blacklist".into())));
    assert_eq!(denial(&r, API, "1.2.3.5"), None);
    let r = cache(&[row(1, "blacklist", "ip_subnet", "10.0.0.0/8", Some(418))]);
    assert_eq!(denial(&r, API, "10.9.8.7"), Some((418, "authz.restrict.blacklist".into())));
}

#[test]
fn categories_run_in_order_and_whitelist_skips_the_rest() {
    let rows = [
        row(1, "maintenance", "all", "all", Some(471)),
        row(2, "blacklist", "ip", "1.2.3.4", Some(401)),
        row(3, "whitelist", "ip", "9.9.9.9", Some(555)),
    ];
    let r = cache(&rows);
    assert_eq!(denial(&r, API, "9.9.9.9"), None, "whitelisted");
    assert_eq!(denial(&r, API, "1.2.3.4").map(|d| d.1), Some("authz.restrict.maintenance".into()));
}

#[test]
fn ipv6_addresses_and_subnets_match() {
    let rows =
        [row(1, "blacklist", "ip", "2001:db8::1", None), row(2, "blacklist", "ip_subnet", "2001:db9::/32", None)];
    let r = cache(&rows);
    assert_eq!(denial(&r, API, "2001:0db8:0000::0001"), Some((401, "authz.restrict.blacklist".into())));
    assert_eq!(denial(&r, API, "2001:db9:1::5"), Some((403, "authz.restrict.blacklist".into())));
    assert_eq!(denial(&r, API, "2001:dba::1"), None);
    // IPv4-mapped IPv6, as a dual-stack listener reports IPv4 clients.
    let r = cache(&[row(1, "blacklist", "ip_subnet", "10.0.0.0/8", None)]);
    assert_eq!(denial(&r, API, "::ffff:10.1.2.3").map(|d| d.0), Some(403));
}

#[test]
fn countries_and_continents_match_by_code_or_name_in_any_case() {
    for value in ["JP", "jp", "Japan", "JAPAN"] {
        let r = cache(&[row(1, "blacklist", "country", value, None)]);
        assert_eq!(denial(&r, API, "203.0.113.7"), Some((423, "authz.restrict.blacklist".into())), "{value}");
        assert_eq!(denial(&r, API, "198.51.100.7"), None, "{value}");
    }
    for value in ["NA", "north america", "North America"] {
        let r = cache(&[row(1, "maintenance", "continent", value, None)]);
        assert_eq!(denial(&r, API, "198.51.100.7").map(|d| d.0), Some(471), "{value}");
    }
    let r = cache(&[row(1, "blacklist", "country", "US", None)]);
    assert_eq!(denial(&r, API, "192.0.2.1"), None, "unknown location never matches");
}

#[test]
fn without_a_geoip_database_country_rules_never_match() {
    let r = Restrictions::with_geo(None);
    r.install(&[row(1, "blacklist", "country", "JP", None), row(2, "blacklist", "ip", "1.1.1.1", None)], 1);
    assert_eq!(denial(&r, API, "203.0.113.7"), None);
    assert!(denial(&r, API, "1.1.1.1").is_some());
}

#[test]
fn blocklogin_denies_the_sessions_path_and_below_only() {
    let r = cache(&[row(1, "blocklogin", "ip", "1.2.3.4", None)]);
    assert_eq!(denial(&r, LOGIN, "1.2.3.4"), Some((401, "authz.restrict.blocklogin".into())));
    assert_eq!(denial(&r, "api/v2/barong/identity/sessions/auth0", "1.2.3.4").map(|d| d.0), Some(401));
    assert_eq!(denial(&r, "api/v2/barong/identity/sessionsX", "1.2.3.4"), None);
    assert_eq!(denial(&r, API, "1.2.3.4"), None);
    assert_eq!(denial(&r, LOGIN, "1.2.3.5"), None);
    assert!(is_login_path("api/v2/identity/sessions"));
    assert!(!is_login_path("api/v2/barong/identity/users"));
}

#[test]
fn the_whitelink_path_is_never_restricted() {
    let r = cache(&[row(1, "maintenance", "all", "all", None)]);
    assert_eq!(denial(&r, "api/v2/barong/identity/users/access", "1.2.3.4"), None);
    assert!(denial(&r, "api/v2/barong/identity/users/accessX", "1.2.3.4").is_some());
}

#[test]
fn within_a_category_the_first_scope_in_order_decides_the_code() {
    let rows = [
        row(1, "blacklist", "country", "JP", Some(451)),
        row(2, "blacklist", "ip_subnet", "203.0.113.0/24", Some(403)),
        row(3, "blacklist", "ip", "203.0.113.7", Some(409)),
    ];
    let r = cache(&rows);
    assert_eq!(denial(&r, API, "203.0.113.7").map(|d| d.0), Some(409));
    assert_eq!(denial(&r, API, "203.0.113.8").map(|d| d.0), Some(403));
}

#[test]
fn disabled_and_unusable_rows_are_ignored_and_whitelist_codes_reset() {
    let mut off = row(1, "maintenance", "all", "all", None);
    off.state = "disabled".into();
    let rows = [off, row(2, "blacklist", "ip", "not-an-ip", None), row(3, "nonsense", "all", "all", None)];
    let r = cache(&rows);
    assert_eq!(denial(&r, API, "1.2.3.4"), None);
    assert!(!r.is_active(1) && !r.is_active(2));
    let (snap, skipped) = Snapshot::build(&[row(4, "whitelist", "ip", "1.1.1.1", Some(499))]);
    assert!(skipped.is_empty());
    assert_eq!(snap.rules[0][0].code, 401);
}

#[test]
fn default_codes_follow_barong() {
    let code = |category: &str, scope: &str| {
        let category = RestrictionCategory::parse(category).expect("category");
        default_code(category, RestrictionScope::parse(scope).expect("scope"))
    };
    assert_eq!(code("maintenance", "ip"), 471);
    assert_eq!(code("blacklist", "continent"), 423);
    assert_eq!(code("blocklogin", "country"), 423);
    assert_eq!(code("blacklist", "ip_subnet"), 403);
    assert_eq!(code("blacklist", "ip"), 401);
    assert_eq!(code("whitelist", "all"), 401);
}

#[test]
fn a_new_snapshot_replaces_the_old_one_for_readers() {
    let r = Arc::new(cache(&[row(1, "maintenance", "all", "all", None)]));
    assert!(r.is_active(1));
    assert!(r.check(API, "1.2.3.4").is_err());
    r.install(&[], 2);
    assert!(r.check(API, "1.2.3.4").is_ok());
    assert_eq!(r.seen(), 2);
}
