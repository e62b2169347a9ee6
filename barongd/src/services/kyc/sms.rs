//! Delivery of phone verification codes (`phone_verification`): a `.txt` file in the outbox
//! (default), Twilio's Messages/Calls API, Twilio Verify, or Barong's `mock`. Twilio is remote,
//! so every call has a short timeout and an unreachable Twilio is a refusal, never a hang.
//! Numbers and codes never reach the log.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, PhoneVerification};
use serde_json::Value;

use crate::services::clock::Clock;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::outbox_files;
use crate::services::telemetry::record::{self, Queue};

/// Upper bound of one call to Twilio.
const TWILIO_TIMEOUT: Duration = Duration::from_secs(5);

/// How the code reaches the user (`channel`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Call,
}

impl Channel {
    /// `sms` or `call`, exactly (Barong's `values: %w[sms call]`).
    pub fn parse(s: &str) -> Option<Channel> {
        match s {
            "sms" => Some(Channel::Sms),
            "call" => Some(Channel::Call),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Call => "call",
        }
    }
}

pub struct Sms {
    mode: PhoneVerification,
    template: String,
    outbox: PathBuf,
    http: reqwest::Client,
    api_url: String,
    verify_url: String,
    account_sid: String,
    auth_token: String,
    from: String,
    service_sid: String,
    clock: Arc<dyn Clock>,
}

impl Sms {
    pub fn new(c: &Config, outbox: PathBuf, clock: Arc<dyn Clock>) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(TWILIO_TIMEOUT)
            .connect_timeout(TWILIO_TIMEOUT)
            .build()
            .map_err(|e| format!("Twilio HTTP client: {e}"))?;
        if c.phone_verification == PhoneVerification::Mock {
            tracing::warn!(
                "phone_verification is mock: no code is sent and ANY code verifies a phone (not for production)"
            );
        }
        Ok(Sms {
            mode: c.phone_verification,
            template: c.sms_content_template.clone(),
            outbox,
            http,
            api_url: c.twilio_api_url.trim_end_matches('/').to_string(),
            verify_url: c.twilio_verify_url.trim_end_matches('/').to_string(),
            account_sid: c.twilio_account_sid.clone(),
            auth_token: c.twilio_auth_token.expose().to_string(),
            from: c.twilio_phone_number.clone(),
            service_sid: c.twilio_service_sid.clone(),
            clock,
        })
    }

    pub fn mode(&self) -> PhoneVerification {
        self.mode
    }

    /// Whether barongd makes the codes (Twilio Verify makes its own).
    pub fn makes_codes(&self) -> bool {
        self.mode != PhoneVerification::TwilioVerify
    }

    /// The SMS text for `code`.
    pub fn text(&self, code: &str) -> String {
        self.template.replace("{{code}}", code)
    }

    /// Sends `code` to `number` (international digits, no `+`). `code` is `None` only under
    /// Twilio Verify, which makes and sends its own.
    pub async fn send(&self, number: &str, channel: Channel, code: Option<&str>) -> ServiceResult<()> {
        let sent = self.deliver(number, channel, code).await;
        if sent.is_err() {
            record::outbox_failure(Queue::Sms);
        }
        sent
    }

    async fn deliver(&self, number: &str, channel: Channel, code: Option<&str>) -> ServiceResult<()> {
        let to = format!("+{number}");
        match (self.mode, code) {
            (PhoneVerification::Mock, _) => Ok(()),
            (PhoneVerification::File, Some(code)) => {
                let message = format!("To: {to}\nChannel: {}\n\n{}\n", channel.as_str(), self.text(code));
                write_txt(&self.outbox, message.as_bytes(), self.clock.now_ms())
                    .map_err(|e| ServiceError::internal(format!("SMS outbox: {e}")))
            }
            (PhoneVerification::TwilioSms, Some(code)) => {
                let (resource, content) = match channel {
                    Channel::Sms => ("Messages.json", ("Body", self.text(code))),
                    Channel::Call => ("Calls.json", ("Twiml", twiml(&self.text(&spaced(code))))),
                };
                let url = format!("{}/2010-04-01/Accounts/{}/{resource}", self.api_url, self.account_sid);
                let form = [("From", self.from.as_str()), ("To", to.as_str()), (content.0, content.1.as_str())];
                self.twilio(&url, &form).await.map(|_| ()).map_err(Into::into)
            }
            (PhoneVerification::TwilioVerify, _) => {
                let url = format!("{}/v2/Services/{}/Verifications", self.verify_url, self.service_sid);
                self.twilio(&url, &[("To", to.as_str()), ("Channel", channel.as_str())])
                    .await
                    .map(|_| ())
                    .map_err(Into::into)
            }
            (_, None) => Err(ServiceError::internal("no verification code to send")),
        }
    }

    /// Twilio Verify's check of `code` for `number`: true when Twilio approves it.
    pub async fn check(&self, number: &str, code: &str) -> ServiceResult<bool> {
        let url = format!("{}/v2/Services/{}/VerificationCheck", self.verify_url, self.service_sid);
        let to = format!("+{number}");
        match self.twilio(&url, &[("To", to.as_str()), ("Code", code)]).await {
            Ok(v) => Ok(v.get("status").and_then(Value::as_str) == Some("approved")),
            // 20404: no pending verification (expired, already approved, or too many checks).
            Err(TwilioFailure::Code(20404)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// One form POST with basic auth; the JSON reply, or the failure.
    async fn twilio(&self, url: &str, form: &[(&str, &str)]) -> Result<Value, TwilioFailure> {
        let reply = self.http.post(url).basic_auth(&self.account_sid, Some(&self.auth_token)).form(form).send().await;
        let r = match reply {
            Ok(r) => r,
            Err(e) => {
                // Without the URL: it names the account.
                tracing::warn!(error = %e.without_url(), "Twilio unreachable");
                return Err(TwilioFailure::Unreachable);
            }
        };
        let status = r.status();
        let body = r.json::<Value>().await.unwrap_or(Value::Null);
        if status.is_success() {
            return Ok(body);
        }
        let code = body.get("code").and_then(Value::as_i64).unwrap_or(0);
        tracing::warn!(status = status.as_u16(), twilio_code = code, "Twilio refused the request");
        Err(TwilioFailure::Code(code))
    }
}

/// Why a Twilio call failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwilioFailure {
    Unreachable,
    /// Twilio's error `code` (0 when the reply had none).
    Code(i64),
}

impl From<TwilioFailure> for ServiceError {
    /// Barong's mapping of Twilio error codes (422 `resource.phone.*`).
    fn from(f: TwilioFailure) -> Self {
        let key = match f {
            TwilioFailure::Code(21612) => "resource.phone.num_not_reachable",
            TwilioFailure::Code(21614) => "resource.phone.num_not_valid",
            TwilioFailure::Code(21618) => "resource.phone.sms_content_invalid",
            TwilioFailure::Code(21610) => "resource.phone.unsubscribed_recipient",
            _ => "resource.phone.twilio_unexpected",
        };
        ServiceError::invalid(key)
    }
}

/// `12345` → `1 2 3 4 5`, so a voice reads digits rather than a number.
fn spaced(code: &str) -> String {
    code.chars().map(String::from).collect::<Vec<_>>().join(" ")
}

/// A TwiML document that says `text`.
fn twiml(text: &str) -> String {
    let escaped = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!("<Response><Say>{escaped}</Say></Response>")
}

/// Writes one SMS as `<time>-<uuid>.txt` (0600), atomically (a reader never sees half a message).
fn write_txt(dir: &Path, message: &[u8], now_ms: i64) -> std::io::Result<()> {
    outbox_files::write_message(dir, &uuid::Uuid::new_v4().simple().to_string(), "txt", message, now_ms).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_codes_map_to_barong_keys() {
        let key = |f: TwilioFailure| ServiceError::from(f).key().to_string();
        assert_eq!(key(TwilioFailure::Code(21612)), "resource.phone.num_not_reachable");
        assert_eq!(key(TwilioFailure::Code(21614)), "resource.phone.num_not_valid");
        assert_eq!(key(TwilioFailure::Code(21618)), "resource.phone.sms_content_invalid");
        assert_eq!(key(TwilioFailure::Code(21610)), "resource.phone.unsubscribed_recipient");
        assert_eq!(key(TwilioFailure::Code(20003)), "resource.phone.twilio_unexpected");
        assert_eq!(key(TwilioFailure::Unreachable), "resource.phone.twilio_unexpected");
    }

    #[test]
    fn calls_read_the_digits_and_twiml_is_escaped() {
        assert_eq!(spaced("12345"), "1 2 3 4 5");
        assert_eq!(twiml("a<b>&c"), "<Response><Say>a&lt;b&gt;&amp;c</Say></Response>");
        assert_eq!(Channel::parse("sms"), Some(Channel::Sms));
        assert_eq!(Channel::parse("call"), Some(Channel::Call));
        assert_eq!(Channel::parse("SMS"), None);
    }

    #[test]
    fn outbox_files_are_private_and_complete() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        let outbox = dir.path().join("outbox");
        write_txt(&outbox, b"To: +1\n\nhello\n", 1_700_000_000_000).expect("written");
        let files: Vec<_> = std::fs::read_dir(&outbox).expect("dir").filter_map(Result::ok).collect();
        assert_eq!(files.len(), 1);
        let name = files[0].file_name().to_string_lossy().to_string();
        assert!(name.ends_with(".txt") && !name.starts_with('.'), "{name}");
        assert_eq!(files[0].metadata().expect("meta").permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read_to_string(files[0].path()).expect("read"), "To: +1\n\nhello\n");
    }
}
