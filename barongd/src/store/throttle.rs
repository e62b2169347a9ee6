//! throttles: attempt counters per bucket in a fixed window (Barong had no brute-force guard).
//!
//! A bucket is reserved before the work it guards, by one statement that counts the attempt and
//! returns the new count: concurrent requests on any number of daemons each see a distinct count,
//! so no check can slip in between a read and a write.

use async_trait::async_trait;

use super::StoreResult;

/// One bucket to count an attempt in, with the length of its window in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Hit<'a> {
    pub bucket: &'a str,
    pub window: i64,
}

#[async_trait]
pub trait ThrottleStore {
    /// Counts one attempt in every bucket, in one statement, and returns each bucket's count in
    /// its current window (this attempt included), in the order given. A bucket whose window has
    /// ended (or that has none) starts a new window at 1. Callers list account buckets before IP
    /// buckets, so two statements always lock rows in the same order.
    async fn hit(&self, hits: &[Hit<'_>], now: i64) -> StoreResult<Vec<i64>>;
    /// Gives back one attempt in every bucket (the attempt succeeded, so it was no guess); a
    /// count never goes below 0.
    async fn release(&self, buckets: &[&str]) -> StoreResult<()>;
    /// Forgets `bucket`'s window: its owner proved who they are.
    async fn clear(&self, bucket: &str) -> StoreResult<()>;
}

/// `INSERT … VALUES ($1, 1, $2), ($3, 1, $4) …`: one row per hit, `now` the last parameter.
pub fn hit_sql(n: usize) -> String {
    let rows: Vec<String> = (0..n).map(|i| format!("(${}, 1, ${})", 2 * i + 1, 2 * i + 2)).collect();
    let now = 2 * n + 1;
    format!(
        "INSERT INTO throttles (bucket, hits, window_ends_at) VALUES {} \
         ON CONFLICT (bucket) DO UPDATE SET \
         hits = CASE WHEN throttles.window_ends_at > ${now} THEN throttles.hits + 1 ELSE 1 END, \
         window_ends_at = CASE WHEN throttles.window_ends_at > ${now} \
         THEN throttles.window_ends_at ELSE excluded.window_ends_at END \
         RETURNING bucket, hits",
        rows.join(", ")
    )
}

/// `UPDATE … WHERE bucket IN ($1, $2, …)`.
pub fn release_sql(n: usize) -> String {
    let list: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!("UPDATE throttles SET hits = hits - 1 WHERE hits > 0 AND bucket IN ({})", list.join(", "))
}

/// The counts of `returned` (bucket, hits) rows in the order of `hits`.
pub fn in_order(hits: &[Hit<'_>], returned: &[(String, i64)]) -> Vec<i64> {
    hits.iter().map(|h| returned.iter().find(|(b, _)| b == h.bucket).map(|(_, n)| *n).unwrap_or(0)).collect()
}

macro_rules! impl_throttle_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::throttle::ThrottleStore for $store {
            async fn hit(
                &self,
                hits: &[$crate::store::throttle::Hit<'_>],
                now: i64,
            ) -> $crate::store::StoreResult<Vec<i64>> {
                if hits.is_empty() {
                    return Ok(Vec::new());
                }
                let sql = sqlx::AssertSqlSafe($crate::store::throttle::hit_sql(hits.len()));
                let mut q = sqlx::query_as::<$db, (String, i64)>(sql);
                for h in hits {
                    q = q.bind(h.bucket).bind(now + h.window);
                }
                let returned = q.bind(now).fetch_all(&self.pool).await?;
                Ok($crate::store::throttle::in_order(hits, &returned))
            }

            async fn release(&self, buckets: &[&str]) -> $crate::store::StoreResult<()> {
                if buckets.is_empty() {
                    return Ok(());
                }
                let sql = sqlx::AssertSqlSafe($crate::store::throttle::release_sql(buckets.len()));
                let mut q = sqlx::query::<$db>(sql);
                for b in buckets {
                    q = q.bind(*b);
                }
                q.execute(&self.pool).await?;
                Ok(())
            }

            async fn clear(&self, bucket: &str) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("DELETE FROM throttles WHERE bucket = $1").bind(bucket).execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_throttle_store;
