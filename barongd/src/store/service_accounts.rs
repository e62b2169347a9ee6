//! service_accounts: machine identities owned by a user (Barong's `SI…` accounts), and the
//! cascades that tie their state and their keys to their owner's.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::{AccountState, Role};

/// The column list of `ServiceAccountRow`.
macro_rules! service_account_columns {
    () => {
        "id, uid, owner_id, email, role, level, state, created_at, updated_at"
    };
}
pub(crate) use service_account_columns;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceAccountRow {
    pub id: i64,
    pub uid: String,
    pub owner_id: Option<i64>,
    pub email: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub level: i64,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewServiceAccount<'a> {
    pub uid: &'a str,
    pub owner_id: i64,
    pub email: &'a str,
    pub role: &'a Role,
    pub level: i64,
    pub state: &'a AccountState,
    pub now: i64,
}

#[async_trait]
pub trait ServiceAccountStore {
    async fn insert_service_account(&self, sa: &NewServiceAccount<'_>) -> StoreResult<ServiceAccountRow>;
    async fn service_account_by_uid(&self, uid: &str) -> StoreResult<Option<ServiceAccountRow>>;
    async fn service_account_by_id(&self, id: i64) -> StoreResult<Option<ServiceAccountRow>>;
    /// Whether a service account uses this email, compared case-insensitively.
    async fn service_account_email_taken(&self, email: &str) -> StoreResult<bool>;
    /// The service accounts of `owner_id` (every one when `None`), oldest first.
    async fn service_accounts(&self, owner_id: Option<i64>) -> StoreResult<Vec<ServiceAccountRow>>;
    /// Sets a service account's state; leaving `active` disables its active keys in the same
    /// transaction (as in Barong, a disabled service account deactivates its own keys).
    async fn set_service_account_state(
        &self,
        id: i64,
        state: &AccountState,
        now: i64,
    ) -> StoreResult<Option<ServiceAccountRow>>;
    /// Barong's owner cascade: a user whose state is not `active` passes it to its service accounts
    /// and loses its and their active keys, in one transaction. Returns the keys disabled.
    async fn cascade_owner_state(&self, owner_id: i64, state: &AccountState, now: i64) -> StoreResult<u64>;
}

macro_rules! impl_service_account_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::service_accounts::ServiceAccountStore for $store {
            async fn insert_service_account(
                &self,
                sa: &$crate::store::service_accounts::NewServiceAccount<'_>,
            ) -> $crate::store::StoreResult<$crate::store::service_accounts::ServiceAccountRow> {
                const SQL: &str = concat!(
                    "INSERT INTO service_accounts (uid, owner_id, email, role, level, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
                    $crate::store::service_accounts::service_account_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::service_accounts::ServiceAccountRow>(SQL)
                    .bind(sa.uid)
                    .bind(sa.owner_id)
                    .bind(sa.email)
                    .bind(sa.role.as_str())
                    .bind(sa.level)
                    .bind(sa.state.as_str())
                    .bind(sa.now)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn service_account_by_uid(
                &self,
                uid: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::service_accounts::ServiceAccountRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::service_accounts::service_account_columns!(),
                    " FROM service_accounts WHERE uid = $1"
                );
                Ok(sqlx::query_as::<$db, $crate::store::service_accounts::ServiceAccountRow>(SQL)
                    .bind(uid)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn service_account_by_id(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::service_accounts::ServiceAccountRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::service_accounts::service_account_columns!(),
                    " FROM service_accounts WHERE id = $1"
                );
                Ok(sqlx::query_as::<$db, $crate::store::service_accounts::ServiceAccountRow>(SQL)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn service_account_email_taken(&self, email: &str) -> $crate::store::StoreResult<bool> {
                let found: Option<(i64,)> = sqlx::query_as::<$db, (i64,)>(
                    "SELECT id FROM service_accounts WHERE LOWER(email) = LOWER($1) LIMIT 1",
                )
                .bind(email)
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.is_some())
            }

            async fn service_accounts(
                &self,
                owner_id: Option<i64>,
            ) -> $crate::store::StoreResult<Vec<$crate::store::service_accounts::ServiceAccountRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::service_accounts::service_account_columns!(),
                    " FROM service_accounts WHERE ($1 IS NULL OR owner_id = $1) ORDER BY id"
                );
                Ok(sqlx::query_as::<$db, $crate::store::service_accounts::ServiceAccountRow>(SQL)
                    .bind(owner_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn set_service_account_state(
                &self,
                id: i64,
                state: &$crate::model::AccountState,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::service_accounts::ServiceAccountRow>> {
                const SQL: &str = concat!(
                    "UPDATE service_accounts SET state = $1, updated_at = $2 WHERE id = $3 RETURNING ",
                    $crate::store::service_accounts::service_account_columns!()
                );
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query_as::<$db, $crate::store::service_accounts::ServiceAccountRow>(SQL)
                    .bind(state.as_str())
                    .bind(now)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if row.is_some() && *state != $crate::model::AccountState::Active {
                    sqlx::query::<$db>(
                        "UPDATE api_keys SET state = 'disabled', updated_at = $2 WHERE state = 'active' \
                         AND key_holder_account_type = 'ServiceAccount' AND key_holder_account_id = $1",
                    )
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                tx.commit().await?;
                Ok(row)
            }

            async fn cascade_owner_state(
                &self,
                owner_id: i64,
                state: &$crate::model::AccountState,
                now: i64,
            ) -> $crate::store::StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let keys = sqlx::query::<$db>($crate::store::api_keys::DISABLE_KEYS_OF_OWNER)
                    .bind(owner_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                sqlx::query::<$db>(
                    "UPDATE service_accounts SET state = $1, updated_at = $2 WHERE owner_id = $3 AND state <> $1",
                )
                .bind(state.as_str())
                .bind(now)
                .bind(owner_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(keys)
            }
        }
    };
}
pub(crate) use impl_service_account_store;
