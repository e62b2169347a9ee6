//! The mail queue's two ends: `send` renders, builds and persists a message; the worker delivers
//! due messages with retries and back-off.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use tokio::sync::{Notify, watch};

use super::kind::{MailError, MailKind};
use super::message::build_message;
use super::templates::{TemplateName, Templates, truncate_chars};
use super::transport::Transport;
use crate::config::MailerSettings;
use crate::services::clock::Clock;
use crate::services::telemetry::record::{self, Queue};
use crate::store::{DynStore, PendingEvent, StoreError};

/// How long a claimed message is reserved for this daemon before another may retry it. Must
/// exceed the longest delivery attempt, or two daemons could both send.
const MIN_LEASE_SECS: i64 = 60;
/// Polling covers messages enqueued by another daemon sharing the database (no wake-up reaches
/// us for those) and retries coming due.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
const BATCH: i64 = 20;
const BACKOFF_BASE_SECS: i64 = 5;
const BACKOFF_CAP_SECS: i64 = 3600;
const MAX_STORED_ERROR_CHARS: usize = 500;

/// Cheap to clone; all clones share one queue wake-up.
#[derive(Clone)]
pub struct Mailer {
    inner: Arc<Inner>,
}

struct Inner {
    store: DynStore,
    transport: Transport,
    templates: Templates,
    from: Mailbox,
    max_attempts: i64,
    /// Upper bound of one delivery attempt, SMTP conversation included.
    attempt_deadline: Duration,
    lease_secs: i64,
    wake: Notify,
    clock: Arc<dyn Clock>,
}

impl Mailer {
    /// Builds the transport; errors (bad SMTP URL, unreadable templates_dir) are start-up errors: return Err(String) naming the key `mailer.smtp_url` / `mailer.templates_dir`, never containing the password.
    pub fn new(
        settings: &MailerSettings,
        outbox_dir: PathBuf,
        store: DynStore,
        default_language: &str,
        clock: Arc<dyn Clock>,
    ) -> Result<Mailer, String> {
        let from: Mailbox =
            settings.from.parse().map_err(|e| format!("mailer.from: invalid address {:?}: {e}", settings.from))?;
        let transport = Transport::new(settings, outbox_dir, clock.clone())?;
        let templates = Templates::load(&settings.templates_dir, default_language)?;
        let per_command = Duration::from_millis(settings.timeout_ms.max(1));
        // A conversation is several commands, each bounded by the per-command timeout.
        let attempt_deadline = per_command.saturating_mul(4).max(Duration::from_secs(10));
        let lease_secs =
            MIN_LEASE_SECS.max(i64::try_from(attempt_deadline.as_secs()).unwrap_or(i64::MAX / 4).saturating_add(30));
        Ok(Mailer {
            inner: Arc::new(Inner {
                store,
                transport,
                templates,
                from,
                max_attempts: i64::from(settings.max_attempts.max(1)),
                attempt_deadline,
                lease_secs,
                wake: Notify::new(),
                clock,
            }),
        })
    }

    /// Renders the template for `lang` (falls back to default_language, then "en"), builds the message, persists it in the queue, and wakes the worker. Returns quickly; delivery happens in the background.
    pub async fn send(&self, to: &str, lang: &str, mail: MailKind, now: i64) -> Result<(), MailError> {
        self.send_with_events(to, lang, mail, now, &[]).await
    }

    /// [`Mailer::send`], queuing `events` (those about what the mail carries) in the same
    /// transaction as the message.
    pub async fn send_with_events(
        &self,
        to: &str,
        lang: &str,
        mail: MailKind,
        now: i64,
        events: &[PendingEvent],
    ) -> Result<(), MailError> {
        let inner = &self.inner;
        let to: Mailbox = to.trim().parse().map_err(|e| MailError::Build(format!("invalid recipient: {e}")))?;
        let recipient = to.email.to_string();
        let id = uuid::Uuid::new_v4().to_string();
        let (subject, body) = inner.templates.render(lang, &mail, &recipient)?;
        let message = build_message(&inner.from, to, &id, &subject, &body, now)?;
        inner.store.enqueue_mail_with_events(&id, &recipient, &message, now, events).await?;
        inner.wake.notify_one();
        tracing::debug!(mail_id = %id, template = TemplateName::of(&mail).file_stem(), "mail queued");
        Ok(())
    }

    /// Spawns the delivery worker on the current tokio runtime; returns its JoinHandle. It exits when `shutdown` flips to true (after finishing the message in hand).
    ///
    /// The worker also exits if the `watch::Sender` is dropped. Undelivered messages stay queued
    /// for the next start.
    pub fn spawn_worker(&self, shutdown: watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
        let inner = self.inner.clone();
        tokio::spawn(async move { inner.run(shutdown).await })
    }
}

impl Inner {
    async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        tracing::debug!(transport = self.transport.kind(), "mail worker started");
        loop {
            if *shutdown.borrow() {
                break;
            }
            let more = match self.deliver_due(&shutdown).await {
                Ok(more) => more,
                Err(e) => {
                    tracing::warn!(error = %e, "mail queue unavailable; will retry");
                    false
                }
            };
            if more {
                continue;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                changed = shutdown.changed() => {
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        tracing::debug!("mail worker stopped");
    }

    /// Delivers one batch of due messages; true when the batch was full and more may be waiting.
    async fn deliver_due(&self, shutdown: &watch::Receiver<bool>) -> Result<bool, StoreError> {
        let rows = self.store.due_mail(self.clock.now(), self.max_attempts, BATCH).await?;
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH;
        for row in rows {
            if *shutdown.borrow() {
                return Ok(false);
            }
            let now = self.clock.now();
            if !self.store.claim_mail(&row.id, row.next_attempt_at, now.saturating_add(self.lease_secs)).await? {
                continue;
            }
            let outcome =
                match tokio::time::timeout(self.attempt_deadline, self.transport.deliver(&self.from, &row)).await {
                    Ok(r) => r,
                    Err(_) => Err(format!("delivery timed out after {} s", self.attempt_deadline.as_secs())),
                };
            match outcome {
                Ok(()) => {
                    tracing::info!(mail_id = %row.id, attempts = row.attempts + 1, "mail delivered");
                    // Should this fail, the lease expires and the message is sent again: a
                    // duplicate is better than a lost confirmation link.
                    self.store.mail_delivered(&row.id).await?;
                }
                Err(error) => {
                    record::outbox_failure(Queue::Mail);
                    let error = truncate_chars(&self.transport.redact(&error), MAX_STORED_ERROR_CHARS);
                    let attempts = row.attempts.saturating_add(1);
                    let delay = backoff_secs(row.attempts);
                    if attempts >= self.max_attempts {
                        tracing::error!(mail_id = %row.id, attempts, error = %error,
                            "mail delivery failed; giving up (the message stays in mail_queue)");
                    } else {
                        tracing::warn!(mail_id = %row.id, attempts, retry_in_secs = delay, error = %error,
                            "mail delivery failed; will retry");
                    }
                    self.store.mail_failed(&row.id, self.clock.now().saturating_add(delay), &error).await?;
                }
            }
        }
        Ok(full)
    }
}

/// Seconds to wait after a failed attempt, given the attempts made before it: 5 s, 10 s, 20 s, …
/// capped at one hour.
pub(super) fn backoff_secs(previous_attempts: i64) -> i64 {
    let exp = u32::try_from(previous_attempts.clamp(0, 30)).unwrap_or(30);
    BACKOFF_BASE_SECS.saturating_mul(1i64 << exp).min(BACKOFF_CAP_SECS)
}
