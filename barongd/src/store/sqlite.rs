//! The SQLite backend: the zero-configuration default (one file in the data dir).

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool};

use super::{Store, StoreResult};

pub struct SqliteStore {
    pub(crate) pool: SqlitePool,
    /// Woken after a commit that queued events (the publisher waits on it).
    pub(crate) outbox_wake: std::sync::Arc<tokio::sync::Notify>,
}

impl SqliteStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        // WAL lets readers proceed during a write; busy_timeout makes concurrent writers wait
        // instead of failing with SQLITE_BUSY under a login flood.
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            // Every pooled connection keeps its own page cache (2 MB by default) and prepared
            // statements; the database file is in the OS page cache anyway, so a small cache per
            // connection keeps a 16-connection pool from holding the same pages 16 times.
            .pragma("cache_size", "-512")
            .statement_cache_capacity(48);
        let file = opts.get_filename().to_path_buf();
        owner_only(&file, true);
        let pool = SqlitePoolOptions::new().max_connections(max_connections.max(1)).connect_with(opts).await?;
        // SQLite gives its -wal and -shm files the database file's mode; older files are tightened.
        for suffix in ["-wal", "-shm"] {
            let mut name = file.clone().into_os_string();
            name.push(suffix);
            owner_only(std::path::Path::new(&name), false);
        }
        Ok(SqliteStore { pool, outbox_wake: Default::default() })
    }
}

/// The database holds sealed secrets, hashed sessions and PII indexes: owner-only (0600), created
/// so before SQLite first writes it, and tightened when an older file was more open. In-memory
/// databases have no file; a failure here leaves the file as it was (SQLite reports real errors).
fn owner_only(path: &std::path::Path, create: bool) {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.as_os_str().is_empty() || path.to_string_lossy().starts_with(':') {
        return;
    }
    if create && !path.exists() {
        let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
    }
    if let Ok(meta) = std::fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }
}

super::users::impl_user_store!(SqliteStore, Sqlite);
super::labels::impl_label_store!(SqliteStore, Sqlite);
super::sessions::impl_session_store!(SqliteStore, Sqlite);
super::tokens::impl_token_store!(SqliteStore, Sqlite);
super::activities::impl_activity_store!(SqliteStore, Sqlite);
super::keys::impl_signing_key_store!(SqliteStore, Sqlite);
super::mail::impl_mail_store!(SqliteStore, Sqlite);
super::throttle::impl_throttle_store!(SqliteStore, Sqlite);
super::api_keys::impl_api_key_store!(SqliteStore, Sqlite);
super::service_accounts::impl_service_account_store!(SqliteStore, Sqlite);
super::account::impl_account_store!(SqliteStore, Sqlite);
super::authz::impl_authz_store!(SqliteStore, Sqlite);
super::documents::impl_document_store!(SqliteStore, Sqlite);
super::profiles::impl_profile_store!(SqliteStore, Sqlite);
super::events::impl_event_store!(SqliteStore, Sqlite);
super::restrictions::impl_restrictions_store!(SqliteStore, Sqlite);
super::phones::impl_phone_store!(SqliteStore, Sqlite);
super::admin::impl_admin_store!(SqliteStore, Sqlite);
super::admin_logs::impl_admin_log_store!(SqliteStore, Sqlite);
super::management::impl_management_store!(SqliteStore, Sqlite);
super::admin_users::impl_admin_user_store!(SqliteStore, Sqlite);
super::import::impl_import_store!(SqliteStore, Sqlite);
super::ops::impl_ops_store!(SqliteStore, Sqlite);
super::master_key::impl_master_key_store!(SqliteStore, Sqlite);
super::key_fingerprint::impl_key_fingerprint_store!(SqliteStore, Sqlite);
super::kyc_reviews::impl_kyc_review_store!(SqliteStore, Sqlite);
super::webauthn::impl_webauthn_store!(SqliteStore, Sqlite);
super::migrate::impl_migrator!(SqliteStore, Sqlite, "sqlite");
