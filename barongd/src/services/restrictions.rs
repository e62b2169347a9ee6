//! Restrictions (whitelist, maintenance, blacklist, blocklogin) and whitelink tokens
//! (identity-and-authz §7.7, §8 step 1; resource-admin-kyc §5).
//!
//! The authz gateway calls [`Restrictions::check`] on every request, so it reads an in-memory
//! snapshot of the enabled restrictions (CIDRs parsed once) and never the database. Every change,
//! made by any daemon on the same database, appends a `changes` row; [`refresh_loop`] polls the
//! newest change id every 500 ms and reloads when it moved, so all daemons agree within 1 s.

pub mod geo;
pub mod rules;
#[cfg(test)]
mod tests;

use std::sync::{Arc, RwLock};
use std::time::Duration;

use common::admin::{RestrictionInfo, Whitelink};
use common::config::Config;
use sha2::{Digest, Sha256};

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::store::DynStore;
use crate::store::restrictions::{NewRestriction, Redeemed, RestrictionRow};
use geo::GeoLookup;
use rules::{CATEGORIES, Matcher, SCOPES, STATES, Snapshot};

/// How often the change feed is polled.
const POLL: Duration = Duration::from_millis(500);
/// A full reload this often anyway: on PostgreSQL a change row can commit after a newer id of
/// another kind was already seen, and must still be picked up.
const RELOAD_EVERY: u32 = 20;

/// Enabled restrictions, cached in memory, and the GeoIP database when one is configured.
pub struct Restrictions {
    snapshot: RwLock<Arc<Snapshot>>,
    /// The newest `changes` id seen when the snapshot was loaded.
    seen: RwLock<i64>,
    geo: Option<Box<dyn GeoLookup>>,
}

impl Restrictions {
    /// Loads the enabled restrictions and opens `maxminddb_path` (a missing or unreadable file
    /// stops start-up: silently ignoring country rules would be worse).
    pub async fn load(config: &Config, store: &DynStore) -> Result<Self, String> {
        let geo: Option<Box<dyn GeoLookup>> = if config.maxminddb_path.is_empty() {
            tracing::info!("no GeoIP database (maxminddb_path): continent and country restrictions are inactive");
            None
        } else {
            Some(Box::new(geo::MaxMind::open(&config.maxminddb_path, &config.geoip_lang)?))
        };
        let r = Restrictions::with_geo(geo);
        r.reload(store).await.map_err(|e| format!("loading restrictions: {e}"))?;
        Ok(r)
    }

    /// An empty cache with the given GeoIP lookup (tests use a fake).
    pub fn with_geo(geo: Option<Box<dyn GeoLookup>>) -> Self {
        Restrictions { snapshot: RwLock::new(Arc::new(Snapshot::default())), seen: RwLock::new(0), geo }
    }

    /// §8 step 1 for the gateway: `path` without its leading slash, `ip` the client address.
    /// `Err` carries the restriction's status code and `authz.restrict.<category>`.
    pub async fn check(&self, _app: &App, path: &str, ip: &str) -> ServiceResult<()> {
        self.decide(path, ip)
    }

    /// The synchronous core of [`check`](Self::check).
    pub fn decide(&self, path: &str, ip: &str) -> ServiceResult<()> {
        self.current().check(path, ip, self.geo.as_deref())
    }

    /// The country `ip` is in, by name, for `user_ip_country`; `None` without a GeoIP database.
    pub fn country_name(&self, ip: &str) -> Option<String> {
        let ip = ip.parse().ok()?;
        self.geo.as_ref()?.locate(ip)?.country_name
    }

    fn current(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the snapshot with the given rows (the version read before them).
    pub fn install(&self, rows: &[RestrictionRow], version: i64) {
        let (snap, skipped) = Snapshot::build(rows);
        if !skipped.is_empty() {
            tracing::warn!(ids = ?skipped, "restrictions with an unusable category, scope or value are ignored");
        }
        if snap.uses_geo() && self.geo.is_none() {
            tracing::debug!("continent/country restrictions present but no GeoIP database: they never match");
        }
        match self.snapshot.write() {
            Ok(mut s) => *s = Arc::new(snap),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(snap),
        }
        match self.seen.write() {
            Ok(mut s) => *s = version,
            Err(poisoned) => *poisoned.into_inner() = version,
        }
    }

    /// Reads the change id first, then the rows: a change between the two is seen next poll.
    pub async fn reload(&self, store: &DynStore) -> Result<(), crate::store::StoreError> {
        let version = store.latest_change().await?;
        let rows = store.restrictions().await?;
        self.install(&rows, version);
        Ok(())
    }

    fn seen(&self) -> i64 {
        self.seen.read().map(|s| *s).unwrap_or_else(|p| *p.into_inner())
    }

    /// Reloads when the change feed moved (or `force`); returns whether it reloaded.
    pub async fn refresh(&self, store: &DynStore, force: bool) -> Result<bool, crate::store::StoreError> {
        if !force && store.latest_change().await? == self.seen() {
            return Ok(false);
        }
        self.reload(store).await?;
        Ok(true)
    }

    /// Whether this daemon currently enforces restriction `id`.
    pub fn is_active(&self, id: i64) -> bool {
        self.current().contains(id)
    }

    fn geo(&self) -> Option<&dyn GeoLookup> {
        self.geo.as_deref()
    }
}

/// Keeps `app.restrictions` in step with the database until `stop` turns true.
pub async fn refresh_loop(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        ticks = (ticks + 1) % RELOAD_EVERY;
        if let Err(e) = app.restrictions.refresh(&app.store, ticks == 0).await {
            tracing::warn!(error = %e, "reloading restrictions failed; keeping the previous ones");
        }
    }
}

fn info(app: &App, r: RestrictionRow) -> RestrictionInfo {
    RestrictionInfo {
        active: app.restrictions.is_active(r.id),
        id: r.id,
        category: r.category,
        scope: r.scope,
        value: r.value,
        code: r.code.unwrap_or(0),
        state: r.state,
        created_at: iso8601(r.created_at),
        updated_at: iso8601(r.updated_at),
    }
}

/// Makes this daemon's own change visible at once (the others follow within 1 s).
async fn reload_now(app: &App) -> ServiceResult<()> {
    app.restrictions.reload(&app.store).await.map_err(ServiceError::from)
}

pub async fn list(app: &App) -> ServiceResult<Vec<RestrictionInfo>> {
    let rows = app.store.restrictions().await?;
    Ok(rows.into_iter().map(|r| info(app, r)).collect())
}

/// What `restriction add` asks for.
pub struct NewRule {
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: Option<i64>,
    pub state: Option<String>,
}

/// Validates a restriction; returns the value in canonical form (`::1`, `10.0.0.0/8`).
pub fn validate(rule: &NewRule) -> ServiceResult<String> {
    let mut errors = Vec::new();
    if !CATEGORIES.contains(&rule.category.as_str()) {
        errors.push("admin.restriction.invalid_category".to_string());
    }
    if !SCOPES.contains(&rule.scope.as_str()) {
        errors.push("admin.restriction.invalid_scope".to_string());
    }
    if let Some(s) = &rule.state
        && !STATES.contains(&s.as_str())
    {
        errors.push("admin.restriction.invalid_state".to_string());
    }
    if rule.code.is_some_and(|c| !(100..=999).contains(&c)) {
        errors.push("admin.restriction.invalid_code".to_string());
    }
    let value = rule.value.trim();
    let canonical = match rule.scope.as_str() {
        "ip" => value.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string()),
        "ip_subnet" => rules::parse_subnet(value).map(|n| n.to_string()),
        _ if value.is_empty() || value.chars().count() > 64 => None,
        _ => Some(value.to_string()),
    };
    match canonical {
        Some(v) if errors.is_empty() => Ok(v),
        Some(_) => Err(ServiceError::keys(422, errors)),
        None => {
            errors.push("value.invalid".to_string());
            Err(ServiceError::keys(422, errors))
        }
    }
}

fn taken(e: crate::store::StoreError) -> ServiceError {
    match e {
        crate::store::StoreError::Unique(_) => ServiceError::unprocessable("value.taken"),
        e => e.into(),
    }
}

pub async fn add(app: &App, rule: NewRule) -> ServiceResult<RestrictionInfo> {
    let value = validate(&rule)?;
    let state = rule.state.as_deref().unwrap_or("enabled");
    // Whitelist entries always get the default code (Barong resets it).
    let code = match rule.code {
        Some(c) if rule.category != "whitelist" => c,
        _ => rules::default_code(&rule.category, &rule.scope),
    };
    let new = NewRestriction {
        category: &rule.category,
        scope: &rule.scope,
        value: &value,
        code,
        state,
        now: app.clock.now(),
    };
    let row = app.store.insert_restriction(&new).await.map_err(taken)?;
    reload_now(app).await?;
    end_blocked_sessions(app, &row).await?;
    Ok(info(app, row))
}

pub async fn set_state(app: &App, id: i64, state: &str) -> ServiceResult<RestrictionInfo> {
    if !STATES.contains(&state) {
        return Err(ServiceError::unprocessable("admin.restriction.invalid_state"));
    }
    let row = app.store.set_restriction_state(id, state, app.clock.now()).await?;
    let row = row.ok_or_else(|| ServiceError::new(404, "admin.restriction.doesnt_exist"))?;
    reload_now(app).await?;
    end_blocked_sessions(app, &row).await?;
    Ok(info(app, row))
}

pub async fn remove(app: &App, id: i64) -> ServiceResult<RestrictionInfo> {
    let rows = app.store.restrictions().await?;
    let row = rows.into_iter().find(|r| r.id == id);
    let row = row.ok_or_else(|| ServiceError::new(404, "admin.restriction.doesnt_exist"))?;
    if !app.store.delete_restriction(id, app.clock.now()).await? {
        return Err(ServiceError::new(404, "admin.restriction.doesnt_exist"));
    }
    reload_now(app).await?;
    Ok(info(app, row))
}

/// An enabled blocklogin restriction ends the sessions of the clients it matches (by the IP they
/// logged in from) — not every session of every user, as Barong's `delete_matched` did (§11.4):
/// blocking logins from one country must not log out the rest of the world.
async fn end_blocked_sessions(app: &App, row: &RestrictionRow) -> ServiceResult<()> {
    if row.category != "blocklogin" || row.state != "enabled" {
        return Ok(());
    }
    let Some(matcher) = Matcher::parse(&row.scope, &row.value) else { return Ok(()) };
    let mut ended = 0u64;
    for (id_hash, ip) in app.store.session_ips().await? {
        if Snapshot::matches(&matcher, &ip, app.restrictions.geo()) && app.store.delete_session(&id_hash).await? {
            ended += 1;
        }
    }
    tracing::info!(restriction = row.id, sessions = ended, "blocklogin enabled: matching sessions ended");
    Ok(())
}

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `restriction whitelink`: a one-time token valid for 1–30 days or hours. Only its hash is
/// stored; the token itself is returned once.
pub async fn create_whitelink(app: &App, days: Option<i64>, hours: Option<i64>) -> ServiceResult<Whitelink> {
    let seconds = match (days, hours) {
        (Some(_), Some(_)) => return Err(ServiceError::unprocessable("admin.restriction.invalid_expire")),
        (Some(n), None) if (1..=30).contains(&n) => n * 86_400,
        (None, Some(n)) if (1..=30).contains(&n) => n * 3_600,
        (None, None) => 86_400,
        _ => return Err(ServiceError::unprocessable("admin.restriction.invalid_expire")),
    };
    let token = hex::encode(rand::random::<[u8; 32]>());
    let now = app.clock.now();
    app.store.insert_whitelink(&hash(&token), now + seconds, now).await?;
    Ok(Whitelink { token, expires_at: iso8601(now + seconds) })
}

/// `POST identity/users/access`: whitelists the caller's IP (IPv4 or IPv6) and consumes the
/// token (Barong left it reusable until expiry, §11.10).
pub async fn redeem_whitelink(app: &App, token: &str, client_ip: &str) -> ServiceResult<()> {
    let ip: std::net::IpAddr = client_ip.trim().parse().map_err(|_| ServiceError::unprocessable("value.invalid"))?;
    let value = match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4).to_string(),
        v4 => v4.to_string(),
    };
    let new = NewRestriction {
        category: "whitelist",
        scope: "ip",
        value: &value,
        code: rules::default_code("whitelist", "ip"),
        state: "enabled",
        now: app.clock.now(),
    };
    match app.store.redeem_whitelink(&hash(token), &new).await? {
        Redeemed::Created(_) => reload_now(app).await,
        Redeemed::InvalidToken => Err(ServiceError::unprocessable("identity.user.access.invalid_token")),
        Redeemed::Taken => Err(ServiceError::unprocessable("value.taken")),
    }
}
