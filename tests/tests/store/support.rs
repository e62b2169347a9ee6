//! The harness of the store suite (a fresh database per test, on each backend) and small row
//! builders shared by the table families' modules.

use std::future::Future;
use std::ops::Deref;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use barong_tests::Backend;
pub use barongd::model::{AccountState, KeyState, LabelScope, ProfileState, Role, SigningKeyState};
pub use barongd::store::api_keys::{ApiKeyRow, Holder, NewApiKey};
pub use barongd::store::service_accounts::{NewServiceAccount, ServiceAccountRow};
pub use barongd::store::{
    AccountStore, ActivityStore, ApiKeyStore, AuthzStore, DocumentStore, DynStore, EventStore, LabelStore, MailStore,
    Migrator, NewActivity, NewUser, NonceStore, NonceUse, PhoneStore, ProfileStore, RestrictionStore,
    ServiceAccountStore, SessionRow, SessionStore, SigningKeyRow, SigningKeyStore, Store, StoreError, StoreResult,
    ThrottleStore, TokenStore, UserRow, UserStore, WebauthnStore,
};
pub use futures::future::join_all;

/// The time every test starts from (unix seconds); tests move it by hand.
pub const NOW: i64 = 1_700_000_000;
/// The `now` the harness passes to `migrate`, so `migration_status` can be checked against it.
pub const MIGRATED_AT: i64 = 1_600_000_000;
/// How long one test may run before it fails (a lock that never releases, a lost wake-up).
const LIMIT: Duration = Duration::from_secs(120);

/// Runs one contract test on SQLite and on PostgreSQL, as `<name>::sqlite` and `<name>::postgres`.
/// `ignore_sqlite = "BUG: …"` / `ignore_postgres = "BUG: …"` / `ignore = "BUG: …"` keep a test
/// that documents a store bug from failing the suite on that backend.
macro_rules! contract {
    ($name:ident, $body:expr) => {
        contract!(@emit $name, [], [], $body);
    };
    ($name:ident, ignore = $why:literal, $body:expr) => {
        contract!(@emit $name, [#[ignore = $why]], [#[ignore = $why]], $body);
    };
    ($name:ident, ignore_sqlite = $why:literal, $body:expr) => {
        contract!(@emit $name, [#[ignore = $why]], [], $body);
    };
    ($name:ident, ignore_postgres = $why:literal, $body:expr) => {
        contract!(@emit $name, [], [#[ignore = $why]], $body);
    };
    (@emit $name:ident, [$($sqlite:tt)*], [$($postgres:tt)*], $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $($sqlite)*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::support::run($crate::support::Backend::Sqlite, $body).await;
            }

            $($postgres)*
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::support::run($crate::support::Backend::Postgres, $body).await;
            }
        }
    };
}

/// An empty database of one backend, removed when dropped: a SQLite file in a temporary
/// directory, or a PostgreSQL database created from `BARONG_TEST_PG_URL`.
pub struct Scratch {
    pub url: String,
    _tmp: Option<tempfile::TempDir>,
    _pg: Option<barong_tests::PgDatabase>,
}

impl Scratch {
    /// `None` (after saying so) when the backend is PostgreSQL and `BARONG_TEST_PG_URL` is unset;
    /// with `CI=true` that is a failure instead, as in `barong_tests::TestServer::spawn_with`.
    pub async fn new(backend: Backend) -> Option<Scratch> {
        match backend {
            Backend::Sqlite => {
                let tmp = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}/barong.db", tmp.path().display());
                Some(Scratch { url, _tmp: Some(tmp), _pg: None })
            }
            Backend::Postgres => {
                let Some(admin) = barong_tests::pg_url() else {
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "BARONG_TEST_PG_URL is not set, and CI=true requires the PostgreSQL tests"
                    );
                    eprintln!("SKIPPED (PostgreSQL): BARONG_TEST_PG_URL is not set");
                    return None;
                };
                let db = barong_tests::PgDatabase::create(&admin).await;
                Some(Scratch { url: db.url(), _tmp: None, _pg: Some(db) })
            }
        }
    }

    /// A new store (its own pool) on this database, as a daemon opens it.
    pub async fn open(&self) -> DynStore {
        barongd::store::open(&self.url, 0).await.expect("store opens")
    }
}

/// What a test body gets: the migrated store (methods are reachable through `Deref`), its
/// backend and its URL.
#[derive(Clone)]
pub struct Db {
    pub store: DynStore,
    pub backend: Backend,
    pub url: String,
}

impl Deref for Db {
    type Target = dyn Store;

    fn deref(&self) -> &Self::Target {
        &*self.store
    }
}

/// Opens a fresh database of `backend`, migrates it at [`MIGRATED_AT`] and runs `body` on it.
pub async fn run<F, Fut>(backend: Backend, body: F)
where
    F: FnOnce(Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(scratch) = Scratch::new(backend).await else { return };
    let store = scratch.open().await;
    store.migrate(MIGRATED_AT).await.expect("migrations apply");
    let db = Db { store, backend, url: scratch.url.clone() };
    if tokio::time::timeout(LIMIT, body(db)).await.is_err() {
        panic!("the test ran longer than {LIMIT:?}");
    }
}

impl Db {
    /// Another store on the same database with its own pool: a second daemon.
    pub async fn daemon(&self) -> DynStore {
        barongd::store::open(&self.url, 0).await.expect("second store opens")
    }

    /// `n` stores on this database (this one and `n - 1` more daemons), for races.
    pub async fn daemons(&self, n: usize) -> Vec<DynStore> {
        let mut v = vec![self.store.clone()];
        while v.len() < n {
            v.push(self.daemon().await);
        }
        v
    }

    /// Runs a statement directly (a state no store method produces).
    pub async fn exec(&self, sql: &str) {
        use sqlx::Connection;
        let sql = sqlx::AssertSqlSafe(sql.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.expect("sqlite");
                sqlx::raw_sql(sql).execute(&mut c).await.expect("statement");
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.expect("postgres");
                sqlx::raw_sql(sql).execute(&mut c).await.expect("statement");
            }
        }
    }

    /// The integer in the first column of the first row of `query` (a column no row type has).
    pub async fn int(&self, query: &str) -> Option<i64> {
        use sqlx::Connection;
        let query = sqlx::AssertSqlSafe(query.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.expect("sqlite");
                sqlx::query_scalar::<_, Option<i64>>(query).fetch_one(&mut c).await.expect("query")
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.expect("postgres");
                sqlx::query_scalar::<_, Option<i64>>(query).fetch_one(&mut c).await.expect("query")
            }
        }
    }

    /// The text in the first column of the first row of `query`.
    pub async fn text(&self, query: &str) -> Option<String> {
        use sqlx::Connection;
        let query = sqlx::AssertSqlSafe(query.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.url).await.expect("sqlite");
                sqlx::query_scalar::<_, Option<String>>(query).fetch_one(&mut c).await.expect("query")
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.url).await.expect("postgres");
                sqlx::query_scalar::<_, Option<String>>(query).fetch_one(&mut c).await.expect("query")
            }
        }
    }
}

/// The text of a `StoreError::Unique`, failing the test on anything else.
pub fn unique_violation<T: std::fmt::Debug>(r: StoreResult<T>) -> String {
    match r {
        Err(StoreError::Unique(what)) => what,
        other => panic!("expected StoreError::Unique, got {other:?}"),
    }
}

/// How many of a race's answers were `true`.
pub fn winners(results: Vec<StoreResult<bool>>) -> usize {
    results.into_iter().map(|r| r.expect("racing call")).filter(|won| *won).count()
}

// --- States: the row fields are `barongd::model` types; the tests compare their stored names. ---

pub fn user_state(u: &UserRow) -> &str {
    u.state.as_str()
}

pub fn key_state(k: &ApiKeyRow) -> &str {
    k.state.as_str()
}

pub fn account_state(sa: &ServiceAccountRow) -> &str {
    sa.state.as_str()
}

pub fn signing_key_state(k: &SigningKeyRow) -> &str {
    k.state.as_str()
}

/// `KeyState` reads every stored state but `active` as disabled (Barong's `inactive` too), so
/// [`key_state`] alone no longer proves what a cascade wrote: this checks that `api_keys.state`
/// holds only the two names the tests compare against.
pub async fn assert_key_states_are_named(db: &Db) {
    let odd = db.int("SELECT COUNT(*) FROM api_keys WHERE state NOT IN ('active', 'disabled')").await;
    assert_eq!(odd, Some(0), "api_keys.state holds only `active` and `disabled`");
}

// --- Row builders ---

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A process-wide unique suffix for uids, kids and the like.
pub fn seq() -> u64 {
    SEQ.fetch_add(1, Ordering::Relaxed)
}

/// A pending member with this email (and a fresh uid), not yet inserted.
pub fn user_fields(email: &str) -> NewUser {
    NewUser {
        uid: format!("ID{:08}", seq()),
        username: None,
        email: email.to_string(),
        email_key: email.to_lowercase(),
        password_digest: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string(),
        role: Role::member(),
        data: None,
        level: 0,
        state: AccountState::Pending,
        referral_id: None,
        language: "en".to_string(),
        now: NOW,
    }
}

pub async fn new_user(db: &Db, email: &str) -> UserRow {
    db.insert_user(&user_fields(email)).await.expect("insert user")
}

pub fn session_row(user_id: i64, id_hash: &str, expires_at: i64, absolute_expires_at: i64) -> SessionRow {
    SessionRow {
        id_hash: id_hash.to_string(),
        user_id,
        csrf_token: format!("csrf-{id_hash}"),
        user_ip: "192.0.2.1".to_string(),
        user_agent: "test-agent".to_string(),
        expires_at,
        absolute_expires_at,
        created_at: NOW,
        amr: "pwd".to_string(),
    }
}

pub fn signing_key(kid: &str, created_at: i64) -> SigningKeyRow {
    SigningKeyRow {
        kid: kid.to_string(),
        algorithm: "RS256".to_string(),
        private_sealed: format!("sealed-{kid}"),
        public_pem: format!("-----BEGIN PUBLIC KEY-----\n{kid}\n-----END PUBLIC KEY-----\n"),
        state: SigningKeyState::Active,
        created_at,
        takes_over_at: created_at,
    }
}

/// An active HS256 key of `holder` with a fresh kid, created at `now`.
pub async fn new_api_key(db: &Db, holder: Holder, now: i64) -> ApiKeyRow {
    let kid = format!("{:016x}", seq());
    let key =
        NewApiKey { holder, kid: &kid, algorithm: "HS256", scope: "[\"trade\"]", secret_sealed: "sealed-secret", now };
    db.insert_api_key(&key).await.expect("insert api key")
}

/// An active service account of `owner_id` with a fresh uid and email.
pub async fn new_service_account(db: &Db, owner_id: i64) -> ServiceAccountRow {
    let n = seq();
    let uid = format!("SI{n:08}");
    let email = format!("bot{n}@example.com");
    let sa = NewServiceAccount {
        uid: &uid,
        owner_id,
        email: &email,
        role: &Role::from("service_account"),
        level: 1,
        state: &AccountState::Active,
        now: NOW,
    };
    db.insert_service_account(&sa).await.expect("insert service account")
}

/// An activity of `user_id` at `at`; tests override the fields they filter on.
pub fn activity(user_id: i64, topic: &'static str, result: &'static str, at: i64) -> NewActivity {
    NewActivity {
        user_id: Some(user_id),
        target_uid: None,
        category: "user",
        user_ip: "192.0.2.7".to_string(),
        user_ip_country: Some("DE".to_string()),
        user_agent: Some("test-agent".to_string()),
        topic: topic.into(),
        action: "login",
        result,
        data: Some("{\"note\":\"x\"}".to_string()),
        created_at: at,
    }
}
