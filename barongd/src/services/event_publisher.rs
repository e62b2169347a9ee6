//! Publishes the Event API outbox (`event_outbox`, see [`super::events`]) to RabbitMQ.
//!
//! One background task per daemon, started only when events are enabled. It polls due events in
//! id order, claims each with a lease (two daemons sharing a database never both send one), signs
//! it ([`events::signed_message`]) and publishes it on a channel in confirm mode; the row is
//! deleted only once the broker acked the message. A nack, a lost connection or a missing
//! confirm puts the event back with a back-off; nothing is ever lost while RabbitMQ is down,
//! and HTTP requests never wait for it (they only insert the row).
//!
//! Exchanges are declared as Barong's Ruby client did (bunny `channel.direct(name)`: direct,
//! not durable, not auto-deleted), so consumers declaring them the same way do not clash. An
//! exchange that already exists with other properties is used as it is.
//!
//! Delivery is at-least-once: a crash between the broker's ack and the delete re-sends the event
//! after the lease, with the same `jti` (also sent as the AMQP `message_id`).
//!
//! The AMQP URL may carry a password: it is never logged (URLs are redacted, errors masked).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use amqprs::callbacks::{ChannelCallback, ConnectionCallback};
use amqprs::channel::Channel;
use amqprs::connection::Connection;
use amqprs::{Ack, BasicProperties, Cancel, Close, CloseChannel, Nack, Return};
use tokio::sync::{mpsc, watch};

mod broker;
mod target;
#[cfg(test)]
mod tests;

use broker::Broker;
use target::Target;

use super::App;
use super::events;
use crate::store::StoreError;
use crate::store::events::EventRow;

/// Idle polling period of the outbox.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// Events read per round; a full batch is followed at once by the next.
const BATCH: i64 = 100;
/// How long a claimed event is reserved for this daemon.
const LEASE_SECS: i64 = 30;
/// Upper bound of connecting (TCP, AMQP handshake, channel, confirm mode).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound of one declare, and of waiting for the broker's confirm of one message.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the connection is looked at while waiting for a confirm.
const CONFIRM_CHECK: Duration = Duration::from_millis(250);
/// Reconnection back-off after a failed connection: 1 s, 2 s, 4 s, … capped.
const RECONNECT_BASE: Duration = Duration::from_secs(1);
const RECONNECT_CAP: Duration = Duration::from_secs(30);
/// Back-off of one event after a failed publication (nack, lost connection): 5 s, 10 s, …
const RETRY_BASE_SECS: i64 = 5;
const RETRY_CAP_SECS: i64 = 600;
/// Pause after the database failed.
const STORE_RETRY: Duration = Duration::from_secs(1);

/// Starts the publisher when the Event API is enabled. It stops when `shutdown` flips to true
/// (or its sender is dropped), after the event in hand.
pub fn spawn(app: Arc<App>, shutdown: watch::Receiver<bool>) -> Option<tokio::task::JoinHandle<()>> {
    let url = app.config.event_api_url()?;
    Some(tokio::spawn(async move {
        let mut publisher = Publisher::new(app, &url);
        publisher.run(shutdown).await;
    }))
}

/// Checks an Event API URL as the publisher will read it (for start-up validation): `amqp://`
/// only (this build has no TLS), a host, a port in 1..=65535, UTF-8 once percent-decoded. The
/// error never repeats the URL.
pub fn validate_url(url: &str) -> Result<(), String> {
    Target::parse(url).map(|_| ())
}

/// The broker's answer about one published message, or the end of the channel.
#[derive(Debug)]
enum Signal {
    Confirm {
        channel: u16,
        tag: u64,
        multiple: bool,
        ack: bool,
    },
    /// `channel` 0: the whole connection.
    Closed {
        channel: u16,
        reason: String,
    },
}

/// Forwards confirms and closures of the channel (and connection) to the publisher.
#[derive(Clone)]
struct Signals(mpsc::UnboundedSender<Signal>);

#[async_trait::async_trait]
impl ChannelCallback for Signals {
    async fn close(&mut self, channel: &Channel, close: CloseChannel) -> Result<(), amqprs::error::Error> {
        let reason = format!("channel closed by the broker: {close}");
        let _ = self.0.send(Signal::Closed { channel: channel.channel_id(), reason });
        Ok(())
    }
    async fn cancel(&mut self, _channel: &Channel, _cancel: Cancel) -> Result<(), amqprs::error::Error> {
        Ok(())
    }
    async fn flow(&mut self, _channel: &Channel, active: bool) -> Result<bool, amqprs::error::Error> {
        Ok(active)
    }
    async fn publish_ack(&mut self, channel: &Channel, ack: Ack) {
        let (channel, tag, multiple) = (channel.channel_id(), ack.delivery_tag(), ack.mutiple());
        let _ = self.0.send(Signal::Confirm { channel, tag, multiple, ack: true });
    }
    async fn publish_nack(&mut self, channel: &Channel, nack: Nack) {
        let (channel, tag, multiple) = (channel.channel_id(), nack.delivery_tag(), nack.multiple());
        let _ = self.0.send(Signal::Confirm { channel, tag, multiple, ack: false });
    }
    async fn publish_return(&mut self, _channel: &Channel, _ret: Return, _props: BasicProperties, _content: Vec<u8>) {}
}

#[async_trait::async_trait]
impl ConnectionCallback for Signals {
    async fn close(&mut self, _connection: &Connection, close: Close) -> Result<(), amqprs::error::Error> {
        let reason = format!("connection closed by the broker: {close}");
        let _ = self.0.send(Signal::Closed { channel: 0, reason });
        Ok(())
    }
    async fn blocked(&mut self, _connection: &Connection, _reason: String) {}
    async fn unblocked(&mut self, _connection: &Connection) {}
    async fn secret_updated(&mut self, _connection: &Connection) {}
}

/// An open connection with its confirm-mode channel.
struct Link {
    connection: Connection,
    channel: Channel,
    signals: mpsc::UnboundedReceiver<Signal>,
    sender: Signals,
    /// Delivery tag of the last message published on `channel`.
    last_tag: u64,
    /// Exchanges declared (or found) on this connection.
    declared: HashSet<String>,
}

impl Link {
    fn is_open(&self) -> bool {
        self.connection.is_open() && self.channel.is_open()
    }

    async fn close(self) {
        let Link { connection, channel, .. } = self;
        let _ = tokio::time::timeout(Duration::from_secs(2), channel.close()).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), connection.close()).await;
    }
}

/// Why one publication did not end with an ack.
#[derive(Debug)]
enum PublishError {
    /// The broker refused this message; the connection is fine.
    Nacked,
    /// The connection or channel failed: it is dropped and reopened.
    Link(String),
}

struct Publisher {
    app: Arc<App>,
    broker: Broker,
    store_down: bool,
}

impl Publisher {
    fn new(app: Arc<App>, url: &str) -> Publisher {
        Publisher { app, broker: Broker::new(url), store_down: false }
    }

    async fn run(&mut self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(broker = %self.broker.shown_url, "event publisher started");
        if let Err(e) = &self.broker.target {
            // Events keep waiting in the outbox; a corrected URL and a restart send them.
            tracing::error!(broker = %self.broker.shown_url, error = %e,
                "event_api_rabbitmq_url cannot be used; events are not published");
            return;
        }
        loop {
            if *shutdown.borrow() {
                break;
            }
            let pause = self.round(&shutdown).await;
            if pause.is_zero() {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
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
        let Some((exchange, routing_key)) = events::route(&row.name).filter(|(e, k)| e.len() <= 255 && k.len() <= 255)
        else {
            tracing::error!(event_id = row.id, event = %row.name, "event name cannot be routed; event dropped");
            store.event_published(row.id).await?;
            return Ok(true);
        };
        let body = match events::signed_message(&self.app, &row, now) {
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
                store.event_failed(row.id, self.app.clock.now().saturating_add(delay)).await?;
                Ok(true)
            }
            Err(PublishError::Link(e)) => {
                let delay = retry_secs(row.attempts);
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
fn retry_secs(previous_attempts: i64) -> i64 {
    let exp = u32::try_from(previous_attempts.clamp(0, 30)).unwrap_or(30);
    RETRY_BASE_SECS.saturating_mul(1i64 << exp).min(RETRY_CAP_SECS)
}

/// Pause after `failures` consecutive failed connections before: 1 s, 2 s, 4 s, … 30 s.
fn reconnect_delay(failures: u32) -> Duration {
    RECONNECT_BASE.saturating_mul(1u32 << failures.min(16)).min(RECONNECT_CAP)
}
