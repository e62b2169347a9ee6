//! The transactional outbox: events written in the same transaction as the change they report,
//! so a crash can never keep one without the other. Store write methods that report an event
//! take the events (`&[PendingEvent]`, or an [`EventsOf`] closure when the record needs values
//! the database assigns) and insert them into `event_outbox` before committing.

/// An Event API message ready to be queued: its record already sealed.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    pub jti: String,
    pub name: String,
    pub record_sealed: String,
    pub created_at: i64,
}

/// Builds the events of a write from the row the write produced (ids, timestamps, uid).
pub type EventsOf<'a, R> = &'a (dyn Fn(&R) -> Vec<PendingEvent> + Send + Sync);

/// Inserts `$events` into the outbox inside transaction `$tx`.
macro_rules! insert_events {
    ($db:ty, $tx:ident, $events:expr) => {
        for e in $events {
            sqlx::query::<$db>(
                "INSERT INTO event_outbox (jti, name, record_sealed, attempts, next_attempt_at, created_at) \
                 VALUES ($1, $2, $3, 0, $4, $4)",
            )
            .bind(&e.jti)
            .bind(&e.name)
            .bind(&e.record_sealed)
            .bind(e.created_at)
            .execute(&mut *$tx)
            .await?;
        }
    };
}
pub(crate) use insert_events;

/// Runs `$body` (which executes its statement on `$conn`) together with `$events`: on the pool
/// alone when there are none (the common path stays one statement, no transaction), else in one
/// transaction with the outbox rows, waking the publisher after the commit. Evaluates to the
/// body's value.
macro_rules! with_events {
    ($self:ident, $db:ty, $events:expr, |$conn:ident| $body:expr) => {{
        let events: &[$crate::store::outbox::PendingEvent] = $events;
        if events.is_empty() {
            let $conn = &$self.pool;
            $body
        } else {
            let mut tx = $self.pool.begin().await?;
            let value = {
                let $conn = &mut *tx;
                $body
            };
            $crate::store::outbox::insert_events!($db, tx, events);
            tx.commit().await?;
            $self.outbox_wake.notify_one();
            value
        }
    }};
}
pub(crate) use with_events;

/// Runs `$body` (statements on `$conn`) in one transaction with the events `$events` builds from
/// its value `$value` (the rows the database returned), waking the publisher after the commit.
/// Evaluates to the body's value.
macro_rules! with_events_of {
    ($self:ident, $db:ty, |$conn:ident| $body:expr, |$value:ident| $events:expr) => {{
        let mut tx = $self.pool.begin().await?;
        let $value = {
            let $conn = &mut *tx;
            $body
        };
        let events: Vec<$crate::store::outbox::PendingEvent> = $events;
        $crate::store::outbox::insert_events!($db, tx, &events);
        tx.commit().await?;
        if !events.is_empty() {
            $self.outbox_wake.notify_one();
        }
        $value
    }};
}
pub(crate) use with_events_of;
