//! Outgoing mail. Every message is rendered, built as a complete RFC 5322 message and persisted in
//! the `mail_queue` table before `send` returns, so an SMTP outage, a full disk or a restart never
//! loses one and the HTTP response never waits for delivery. A background worker
//! ([`mailer::Mailer::spawn_worker`]) then delivers due messages: claim (a lease, so two daemons sharing a
//! database don't both send) → send → delete, or record the failure and retry with exponential
//! back-off. Delivery is at-least-once: a crash between sending and recording it re-sends after
//! the lease expires.
//!
//! Transports: `file` writes `<outbox>/<timestamp>-<id>.eml` atomically; `smtp` goes through
//! lettre's async SMTP client built from `mailer.smtp_url`.
//!
//! Bodies are sent as `7bit` (ASCII) or `8bit` (UTF-8) text, never quoted-printable: quoted-printable
//! soft-wraps lines at 76 characters and escapes `=`, which would cut a JWT link in two and turn
//! `confirmation_token=` into `confirmation_token=3D`. Raw lines are legal up to 998 octets
//! (RFC 5322, section 2.1.1); only a body breaking that limit falls back to lettre's automatic
//! encoding.
//! An 8bit body needs an SMTP server announcing 8BITMIME (every mainstream one does); lettre
//! refuses to send it otherwise and the message stays queued with that error.
//!
//! Message bodies contain live tokens and the SMTP URL may contain a password: neither is logged,
//! and errors stored in the queue have the password masked.

mod kind;
pub mod mailer;
mod message;
mod templates;
#[cfg(test)]
mod tests;
mod transport;

pub use kind::{MailError, MailKind};
pub use mailer::Mailer;
