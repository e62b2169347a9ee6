//! Outgoing mail. Every message is rendered, built as a complete RFC 5322 message and persisted in
//! the `mail_queue` table before `send` returns, so an SMTP outage, a full disk or a restart never
//! loses one and the HTTP response never waits for delivery. A background worker
//! ([`Mailer::spawn_worker`]) then delivers due messages: claim (a lease, so two daemons sharing a
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
//! (RFC 5322 §2.1.1); only a body breaking that limit falls back to lettre's automatic encoding.
//! An 8bit body needs an SMTP server announcing 8BITMIME (every mainstream one does); lettre
//! refuses to send it otherwise and the message stays queued with that error.
//!
//! Message bodies contain live tokens and the SMTP URL may contain a password: neither is logged,
//! and errors stored in the queue have the password masked.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use crate::config::{MailTransport, MailerSettings};
use crate::redact::mask;
use crate::services::events::outbox_files::{self, create_private_dir};
use lettre::address::Envelope;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::sync::{Notify, watch};

use crate::store::{DynStore, MailRow, StoreError};

/// How long a claimed message is reserved for this daemon before another may retry it. Must
/// exceed the longest delivery attempt, or two daemons could both send.
const MIN_LEASE_SECS: i64 = 60;
/// Polling covers messages enqueued by another daemon sharing the database (no wake-up reaches
/// us for those) and retries coming due.
const POLL_INTERVAL: Duration = Duration::from_secs(5);
const BATCH: i64 = 20;
const BACKOFF_BASE_SECS: i64 = 5;
const BACKOFF_CAP_SECS: i64 = 3600;
/// RFC 5322 §2.1.1 hard limit for a line, CRLF excluded.
const MAX_LINE_OCTETS: usize = 998;
/// Client-supplied values (user agent) are capped so a hostile header cannot bloat every mail.
const MAX_CLIENT_VALUE_CHARS: usize = 300;
const MAX_STORED_ERROR_CHARS: usize = 500;

/// What to send; the caller builds the links.
#[derive(Debug, Clone)]
pub enum MailKind {
    /// Registration confirmation: link `<frontend_url>/accounts/confirmation?confirmation_token=TOKEN&lang=LANG`
    EmailConfirmation { link: String },
    /// Password reset: link `<frontend_url>/accounts/password_reset?reset_token=TOKEN&lang=LANG`
    PasswordReset { link: String },
    /// Sent after a password reset or change.
    PasswordChanged,
    /// New login notice (Barong's "New Login" template): IP and user agent.
    NewLogin { ip: String, user_agent: String },
}

impl MailKind {
    fn template(&self) -> TemplateName {
        match self {
            MailKind::EmailConfirmation { .. } => TemplateName::EmailConfirmation,
            MailKind::PasswordReset { .. } => TemplateName::PasswordReset,
            MailKind::PasswordChanged => TemplateName::PasswordChanged,
            MailKind::NewLogin { .. } => TemplateName::NewLogin,
        }
    }
}

#[derive(Debug)]
pub enum MailError {
    /// The message could not be rendered or built (e.g. an invalid recipient address).
    Build(String),
    /// The queue could not be written.
    Store(StoreError),
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailError::Build(m) => write!(f, "cannot build mail: {m}"),
            MailError::Store(e) => write!(f, "cannot queue mail: {e}"),
        }
    }
}

impl std::error::Error for MailError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MailError::Build(_) => None,
            MailError::Store(e) => Some(e),
        }
    }
}

impl From<StoreError> for MailError {
    fn from(e: StoreError) -> Self {
        MailError::Store(e)
    }
}

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
}

impl Mailer {
    /// Builds the transport; errors (bad SMTP URL, unreadable templates_dir) are start-up errors: return Err(String) naming the key `mailer.smtp_url` / `mailer.templates_dir`, never containing the password.
    pub fn new(
        settings: &MailerSettings,
        outbox_dir: PathBuf,
        store: DynStore,
        default_language: &str,
    ) -> Result<Mailer, String> {
        let from: Mailbox =
            settings.from.parse().map_err(|e| format!("mailer.from: invalid address {:?}: {e}", settings.from))?;
        let transport = Transport::new(settings, outbox_dir)?;
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
            }),
        })
    }

    /// Renders the template for `lang` (falls back to default_language, then "en"), builds the message, persists it in the queue, and wakes the worker. Returns quickly; delivery happens in the background.
    pub async fn send(&self, to: &str, lang: &str, mail: MailKind, now: i64) -> Result<(), MailError> {
        let inner = &self.inner;
        let to: Mailbox = to.trim().parse().map_err(|e| MailError::Build(format!("invalid recipient: {e}")))?;
        let recipient = to.email.to_string();
        let id = uuid::Uuid::new_v4().to_string();
        let (subject, body) = inner.templates.render(lang, &mail, &recipient)?;
        let message = build_message(&inner.from, to, &id, &subject, &body, now)?;
        // The worker reads the queue by wall-clock time; a caller's clock ahead of it must not
        // hold the message back.
        let queued_at = now.min(wall_now());
        inner.store.enqueue_mail(&id, &recipient, &message, queued_at).await?;
        inner.wake.notify_one();
        tracing::debug!(mail_id = %id, template = mail.template().file_stem(), "mail queued");
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
        let rows = self.store.due_mail(wall_now(), self.max_attempts, BATCH).await?;
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH;
        for row in rows {
            if *shutdown.borrow() {
                return Ok(false);
            }
            let now = wall_now();
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
                    self.store.mail_failed(&row.id, wall_now().saturating_add(delay), &error).await?;
                }
            }
        }
        Ok(full)
    }
}

/// Seconds to wait after a failed attempt, given the attempts made before it: 5 s, 10 s, 20 s, …
/// capped at one hour.
fn backoff_secs(previous_attempts: i64) -> i64 {
    let exp = u32::try_from(previous_attempts.clamp(0, 30)).unwrap_or(30);
    BACKOFF_BASE_SECS.saturating_mul(1i64 << exp).min(BACKOFF_CAP_SECS)
}

fn wall_now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}

// --- transports --------------------------------------------------------------------------------

enum Transport {
    File {
        outbox: PathBuf,
    },
    Smtp {
        client: AsyncSmtpTransport<Tokio1Executor>,
        /// Password forms (as written and percent-decoded) to mask in error texts.
        secrets: Vec<String>,
    },
}

impl Transport {
    fn new(settings: &MailerSettings, outbox: PathBuf) -> Result<Transport, String> {
        match settings.transport {
            MailTransport::File => {
                create_private_dir(&outbox)
                    .map_err(|e| format!("mail outbox {}: cannot create: {e}", outbox.display()))?;
                Ok(Transport::File { outbox })
            }
            MailTransport::Smtp => {
                let url = settings.smtp_url.expose();
                let secrets = url_password_forms(url);
                let redact = |text: String| mask(&text, &secrets);
                if url.is_empty() {
                    return Err("mailer.smtp_url: required when mailer.transport is smtp".into());
                }
                // For plain `smtp://host:port` (no `tls` parameter) from_url yields a client with
                // TLS off, like builder_dangerous(host).port(port): a local sink works as is.
                let client = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("mailer.smtp_url: {}", redact(e.to_string())))?
                    .timeout(Some(Duration::from_millis(settings.timeout_ms.max(1))))
                    .build();
                Ok(Transport::Smtp { client, secrets })
            }
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Transport::File { .. } => "file",
            Transport::Smtp { .. } => "smtp",
        }
    }

    fn redact(&self, text: &str) -> String {
        match self {
            Transport::File { .. } => text.to_string(),
            Transport::Smtp { secrets, .. } => mask(text, secrets),
        }
    }

    /// Error texts may reach logs and the queue table; they never contain the message.
    async fn deliver(&self, from: &Mailbox, row: &MailRow) -> Result<(), String> {
        match self {
            Transport::File { outbox } => {
                let (outbox, id, message) = (outbox.clone(), row.id.clone(), row.message.clone());
                tokio::task::spawn_blocking(move || write_eml(&outbox, &id, &message))
                    .await
                    .map_err(|e| format!("outbox writer failed: {e}"))?
                    .map(|_| ())
                    .map_err(|e| format!("cannot write to outbox: {e}"))
            }
            Transport::Smtp { client, .. } => {
                let to: Address = row.recipient.parse().map_err(|e| format!("invalid recipient address: {e}"))?;
                let envelope =
                    Envelope::new(Some(from.email.clone()), vec![to]).map_err(|e| format!("invalid envelope: {e}"))?;
                client.send_raw(&envelope, &row.message).await.map(|_| ()).map_err(|e| e.to_string())
            }
        }
    }
}

/// The password of `scheme://user:password@host…`, as written and percent-decoded.
fn url_password_forms(url: &str) -> Vec<String> {
    let Some((_, rest)) = url.split_once("://") else {
        return Vec::new();
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Vec::new();
    };
    let Some((_, password)) = userinfo.split_once(':') else {
        return Vec::new();
    };
    if password.is_empty() {
        return Vec::new();
    }
    let mut forms = vec![password.to_string()];
    if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8()
        && decoded != password
        && !decoded.is_empty()
    {
        forms.push(decoded.into_owned());
    }
    forms
}

/// Writes `<dir>/<timestamp>-<id>.eml`; see [`outbox_files::write_message`].
fn write_eml(dir: &Path, id: &str, message: &[u8]) -> std::io::Result<PathBuf> {
    outbox_files::write_message(dir, id, "eml", message)
}

// --- messages ----------------------------------------------------------------------------------

fn build_message(
    from: &Mailbox,
    to: Mailbox,
    id: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<Vec<u8>, MailError> {
    let date = UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .date(date)
        .message_id(Some(format!("<{id}@{}>", from.email.domain())))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(encode_body(body)))
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(message.formatted())
}

/// See the module comment for why this avoids quoted-printable. No final CRLF: lettre appends
/// one after a part's body.
fn encode_body(text: &str) -> Body {
    let lines: Vec<&str> = text.trim_end_matches(['\r', '\n']).lines().collect();
    if lines.iter().any(|l| l.len() > MAX_LINE_OCTETS || l.contains(['\r', '\0'])) {
        return Body::new(text.to_string());
    }
    let crlf = lines.join("\r\n");
    let encoding = if crlf.is_ascii() { ContentTransferEncoding::SevenBit } else { ContentTransferEncoding::EightBit };
    Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
}

// --- templates ---------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum TemplateName {
    EmailConfirmation,
    PasswordReset,
    PasswordChanged,
    NewLogin,
}

impl TemplateName {
    const ALL: [TemplateName; 4] = [
        TemplateName::EmailConfirmation,
        TemplateName::PasswordReset,
        TemplateName::PasswordChanged,
        TemplateName::NewLogin,
    ];

    fn file_stem(self) -> &'static str {
        match self {
            TemplateName::EmailConfirmation => "email_confirmation",
            TemplateName::PasswordReset => "password_reset",
            TemplateName::PasswordChanged => "password_changed",
            TemplateName::NewLogin => "new_login",
        }
    }
}

/// Embedded so the daemon works without any files around it.
const BUILT_IN: [(&str, TemplateName, &str); 8] = [
    ("en", TemplateName::EmailConfirmation, include_str!("../../../../config/templates/en/email_confirmation.txt")),
    ("en", TemplateName::PasswordReset, include_str!("../../../../config/templates/en/password_reset.txt")),
    ("en", TemplateName::PasswordChanged, include_str!("../../../../config/templates/en/password_changed.txt")),
    ("en", TemplateName::NewLogin, include_str!("../../../../config/templates/en/new_login.txt")),
    ("ru", TemplateName::EmailConfirmation, include_str!("../../../../config/templates/ru/email_confirmation.txt")),
    ("ru", TemplateName::PasswordReset, include_str!("../../../../config/templates/ru/password_reset.txt")),
    ("ru", TemplateName::PasswordChanged, include_str!("../../../../config/templates/ru/password_changed.txt")),
    ("ru", TemplateName::NewLogin, include_str!("../../../../config/templates/ru/new_login.txt")),
];

#[derive(Debug, Clone, PartialEq, Eq)]
struct Template {
    subject: String,
    body: String,
}

/// `Subject: …`, a blank line, then the body.
fn parse_template(text: &str) -> Result<Template, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.trim_end_matches('\r');
    let subject = first
        .strip_prefix("Subject:")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("the first line must be `Subject: ...`")?;
    let body = match rest.split_once('\n') {
        Some((blank, body)) if blank.trim().is_empty() => body,
        None if rest.trim().is_empty() => "",
        _ => return Err("the subject line must be followed by a blank line".into()),
    };
    Ok(Template { subject: subject.to_string(), body: format!("{}\n", body.trim_end()) })
}

/// All templates, loaded once: no disk reads per message.
struct Templates {
    by_lang: HashMap<String, HashMap<TemplateName, Template>>,
    default_language: String,
}

impl Templates {
    fn load(templates_dir: &str, default_language: &str) -> Result<Templates, String> {
        let mut by_lang: HashMap<String, HashMap<TemplateName, Template>> = HashMap::new();
        for (lang, name, text) in BUILT_IN {
            let t = parse_template(text).map_err(|e| format!("built-in template {lang}/{}: {e}", name.file_stem()))?;
            by_lang.entry(lang.to_string()).or_default().insert(name, t);
        }
        if !templates_dir.is_empty() {
            Self::load_dir(Path::new(templates_dir), &mut by_lang).map_err(|e| format!("mailer.templates_dir: {e}"))?;
        }
        Ok(Templates { by_lang, default_language: default_language.to_string() })
    }

    /// Overrides built-ins with `<dir>/<lang>/<name>.txt`; absent files keep the built-in.
    fn load_dir(dir: &Path, by_lang: &mut HashMap<String, HashMap<TemplateName, Template>>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            let Some(lang) = entry.file_name().to_str().and_then(sanitize_lang).map(str::to_string) else {
                continue;
            };
            if !entry.path().is_dir() {
                continue;
            }
            for name in TemplateName::ALL {
                let path = entry.path().join(format!("{}.txt", name.file_stem()));
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
                };
                let t = parse_template(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                by_lang.entry(lang.clone()).or_default().insert(name, t);
            }
        }
        Ok(())
    }

    /// `lang`, its base language (`pt` for `pt-BR`), the default language and its base, then `en`.
    fn pick(&self, lang: &str, name: TemplateName) -> Option<&Template> {
        let mut chain: Vec<&str> = Vec::with_capacity(5);
        for l in [sanitize_lang(lang), sanitize_lang(&self.default_language)].into_iter().flatten() {
            chain.push(l);
            if let Some((base, _)) = l.split_once('-') {
                chain.push(base);
            }
        }
        chain.push("en");
        chain.into_iter().find_map(|l| self.by_lang.get(l).and_then(|m| m.get(&name)))
    }

    /// Subject and body (LF line endings) for `mail` to `email`.
    fn render(&self, lang: &str, mail: &MailKind, email: &str) -> Result<(String, String), MailError> {
        let name = mail.template();
        let template =
            self.pick(lang, name).ok_or_else(|| MailError::Build(format!("no template {}", name.file_stem())))?;
        let email = clean_value(email, usize::MAX);
        let mut vars: Vec<(&str, String)> = vec![("email", email)];
        match mail {
            MailKind::EmailConfirmation { link } | MailKind::PasswordReset { link } => {
                // Never truncated: a cut link is useless.
                vars.push(("link", clean_value(link, usize::MAX)));
            }
            MailKind::PasswordChanged => {}
            MailKind::NewLogin { ip, user_agent } => {
                vars.push(("ip", clean_value(ip, MAX_CLIENT_VALUE_CHARS)));
                vars.push(("user_agent", clean_value(user_agent, MAX_CLIENT_VALUE_CHARS)));
            }
        }
        let subject = clean_value(&substitute(&template.subject, &vars), usize::MAX);
        let body = substitute(&template.body, &vars);
        Ok((subject, body))
    }
}

/// Only `xx` or `xx-YY`; anything else (including path tricks like `../x`) is refused.
fn sanitize_lang(lang: &str) -> Option<&str> {
    let b = lang.as_bytes();
    let lower2 = |s: &[u8]| s.iter().all(u8::is_ascii_lowercase);
    let ok = match b.len() {
        2 => lower2(b),
        5 => lower2(&b[..2]) && b[2] == b'-' && b[3..].iter().all(u8::is_ascii_uppercase),
        _ => false,
    };
    ok.then_some(lang)
}

/// Values may come from clients (user agent): no control characters, so they cannot add header
/// lines to the subject or forge lines in the body.
fn clean_value(value: &str, max_chars: usize) -> String {
    let cleaned: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    truncate_chars(&cleaned, max_chars)
}

/// Replaces `{{key}}` in one pass, so a value containing `{{…}}` is never expanded itself.
/// Unknown placeholders stay as written.
fn substitute(text: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match vars.iter().find(|(k, _)| *k == key) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templates() -> Templates {
        Templates::load("", "en").expect("load")
    }

    fn from() -> Mailbox {
        "Barong <noreply@barong.io>".parse().expect("parse")
    }

    fn confirmation_eml(lang: &str, token: &str) -> (Vec<u8>, String) {
        let link = format!("https://example.com/accounts/confirmation?confirmation_token={token}&lang={lang}");
        let (subject, body) = templates()
            .render(lang, &MailKind::EmailConfirmation { link: link.clone() }, "alice@example.com")
            .expect("render");
        let to: Mailbox = "alice@example.com".parse().expect("parse");
        (
            build_message(&from(), to, "0b7e3f1c-1111-4222-8333-944455556666", &subject, &body, 1_700_000_000)
                .expect("build_message"),
            link,
        )
    }

    /// Splits a CRLF message into (headers unfolded, body).
    fn split(eml: &[u8]) -> (Vec<(String, String)>, String) {
        let text = String::from_utf8(eml.to_vec()).expect("from_utf8");
        let (head, body) = text.split_once("\r\n\r\n").expect("split_once");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                headers.last_mut().expect("last_mut").1.push_str(line);
            } else {
                let (k, v) = line.split_once(':').expect("split_once");
                headers.push((k.to_string(), v.trim().to_string()));
            }
        }
        (headers, body.to_string())
    }

    fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
        headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    #[test]
    fn built_in_templates_parse() {
        let t = templates();
        for lang in ["en", "ru"] {
            for name in TemplateName::ALL {
                let tpl = t.by_lang.get(lang).and_then(|m| m.get(&name)).expect("and_then");
                assert!(!tpl.subject.is_empty());
                assert!(!tpl.body.starts_with('\n'), "{lang}/{name:?} body starts with a blank line");
            }
        }
    }

    #[test]
    fn unknown_language_falls_back_to_default_then_en() {
        let t = templates();
        let (subject, body) = t.render("de", &MailKind::PasswordChanged, "a@b.io").expect("render");
        assert_eq!(subject, "Your password has been changed");
        assert!(body.contains("a@b.io"));

        let ru_default = Templates::load("", "ru").expect("load");
        let (subject, _) = ru_default.render("de", &MailKind::PasswordChanged, "a@b.io").expect("render");
        assert_eq!(subject, "Ваш пароль изменён");

        let bad_default = Templates::load("", "../etc").expect("load");
        let (subject, _) = bad_default.render("xx", &MailKind::PasswordChanged, "a@b.io").expect("render");
        assert_eq!(subject, "Your password has been changed");
    }

    #[test]
    fn region_falls_back_to_base_language() {
        let (subject, _) = templates().render("ru-RU", &MailKind::PasswordChanged, "a@b.io").expect("render");
        assert_eq!(subject, "Ваш пароль изменён");
    }

    #[test]
    fn russian_rendering() {
        let kind = MailKind::NewLogin { ip: "203.0.113.7".into(), user_agent: "Firefox/130".into() };
        let (subject, body) = templates().render("ru", &kind, "ivan@example.ru").expect("render");
        assert_eq!(subject, "Новый вход в учётную запись");
        assert!(body.contains("IP-адрес: 203.0.113.7"));
        assert!(body.contains("Браузер: Firefox/130"));
        assert!(body.contains("ivan@example.ru"));
        assert!(!body.contains("{{"));
    }

    #[test]
    fn lang_sanitising() {
        assert_eq!(sanitize_lang("en"), Some("en"));
        assert_eq!(sanitize_lang("pt-BR"), Some("pt-BR"));
        for bad in ["", "e", "EN", "eng", "en-us", "en_US", "../en", "en/..", "..", "en-BR1", "ru\0", "ру"] {
            assert_eq!(sanitize_lang(bad), None, "{bad:?}");
        }
        let (subject, _) =
            templates().render("../../etc/passwd", &MailKind::PasswordChanged, "a@b.io").expect("render");
        assert_eq!(subject, "Your password has been changed");
    }

    #[test]
    fn substitution_is_single_pass_and_values_are_cleaned() {
        let vars = vec![("ip", "{{link}}".to_string()), ("link", "L".to_string())];
        assert_eq!(substitute("a {{ip}} b {{link}} {{nope}} {{", &vars), "a {{link}} b L {{nope}} {{");
        let kind =
            MailKind::NewLogin { ip: "1.2.3.4".into(), user_agent: format!("evil\r\nBcc: x@y.z{}", "a".repeat(1000)) };
        let (_, body) = templates().render("en", &kind, "a@b.io").expect("render");
        assert!(!body.contains("\r"));
        let ua_line = body.lines().find(|l| l.starts_with("Browser:")).expect("find");
        assert!(ua_line.contains("evil  Bcc: x@y.z"));
        assert!(ua_line.chars().count() <= "Browser: ".len() + MAX_CLIENT_VALUE_CHARS);
    }

    #[test]
    fn template_parsing() {
        let t = parse_template("Subject: Hi {{email}}\r\n\r\nBody {{link}}\r\n\r\n").expect("parse_template");
        assert_eq!(t, Template { subject: "Hi {{email}}".into(), body: "Body {{link}}\n".into() });
        assert!(parse_template("Hello\n\nbody").is_err());
        assert!(parse_template("Subject: x\nbody").is_err());
        assert!(parse_template("Subject:\n\nbody").is_err());
        assert_eq!(parse_template("\u{feff}Subject: x").expect("parse_template").body, "\n");
    }

    #[test]
    fn long_link_stays_on_one_line() {
        let token: String = "eyJhbGciOiJSUzI1NiJ9.".chars().chain(std::iter::repeat_n('x', 700)).collect();
        for lang in ["en", "ru"] {
            let (eml, link) = confirmation_eml(lang, &token);
            let text = String::from_utf8(eml.clone()).expect("from_utf8");
            let line = text.lines().find(|l| l.contains("confirmation_token=")).expect("link line");
            assert_eq!(line.trim_end_matches('\r'), link, "{lang}: link not on one line");
            // What `grep -o 'confirmation_token=[^&[:space:]]*'` extracts.
            let start = text.find("confirmation_token=").expect("find") + "confirmation_token=".len();
            let grepped: String = text[start..].chars().take_while(|c| *c != '&' && !c.is_whitespace()).collect();
            assert_eq!(grepped, token);
            let (headers, _) = split(&eml);
            let cte = header(&headers, "Content-Transfer-Encoding").expect("header");
            assert_eq!(cte, if lang == "en" { "7bit" } else { "8bit" });
        }
    }

    #[test]
    fn eml_is_headers_and_body() {
        let (eml, link) = confirmation_eml("ru", "abc.def.ghi");
        let (headers, body) = split(&eml);
        assert_eq!(header(&headers, "From"), Some("Barong <noreply@barong.io>"));
        assert_eq!(header(&headers, "To"), Some("alice@example.com"));
        assert_eq!(header(&headers, "MIME-Version"), Some("1.0"));
        assert_eq!(header(&headers, "Content-Type"), Some("text/plain; charset=utf-8"));
        assert_eq!(header(&headers, "Message-ID"), Some("<0b7e3f1c-1111-4222-8333-944455556666@barong.io>"));
        assert_eq!(header(&headers, "Date"), Some("Tue, 14 Nov 2023 22:13:20 +0000"));
        // Non-ASCII subjects are RFC 2047 encoded words; the head stays ASCII.
        let subject = header(&headers, "Subject").expect("header");
        assert!(subject.starts_with("=?utf-8?"), "{subject}");
        assert!(eml.split(|b| *b == b'\n').take_while(|l| *l != b"\r").all(|l| l.is_ascii()));
        assert!(body.contains("Здравствуйте!"));
        assert!(body.contains(&link));
        assert!(body.ends_with("\r\n") && !body.ends_with("\r\n\r\n"));
        assert!(!body.replace("\r\n", "").contains('\n'), "bare LF in body");
    }

    #[test]
    fn overlong_lines_fall_back_to_a_legal_encoding() {
        let body = encode_body(&"y".repeat(MAX_LINE_OCTETS + 1));
        assert!(matches!(body.encoding(), ContentTransferEncoding::QuotedPrintable | ContentTransferEncoding::Base64));
        let body = encode_body(&"y".repeat(MAX_LINE_OCTETS));
        assert_eq!(body.encoding(), ContentTransferEncoding::SevenBit);
    }

    #[test]
    fn invalid_recipient_is_a_build_error() {
        assert!("not an address".parse::<Mailbox>().is_err());
    }

    #[test]
    fn atomic_write_leaves_only_the_eml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = dir.path().join("outbox");
        let a = write_eml(&outbox, "id-1", b"Subject: a\r\n\r\nx\r\n").expect("write_eml");
        let b = write_eml(&outbox, "../../id-2", b"Subject: b\r\n\r\ny\r\n").expect("write_eml");
        assert_eq!(a.parent(), Some(outbox.as_path()));
        assert_eq!(b.parent(), Some(outbox.as_path()));
        assert!(b.file_name().expect("file name").to_str().expect("utf-8 name").ends_with("-id-2.eml"));
        let mut names: Vec<String> = std::fs::read_dir(&outbox)
            .expect("read_dir")
            .map(|e| e.expect("dir entry").file_name().into_string().expect("into_string"))
            .collect();
        names.sort();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.iter().all(|n| n.ends_with(".eml") && !n.starts_with('.')), "{names:?}");
        assert_eq!(std::fs::read(&a).expect("read"), b"Subject: a\r\n\r\nx\r\n");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&a).expect("metadata").permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&outbox).expect("metadata").permissions().mode() & 0o777, 0o700);
    }

    #[test]
    fn backoff_schedule() {
        assert_eq!(backoff_secs(0), 5);
        assert_eq!(backoff_secs(1), 10);
        assert_eq!(backoff_secs(2), 20);
        assert_eq!(backoff_secs(9), 2560);
        assert_eq!(backoff_secs(10), 3600);
        assert_eq!(backoff_secs(1000), 3600);
        assert_eq!(backoff_secs(-1), 5);
    }

    #[test]
    fn templates_dir_overrides_and_falls_back() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("en")).expect("create_dir_all");
        std::fs::create_dir_all(dir.path().join("de")).expect("create_dir_all");
        std::fs::create_dir_all(dir.path().join("..evil")).expect("create_dir_all");
        std::fs::write(dir.path().join("en/password_changed.txt"), "Subject: Custom {{email}}\n\nHi\n")
            .expect("write template");
        std::fs::write(dir.path().join("de/password_changed.txt"), "Subject: Passwort geändert\n\nHallo\n")
            .expect("write template");
        let t = Templates::load(dir.path().to_str().expect("to_str"), "en").expect("load");
        assert_eq!(t.render("en", &MailKind::PasswordChanged, "a@b.io").expect("render").0, "Custom a@b.io");
        assert_eq!(t.render("de", &MailKind::PasswordChanged, "a@b.io").expect("render").0, "Passwort geändert");
        // Missing in the directory: built-in of the same language, then the fallback chain.
        assert_eq!(
            t.render("de", &MailKind::PasswordReset { link: "L".into() }, "a@b.io").expect("render").0,
            "Reset your password"
        );
        assert_eq!(t.render("ru", &MailKind::PasswordChanged, "a@b.io").expect("render").0, "Ваш пароль изменён");

        std::fs::write(dir.path().join("en/new_login.txt"), "no subject line\n").expect("write");
        let err = Templates::load(dir.path().to_str().expect("to_str"), "en").err().expect("load must fail");
        assert!(err.starts_with("mailer.templates_dir: "), "{err}");

        let err = Templates::load("/nonexistent/barong-templates", "en").err().expect("load must fail");
        assert!(err.starts_with("mailer.templates_dir: "), "{err}");
    }

    fn smtp_settings(url: &str) -> MailerSettings {
        MailerSettings {
            transport: MailTransport::Smtp,
            smtp_url: crate::config::Secret(url.into()),
            ..MailerSettings::default()
        }
    }

    #[test]
    fn smtp_url_errors_name_the_key_and_hide_the_password() {
        for url in ["smtpx://me:hunter2@mail.example.com", "smtp://me:hunter2@", "smtp://me:hunter2@host?tls=bogus"] {
            let err = Transport::new(&smtp_settings(url), PathBuf::new()).err().expect("must fail");
            assert!(err.starts_with("mailer.smtp_url: "), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        assert!(Transport::new(&smtp_settings(""), PathBuf::new()).is_err());
        for url in
            ["smtp://127.0.0.1:2525", "smtps://me:p%40ss@mail.example.com", "smtp://mail.example.com:587?tls=required"]
        {
            assert!(Transport::new(&smtp_settings(url), PathBuf::new()).is_ok(), "{url}");
        }
    }

    #[test]
    fn password_forms_are_masked() {
        let forms = url_password_forms("smtps://me:p%40ss@mail.example.com:465/x?y");
        assert_eq!(forms, vec!["p%40ss".to_string(), "p@ss".to_string()]);
        assert_eq!(mask("auth p@ss failed", &forms), "auth *** failed");
        assert!(url_password_forms("smtp://127.0.0.1:25").is_empty());
        assert!(url_password_forms("smtp://user@host").is_empty());
    }

    /// A minimal SMTP sink: plain TCP, no AUTH, no TLS, announcing 8BITMIME.
    async fn smtp_sink(listener: tokio::net::TcpListener) -> (Vec<String>, Vec<u8>) {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let (stream, _) = listener.accept().await.expect("accept");
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        let mut commands = Vec::new();
        let mut data = Vec::new();
        w.write_all(b"220 sink ESMTP\r\n").await.expect("write_all");
        loop {
            let mut line = String::new();
            if r.read_line(&mut line).await.expect("read_line") == 0 {
                break;
            }
            let cmd = line.trim_end().to_string();
            let upper = cmd.to_ascii_uppercase();
            commands.push(cmd);
            if upper.starts_with("EHLO") {
                w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.expect("write_all");
            } else if upper == "DATA" {
                w.write_all(b"354 go ahead\r\n").await.expect("write_all");
                loop {
                    let mut l = Vec::new();
                    r.read_until(b'\n', &mut l).await.expect("read_until");
                    if l == b".\r\n" {
                        break;
                    }
                    data.extend_from_slice(&l);
                }
                w.write_all(b"250 queued\r\n").await.expect("write_all");
            } else if upper == "QUIT" {
                w.write_all(b"221 bye\r\n").await.expect("write_all");
                break;
            } else {
                w.write_all(b"250 ok\r\n").await.expect("write_all");
            }
        }
        (commands, data)
    }

    #[tokio::test]
    async fn plain_smtp_delivers_to_a_local_sink() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local_addr").port();
        let sink = tokio::spawn(smtp_sink(listener));
        let transport =
            Transport::new(&smtp_settings(&format!("smtp://127.0.0.1:{port}")), PathBuf::new()).expect("transport");
        let token = "t".repeat(700);
        let (eml, _) = confirmation_eml("ru", &token);
        let row = MailRow {
            id: "m1".into(),
            recipient: "alice@example.com".into(),
            message: eml.clone(),
            attempts: 0,
            next_attempt_at: 0,
        };
        transport.deliver(&from(), &row).await.expect("deliver");
        let (commands, data) =
            tokio::time::timeout(Duration::from_secs(10), sink).await.expect("sink in time").expect("sink task");
        assert!(commands.iter().any(|c| c.starts_with("MAIL FROM:<noreply@barong.io>")), "{commands:?}");
        assert!(commands.iter().any(|c| c == "RCPT TO:<alice@example.com>"), "{commands:?}");
        // lettre ends DATA with CRLF.CRLF even after a final CRLF: one extra empty line.
        assert_eq!(data.strip_suffix(b"\r\n").expect("strip_suffix"), eml.as_slice());
    }

    #[tokio::test]
    async fn file_transport_delivers_an_eml() {
        let dir = tempfile::tempdir().expect("tempdir");
        let outbox = dir.path().join("outbox");
        let settings = MailerSettings::default();
        let transport = Transport::new(&settings, outbox.clone()).expect("new");
        assert!(outbox.is_dir());
        let (eml, _) = confirmation_eml("en", "abc");
        let row = MailRow {
            id: "m2".into(),
            recipient: "alice@example.com".into(),
            message: eml.clone(),
            attempts: 0,
            next_attempt_at: 0,
        };
        transport.deliver(&from(), &row).await.expect("deliver");
        let files: Vec<_> =
            std::fs::read_dir(&outbox).expect("read_dir").map(|e| e.expect("dir entry").path()).collect();
        assert_eq!(files.len(), 1);
        assert_eq!(std::fs::read(&files[0]).expect("read"), eml);
    }
}
