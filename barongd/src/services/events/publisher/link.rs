//! One AMQP connection with its confirm-mode channel, and the broker's signals about them.

use std::collections::HashSet;
use std::time::Duration;

use amqprs::callbacks::{ChannelCallback, ConnectionCallback};
use amqprs::channel::Channel;
use amqprs::connection::Connection;
use amqprs::{Ack, BasicProperties, Cancel, Close, CloseChannel, Nack, Return};
use tokio::sync::mpsc;

/// Upper bound of connecting (TCP, AMQP handshake, channel, confirm mode).
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Upper bound of one declare, and of waiting for the broker's confirm of one message.
pub(super) const OPERATION_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the connection is looked at while waiting for a confirm.
pub(super) const CONFIRM_CHECK: Duration = Duration::from_millis(250);
/// Reconnection back-off after a failed connection: 1 s, 2 s, 4 s, … capped.
pub(super) const RECONNECT_BASE: Duration = Duration::from_secs(1);
pub(super) const RECONNECT_CAP: Duration = Duration::from_secs(30);

/// The broker's answer about one published message, or the end of the channel.
#[derive(Debug)]
pub(super) enum Signal {
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
pub(super) struct Signals(pub(super) mpsc::UnboundedSender<Signal>);

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
pub(super) struct Link {
    pub(super) connection: Connection,
    pub(super) channel: Channel,
    pub(super) signals: mpsc::UnboundedReceiver<Signal>,
    pub(super) sender: Signals,
    /// Delivery tag of the last message published on `channel`.
    pub(super) last_tag: u64,
    /// Exchanges declared (or found) on this connection.
    pub(super) declared: HashSet<String>,
}

impl Link {
    pub(super) fn is_open(&self) -> bool {
        self.connection.is_open() && self.channel.is_open()
    }

    pub(super) async fn close(self) {
        let Link { connection, channel, .. } = self;
        let _ = tokio::time::timeout(Duration::from_secs(2), channel.close()).await;
        let _ = tokio::time::timeout(Duration::from_secs(2), connection.close()).await;
    }
}

/// Why one publication did not end with an ack.
#[derive(Debug)]
pub(super) enum PublishError {
    /// The broker refused this message; the connection is fine.
    Nacked,
    /// The connection or channel failed: it is dropped and reopened.
    Link(String),
}

/// Pause after `failures` consecutive failed connections before: 1 s, 2 s, 4 s, … 30 s.
pub(super) fn reconnect_delay(failures: u32) -> Duration {
    RECONNECT_BASE.saturating_mul(1u32 << failures.min(16)).min(RECONNECT_CAP)
}
