//! The publishing task: woken by the store after each commit that queued events (and polling
//! slowly for the rest), it claims, signs and publishes each due event, and puts it back with a
//! back-off when RabbitMQ refuses it or cannot be reached.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::broker::Broker;
use super::link::PublishError;
use crate::config::amqp::EventApi;
use crate::services::App;
use crate::services::events::event_api;
use crate::services::telemetry::record::{self, Queue};
use crate::store::StoreError;
use crate::store::events::EventRow;

/// Idle polling period of the outbox. Commits in this daemon wake the publisher at once; the
/// poll finds events of other daemons sharing the database, of a daemon that died before
/// publishing them, and retries coming due.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
/// Events read per round; a full batch is followed at once by the next.
const BATCH: i64 = 100;
/// How long a claimed event is reserved for this daemon.
const LEASE_SECS: i64 = 30;
/// Back-off of one event after a failed publication (nack, lost connection): 5 s, 10 s, …
const RETRY_BASE_SECS: i64 = 5;
const RETRY_CAP_SECS: i64 = 600;
/// Pause after the database failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Starts the publisher when the Event API is enabled. It stops when `shutdown` flips to true
/// (or its sender is dropped), after the event in hand.
pub fn spawn(app: Arc<App>, shutdown: watch::Receiver<bool>) -> Option<tokio::task::JoinHandle<()>> {
    let api = app.config.event_api.clone()?;
    Some(tokio::spawn(async move {
        let mut publisher = Publisher::new(app, &api);
        publisher.run(shutdown).await;
    }))
}

struct Publisher {
    app: Arc<App>,
    broker: Broker,
    store_down: bool,
}

impl Publisher {
    fn new(app: Arc<App>, api: &EventApi) -> Publisher {
        Publisher { app, broker: Broker::new(api), store_down: false }
    }

    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(broker = %self.broker.shown_url, "event publisher started");
        let wake = self.app.store.outbox_wake();
        loop {
            if *shutdown.borrow() {
                break;
            }
            let pause = self.round(&shutdown).await;
            if pause.is_zero() {
                continue;
            }
            // A commit's wake-up ends an idle wait, not a back-off after a failure.
            let idle = pause == POLL_INTERVAL;
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = wake.notified(), if idle => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        self.broker.close().await;
        tracing::debug!("event publisher stopped");
    }

    /// One round: publishes a batch of due events; returns how long to wait before the next.
    async fn round(&mut self, shutdown: &watch::Receiver<bool>) -> Duration {
        let now = self.app.clock.now();
        let rows = match self.app.store.due_events(now, BATCH).await {
            Ok(rows) => {
                if self.store_down {
                    self.store_down = false;
                    tracing::info!("event outbox readable again");
                }
                rows
            }
            Err(e) => return self.store_failed(e),
        };
        if rows.is_empty() {
            return POLL_INTERVAL;
        }
        // Connect before claiming anything: while RabbitMQ is down, the events stay due, and a
        // daemon that can reach it (a sibling) sends them at once. A stop interrupts connecting.
        let mut stop = shutdown.clone();
        tokio::select! {
            connected = self.broker.connect() => {
                if let Err(pause) = connected {
                    return pause;
                }
            }
            _ = stop.wait_for(|s| *s) => return Duration::ZERO,
        }
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH;
        for row in rows {
            if *shutdown.borrow() {
                return Duration::ZERO;
            }
            match self.handle(row).await {
                Ok(true) => {}
                Ok(false) => return Duration::ZERO, // the link broke: reconnect first
                Err(e) => return self.store_failed(e),
            }
        }
        if full { Duration::ZERO } else { POLL_INTERVAL }
    }

    /// Claims, signs and publishes one event. Ok(false) when the link broke.
    async fn handle(&mut self, row: EventRow) -> Result<bool, StoreError> {
        let store = self.app.store.clone();
        let now = self.app.clock.now();
        if !store.claim_event(row.id, row.next_attempt_at, now.saturating_add(LEASE_SECS)).await? {
            return Ok(true); // another daemon has it
        }
        let Some((exchange, routing_key)) =
            event_api::route(&row.name).filter(|(e, k)| e.len() <= 255 && k.len() <= 255)
        else {
            tracing::error!(event_id = row.id, event = %row.name, "event name cannot be routed; event dropped");
            store.event_published(row.id).await?;
            return Ok(true);
        };
        let body = match event_api::signed_message(&self.app, &row, now) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(event_id = row.id, event = %row.name, error = %e,
                    "event cannot be opened or signed; event dropped");
                store.event_published(row.id).await?;
                return Ok(true);
            }
        };
        match self.broker.publish(&exchange, &routing_key, &row.jti, body).await {
            Ok(()) => {
                tracing::debug!(event_id = row.id, event = %row.name, "event published");
                // Should this fail, the lease expires and the event is sent again with its jti.
                store.event_published(row.id).await?;
                Ok(true)
            }
            Err(PublishError::Nacked) => {
                let delay = retry_secs(row.attempts);
                tracing::warn!(event_id = row.id, event = %row.name, retry_in_secs = delay,
                    "RabbitMQ refused the event (nack); will retry");
                record::outbox_failure(Queue::Events);
                store.event_failed(row.id, self.app.clock.now().saturating_add(delay)).await?;
                Ok(true)
            }
            Err(PublishError::Link(e)) => {
                let delay = retry_secs(row.attempts);
                record::outbox_failure(Queue::Events);
                store.event_failed(row.id, self.app.clock.now().saturating_add(delay)).await?;
                self.broker.link_failed(&e).await;
                Ok(false)
            }
        }
    }

    fn store_failed(&mut self, e: StoreError) -> Duration {
        if !self.store_down {
            self.store_down = true;
            tracing::warn!(error = %e, "event outbox unavailable; will retry");
        }
        STORE_RETRY
    }
}

/// Seconds before an event is tried again, given the attempts made before: 5 s, 10 s, … 10 min.
pub(super) fn retry_secs(previous_attempts: i64) -> i64 {
    let exp = u32::try_from(previous_attempts.clamp(0, 30)).unwrap_or(30);
    RETRY_BASE_SECS.saturating_mul(1i64 << exp).min(RETRY_CAP_SECS)
}
