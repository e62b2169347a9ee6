//! mail_queue: outgoing messages persisted before delivery, so an SMTP outage or a restart never
//! loses one.

use async_trait::async_trait;

use super::StoreResult;
use super::outbox::PendingEvent;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MailRow {
    pub id: String,
    pub recipient: String,
    pub message: Vec<u8>,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

#[async_trait]
pub trait MailStore {
    async fn enqueue_mail(&self, id: &str, recipient: &str, message: &[u8], now: i64) -> StoreResult<()> {
        self.enqueue_mail_with_events(id, recipient, message, now, &[]).await
    }
    /// Queues the message and `events` (those about what it carries, such as its token) in one
    /// transaction.
    async fn enqueue_mail_with_events(
        &self,
        id: &str,
        recipient: &str,
        message: &[u8],
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<()>;
    /// Messages due for an attempt, oldest first, skipping those that used up `max_attempts`.
    async fn due_mail(&self, now: i64, max_attempts: i64, limit: i64) -> StoreResult<Vec<MailRow>>;
    /// Claims a message for this daemon until `lease_until` (so two daemons don't send it twice);
    /// returns false if another daemon claimed it first.
    async fn claim_mail(&self, id: &str, seen_next_attempt_at: i64, lease_until: i64) -> StoreResult<bool>;
    async fn mail_delivered(&self, id: &str) -> StoreResult<()>;
    async fn mail_failed(&self, id: &str, next_attempt_at: i64, error: &str) -> StoreResult<()>;
    async fn pending_mail(&self) -> StoreResult<i64>;
}

macro_rules! impl_mail_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::mail::MailStore for $store {
            async fn enqueue_mail_with_events(
                &self,
                id: &str,
                recipient: &str,
                message: &[u8],
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<()> {
                $crate::store::outbox::with_events!(self, $db, events, |conn| {
                    sqlx::query::<$db>(
                        "INSERT INTO mail_queue (id, recipient, message, attempts, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, 0, $4, $4)",
                    )
                    .bind(id)
                    .bind(recipient)
                    .bind(message)
                    .bind(now)
                    .execute(conn)
                    .await?
                });
                Ok(())
            }

            async fn due_mail(
                &self,
                now: i64,
                max_attempts: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::mail::MailRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::mail::MailRow>(
                    "SELECT id, recipient, message, attempts, next_attempt_at FROM mail_queue \
                     WHERE next_attempt_at <= $1 AND attempts < $2 ORDER BY created_at LIMIT $3",
                )
                .bind(now)
                .bind(max_attempts)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn claim_mail(
                &self,
                id: &str,
                seen_next_attempt_at: i64,
                lease_until: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE mail_queue SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3",
                )
                .bind(lease_until)
                .bind(id)
                .bind(seen_next_attempt_at)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn mail_delivered(&self, id: &str) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("DELETE FROM mail_queue WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn mail_failed(&self, id: &str, next_attempt_at: i64, error: &str) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE mail_queue SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3",
                )
                .bind(next_attempt_at)
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pending_mail(&self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) =
                    sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM mail_queue").fetch_one(&self.pool).await?;
                Ok(n)
            }
        }
    };
}
pub(crate) use impl_mail_store;
