//! The RabbitMQ side of the publisher: one connection and confirm-mode channel, opened lazily.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use amqprs::BasicProperties;
use amqprs::channel::{BasicPublishArguments, Channel, ConfirmSelectArguments, ExchangeDeclareArguments};
use amqprs::connection::{Connection, OpenConnectionArguments};
use amqprs::tls::TlsAdaptor;
use tokio::sync::mpsc;

use super::link::{
    CONFIRM_CHECK, CONNECT_TIMEOUT, Link, OPERATION_TIMEOUT, PublishError, Signal, Signals, reconnect_delay,
};
use crate::config::amqp::{AmqpTarget, EventApi};
use crate::redact::mask;

/// The RabbitMQ side: one lazily opened connection and confirm-mode channel, reopened with a
/// capped back-off after any failure, an outage logged once.
pub(super) struct Broker {
    pub(super) target: AmqpTarget,
    /// The CAs an `amqps://` broker must chain to (DER); empty means the built-in roots.
    pub(super) tls_roots: Vec<Vec<u8>>,
    /// Forms of the URL password that must never reach a log line.
    pub(super) secrets: Vec<String>,
    /// The URL without its password, for logs.
    pub(super) shown_url: String,
    pub(super) link: Option<Link>,
    /// Consecutive failed connection attempts.
    pub(super) failures: u32,
    /// Set while RabbitMQ is unreachable, so the outage is logged once.
    pub(super) outage: bool,
}

impl Broker {
    pub(super) fn new(api: &EventApi) -> Broker {
        Broker {
            target: api.target.clone(),
            tls_roots: api.tls_roots.clone(),
            secrets: api.secrets.clone(),
            shown_url: api.shown_url.clone(),
            link: None,
            failures: 0,
            outage: false,
        }
    }

    pub(super) async fn close(&mut self) {
        if let Some(link) = self.link.take() {
            link.close().await;
        }
    }

    /// Makes sure a link is open; Err(pause before the next try) when RabbitMQ cannot be reached.
    pub(super) async fn connect(&mut self) -> Result<(), Duration> {
        if self.link.as_ref().is_some_and(Link::is_open) {
            return Ok(());
        }
        self.close().await;
        let opened = match tokio::time::timeout(CONNECT_TIMEOUT, open_link(&self.target, &self.tls_roots)).await {
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

    pub(super) async fn link_failed(&mut self, error: &str) {
        self.close().await;
        self.note_outage(error);
    }

    pub(super) fn note_outage(&mut self, error: &str) {
        if !self.outage {
            self.outage = true;
            let error = mask(error, &self.secrets);
            tracing::warn!(broker = %self.shown_url, error = %error,
                "RabbitMQ unavailable; events wait in event_outbox until it is back");
        }
    }

    /// Declares the exchange if needed, publishes and waits for the broker's confirm.
    pub(super) async fn publish(
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
    pub(super) async fn declare(&mut self, exchange: &str) -> Result<(), PublishError> {
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

/// amqprs's connection arguments for `target`.
pub(super) fn arguments(target: &AmqpTarget) -> OpenConnectionArguments {
    let mut args = OpenConnectionArguments::new(&target.host, target.port, &target.username, &target.password);
    args.virtual_host(&target.vhost).connection_name("barongd event publisher");
    if let Some(h) = target.heartbeat {
        args.heartbeat(h);
    }
    args
}

/// The TLS side of an `amqps://` connection: rustls with ring (the provider the rest of the
/// build uses), trusting `roots` or, when there are none, the Mozilla roots of webpki-roots. The
/// server's certificate must name the URL's host.
pub(super) fn tls_adaptor(host: &str, roots: &[Vec<u8>]) -> Result<TlsAdaptor, String> {
    use rustls::pki_types::CertificateDer;
    let mut store = rustls::RootCertStore::empty();
    if roots.is_empty() {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    } else {
        for der in roots {
            store.add(CertificateDer::from(der.clone())).map_err(|e| format!("CA certificate: {e}"))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS set-up: {e}"))?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(TlsAdaptor::new(tokio_rustls::TlsConnector::from(Arc::new(config)), host.to_string()))
}

pub(super) async fn open_link(target: &AmqpTarget, tls_roots: &[Vec<u8>]) -> Result<Link, String> {
    let mut args = arguments(target);
    if target.tls {
        args.tls_adaptor(tls_adaptor(&target.host, tls_roots)?);
    }
    let connection = Connection::open(&args).await.map_err(|e| format!("connect: {e}"))?;
    let (tx, rx) = mpsc::unbounded_channel();
    let sender = Signals(tx);
    connection.register_callback(sender.clone()).await.map_err(|e| format!("connection callback: {e}"))?;
    let channel = open_channel(&connection, &sender).await?;
    Ok(Link { connection, channel, signals: rx, sender, last_tag: 0, declared: HashSet::new() })
}

/// A channel in confirm mode whose confirms and closure go to `sender`.
pub(super) async fn open_channel(connection: &Connection, sender: &Signals) -> Result<Channel, String> {
    let channel = connection.open_channel(None).await.map_err(|e| format!("open channel: {e}"))?;
    channel.register_callback(sender.clone()).await.map_err(|e| format!("channel callback: {e}"))?;
    channel.confirm_select(ConfirmSelectArguments::default()).await.map_err(|e| format!("confirm mode: {e}"))?;
    Ok(channel)
}
