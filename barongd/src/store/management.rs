//! management_jtis: the `jti` of every accepted Management API request, so each is accepted once
//! across all daemons (spec §4.6, W4).

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait ManagementStore {
    /// Records `jti` until `expires_at`; `false` when it is already recorded. The primary key
    /// decides, so of two concurrent requests with one jti exactly one wins.
    async fn claim_management_jti(&self, jti: &str, expires_at: i64) -> StoreResult<bool>;
    /// Forgets the jtis whose tokens expired by `now`; returns how many.
    async fn purge_management_jtis(&self, now: i64) -> StoreResult<u64>;
}

macro_rules! impl_management_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::management::ManagementStore for $store {
            async fn claim_management_jti(&self, jti: &str, expires_at: i64) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "INSERT INTO management_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
                )
                .bind(jti)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn purge_management_jtis(&self, now: i64) -> $crate::store::StoreResult<u64> {
                let r = sqlx::query::<$db>("DELETE FROM management_jtis WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }
        }
    };
}
pub(crate) use impl_management_store;
