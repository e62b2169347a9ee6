//! The account-security tables: API keys and the users' TOTP columns that 2FA set-up changes. Secrets and TOTP seeds arrive here sealed; this layer never sees them clear.

use async_trait::async_trait;

use super::StoreResult;
use super::outbox::PendingEvent;
use crate::model::{HolderKind, KeyState};

pub use super::api_key_pages::{KeyColumn, KeyPage};
pub(crate) use super::api_key_pages::{api_key_columns, key_page_sql};

/// Who holds a key: Barong's polymorphic `key_holder_account` (type `User` or `ServiceAccount`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holder {
    User(i64),
    ServiceAccount(i64),
}

impl Holder {
    /// The `key_holder_account_type` value, Barong's class name.
    pub fn kind(self) -> &'static str {
        match self {
            Holder::User(_) => HolderKind::User.as_str(),
            Holder::ServiceAccount(_) => HolderKind::ServiceAccount.as_str(),
        }
    }

    pub fn id(self) -> i64 {
        match self {
            Holder::User(id) | Holder::ServiceAccount(id) => id,
        }
    }
}

#[derive(Clone, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: i64,
    pub key_holder_account_id: i64,
    #[sqlx(try_from = "String")]
    pub key_holder_account_type: HolderKind,
    pub kid: String,
    pub algorithm: String,
    /// JSON array of strings.
    pub scope: String,
    pub secret_sealed: String,
    #[sqlx(try_from = "String")]
    pub state: KeyState,
    pub created_at: i64,
    pub updated_at: i64,
    /// Imported from Barong without its secret (`secret_sealed` is empty): always disabled,
    /// never activated, refused by the gateway (migration spec §2.8.5).
    pub secret_unavailable: bool,
}

impl std::fmt::Debug for ApiKeyRow {
    // Even sealed, the secret stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKeyRow")
            .field("id", &self.id)
            .field("holder", &(&self.key_holder_account_type, self.key_holder_account_id))
            .field("kid", &self.kid)
            .field("state", &self.state)
            .field("secret_unavailable", &self.secret_unavailable)
            .finish_non_exhaustive()
    }
}

pub struct NewApiKey<'a> {
    pub holder: Holder,
    pub kid: &'a str,
    pub algorithm: &'a str,
    /// JSON array of strings.
    pub scope: &'a str,
    pub secret_sealed: &'a str,
    pub now: i64,
}

/// What an admin's 2FA reset changed besides `users.otp` and the seed, for the operator's report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtpReset {
    /// Whether a private `otp` label was there to delete.
    pub label_removed: bool,
    /// The kids of the keys it disabled: the user's and its service accounts' active ones.
    pub keys_disabled: Vec<String>,
}

#[async_trait]
pub trait ApiKeyStore {
    /// Stores a new sealed TOTP seed and forgets the last used step, unless 2FA is on; false
    /// when it is (the seed of an enabled 2FA is never replaced).
    async fn replace_otp_secret(&self, user_id: i64, sealed: &str) -> StoreResult<bool>;
    /// Turns 2FA on, provided the seed is still `sealed` (the one the code was checked against,
    /// not one a concurrent `generate_qrcode` put in its place); false otherwise.
    async fn enable_otp(&self, user_id: i64, sealed: &str, now: i64) -> StoreResult<bool> {
        self.enable_otp_with_events(user_id, sealed, now, &[]).await
    }
    /// [`Self::enable_otp`], queuing `events` in the same transaction when it turns 2FA on.
    async fn enable_otp_with_events(
        &self,
        user_id: i64,
        sealed: &str,
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<bool>;
    /// Turns 2FA off in one transaction: `users.otp`, the private `otp` label, the active keys
    /// of the user and of its service accounts (disabled) and `events`. False when it was off
    /// already (then nothing is queued).
    async fn disable_otp(&self, user_id: i64, now: i64) -> StoreResult<bool> {
        self.disable_otp_with_events(user_id, now, &[]).await
    }
    async fn disable_otp_with_events(&self, user_id: i64, now: i64, events: &[PendingEvent]) -> StoreResult<bool>;
    /// An admin's 2FA reset: [`Self::disable_otp_with_events`] and, in the same transaction,
    /// the TOTP seed discarded, so 2FA can only come back through a new enrolment and no
    /// moment exists where 2FA is off while the old seed is still on file. Works alike for an
    /// account whose seed was never carried from Barong (no seed to discard). `None` when 2FA
    /// was off already; otherwise what else it changed.
    async fn reset_otp_with_events(
        &self,
        user_id: i64,
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<Option<OtpReset>>;

    async fn insert_api_key(&self, key: &NewApiKey<'_>) -> StoreResult<ApiKeyRow>;
    async fn api_keys_of(&self, holder: Holder, page: KeyPage) -> StoreResult<Vec<ApiKeyRow>>;
    async fn count_api_keys(&self, holder: Holder) -> StoreResult<i64>;
    /// A key by kid, only if `holder` holds it.
    async fn api_key_of(&self, holder: Holder, kid: &str) -> StoreResult<Option<ApiKeyRow>>;
    async fn api_key_by_kid(&self, kid: &str) -> StoreResult<Option<ApiKeyRow>>;
    /// Changes scope and/or state in one statement (`None` keeps the stored value, so an omitted
    /// field is never reset); `None` when the key is gone.
    async fn update_api_key(
        &self,
        id: i64,
        scope: Option<&str>,
        state: Option<KeyState>,
        now: i64,
    ) -> StoreResult<Option<ApiKeyRow>>;
    async fn delete_api_key(&self, id: i64) -> StoreResult<bool>;
}

/// Disables the active keys of user `$1` and of its service accounts (`$2` = now); a macro so the
/// reset's `RETURNING` form stays one `&'static str`.
macro_rules! disable_keys_of_owner {
    () => {
        "UPDATE api_keys SET state = 'disabled', updated_at = $2 \
         WHERE state = 'active' AND ((key_holder_account_type = 'User' AND key_holder_account_id = $1) OR \
         (key_holder_account_type = 'ServiceAccount' AND key_holder_account_id IN \
         (SELECT id FROM service_accounts WHERE owner_id = $1)))"
    };
}
pub(crate) const DISABLE_KEYS_OF_OWNER: &str = disable_keys_of_owner!();
/// [`DISABLE_KEYS_OF_OWNER`], answering the kids it disabled.
pub(crate) const DISABLE_KEYS_OF_OWNER_RETURNING: &str = concat!(disable_keys_of_owner!(), " RETURNING kid");

/// Turns 2FA off (`$1` user id, `$2` now).
pub(crate) const OTP_OFF: &str = "UPDATE users SET otp = FALSE, updated_at = $2 WHERE id = $1 AND otp = TRUE";
/// As `OTP_OFF`, the TOTP seed discarded too.
pub(crate) const OTP_RESET: &str = "UPDATE users SET otp = FALSE, otp_secret_sealed = NULL, otp_last_step = NULL, \
     updated_at = $2 WHERE id = $1 AND otp = TRUE";

macro_rules! impl_api_key_store {
    ($store:ty, $db:ty) => {
        impl $store {
            /// 2FA off in one transaction (`users_sql` also discards the seed for a reset); `None`
            /// when it was off already.
            async fn otp_off(
                &self,
                users_sql: &'static str,
                user_id: i64,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<Option<$crate::store::api_keys::OtpReset>> {
                let mut tx = self.pool.begin().await?;
                let r = sqlx::query::<$db>(users_sql)
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() == 0 {
                    return Ok(None);
                }
                let label =
                    sqlx::query::<$db>("DELETE FROM labels WHERE user_id = $1 AND key = 'otp' AND scope = 'private'")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                let keys_disabled: Vec<String> =
                    sqlx::query_scalar::<$db, String>($crate::store::api_keys::DISABLE_KEYS_OF_OWNER_RETURNING)
                        .bind(user_id)
                        .bind(now)
                        .fetch_all(&mut *tx)
                        .await?;
                $crate::store::outbox::insert_events!($db, tx, events);
                tx.commit().await?;
                if !events.is_empty() {
                    self.outbox_wake.notify_one();
                }
                Ok(Some($crate::store::api_keys::OtpReset { label_removed: label.rows_affected() > 0, keys_disabled }))
            }
        }

        #[async_trait::async_trait]
        impl $crate::store::api_keys::ApiKeyStore for $store {
            async fn replace_otp_secret(&self, user_id: i64, sealed: &str) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE users SET otp_secret_sealed = $1, otp_last_step = NULL WHERE id = $2 AND otp = FALSE",
                )
                .bind(sealed)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn enable_otp_with_events(
                &self,
                user_id: i64,
                sealed: &str,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let r = sqlx::query::<$db>(
                    "UPDATE users SET otp = TRUE, updated_at = $2 WHERE id = $1 AND otp = FALSE AND otp_secret_sealed = $3",
                )
                .bind(user_id)
                .bind(now)
                .bind(sealed)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() == 0 {
                    return Ok(false);
                }
                $crate::store::outbox::insert_events!($db, tx, events);
                tx.commit().await?;
                if !events.is_empty() {
                    self.outbox_wake.notify_one();
                }
                Ok(true)
            }

            async fn disable_otp_with_events(
                &self,
                user_id: i64,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<bool> {
                Ok(self.otp_off($crate::store::api_keys::OTP_OFF, user_id, now, events).await?.is_some())
            }

            async fn reset_otp_with_events(
                &self,
                user_id: i64,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<Option<$crate::store::api_keys::OtpReset>> {
                self.otp_off($crate::store::api_keys::OTP_RESET, user_id, now, events).await
            }

            async fn insert_api_key(
                &self,
                k: &$crate::store::api_keys::NewApiKey<'_>,
            ) -> $crate::store::StoreResult<$crate::store::api_keys::ApiKeyRow> {
                const SQL: &str = concat!(
                    "INSERT INTO api_keys (key_holder_account_id, key_holder_account_type, kid, algorithm, scope, \
                     secret_sealed, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'active', $7, $7) \
                     RETURNING ",
                    $crate::store::api_keys::api_key_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::api_keys::ApiKeyRow>(SQL)
                    .bind(k.holder.id())
                    .bind(k.holder.kind())
                    .bind(k.kid)
                    .bind(k.algorithm)
                    .bind(k.scope)
                    .bind(k.secret_sealed)
                    .bind(k.now)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn api_keys_of(
                &self,
                holder: $crate::store::api_keys::Holder,
                page: $crate::store::api_keys::KeyPage,
            ) -> $crate::store::StoreResult<Vec<$crate::store::api_keys::ApiKeyRow>> {
                // Only static column names and directions enter this text (see `key_page_sql`).
                let sql = sqlx::AssertSqlSafe($crate::store::api_keys::key_page_sql(&page));
                Ok(sqlx::query_as::<$db, $crate::store::api_keys::ApiKeyRow>(sql)
                    .bind(holder.kind())
                    .bind(holder.id())
                    .bind(page.limit)
                    .bind(page.offset)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn count_api_keys(&self, holder: $crate::store::api_keys::Holder) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as::<$db, (i64,)>(
                    "SELECT COUNT(*) FROM api_keys WHERE key_holder_account_type = $1 AND key_holder_account_id = $2",
                )
                .bind(holder.kind())
                .bind(holder.id())
                .fetch_one(&self.pool)
                .await?;
                Ok(n)
            }

            async fn api_key_of(
                &self,
                holder: $crate::store::api_keys::Holder,
                kid: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::api_keys::ApiKeyRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::api_keys::api_key_columns!(),
                    " FROM api_keys WHERE kid = $1 AND key_holder_account_type = $2 AND key_holder_account_id = $3"
                );
                Ok(sqlx::query_as::<$db, $crate::store::api_keys::ApiKeyRow>(SQL)
                    .bind(kid)
                    .bind(holder.kind())
                    .bind(holder.id())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn api_key_by_kid(
                &self,
                kid: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::api_keys::ApiKeyRow>> {
                const SQL: &str =
                    concat!("SELECT ", $crate::store::api_keys::api_key_columns!(), " FROM api_keys WHERE kid = $1");
                Ok(sqlx::query_as::<$db, $crate::store::api_keys::ApiKeyRow>(SQL)
                    .bind(kid)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn update_api_key(
                &self,
                id: i64,
                scope: Option<&str>,
                state: Option<$crate::model::KeyState>,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::api_keys::ApiKeyRow>> {
                const SQL: &str = concat!(
                    "UPDATE api_keys SET scope = COALESCE($1, scope), state = COALESCE($2, state), updated_at = $3 \
                     WHERE id = $4 RETURNING ",
                    $crate::store::api_keys::api_key_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::api_keys::ApiKeyRow>(SQL)
                    .bind(scope)
                    .bind(state.map(|s| s.as_str()))
                    .bind(now)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn delete_api_key(&self, id: i64) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>("DELETE FROM api_keys WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(r.rows_affected() > 0)
            }

        }
    };
}
pub(crate) use impl_api_key_store;
