//! throttles: failed-attempt counters per account and per IP (Barong had no brute-force guard).

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait ThrottleStore {
    /// Failures recorded for `bucket` in the window that started after `window_start`.
    async fn failures(&self, bucket: &str, window_start: i64) -> StoreResult<i64>;
    /// Counts one failure; a bucket whose window started before `window_start` restarts at 1.
    async fn record_failure(&self, bucket: &str, now: i64, window_start: i64) -> StoreResult<()>;
    async fn clear_failures(&self, bucket: &str) -> StoreResult<()>;
}

macro_rules! impl_throttle_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::throttle::ThrottleStore for $store {
            async fn failures(&self, bucket: &str, window_start: i64) -> $crate::store::StoreResult<i64> {
                let row: Option<(i64,)> = sqlx::query_as::<$db, (i64,)>(
                    "SELECT failures FROM throttles WHERE bucket = $1 AND window_started_at > $2",
                )
                .bind(bucket)
                .bind(window_start)
                .fetch_optional(&self.pool)
                .await?;
                Ok(row.map(|r| r.0).unwrap_or(0))
            }

            async fn record_failure(&self, bucket: &str, now: i64, window_start: i64) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO throttles (bucket, failures, window_started_at) VALUES ($1, 1, $2) \
                     ON CONFLICT (bucket) DO UPDATE SET \
                     failures = CASE WHEN throttles.window_started_at > $3 THEN throttles.failures + 1 ELSE 1 END, \
                     window_started_at = CASE WHEN throttles.window_started_at > $3 \
                     THEN throttles.window_started_at ELSE $2 END",
                )
                .bind(bucket)
                .bind(now)
                .bind(window_start)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn clear_failures(&self, bucket: &str) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("DELETE FROM throttles WHERE bucket = $1").bind(bucket).execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_throttle_store;
