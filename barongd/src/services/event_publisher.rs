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
use amqprs::channel::{BasicPublishArguments, Channel, ConfirmSelectArguments, ExchangeDeclareArguments};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::{Ack, BasicProperties, Cancel, Close, CloseChannel, Nack, Return};
use tokio::sync::{mpsc, watch};

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

/// The RabbitMQ side: one lazily opened connection and confirm-mode channel, reopened with a
/// capped back-off after any failure, an outage logged once.
struct Broker {
    /// Err when the URL cannot be used (logged once at start).
    target: Result<Target, String>,
    /// Forms of the URL password that must never reach a log line.
    secrets: Vec<String>,
    /// The URL without its password, for logs.
    shown_url: String,
    link: Option<Link>,
    /// Consecutive failed connection attempts.
    failures: u32,
    /// Set while RabbitMQ is unreachable, so the outage is logged once.
    outage: bool,
}

impl Broker {
    fn new(url: &str) -> Broker {
        Broker {
            target: Target::parse(url),
            secrets: password_forms(url),
            shown_url: crate::store::redact_url(url),
            link: None,
            failures: 0,
            outage: false,
        }
    }

    async fn close(&mut self) {
        if let Some(link) = self.link.take() {
            link.close().await;
        }
    }

    /// Makes sure a link is open; Err(pause before the next try) when RabbitMQ cannot be reached.
    async fn connect(&mut self) -> Result<(), Duration> {
        if self.link.as_ref().is_some_and(Link::is_open) {
            return Ok(());
        }
        self.close().await;
        let Ok(target) = &self.target else { return Err(RECONNECT_CAP) };
        let opened = match tokio::time::timeout(CONNECT_TIMEOUT, open_link(target)).await {
            Ok(r) => r,
            Err(_) => Err(format!("no answer within {} s", CONNECT_TIMEOUT.as_secs())),
        };
        match opened {
            Ok(link) => {
                self.link = Some(link);
                self.failures = 0;
                if self.outage {
                    self.outage = false;
                    tracing::info!(broker = %self.shown_url, "RabbitMQ reachable again; publishing queued events");
                } else {
                    tracing::info!(broker = %self.shown_url, "connected to RabbitMQ");
                }
                Ok(())
            }
            Err(e) => {
                self.note_outage(&e);
                let pause = reconnect_delay(self.failures);
                self.failures = self.failures.saturating_add(1);
                Err(pause)
            }
        }
    }

    async fn link_failed(&mut self, error: &str) {
        self.close().await;
        self.note_outage(error);
    }

    fn note_outage(&mut self, error: &str) {
        if !self.outage {
            self.outage = true;
            let error = mask(error, &self.secrets);
            tracing::warn!(broker = %self.shown_url, error = %error,
                "RabbitMQ unavailable; events wait in event_outbox until it is back");
        }
    }

    /// Declares the exchange if needed, publishes and waits for the broker's confirm.
    async fn publish(
        &mut self,
        exchange: &str,
        routing_key: &str,
        jti: &str,
        body: Vec<u8>,
    ) -> Result<(), PublishError> {
        self.declare(exchange).await?;
        let link = self.link.as_mut().ok_or_else(|| PublishError::Link("not connected".into()))?;
        if !link.is_open() {
            return Err(PublishError::Link("connection closed".into()));
        }
        let props = BasicProperties::default().with_content_type("application/json").with_message_id(jti).finish();
        let args = BasicPublishArguments::new(exchange, routing_key);
        match tokio::time::timeout(OPERATION_TIMEOUT, link.channel.basic_publish(props, body, args)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(PublishError::Link(format!("publish: {e}"))),
            Err(_) => return Err(PublishError::Link("publish timed out".into())),
        }
        link.last_tag = link.last_tag.saturating_add(1);
        let tag = link.last_tag;
        let current = link.channel.channel_id();
        let deadline = tokio::time::Instant::now() + OPERATION_TIMEOUT;
        loop {
            // The connection can die without a word (network failure): look at it now and then.
            let wait = (tokio::time::Instant::now() + CONFIRM_CHECK).min(deadline);
            match tokio::time::timeout_at(wait, link.signals.recv()).await {
                Err(_) if wait < deadline => {
                    if !link.is_open() {
                        return Err(PublishError::Link("connection lost while waiting for the confirm".into()));
                    }
                }
                Err(_) => {
                    return Err(PublishError::Link(format!("no confirm within {} s", OPERATION_TIMEOUT.as_secs())));
                }
                Ok(None) => return Err(PublishError::Link("channel gone".into())),
                Ok(Some(Signal::Closed { channel, reason })) if channel == 0 || channel == current => {
                    return Err(PublishError::Link(reason));
                }
                Ok(Some(Signal::Confirm { channel, tag: t, multiple, ack })) if channel == current => {
                    if t == tag || (multiple && t >= tag) {
                        return if ack { Ok(()) } else { Err(PublishError::Nacked) };
                    }
                    // A confirm of an earlier message: keep waiting for ours.
                }
                // About a channel closed before (a refused declaration): not ours.
                Ok(Some(_)) => {}
            }
        }
    }

    /// Declares `exchange` once per connection, as bunny's `channel.direct(name)`. When the broker
    /// refuses (it exists with other properties), the channel is reopened and the exchange is
    /// used as it is if it exists.
    async fn declare(&mut self, exchange: &str) -> Result<(), PublishError> {
        let link = self.link.as_mut().ok_or_else(|| PublishError::Link("not connected".into()))?;
        if link.declared.contains(exchange) {
            return Ok(());
        }
        let args = ExchangeDeclareArguments::new(exchange, "direct").durable(false).auto_delete(false).finish();
        match tokio::time::timeout(OPERATION_TIMEOUT, link.channel.exchange_declare(args)).await {
            Ok(Ok(())) => {
                link.declared.insert(exchange.to_string());
                return Ok(());
            }
            Err(_) => return Err(PublishError::Link("exchange declaration timed out".into())),
            Ok(Err(e)) if !link.connection.is_open() => {
                return Err(PublishError::Link(format!("exchange declaration: {e}")));
            }
            Ok(Err(e)) => {
                tracing::warn!(exchange, error = %mask(&e.to_string(), &self.secrets),
                    "RabbitMQ refused to declare the exchange as Barong did; using the existing one");
            }
        }
        // The refusal closed the channel: open another on the same connection.
        let channel = match tokio::time::timeout(CONNECT_TIMEOUT, open_channel(&link.connection, &link.sender)).await {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(PublishError::Link(e)),
            Err(_) => return Err(PublishError::Link("channel open timed out".into())),
        };
        link.channel = channel;
        link.last_tag = 0;
        let passive = ExchangeDeclareArguments::new(exchange, "direct").passive(true).finish();
        match tokio::time::timeout(OPERATION_TIMEOUT, link.channel.exchange_declare(passive)).await {
            Ok(Ok(())) => {
                link.declared.insert(exchange.to_string());
                Ok(())
            }
            Ok(Err(e)) => Err(PublishError::Link(format!("exchange {exchange}: {e}"))),
            Err(_) => Err(PublishError::Link("exchange check timed out".into())),
        }
    }
}

async fn open_link(target: &Target) -> Result<Link, String> {
    let args = target.arguments();
    let connection = Connection::open(&args).await.map_err(|e| format!("connect: {e}"))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let sender = Signals(tx);
    connection.register_callback(sender.clone()).await.map_err(|e| format!("connection callback: {e}"))?;
    let channel = open_channel(&connection, &sender).await?;
    Ok(Link { connection, channel, signals: rx, sender, last_tag: 0, declared: HashSet::new() })
}

/// A channel in confirm mode whose confirms and closure go to `sender`.
async fn open_channel(connection: &Connection, sender: &Signals) -> Result<Channel, String> {
    let channel = connection.open_channel(None).await.map_err(|e| format!("open channel: {e}"))?;
    channel.register_callback(sender.clone()).await.map_err(|e| format!("channel callback: {e}"))?;
    channel.confirm_select(ConfirmSelectArguments::default()).await.map_err(|e| format!("confirm mode: {e}"))?;
    Ok(channel)
}

/// Where to connect, from an AMQP URL (RabbitMQ's URI spec: user info, host, port and vhost
/// percent-decoded; an empty path is the vhost `/`, so `/%2f` is `/` too).
#[derive(Debug, PartialEq)]
struct Target {
    host: String,
    port: u16,
    username: String,
    password: String,
    vhost: String,
    heartbeat: Option<u16>,
}

impl Target {
    fn parse(url: &str) -> Result<Target, String> {
        let rest = if let Some(r) = url.strip_prefix("amqp://") {
            r
        } else if url.starts_with("amqps://") {
            return Err("amqps:// (TLS) is not supported by this build; use amqp://".into());
        } else {
            return Err("must start with amqp://".into());
        };
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, q),
            None => (tail, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (decode(user)?, decode(pass)?),
                None => (decode(u)?, String::new()),
            },
            None => ("guest".to_string(), "guest".to_string()),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err("bad host".into()),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (decode(h)?, Some(p)),
                None => (decode(hostport)?, None),
            }
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or("bad port")?,
            None => 5672,
        };
        let vhost = match path.strip_prefix('/') {
            Some(v) if !v.is_empty() => decode(v)?,
            _ => "/".to_string(),
        };
        let mut heartbeat = None;
        for pair in query.split('&') {
            if let Some(v) = pair.strip_prefix("heartbeat=") {
                heartbeat = Some(v.parse::<u16>().map_err(|_| "bad heartbeat")?);
            }
        }
        Ok(Target { host, port, username, password, vhost, heartbeat })
    }

    fn arguments(&self) -> OpenConnectionArguments {
        let mut args = OpenConnectionArguments::new(&self.host, self.port, &self.username, &self.password);
        args.virtual_host(&self.vhost).connection_name("barongd event publisher");
        if let Some(h) = self.heartbeat {
            args.heartbeat(h);
        }
        args
    }
}

fn decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "not UTF-8 once percent-decoded".to_string())
}

/// The password of an AMQP URL as written and decoded (empty strings left out).
fn password_forms(url: &str) -> Vec<String> {
    let mut forms = Vec::new();
    if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, pass)) = userinfo.split_once(':')
            && !pass.is_empty()
        {
            forms.push(pass.to_string());
            if let Ok(d) = decode(pass)
                && d != pass
                && !d.is_empty()
            {
                forms.push(d);
            }
        }
    }
    forms
}

fn mask(text: &str, secrets: &[String]) -> String {
    secrets.iter().fold(text.to_string(), |t, s| t.replace(s.as_str(), "***"))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn target(host: &str, port: u16, user: &str, pass: &str, vhost: &str) -> Target {
        Target {
            host: host.into(),
            port,
            username: user.into(),
            password: pass.into(),
            vhost: vhost.into(),
            heartbeat: None,
        }
    }

    #[test]
    fn amqp_urls_are_parsed_and_decoded() {
        assert_eq!(
            Target::parse("amqp://guest:guest@127.0.0.1:5672/%2f"),
            Ok(target("127.0.0.1", 5672, "guest", "guest", "/"))
        );
        assert_eq!(Target::parse("amqp://rabbit"), Ok(target("rabbit", 5672, "guest", "guest", "/")));
        assert_eq!(Target::parse("amqp://u:p%40ss@h/"), Ok(target("h", 5672, "u", "p@ss", "/")));
        assert_eq!(Target::parse("amqp://u:p@h:5673/prod%2Fx"), Ok(target("h", 5673, "u", "p", "prod/x")));
        assert_eq!(Target::parse("amqp://u:p@[::1]:5673/v"), Ok(target("::1", 5673, "u", "p", "v")));
        let t = Target::parse("amqp://h?heartbeat=10&x").expect("parse");
        assert_eq!(t.heartbeat, Some(10));
        for bad in ["amqps://h", "http://h", "amqp://", "amqp://u:p@", "amqp://h:0", "amqp://h:x", "amqp://h:70000"] {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
        // Errors never repeat the URL (it may hold a password).
        let err = Target::parse("amqp://u:hunter2@h:bad").expect_err("must fail");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn passwords_are_masked() {
        let forms = password_forms("amqp://me:p%40ss@h:5672/%2f");
        assert_eq!(forms, vec!["p%40ss".to_string(), "p@ss".to_string()]);
        assert_eq!(mask("ACCESS_REFUSED p@ss", &forms), "ACCESS_REFUSED ***");
        assert!(password_forms("amqp://h/%2f").is_empty());
        assert!(password_forms("amqp://me@h").is_empty());
    }

    #[test]
    fn backoffs_are_capped() {
        assert_eq!(retry_secs(0), 5);
        assert_eq!(retry_secs(1), 10);
        assert_eq!(retry_secs(7), 600);
        assert_eq!(retry_secs(i64::MAX), 600);
        assert_eq!(retry_secs(-3), 5);
        assert_eq!(reconnect_delay(0), Duration::from_secs(1));
        assert_eq!(reconnect_delay(3), Duration::from_secs(8));
        assert_eq!(reconnect_delay(5), Duration::from_secs(30));
        assert_eq!(reconnect_delay(u32::MAX), Duration::from_secs(30));
    }

    /// A consumer on the test broker (`BARONG_TEST_AMQP_URL`, default the local guest account);
    /// None, loudly, when it does not answer (a failure under CI=true).
    async fn test_connection() -> Option<(String, Connection)> {
        let url = std::env::var("BARONG_TEST_AMQP_URL")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
        let target = Target::parse(&url).expect("BARONG_TEST_AMQP_URL");
        match tokio::time::timeout(Duration::from_secs(10), Connection::open(&target.arguments())).await {
            Ok(Ok(c)) => Some((url, c)),
            _ => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "RabbitMQ (BARONG_TEST_AMQP_URL) does not answer, and CI=true requires it"
                );
                eprintln!("SKIPPED (RabbitMQ): {} does not answer", crate::store::redact_url(&url));
                None
            }
        }
    }

    async fn bound_queue(channel: &Channel, exchange: &str, key: &str) -> String {
        use amqprs::channel::{QueueBindArguments, QueueDeclareArguments};
        let (queue, _, _) = channel
            .queue_declare(QueueDeclareArguments::exclusive_server_named())
            .await
            .expect("queue.declare")
            .expect("queue name");
        channel.queue_bind(QueueBindArguments::new(&queue, exchange, key)).await.expect("queue.bind");
        queue
    }

    async fn get_one(channel: &Channel, queue: &str) -> (BasicProperties, Vec<u8>) {
        use amqprs::channel::BasicGetArguments;
        for _ in 0..100 {
            if let Some((_, props, body)) =
                channel.basic_get(BasicGetArguments::new(queue).no_ack(true).finish()).await.expect("basic.get")
            {
                return (props, body);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("nothing arrived in {queue}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn publishes_with_confirms_declares_as_barong_and_reconnects() {
        let Some((url, consumer)) = test_connection().await else { return };
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let channel = consumer.open_channel(None).await.expect("channel");
        let mut broker = Broker::new(&url);
        broker.connect().await.expect("connect");

        // A fresh exchange is declared direct, not durable, not auto-deleted: redeclaring it so
        // (as bunny's `channel.direct(name)` does) is accepted by the broker.
        let exchange = format!("barong.events.unittest{tag}");
        broker.declare(&exchange).await.expect("declare");
        let same = ExchangeDeclareArguments::new(&exchange, "direct").durable(false).auto_delete(false).finish();
        channel.exchange_declare(same).await.expect("same properties as bunny's direct exchange");
        let queue = bound_queue(&channel, &exchange, "user.created").await;
        broker.publish(&exchange, "user.created", "jti-1", b"{\"a\":1}".to_vec()).await.expect("acked");
        let (props, body) = get_one(&channel, &queue).await;
        assert_eq!(body, b"{\"a\":1}");
        assert_eq!(props.content_type().map(String::as_str), Some("application/json"));
        assert_eq!(props.message_id().map(String::as_str), Some("jti-1"));

        // An exchange someone declared otherwise (durable fanout) is used as it is.
        let foreign = format!("barong.events.foreign{tag}");
        let other = ExchangeDeclareArguments::new(&foreign, "fanout").durable(true).finish();
        channel.exchange_declare(other).await.expect("foreign exchange");
        let fq = bound_queue(&channel, &foreign, "").await;
        broker.publish(&foreign, "x.y", "jti-2", b"{}".to_vec()).await.expect("acked on the foreign exchange");
        assert_eq!(get_one(&channel, &fq).await.1, b"{}");

        // A lost connection is an error of the link, then a reconnect carries on.
        let link = broker.link.take().expect("link");
        link.connection.clone().close().await.expect("close");
        broker.link = Some(link);
        assert!(matches!(
            broker.publish(&exchange, "user.created", "jti-3", b"3".to_vec()).await,
            Err(PublishError::Link(_))
        ));
        broker.link_failed("closed by the test").await;
        assert!(broker.outage);
        broker.connect().await.expect("reconnect");
        assert!(!broker.outage);
        broker.publish(&exchange, "user.created", "jti-4", b"4".to_vec()).await.expect("acked after reconnect");
        assert_eq!(get_one(&channel, &queue).await.1, b"4");

        use amqprs::channel::ExchangeDeleteArguments;
        for e in [&exchange, &foreign] {
            channel.exchange_delete(ExchangeDeleteArguments::new(e)).await.expect("exchange.delete");
        }
        broker.close().await;
    }

    /// A TCP relay to the test broker that the test can cut (all connections dropped) and
    /// restore on the same port.
    struct Relay {
        port: u16,
        task: tokio::task::JoinHandle<()>,
    }

    impl Relay {
        async fn start(port: u16, upstream: String) -> Relay {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind relay");
            let port = listener.local_addr().expect("addr").port();
            let task = tokio::spawn(async move {
                let mut conns = tokio::task::JoinSet::new();
                while let Ok((mut inbound, _)) = listener.accept().await {
                    let upstream = upstream.clone();
                    conns.spawn(async move {
                        if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                    });
                }
            });
            Relay { port, task }
        }

        /// Drops the listener and every relayed connection (the JoinSet aborts them).
        async fn cut(self) {
            self.task.abort();
            let _ = self.task.await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_dead_network_is_noticed_and_the_link_comes_back() {
        let Some((url, consumer)) = test_connection().await else { return };
        let target = Target::parse(&url).expect("url");
        let upstream = format!("{}:{}", target.host, target.port);
        let relay = Relay::start(0, upstream.clone()).await;
        let port = relay.port;
        let user = percent_encoding::utf8_percent_encode(&target.username, percent_encoding::NON_ALPHANUMERIC);
        let pass = percent_encoding::utf8_percent_encode(&target.password, percent_encoding::NON_ALPHANUMERIC);
        let vhost = percent_encoding::utf8_percent_encode(&target.vhost, percent_encoding::NON_ALPHANUMERIC);
        let mut broker = Broker::new(&format!("amqp://{user}:{pass}@127.0.0.1:{port}/{vhost}"));
        let channel = consumer.open_channel(None).await.expect("channel");
        let exchange = format!("barong.events.relay{}", uuid::Uuid::new_v4().simple());
        broker.connect().await.expect("connect through the relay");
        broker.publish(&exchange, "k", "j1", b"1".to_vec()).await.expect("acked");
        let queue = bound_queue(&channel, &exchange, "k").await;

        relay.cut().await;
        let started = tokio::time::Instant::now();
        let r = broker.publish(&exchange, "k", "j2", b"2".to_vec()).await;
        assert!(matches!(r, Err(PublishError::Link(_))), "{r:?}");
        assert!(started.elapsed() < OPERATION_TIMEOUT, "noticed in {:?}", started.elapsed());
        broker.link_failed("cut").await;
        assert!(broker.connect().await.is_err(), "nothing listens while the relay is cut");

        let relay = Relay::start(port, upstream).await;
        broker.connect().await.expect("reconnect");
        broker.publish(&exchange, "k", "j3", b"3".to_vec()).await.expect("acked after the network came back");
        assert_eq!(get_one(&channel, &queue).await.1, b"3");
        use amqprs::channel::ExchangeDeleteArguments;
        channel.exchange_delete(ExchangeDeleteArguments::new(&exchange)).await.expect("exchange.delete");
        broker.close().await;
        relay.cut().await;
    }
}
