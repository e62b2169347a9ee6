//! Publishes the Event API outbox (`event_outbox`, see [`super::event_api`]) to RabbitMQ.
//!
//! One background task per daemon, started only when events are enabled. Woken by every commit
//! that queued events (and polling every few seconds for events other daemons queued), it reads
//! due events in id order, claims each with a lease (two daemons sharing a database never both send one), signs
//! it ([`super::event_api::signed_message`]) and publishes it on a channel in confirm mode; the row is
//! deleted only once the broker acked the message. A nack, a lost connection or a missing
//! confirm puts the event back with a back-off; nothing is ever lost while RabbitMQ is down,
//! and HTTP requests never wait for it (they only insert the row, in their own transaction).
//!
//! Exchanges are declared as Barong's Ruby client did (bunny `channel.direct(name)`: direct,
//! not durable, not auto-deleted), so consumers declaring them the same way do not clash. An
//! exchange that already exists with other properties is used as it is.
//!
//! Delivery is at-least-once: a crash between the broker's ack and the delete re-sends the event
//! after the lease, with the same `jti` (also sent as the AMQP `message_id`).
//!
//! The AMQP URL may carry a password: it is never logged (URLs are redacted, errors masked).

mod broker;
mod link;
#[cfg(test)]
mod tests;
pub mod worker;
