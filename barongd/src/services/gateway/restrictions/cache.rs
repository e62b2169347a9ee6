//! Restrictions (whitelist, maintenance, blacklist, blocklogin), the gateway's first check, and
//! whitelink tokens (`identity/users/access`).
//!
//! The authz gateway calls [`Restrictions::check`] on every request, so it reads an in-memory
//! snapshot of the enabled restrictions (CIDRs parsed once) and never the database. Every change,
//! made by any daemon on the same database, appends a `changes` row; [`super::refresh::refresh_loop`] polls the
//! newest change id every 500 ms and reloads when it moved, so all daemons agree within 1 s.

use std::sync::{Arc, RwLock};

use crate::config::Config;

use crate::services::error::ServiceResult;
use crate::services::gateway::restrictions::geo::{self, GeoLookup};
use crate::services::gateway::restrictions::rules::Snapshot;
use crate::store::DynStore;
use crate::store::restrictions::RestrictionRow;

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

    /// The gateway's first check: `path` without its leading slash, `ip` the client address.
    /// `Err` carries the restriction's status code and `authz.restrict.<category>`.
    pub fn check(&self, path: &str, ip: &str) -> ServiceResult<()> {
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

    pub(crate) fn seen(&self) -> i64 {
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

    pub fn geo(&self) -> Option<&dyn GeoLookup> {
        self.geo.as_deref()
    }
}
