//! management_jtis: the `jti` of every accepted Management API request, so each is accepted once
//! across all daemons (spec §4.6, W4).

use async_trait::async_trait;

use super::StoreResult;

/// A comment an admin left on a user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    pub author_uid: String,
    pub title: String,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait ManagementStore {
    /// Records `jti` until `expires_at`; `false` when it is already recorded. The primary key
    /// decides, so of two concurrent requests with one jti exactly one wins.
    async fn claim_management_jti(&self, jti: &str, expires_at: i64) -> StoreResult<bool>;
    /// Forgets the jtis whose tokens expired by `now`; returns how many.
    async fn purge_management_jtis(&self, now: i64) -> StoreResult<u64>;
    /// `(user_id, number_sealed)` of the phones whose blind index is `index` (the caller opens
    /// and compares the numbers: an index match alone is not proof, W14).
    async fn phones_by_index(&self, index: &str) -> StoreResult<Vec<(i64, String)>>;
    async fn comments_of(&self, user_id: i64) -> StoreResult<Vec<CommentRow>>;
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

            async fn phones_by_index(&self, index: &str) -> $crate::store::StoreResult<Vec<(i64, String)>> {
                Ok(sqlx::query_as::<$db, (i64, String)>(
                    "SELECT user_id, number_sealed FROM phones WHERE number_index = $1 ORDER BY id",
                )
                .bind(index)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn comments_of(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::management::CommentRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::management::CommentRow>(
                    "SELECT id, author_uid, title, data, created_at, updated_at FROM comments \
                     WHERE user_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use impl_management_store;
