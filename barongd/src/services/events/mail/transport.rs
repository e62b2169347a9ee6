//! Where mail goes: `.eml` files in the outbox, or an SMTP server.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::message::Mailbox;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::{MailTransport, MailerSettings};
use crate::redact::mask;
use crate::services::clock::Clock;
use crate::services::events::outbox_files::{self, create_private_dir};
use crate::store::MailRow;

pub(super) enum Transport {
    File {
        outbox: PathBuf,
        clock: Arc<dyn Clock>,
    },
    Smtp {
        client: AsyncSmtpTransport<Tokio1Executor>,
        /// Password forms (as written and percent-decoded) to mask in error texts.
        secrets: Vec<String>,
    },
}

impl Transport {
    pub(super) fn new(settings: &MailerSettings, outbox: PathBuf, clock: Arc<dyn Clock>) -> Result<Transport, String> {
        match settings.transport {
            MailTransport::File => {
                create_private_dir(&outbox)
                    .map_err(|e| format!("mail outbox {}: cannot create: {e}", outbox.display()))?;
                Ok(Transport::File { outbox, clock })
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

    pub(super) fn kind(&self) -> &'static str {
        match self {
            Transport::File { .. } => "file",
            Transport::Smtp { .. } => "smtp",
        }
    }

    pub(super) fn redact(&self, text: &str) -> String {
        match self {
            Transport::File { .. } => text.to_string(),
            Transport::Smtp { secrets, .. } => mask(text, secrets),
        }
    }

    /// Error texts may reach logs and the queue table; they never contain the message.
    pub(super) async fn deliver(&self, from: &Mailbox, row: &MailRow) -> Result<(), String> {
        match self {
            Transport::File { outbox, clock } => {
                let (outbox, id, message) = (outbox.clone(), row.id.clone(), row.message.clone());
                let now_ms = clock.now_ms();
                tokio::task::spawn_blocking(move || write_eml(&outbox, &id, &message, now_ms))
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
pub(super) fn url_password_forms(url: &str) -> Vec<String> {
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
pub(super) fn write_eml(dir: &Path, id: &str, message: &[u8], now_ms: i64) -> std::io::Result<PathBuf> {
    outbox_files::write_message(dir, id, "eml", message, now_ms)
}
