//! phones: a user's numbers (sealed, found by their blind index) and the state of the current
//! verification code — sealed code, expiry, attempts, and the send counters of the resend limit.

use async_trait::async_trait;

use super::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhoneRecord {
    pub id: i64,
    pub user_id: i64,
    pub country: String,
    pub number_sealed: String,
    /// The current code, sealed; `None` when Twilio Verify holds it, or after verification.
    pub code: Option<String>,
    pub code_expires_at: Option<i64>,
    pub code_attempts: i64,
    pub code_sent_at: Option<i64>,
    pub validated_at: Option<i64>,
}

/// The column list of `PhoneRecord`, as a macro so queries stay `&'static str`.
macro_rules! phone_columns {
    () => {
        "id, user_id, country, number_sealed, code, code_expires_at, code_attempts, code_sent_at, validated_at"
    };
}
pub(crate) use phone_columns;

/// The limits of one send, checked and counted in one statement.
#[derive(Debug, Clone, Copy)]
pub struct SendLimit {
    pub now: i64,
    /// The previous send must be at or before this time.
    pub last_sent_before: i64,
    /// Sends counted since this time form the current window.
    pub window_start: i64,
    pub max_in_window: i64,
}

#[async_trait]
pub trait PhoneStore {
    /// Whether any user has verified the number with this blind index.
    async fn verified_number_exists(&self, number_index: &str) -> StoreResult<bool>;
    async fn user_phone(&self, user_id: i64, number_index: &str) -> StoreResult<Option<PhoneRecord>>;
    /// Adds a number to a user; `StoreError::Unique` when the user has it already.
    async fn insert_phone(
        &self,
        user_id: i64,
        country: &str,
        number_sealed: &str,
        number_index: &str,
        now: i64,
    ) -> StoreResult<PhoneRecord>;
    /// Adds a number already verified elsewhere (the Management API's `phones`), in one
    /// statement; `StoreError::Unique` when the user has it or another user verified it.
    async fn insert_validated_phone(
        &self,
        user_id: i64,
        country: &str,
        number_sealed: &str,
        number_index: &str,
        now: i64,
    ) -> StoreResult<PhoneRecord>;
    /// Counts one send when the resend limits allow it; false (nothing changed) when they do not.
    async fn reserve_send(&self, id: i64, limit: SendLimit) -> StoreResult<bool>;
    /// Undoes `reserve_send` after a failed delivery.
    async fn release_send(&self, id: i64, previous_sent_at: Option<i64>) -> StoreResult<()>;
    /// Replaces the code (sealed, or `None`) with a fresh one: new expiry, no attempts used.
    async fn set_code(&self, id: i64, code: Option<&str>, expires_at: i64, now: i64) -> StoreResult<()>;
    /// Uses one attempt of the current code; false when all `max` are used up already.
    async fn take_attempt(&self, id: i64, max: i64) -> StoreResult<bool>;
    /// Marks the phone verified and forgets its code; `StoreError::Unique` when another user
    /// verified the number first.
    async fn mark_validated(&self, id: i64, now: i64) -> StoreResult<()>;
}

macro_rules! impl_phone_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::phones::PhoneStore for $store {
            async fn verified_number_exists(&self, number_index: &str) -> $crate::store::StoreResult<bool> {
                let row: Option<(i64,)> = sqlx::query_as::<$db, (i64,)>(
                    "SELECT id FROM phones WHERE number_index = $1 AND validated_at IS NOT NULL LIMIT 1",
                )
                .bind(number_index)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.is_some())
            }

            async fn user_phone(
                &self,
                user_id: i64,
                number_index: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::phones::PhoneRecord>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::phones::phone_columns!(),
                    " FROM phones WHERE user_id = $1 AND number_index = $2"
                );
                Ok(sqlx::query_as::<$db, $crate::store::phones::PhoneRecord>(SQL)
                    .bind(user_id)
                    .bind(number_index)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn insert_validated_phone(
                &self,
                user_id: i64,
                country: &str,
                number_sealed: &str,
                number_index: &str,
                now: i64,
            ) -> $crate::store::StoreResult<$crate::store::phones::PhoneRecord> {
                const SQL: &str = concat!(
                    "INSERT INTO phones (user_id, country, number_sealed, number_index, validated_at, created_at, \
                     updated_at) VALUES ($1, $2, $3, $4, $5, $5, $5) RETURNING ",
                    $crate::store::phones::phone_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::phones::PhoneRecord>(SQL)
                    .bind(user_id)
                    .bind(country)
                    .bind(number_sealed)
                    .bind(number_index)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn insert_phone(
                &self,
                user_id: i64,
                country: &str,
                number_sealed: &str,
                number_index: &str,
                now: i64,
            ) -> $crate::store::StoreResult<$crate::store::phones::PhoneRecord> {
                const SQL: &str = concat!(
                    "INSERT INTO phones (user_id, country, number_sealed, number_index, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
                    $crate::store::phones::phone_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::phones::PhoneRecord>(SQL)
                    .bind(user_id)
                    .bind(country)
                    .bind(number_sealed)
                    .bind(number_index)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn reserve_send(
                &self,
                id: i64,
                l: $crate::store::phones::SendLimit,
            ) -> $crate::store::StoreResult<bool> {
                // SET expressions see the old row, on SQLite as on PostgreSQL.
                let r = sqlx::query::<$db>(
                    "UPDATE phones SET code_sent_at = $2, updated_at = $2, \
                     sends_in_window = CASE WHEN sends_window_started_at > $4 THEN sends_in_window + 1 ELSE 1 END, \
                     sends_window_started_at = CASE WHEN sends_window_started_at > $4 \
                     THEN sends_window_started_at ELSE $2 END \
                     WHERE id = $1 AND (code_sent_at IS NULL OR code_sent_at <= $3) \
                     AND (sends_window_started_at IS NULL OR sends_window_started_at <= $4 OR sends_in_window < $5)",
                )
                .bind(id)
                .bind(l.now)
                .bind(l.last_sent_before)
                .bind(l.window_start)
                .bind(l.max_in_window)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn release_send(&self, id: i64, previous_sent_at: Option<i64>) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE phones SET code_sent_at = $2, \
                     sends_in_window = CASE WHEN sends_in_window > 0 THEN sends_in_window - 1 ELSE 0 END \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(previous_sent_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn set_code(
                &self,
                id: i64,
                code: Option<&str>,
                expires_at: i64,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE phones SET code = $2, code_expires_at = $3, code_attempts = 0, updated_at = $4 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(code)
                .bind(expires_at)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_attempt(&self, id: i64, max: i64) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE phones SET code_attempts = code_attempts + 1 WHERE id = $1 AND code_attempts < $2",
                )
                .bind(id)
                .bind(max)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn mark_validated(&self, id: i64, now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE phones SET validated_at = $2, code = NULL, code_expires_at = NULL, updated_at = $2 \
                     WHERE id = $1",
                )
                .bind(id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_phone_store;
