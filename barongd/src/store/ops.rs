//! What the metrics scrape and the readiness probe read: the outboxes' depth and oldest item,
//! and the connection pool's use. Read on demand (a scrape, a probe), never per request.

use async_trait::async_trait;

use super::StoreResult;

/// One outbox table: messages waiting, and when the oldest was queued (unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueStats {
    pub depth: i64,
    pub oldest_at: Option<i64>,
}

/// The pool's connections: open, and idle among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUsage {
    pub size: u32,
    pub idle: u32,
}

#[async_trait]
pub trait OpsStore {
    async fn mail_queue_stats(&self) -> StoreResult<QueueStats>;
    async fn event_outbox_stats(&self) -> StoreResult<QueueStats>;
    fn pool_usage(&self) -> PoolUsage;
    /// The newest applied migration (0 for none): one cheap read that also proves the database
    /// answers.
    async fn schema_version(&self) -> StoreResult<i64>;
}

macro_rules! impl_ops_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::ops::OpsStore for $store {
            async fn mail_queue_stats(&self) -> $crate::store::StoreResult<$crate::store::ops::QueueStats> {
                let (depth, oldest_at): (i64, Option<i64>) =
                    sqlx::query_as::<$db, (i64, Option<i64>)>("SELECT COUNT(*), MIN(created_at) FROM mail_queue")
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::store::ops::QueueStats { depth, oldest_at })
            }

            async fn event_outbox_stats(&self) -> $crate::store::StoreResult<$crate::store::ops::QueueStats> {
                let (depth, oldest_at): (i64, Option<i64>) =
                    sqlx::query_as::<$db, (i64, Option<i64>)>("SELECT COUNT(*), MIN(created_at) FROM event_outbox")
                        .fetch_one(&self.pool)
                        .await?;
                Ok($crate::store::ops::QueueStats { depth, oldest_at })
            }

            async fn schema_version(&self) -> $crate::store::StoreResult<i64> {
                let (v,): (Option<i64>,) =
                    sqlx::query_as::<$db, (Option<i64>,)>("SELECT MAX(version) FROM schema_migrations")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(v.unwrap_or(0))
            }

            fn pool_usage(&self) -> $crate::store::ops::PoolUsage {
                $crate::store::ops::PoolUsage { size: self.pool.size(), idle: self.pool.num_idle() as u32 }
            }
        }
    };
}
pub(crate) use impl_ops_store;
