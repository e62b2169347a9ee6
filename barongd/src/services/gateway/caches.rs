//! The authz gateway's decision (`ANY /api/v2/auth/*path`): rules, cookie and API-key flows,
//! permissions, and the upstream JWT, with in-memory caches kept fresh from the change feed.
//!
//! The database is the truth. Sessions, users, service accounts, API keys, permissions and issued
//! JWTs are cached here; triggers write every relevant change into `changes` (migration 0004),
//! and `poller::spawn_poller` reads it every `change_feed_poll_ms` (100 ms) on every daemon, so a
//! logout, ban, role change, key or permission edit made anywhere is seen everywhere well within a
//! second; the daemon that made the change reads it before it answers (`Authz::catch_up`).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use crate::config::Config;
use crate::services::gateway::amr::Amr;

use crate::model::{HolderKind, KeyState};
use crate::services::gateway::audit_budget::AuditBudget;
use crate::services::gateway::nonce_batch::NonceBatcher;
use crate::services::gateway::rules::{Rules, RulesFile};
pub(crate) use crate::services::gateway::session_entry::{CachedSession, SessionKey};
use crate::services::seal::Sealer;
use crate::services::telemetry::record;
use crate::services::tokens::Tokens;
use crate::store::authz::{ChangeRow, PermissionRow};
use crate::store::service_accounts::ServiceAccountRow;
use crate::store::{DynStore, StoreResult, UserRow};

/// Above this many entries a cache is emptied rather than grown (a flood of distinct sessions
/// must not exhaust memory; the database still answers).
const MAX_ENTRIES: usize = 200_000;
/// The rendered `users/me` bodies are about a kilobyte each, so fewer of them are kept: the
/// frontend's active users, not every account ever seen.
const MAX_RENDERED: usize = 20_000;

/// A user as the upstream JWT's claims need it: the row alone (`referral_id` is the referrer's
/// numeric id, as Barong's claim, so no second lookup).
pub(crate) struct CachedUser {
    pub row: UserRow,
}

pub(crate) struct CachedKey {
    pub kid: String,
    pub holder_type: HolderKind,
    pub holder_id: i64,
    pub state: KeyState,
    /// `None` for a key imported from Barong without its secret: nothing can be signed with it.
    pub secret: Option<Vec<u8>>,
}

/// Whose claims a cached JWT carries, so a change to that account drops it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Subject {
    User(i64),
    ServiceAccount(i64),
}

/// A user's `UserWithFullInfo` as `GET users/me` answers it (JSON, PII opened and masked), so a
/// page load costs no database read, no decryption and no serialisation. Dropped by any change
/// to what it shows: the user row (`user`) and its labels, phones, profiles and data storages
/// (`user_info`, migration 0014).
pub(crate) struct RenderedMe {
    pub body: bytes::Bytes,
}

pub(crate) struct CachedJwt {
    pub token: Arc<str>,
    pub reuse_until: i64,
}

#[derive(Default)]
pub(crate) struct Caches {
    pub sessions: RwLock<HashMap<SessionKey, Arc<CachedSession>>>,
    pub users: RwLock<HashMap<i64, Arc<CachedUser>>>,
    pub service_accounts: RwLock<HashMap<i64, Arc<ServiceAccountRow>>>,
    pub keys: RwLock<HashMap<String, Arc<CachedKey>>>,
    pub permissions: RwLock<Option<Arc<Vec<PermissionRow>>>>,
    /// The upstream JWT of each account, reused for `authz_jwt_reuse_seconds`.
    /// Keyed by account and, for sessions, the login's `amr` (API keys: `None`).
    pub jwts: RwLock<HashMap<(Subject, Option<Amr>), CachedJwt>>,
    /// `users/me` bodies by user id.
    pub me: RwLock<HashMap<i64, Arc<RenderedMe>>>,
}

/// (kid, nonce) pairs, and the same with their expiry in insertion (= expiry) order.
type UsedNonces = (HashSet<(String, i64)>, std::collections::VecDeque<(i64, String, i64)>);

/// A cache read, counted as a hit or a miss.
pub(crate) fn lookup<K, Q, V>(cache: &'static str, map: &RwLock<HashMap<K, Arc<V>>>, key: &Q) -> Option<Arc<V>>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    let found = map.read().ok().and_then(|m| m.get(key).cloned());
    record::cache_lookup(cache, found.is_some());
    found
}

/// A map that emptied out after a burst gives its table back.
fn shrink<K: std::hash::Hash + Eq, V>(m: &mut HashMap<K, V>) {
    if m.capacity() > 64 && m.len() < m.capacity() / 4 {
        m.shrink_to_fit();
    }
}

fn forget_expired_nonces(
    seen: &mut HashSet<(String, i64)>,
    queue: &mut std::collections::VecDeque<(i64, String, i64)>,
    now: i64,
) {
    while queue.front().is_some_and(|(exp, _, _)| *exp <= now) {
        if let Some((_, k, n)) = queue.pop_front() {
            seen.remove(&(k, n));
        }
    }
    if queue.is_empty() && seen.capacity() > 1024 {
        // After a burst the table keeps its size; start small again.
        *seen = HashSet::new();
        *queue = std::collections::VecDeque::new();
    }
}

/// The gateway's state, built at start-up.
pub struct Authz {
    rules: RwLock<Arc<Rules>>,
    rules_file: Mutex<RulesFile>,
    pub(crate) caches: Caches,
    /// Bumped by every invalidation: a cache fill that started before one is not kept.
    pub(crate) generation: AtomicU64,
    cursor: AtomicI64,
    seen: Mutex<std::collections::BTreeSet<i64>>,
    /// One change-feed read at a time (the poller's or one a request waits for), so a read that
    /// finished has applied everything committed before it started.
    sync_turn: tokio::sync::Mutex<()>,
    /// Change-feed reads started so far, to tell whether one started after a given moment.
    syncs_started: AtomicU64,
    reuse_seconds: i64,
    /// Used API-key nonces seen by this daemon: (kid, nonce) and, oldest first, their expiry.
    nonces: Mutex<UsedNonces>,
    /// How many denied requests may still become audit rows this minute.
    pub(crate) audit_budget: AuditBudget,
    /// Set when other daemons may share the database (PostgreSQL): then a nonce must also be
    /// recorded there. A SQLite file has one daemon, whose memory is the whole truth.
    shared_nonces: Option<NonceBatcher>,
}

impl Authz {
    pub async fn load(config: &Config, store: &DynStore) -> Result<Self, String> {
        let (rules, rules_file) = RulesFile::load(&config.authz_rules_file)?;
        let cursor = store.last_change_id().await.map_err(|e| e.to_string())?;
        Ok(Authz {
            rules: RwLock::new(Arc::new(rules)),
            rules_file: Mutex::new(rules_file),
            caches: Caches::default(),
            generation: AtomicU64::new(0),
            cursor: AtomicI64::new(cursor),
            // At start every existing change is old news (the caches are empty).
            seen: Mutex::new((cursor - 256..=cursor).collect()),
            sync_turn: tokio::sync::Mutex::new(()),
            syncs_started: AtomicU64::new(0),
            reuse_seconds: config.authz_jwt_reuse_seconds.max(0),
            nonces: Mutex::default(),
            audit_budget: AuditBudget::new(&config.denied_audit),
            shared_nonces: (store.backend() != "sqlite").then(|| NonceBatcher::spawn(store.clone())),
        })
    }

    pub(crate) fn rules(&self) -> Arc<Rules> {
        self.rules.read().map(|r| r.clone()).unwrap_or_default()
    }

    /// Records a used nonce in memory; `false` when this daemon saw it already (a replay).
    pub(crate) fn use_nonce_locally(&self, kid: &str, nonce: i64, now: i64, expires_at: i64) -> bool {
        let Ok(mut guard) = self.nonces.lock() else { return false };
        let (seen, queue) = &mut *guard;
        forget_expired_nonces(seen, queue, now);
        if !seen.insert((kid.to_string(), nonce)) {
            return false;
        }
        queue.push_back((expires_at, kid.to_string(), nonce));
        true
    }

    /// Records a nonce this daemon accepted on the shared database; `false` when another daemon
    /// took it first. Always `true` on SQLite.
    pub(crate) async fn use_shared_nonce(&self, kid: &str, nonce: i64, expires_at: i64) -> StoreResult<bool> {
        match &self.shared_nonces {
            Some(batcher) => batcher.use_nonce(kid, nonce, expires_at).await,
            None => Ok(true),
        }
    }

    pub(crate) fn reuse_seconds(&self) -> i64 {
        self.reuse_seconds
    }

    /// Inserts into a cache unless an invalidation happened since `generation` was read.
    pub(crate) fn fill<K: std::hash::Hash + Eq, V>(&self, map: &RwLock<HashMap<K, V>>, generation: u64, k: K, v: V) {
        self.fill_at_most(map, MAX_ENTRIES, generation, k, v);
    }

    /// `fill` for the rendered `users/me` bodies, which are kept fewer.
    pub(crate) fn fill_me(&self, generation: u64, user_id: i64, body: bytes::Bytes) {
        let entry = Arc::new(RenderedMe { body });
        self.fill_at_most(&self.caches.me, MAX_RENDERED, generation, user_id, entry);
    }

    fn fill_at_most<K: std::hash::Hash + Eq, V>(
        &self,
        map: &RwLock<HashMap<K, V>>,
        max: usize,
        generation: u64,
        k: K,
        v: V,
    ) {
        if let Ok(mut m) = map.write()
            && self.generation.load(Ordering::SeqCst) == generation
        {
            if m.len() >= max {
                m.clear();
            }
            m.insert(k, v);
        }
    }

    fn apply(&self, changes: &[ChangeRow], reload_keys: &mut bool) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let c = &self.caches;
        let mut sessions = HashSet::new();
        let mut subjects = HashSet::new();
        let mut kids = HashSet::new();
        // Users whose `users/me` changed: every `user` change, and `user_info` (what only
        // `users/me` shows, so the gateway's user row and JWT stay).
        let mut shown = HashSet::new();
        let mut permissions = false;
        for ch in changes {
            match ch.kind.as_str() {
                "session" => {
                    sessions.insert(ch.subject.as_str());
                }
                "user" => {
                    if let Ok(id) = ch.subject.parse() {
                        subjects.insert(Subject::User(id));
                        shown.insert(id);
                    }
                }
                "user_info" => {
                    if let Ok(id) = ch.subject.parse() {
                        shown.insert(id);
                    }
                }
                "service_account" => {
                    if let Ok(id) = ch.subject.parse() {
                        subjects.insert(Subject::ServiceAccount(id));
                    }
                }
                "api_key" => {
                    kids.insert(ch.subject.as_str());
                }
                "permissions" => permissions = true,
                "signing_keys" => *reload_keys = true,
                _ => {}
            }
        }
        if !sessions.is_empty()
            && let Ok(mut m) = c.sessions.write()
        {
            for s in sessions.iter().filter_map(|s| SessionKey::from_hex(s)) {
                m.remove(&s);
            }
        }
        if let Ok(mut m) = c.users.write() {
            for s in &subjects {
                if let Subject::User(id) = s {
                    m.remove(id);
                }
            }
        }
        if !shown.is_empty()
            && let Ok(mut m) = c.me.write()
        {
            for id in &shown {
                m.remove(id);
            }
        }
        if let Ok(mut m) = c.service_accounts.write() {
            for s in &subjects {
                if let Subject::ServiceAccount(id) = s {
                    m.remove(id);
                }
            }
        }
        if !kids.is_empty()
            && let Ok(mut m) = c.keys.write()
        {
            for k in &kids {
                m.remove(*k);
            }
        }
        if permissions && let Ok(mut p) = c.permissions.write() {
            *p = None;
        }
        if let Ok(mut m) = c.jwts.write() {
            if *reload_keys {
                m.clear();
            } else {
                m.retain(|(subject, _), _| !subjects.contains(subject));
            }
        }
    }

    /// Reads the change feed once and drops what it names from the caches. When the feed cannot
    /// be read every cache is emptied (before the next read may start) and the error returned.
    pub async fn sync(&self, store: &DynStore, tokens: &Tokens, sealer: &Sealer) -> Result<usize, String> {
        let _turn = self.sync_turn.lock().await;
        self.sync_in_turn(store, tokens, sealer).await
    }

    /// Read-your-writes: returns once a change-feed read that started after this call has been
    /// applied, so what this daemon has just committed is out of its own caches before it
    /// answers. Callers waiting together share one read.
    pub async fn catch_up(&self, store: &DynStore, tokens: &Tokens, sealer: &Sealer) -> Result<(), String> {
        let before = self.syncs_started.load(Ordering::SeqCst);
        let _turn = self.sync_turn.lock().await;
        if self.syncs_started.load(Ordering::SeqCst) > before {
            // A read started after our commit and, since we hold the turn now, has finished.
            return Ok(());
        }
        self.sync_in_turn(store, tokens, sealer).await.map(|_| ())
    }

    async fn sync_in_turn(&self, store: &DynStore, tokens: &Tokens, sealer: &Sealer) -> Result<usize, String> {
        self.syncs_started.fetch_add(1, Ordering::SeqCst);
        let read = self.read_feed(store, tokens, sealer).await;
        record::change_feed_read(read.is_ok());
        if read.is_err() {
            self.clear();
        }
        read
    }

    /// On PostgreSQL ids come from a sequence and a transaction may commit after one with a
    /// higher id, so the last `WINDOW` ids are read again and the ones already applied skipped.
    async fn read_feed(&self, store: &DynStore, tokens: &Tokens, sealer: &Sealer) -> Result<usize, String> {
        const WINDOW: i64 = 256;
        let cursor = self.cursor.load(Ordering::SeqCst);
        let rows = store.changes_after(cursor - WINDOW).await.map_err(|e| e.to_string())?;
        let changes: Vec<ChangeRow> = {
            let mut seen = self.seen.lock().map_err(|_| "change feed lock poisoned".to_string())?;
            let fresh: Vec<ChangeRow> = rows.into_iter().filter(|c| c.id > cursor || !seen.contains(&c.id)).collect();
            seen.extend(fresh.iter().map(|c| c.id));
            let top = fresh.iter().map(|c| c.id).max().unwrap_or(cursor).max(cursor);
            seen.retain(|id| *id > top - WINDOW);
            fresh
        };
        let Some(last) = changes.iter().map(|c| c.id).max() else { return Ok(0) };
        let last = last.max(cursor);
        let mut reload_keys = false;
        self.apply(&changes, &mut reload_keys);
        if reload_keys {
            tokens.reload(store, sealer).await?;
        }
        self.cursor.store(last, Ordering::SeqCst);
        Ok(changes.len())
    }

    /// Drops one session this daemon has just deleted, without a feed read (the deleting request
    /// may be a GET, which does not wait for one).
    pub fn forget_session(&self, id_hash: &str) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let (Ok(mut m), Some(key)) = (self.caches.sessions.write(), SessionKey::from_hex(id_hash)) {
            m.remove(&key);
        }
    }

    /// Empties every cache (when the change feed cannot be read).
    pub fn clear(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        let c = &self.caches;
        let _ = c.sessions.write().map(|mut m| m.clear());
        let _ = c.users.write().map(|mut m| m.clear());
        let _ = c.service_accounts.write().map(|mut m| m.clear());
        let _ = c.keys.write().map(|mut m| m.clear());
        let _ = c.permissions.write().map(|mut p| *p = None);
        let _ = c.jwts.write().map(|mut m| m.clear());
        let _ = c.me.write().map(|mut m| m.clear());
    }

    /// Drops what can no longer be used: tokens past their reuse time, sessions past their
    /// expiry and nonces past the window (an entry would be refused anyway, and only holds
    /// memory).
    pub fn sweep(&self, now: i64) {
        if let Ok(mut guard) = self.nonces.lock() {
            let (seen, queue) = &mut *guard;
            forget_expired_nonces(seen, queue, now);
        }
        if let Ok(mut m) = self.caches.jwts.write() {
            m.retain(|_, t| t.reuse_until > now);
            shrink(&mut m);
        }
        if let Ok(mut m) = self.caches.sessions.write() {
            m.retain(|_, s| s.expires_at.load(Ordering::Relaxed) > now && s.absolute_expires_at > now);
            shrink(&mut m);
        }
    }

    pub fn reload_rules(&self) {
        let fresh = self.rules_file.lock().ok().and_then(|mut f| f.reload_if_changed());
        if let Some(r) = fresh
            && let Ok(mut cur) = self.rules.write()
        {
            *cur = Arc::new(r);
        }
    }
}
