//! The typed values of settings: secrets that never print, and the closed sets a setting chooses
//! from. Each is parsed once, when the configuration is loaded.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{FileKind, KNOWN_EXTENSIONS};

/// A string that must not be printed: `Debug` shows `[redacted]` (or `""` when empty).
#[derive(Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() { f.write_str("\"\"") } else { f.write_str("[redacted]") }
    }
}

/// `mode:` of the configuration (`config::production`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Development-only settings run, with one start-up warning listing them.
    #[default]
    Development,
    /// Development-only settings stop start-up (exit 2).
    Production,
}

/// Captcha mode (`captcha`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CaptchaMode {
    None,
    Recaptcha,
    Geetest,
}

/// Mail transport (`mailer.transport`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// One `.eml` file per message under `<data-dir>/outbox/`.
    File,
    /// Send through `mailer.smtp_url`, retrying with back-off.
    Smtp,
}

/// How phone verification codes are delivered and checked (`phone_verification`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(try_from = "String", into = "String")]
pub enum PhoneVerification {
    /// We make the code; the SMS becomes one `.txt` file under `<data-dir>/outbox/`.
    File,
    /// We make the code and send it through Twilio's Messages (or Calls) API.
    TwilioSms,
    /// Twilio Verify makes, sends and checks the code.
    TwilioVerify,
    /// Barong's test mode: nothing is sent and any code is accepted. Only when set explicitly.
    Mock,
}

impl PhoneVerification {
    pub const ALL: [PhoneVerification; 4] = [
        PhoneVerification::File,
        PhoneVerification::TwilioSms,
        PhoneVerification::TwilioVerify,
        PhoneVerification::Mock,
    ];

    /// The setting's value (Barong's names, plus `file`).
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneVerification::File => "file",
            PhoneVerification::TwilioSms => "twilio_sms",
            PhoneVerification::TwilioVerify => "twilio_verify",
            PhoneVerification::Mock => "mock",
        }
    }
}

impl TryFrom<String> for PhoneVerification {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            format!("phone_verification: unknown mode `{s}` (use file, twilio_sms, twilio_verify or mock)")
        })
    }
}

impl From<PhoneVerification> for String {
    fn from(m: PhoneVerification) -> String {
        m.as_str().to_string()
    }
}

/// The address the HTTP API listens on (`listen`, `--listen`, `BARONG_LISTEN`).
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Listen(pub std::net::SocketAddr);

impl TryFrom<String> for Listen {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse().map(Listen).map_err(|_| format!("listen: `{s}` is not an address like 127.0.0.1:3000"))
    }
}

impl From<Listen> for String {
    fn from(l: Listen) -> String {
        l.0.to_string()
    }
}

impl fmt::Debug for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// Which CDN's client-IP header to believe from a trusted proxy (`gateway`): Cloudflare's
/// `X-Forwarded-For` chain, or Akamai's `True-Client-IP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Gateway {
    Cloudflare,
    Akamai,
}

impl TryFrom<String> for Gateway {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "cloudflare" => Ok(Gateway::Cloudflare),
            "akamai" => Ok(Gateway::Akamai),
            _ => Err(format!("gateway: `{s}` must be cloudflare or akamai")),
        }
    }
}

impl From<Gateway> for String {
    fn from(g: Gateway) -> String {
        match g {
            Gateway::Cloudflare => "cloudflare".into(),
            Gateway::Akamai => "akamai".into(),
        }
    }
}

/// Who reviews KYC submissions (`kyc_provider`). Only the operator (`local`): KYCAID is not
/// implemented, and accepting documents nobody reviews would be worse than refusing to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum KycProvider {
    Local,
}

impl TryFrom<String> for KycProvider {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "local" => Ok(KycProvider::Local),
            _ => Err(format!("kyc_provider: `{s}` is not supported; use local")),
        }
    }
}

impl From<KycProvider> for String {
    fn from(_: KycProvider) -> String {
        "local".into()
    }
}

/// `upload_extension_whitelist`: the file extensions accepted for uploads, lower-cased, each one
/// whose content barongd can check (`FileKind`). Written as Barong wrote it: `jpg,jpeg,png,pdf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Extensions(Vec<String>);

impl Extensions {
    pub fn allows(&self, ext: &str) -> bool {
        self.0.iter().any(|e| e == ext)
    }

    pub fn names(&self) -> &[String] {
        &self.0
    }
}

impl TryFrom<String> for Extensions {
    type Error = String;
    /// `"jpg, JPEG ,png"` → `["jpg", "jpeg", "png"]`; every one must be a kind we recognise.
    fn try_from(list: String) -> Result<Self, String> {
        let names: Vec<String> = list
            .split(',')
            .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .collect();
        if names.is_empty() {
            return Err("upload_extension_whitelist: must name at least one extension".into());
        }
        let unknown: Vec<&str> =
            names.iter().filter(|e| FileKind::of_extension(e).is_none()).map(String::as_str).collect();
        if !unknown.is_empty() {
            return Err(format!(
                "upload_extension_whitelist: `{}` has no content check; use {}",
                unknown.join(", "),
                KNOWN_EXTENSIONS.join(", ")
            ));
        }
        Ok(Extensions(names))
    }
}

impl From<Extensions> for String {
    fn from(e: Extensions) -> String {
        e.0.join(",")
    }
}

/// How much an authenticator must prove about its user beyond presence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebauthnUserVerification {
    /// PIN or biometrics on every ceremony: webauthn-rs's passkeys.
    Required,
    /// Asked for, not insisted on: webauthn-rs's security keys.
    Preferred,
    /// A touch is enough (webauthn-rs's security keys, presence only).
    Discouraged,
}
