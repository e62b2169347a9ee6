//! event_outbox: Event API messages waiting for RabbitMQ. A row is written in the transaction of
//! the change that caused it (see [`super::outbox`]) and deleted once the broker confirmed it.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Notify;

use super::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventRow {
    pub id: i64,
    pub jti: String,
    pub name: String,
    pub record_sealed: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub created_at: i64,
}

#[async_trait]
pub trait EventStore {
    /// Signalled after every commit that queued events, so the publisher needs no tight poll.
    fn outbox_wake(&self) -> Arc<Notify>;
    /// Events due for an attempt, in the order they happened.
    async fn due_events(&self, now: i64, limit: i64) -> StoreResult<Vec<EventRow>>;
    /// Reserves an event for this daemon until `lease_until`; false when another daemon did first.
    async fn claim_event(&self, id: i64, seen_next_attempt_at: i64, lease_until: i64) -> StoreResult<bool>;
    async fn event_published(&self, id: i64) -> StoreResult<()>;
    async fn event_failed(&self, id: i64, next_attempt_at: i64) -> StoreResult<()>;
    async fn pending_events(&self) -> StoreResult<i64>;
}

macro_rules! impl_event_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::events::EventStore for $store {
            fn outbox_wake(&self) -> std::sync::Arc<tokio::sync::Notify> {
                self.outbox_wake.clone()
            }

            async fn due_events(
                &self,
                now: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::events::EventRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::events::EventRow>(
                    "SELECT id, jti, name, record_sealed, attempts, next_attempt_at, created_at FROM event_outbox \
                     WHERE next_attempt_at <= $1 ORDER BY id LIMIT $2",
                )
                .bind(now)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn claim_event(
                &self,
                id: i64,
                seen_next_attempt_at: i64,
                lease_until: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE event_outbox SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3",
                )
                .bind(lease_until)
                .bind(id)
                .bind(seen_next_attempt_at)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() == 1)
            }

            async fn event_published(&self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("DELETE FROM event_outbox WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn event_failed(&self, id: i64, next_attempt_at: i64) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE event_outbox SET attempts = attempts + 1, next_attempt_at = $1 WHERE id = $2",
                )
                .bind(next_attempt_at)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pending_events(&self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) =
                    sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM event_outbox").fetch_one(&self.pool).await?;
                Ok(n)
            }
        }
    };
}
pub(crate) use impl_event_store;
