//! The PostgreSQL backend: for several daemons sharing one database.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgPool, Postgres};

use super::{Store, StoreResult};

pub struct PgStore {
    pub(crate) pool: PgPool,
    /// Woken after a commit that queued events (the publisher waits on it).
    pub(crate) outbox_wake: std::sync::Arc<tokio::sync::Notify>,
}

impl PgStore {
    pub async fn connect(url: &str, max_connections: u32) -> StoreResult<Self> {
        let opts = PgConnectOptions::from_str(url)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        Ok(PgStore { pool, outbox_wake: Default::default() })
    }
}

impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }
}

super::users::impl_user_store!(PgStore, Postgres);
super::labels::impl_label_store!(PgStore, Postgres);
super::sessions::impl_session_store!(PgStore, Postgres);
super::tokens::impl_token_store!(PgStore, Postgres);
super::activities::impl_activity_store!(PgStore, Postgres);
super::keys::impl_signing_key_store!(PgStore, Postgres);
super::mail::impl_mail_store!(PgStore, Postgres);
super::throttle::impl_throttle_store!(PgStore, Postgres);
super::api_keys::impl_api_key_store!(PgStore, Postgres);
super::service_accounts::impl_service_account_store!(PgStore, Postgres);
super::account::impl_account_store!(PgStore, Postgres);
super::authz::impl_authz_store!(PgStore, Postgres);
super::documents::impl_document_store!(PgStore, Postgres);
super::profiles::impl_profile_store!(PgStore, Postgres);
super::events::impl_event_store!(PgStore, Postgres);
super::restrictions::impl_restrictions_store!(PgStore, Postgres);
super::phones::impl_phone_store!(PgStore, Postgres);
super::admin::impl_admin_store!(PgStore, Postgres);
super::admin_logs::impl_admin_log_store!(PgStore, Postgres);
super::management::impl_management_store!(PgStore, Postgres);
super::admin_users::impl_admin_user_store!(PgStore, Postgres);
super::import::impl_import_store!(PgStore, Postgres);
super::ops::impl_ops_store!(PgStore, Postgres);
super::master_key::impl_master_key_store!(PgStore, Postgres);
super::key_fingerprint::impl_key_fingerprint_store!(PgStore, Postgres);
super::kyc_reviews::impl_kyc_review_store!(PgStore, Postgres);
super::webauthn::impl_webauthn_store!(PgStore, Postgres);
super::migrate::impl_migrator!(PgStore, Postgres, "postgres");
