//! Storage: one trait per table family, each implemented for SQLite and PostgreSQL from the same
//! SQL text (both accept `$n` placeholders, times are unix seconds in 64-bit integers), so the two
//! backends cannot drift apart. The backend is chosen once, from the database URL.

pub mod account;
pub mod activities;
pub mod admin;
pub mod admin_logs;
pub mod admin_users;
pub mod api_key_pages;
pub mod api_keys;
pub mod authz;
pub mod backup;
pub mod documents;
pub mod events;
pub mod import;
pub mod import_tables;
pub mod key_fingerprint;
pub mod keys;
pub mod kyc_reviews;
pub mod labels;
pub mod mail;
pub mod management;
pub mod master_key;
pub mod migrate;
pub mod nonces;
pub mod ops;
pub mod outbox;
pub mod phones;
pub mod postgres;
pub mod profiles;
pub mod restrictions;
pub mod service_accounts;
pub mod sessions;
pub mod sqlite;
pub mod throttle;
pub mod tokens;
pub mod user_list;
pub mod users;
pub mod webauthn;

use std::sync::Arc;

pub use account::AccountStore;
pub use activities::{ActivityStore, NewActivity};
pub use admin::AdminStore;
pub use admin_logs::AdminLogStore;
pub use admin_users::AdminUserStore;
pub use api_keys::ApiKeyStore;
pub use authz::AuthzStore;
pub use backup::Backup;
pub use documents::DocumentStore;
pub use events::EventStore;
pub use import::ImportStore;
pub use key_fingerprint::KeyFingerprintStore;
pub use keys::{SigningKeyRow, SigningKeyStore};
pub use kyc_reviews::KycReviewStore;
pub use labels::{LabelRow, LabelStore, LevelRow};
pub use mail::{MailRow, MailStore};
pub use management::ManagementStore;
pub use master_key::MasterKeyStore;
pub use migrate::{MigrationState, Migrator};
pub use nonces::{NonceStore, NonceUse};
pub use ops::OpsStore;
pub use outbox::{EventsOf, PendingEvent};
pub use phones::PhoneStore;
pub use profiles::ProfileStore;
pub use restrictions::RestrictionStore;
pub use service_accounts::ServiceAccountStore;
pub use sessions::{SessionRow, SessionStore};
pub use throttle::ThrottleStore;
pub use tokens::TokenStore;
pub use users::{NewUser, UserRow, UserStore};
pub use webauthn::WebauthnStore;

/// Everything the services need from the database.
pub trait Store:
    UserStore
    + LabelStore
    + SessionStore
    + TokenStore
    + ActivityStore
    + SigningKeyStore
    + MailStore
    + ThrottleStore
    + ApiKeyStore
    + ServiceAccountStore
    + AccountStore
    + AuthzStore
    + DocumentStore
    + RestrictionStore
    + ProfileStore
    + EventStore
    + PhoneStore
    + AdminStore
    + AdminLogStore
    + ManagementStore
    + AdminUserStore
    + ImportStore
    + MasterKeyStore
    + KeyFingerprintStore
    + KycReviewStore
    + NonceStore
    + WebauthnStore
    + Migrator
    + Backup
    + OpsStore
    + Send
    + Sync
    + 'static
{
    /// `sqlite` or `postgres`, for status output.
    fn backend(&self) -> &'static str;
}

pub type DynStore = Arc<dyn Store>;

/// Storage failures. `Unique` carries the violated constraint's text so the service can name the
/// field (`email.taken`); everything else is opaque to clients.
#[derive(Debug)]
pub enum StoreError {
    Unique(String),
    Database(sqlx::Error),
    Migration(String),
    /// A step outside the database that a write waits for before committing (putting uploaded
    /// files in place) failed, so the write was rolled back.
    Files(std::io::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Unique(c) => write!(f, "unique constraint violated: {c}"),
            StoreError::Database(e) => write!(f, "database error: {e}"),
            StoreError::Migration(m) => write!(f, "migration error: {m}"),
            StoreError::Files(e) => write!(f, "file error: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &e
            && db.is_unique_violation()
        {
            let what = db.constraint().map(str::to_string).unwrap_or_else(|| db.message().to_string());
            return StoreError::Unique(what);
        }
        StoreError::Database(e)
    }
}

/// Opens the database named by `url` (creating a SQLite file when absent) and returns its store.
/// Opens the store for `url`; `max_connections` 0 means the backend's default.
pub async fn open(url: &str, max_connections: u32) -> StoreResult<DynStore> {
    let or = |default: u32| if max_connections == 0 { default } else { max_connections };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url, or(16)).await?))
    } else if url.starts_with("sqlite:") {
        // SQLite writes one at a time; more connections mostly multiply page caches and threads
        // (16 of them cost ~25 MB of RSS in bench/authz, 4 still ~7 MB more than 2).
        Ok(Arc::new(sqlite::SqliteStore::connect(url, or(2)).await?))
    } else {
        Err(StoreError::Migration(format!("unsupported database URL scheme in {}", crate::redact::redact_url(url))))
    }
}
