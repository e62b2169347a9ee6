//! used_tokens (single use of confirmation/reset JWTs) and reset_tokens (only the newest works).

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait TokenStore {
    /// Records a token id as used; `false` if it was used already. Atomic: the primary key decides.
    async fn use_jti(&self, jti: &str, expires_at: i64) -> StoreResult<bool>;
    async fn jti_used(&self, jti: &str) -> StoreResult<bool>;
    /// Remembers the newest reset token of a user, replacing any older one.
    async fn set_reset_token(&self, user_id: i64, reset_token: &str, expires_at: i64) -> StoreResult<()>;
    /// Consumes the user's reset token if it equals `reset_token` and has not expired.
    async fn take_reset_token(&self, user_id: i64, reset_token: &str, now: i64) -> StoreResult<bool>;
}

macro_rules! impl_token_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::tokens::TokenStore for $store {
            async fn use_jti(&self, jti: &str, expires_at: i64) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "INSERT INTO used_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                )
                .bind(jti)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn jti_used(&self, jti: &str) -> $crate::store::StoreResult<bool> {
                let found: Option<(String,)> =
                    sqlx::query_as::<$db, (String,)>("SELECT jti FROM used_tokens WHERE jti = $1")
                        .bind(jti)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(found.is_some())
            }

            async fn set_reset_token(
                &self,
                user_id: i64,
                reset_token: &str,
                expires_at: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO reset_tokens (user_id, reset_token, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET reset_token = excluded.reset_token, \
                     expires_at = excluded.expires_at",
                )
                .bind(user_id)
                .bind(reset_token)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_reset_token(
                &self,
                user_id: i64,
                reset_token: &str,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "DELETE FROM reset_tokens WHERE user_id = $1 AND reset_token = $2 AND expires_at > $3",
                )
                .bind(user_id)
                .bind(reset_token)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }
        }
    };
}
pub(crate) use impl_token_store;
