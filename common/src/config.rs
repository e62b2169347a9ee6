//! The daemon's configuration. Every Barong setting keeps its Barong name as a top-level key (and
//! `BARONG_<KEY>` environment variable); settings new to barong-rs are nested by concern.
//! Parsing and validation live in the daemon; this module only defines shapes and defaults.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

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

/// Signature algorithm of the JWTs barongd issues (`jwt_algorithm`). A token never chooses its own
/// algorithm: each signing key has one, and a token is checked only with its key's algorithm.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(try_from = "String", into = "String")]
pub enum JwtAlgorithm {
    /// RSA 2048, PKCS#1 v1.5 with SHA-256: Barong's algorithm, what every Peatio understands.
    #[default]
    Rs256,
    /// ECDSA on P-256 with SHA-256: short keys and signatures.
    Es256,
    /// Ed25519 (RFC 8037): short keys and signatures, deterministic.
    EdDsa,
}

impl JwtAlgorithm {
    pub const ALL: [JwtAlgorithm; 3] = [JwtAlgorithm::Rs256, JwtAlgorithm::Es256, JwtAlgorithm::EdDsa];

    /// The JOSE name (`alg` of the JWT header and of the JWK).
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::Rs256 => "RS256",
            JwtAlgorithm::Es256 => "ES256",
            JwtAlgorithm::EdDsa => "EdDSA",
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JwtAlgorithm {
    type Err = String;
    /// Exactly the JOSE names: `HS256` or `rs256` are refused, so a typo cannot weaken the tokens.
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("jwt_algorithm: unknown algorithm `{s}` (use RS256, ES256 or EdDSA)"))
    }
}

impl TryFrom<String> for JwtAlgorithm {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<JwtAlgorithm> for String {
    fn from(a: JwtAlgorithm) -> String {
        a.as_str().to_string()
    }
}

/// The whole configuration file. Unknown keys are an error, so a typo never silently falls back
/// to a default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    // --- where the daemon runs ------------------------------------------------------------
    /// Address the HTTP API listens on (`--listen`, `BARONG_LISTEN`).
    pub listen: String,
    /// Data directory: database (SQLite default), keys, outbox, uploads, admin socket.
    pub data_dir: String,
    /// `sqlite://...` or `postgres://...`; empty means `sqlite://<data_dir>/barong.db`.
    pub database_url: Secret,
    /// Maximum database connections of this daemon; 0 picks by backend: 2 for SQLite (one
    /// writer at a time, and each connection keeps its own cache and thread), 16 for PostgreSQL.
    pub database_max_connections: u32,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `barongd=debug`.
    pub log_level: String,

    // --- Barong settings (identity-and-authz §3, resource-admin-kyc §15) ------------------
    pub app_name: String,
    /// Copied into email events and used for links when `frontend_url` is empty.
    pub domain: String,
    /// Base URL of the web front-end; email links are `<frontend_url>/accounts/...`.
    pub frontend_url: String,
    /// UID prefix, 2–6 ASCII letters; UIDs are this plus 10 upper-case hex characters.
    pub uid_prefix: String,
    pub session_name: String,
    /// Sliding idle lifetime of a session, seconds.
    pub session_expire_time: i64,
    /// Lifetime of upstream JWTs and of confirmation/reset tokens, seconds.
    pub jwt_expire_time: i64,
    /// Algorithm of new signing keys: `RS256` (default), `ES256` or `EdDSA`. When the active key
    /// has another one, start-up rotates to a fresh key; the old key verifies until its tokens expire.
    pub jwt_algorithm: JwtAlgorithm,
    pub csrf_protection: bool,
    /// Window for API-key nonces, milliseconds.
    pub apikey_nonce_lifetime: i64,
    /// `cloudflare` (default) or `akamai` (trust `True-Client-IP` from trusted proxies).
    pub gateway: String,
    /// First registered user becomes an active superadmin. Off by default (race on a fresh deploy).
    pub first_registration_superadmin: bool,
    pub captcha: CaptchaMode,
    pub recaptcha_site_key: String,
    pub recaptcha_secret_key: Secret,
    /// Where reCAPTCHA answers are verified (configurable for tests and proxies).
    pub recaptcha_verify_url: String,
    pub geetest_id: String,
    pub geetest_key: Secret,
    /// Geetest API base (`/register.php`, `/validate.php` are appended).
    pub geetest_api_url: String,
    /// Endpoints guarded by the captcha: user_create, session_create, password_reset, email_confirmation.
    pub captcha_protected_endpoints: Vec<String>,
    /// Timeout for captcha verifiers, milliseconds (at most 5000).
    pub captcha_timeout_ms: u64,
    /// Ruby-syntax password regexp (lookaheads allowed). Matched against the whole password.
    pub password_regexp: String,
    pub password_min_entropy: f64,
    pub password_use_dictionary: bool,
    /// `file` (default), `twilio_sms`, `twilio_verify` or `mock` (Barong's default: any code accepted).
    pub phone_verification: PhoneVerification,
    /// SMS text; `{{code}}` is replaced by the verification code.
    pub sms_content_template: String,
    /// Sender number for `twilio_sms`.
    pub twilio_phone_number: String,
    pub twilio_account_sid: String,
    pub twilio_auth_token: Secret,
    /// Twilio Verify service for `twilio_verify`.
    pub twilio_service_sid: String,
    pub api_data_masking_enabled: bool,
    pub geoip_lang: String,
    pub maxminddb_path: String,
    pub authz_rules_file: String,
    pub auth0_domain: String,
    pub auth0_client_id: String,
    pub kyc_provider: String,
    pub default_language: String,
    /// Comma-separated list of allowed CORS origins, or `*`.
    pub api_cors_origins: String,
    pub api_cors_allow_credentials: bool,
    pub api_cors_max_age: u64,
    /// Private labels that make a user `active` (default `{email: verified}`).
    pub activation_requirements: BTreeMap<String, String>,
    /// state -> label keys that force it; later entries win.
    pub state_triggers: Vec<StateTrigger>,
    pub user_storage_titles: Vec<String>,
    pub document_types: Vec<String>,
    /// `POST resource/documents` requires a `doc_expire` date that has not passed.
    pub required_docs_expire: bool,
    /// Most documents (address documents included) one user may upload.
    pub doc_num_limit: i64,
    /// Comma-separated file extensions accepted for uploads (case-insensitive); each must be one
    /// whose content barongd can check: jpg, jpeg, png, pdf, gif, webp, tif, tiff, bmp.
    pub upload_extension_whitelist: String,
    /// Smallest accepted upload, in bytes (Barong's unit for the minimum).
    pub upload_size_min_range: u64,
    /// Largest accepted upload, in MB (MiB; Barong's unit for the maximum).
    pub upload_size_max_range: u64,
    /// Minutes a signed document download URL stays valid.
    pub upload_auth_url_expiration: i64,

    // --- barong-rs settings ---------------------------------------------------------------
    /// Email confirmation opens a session (Barong did; off by default: no login without password).
    pub login_on_email_confirmation: bool,
    /// Set the `Secure` attribute on the session cookie (turn on behind HTTPS).
    pub session_cookie_secure: bool,
    /// Hard cap on a session's total age regardless of activity, seconds.
    pub session_max_lifetime: i64,
    /// Proxies whose `X-Forwarded-For` is believed (CIDRs).
    pub trusted_proxies: Vec<String>,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: u64,
    /// Largest accepted `multipart/form-data` body of `POST resource/documents` and
    /// `resource/addresses`, bytes; every other request keeps `max_body_bytes`.
    pub max_upload_request_bytes: u64,
    /// Where uploaded KYC files live; empty means `<data_dir>/uploads`. Daemons sharing one
    /// PostgreSQL database must share this directory too (a network volume), or a file stored
    /// by one is missing on the others.
    pub uploads_dir: String,
    /// RabbitMQ of the Event API (`EVENT_API_RABBITMQ_URL`, `amqp://user:pass@host:port/vhost`).
    /// Empty, with `event_api_rabbitmq_host` empty too, means no events are published.
    pub event_api_rabbitmq_url: Secret,
    /// Barong's split form of the same, used when the URL is empty and the host is set.
    pub event_api_rabbitmq_host: String,
    pub event_api_rabbitmq_port: u16,
    pub event_api_rabbitmq_username: String,
    pub event_api_rabbitmq_password: Secret,
    /// How long the authz gateway reuses an upstream JWT for the same session or API key, seconds
    /// (never past the token's `exp`; dropped at once when the holder changes). 0 signs every time.
    pub authz_jwt_reuse_seconds: i64,
    pub argon2: Argon2Settings,
    pub mailer: MailerSettings,
    pub login_throttle: ThrottleSettings,
    /// Twilio REST API base (`/2010-04-01/Accounts/{sid}/Messages.json` is appended).
    pub twilio_api_url: String,
    /// Twilio Verify API base (`/v2/Services/{sid}/Verifications` is appended).
    pub twilio_verify_url: String,
    /// Seconds a phone verification code stays valid.
    pub phone_code_lifetime: i64,
    /// Wrong codes accepted before the code is void (until a new one is sent).
    pub phone_code_max_attempts: i64,
    /// Minimum seconds between two codes sent to one phone.
    pub phone_code_resend_interval: i64,
    /// Codes sent to one phone per hour at most.
    pub phone_code_max_sends_per_hour: i64,
    /// Phones one user may add (each costs an SMS; Barong had no limit).
    pub phone_max_per_user: i64,
}

/// One `state_triggers` entry, e.g. `{state: banned, labels: [ban, fraud]}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StateTrigger {
    pub state: String,
    pub labels: Vec<String>,
}

/// Password hashing cost (argon2id).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Argon2Settings {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
    /// Hashing threads, each owning one argon2 memory block; 0 means one per core, at most 256 MiB.
    pub max_concurrent: usize,
}

/// Outgoing mail.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailerSettings {
    pub transport: MailTransport,
    /// `smtp://host:port`, `smtps://user:pass@host` (implicit TLS) or `smtp://...?tls=required` (STARTTLS).
    pub smtp_url: Secret,
    /// Sender address.
    pub from: String,
    /// Directory of templates (`<lang>/<name>.txt`); empty means the built-in ones.
    pub templates_dir: String,
    /// Attempts before a message is parked as failed (it stays in the queue table).
    pub max_attempts: u32,
    /// SMTP timeout per attempt, milliseconds.
    pub timeout_ms: u64,
}

/// Brute-force protection for login (and other secret-guessing endpoints).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleSettings {
    /// Failed attempts per account inside `window_seconds` before it is refused for a while.
    pub max_failures_per_account: i64,
    /// Failed attempts per client IP inside `window_seconds`.
    pub max_failures_per_ip: i64,
    pub window_seconds: i64,
}

impl Config {
    /// The Event API's AMQP URL: `event_api_rabbitmq_url`, else one built from the host,
    /// port and credentials; `None` when events are off.
    pub fn event_api_url(&self) -> Option<String> {
        if !self.event_api_rabbitmq_url.is_empty() {
            return Some(self.event_api_rabbitmq_url.expose().to_string());
        }
        if self.event_api_rabbitmq_host.is_empty() {
            return None;
        }
        let enc = |s: &str| -> String {
            s.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        Some(format!(
            "amqp://{}:{}@{}:{}/%2f",
            enc(&self.event_api_rabbitmq_username),
            enc(self.event_api_rabbitmq_password.expose()),
            self.event_api_rabbitmq_host,
            self.event_api_rabbitmq_port
        ))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:3000".into(),
            data_dir: "./data".into(),
            database_url: Secret::default(),
            database_max_connections: 0,
            log_level: "info".into(),
            app_name: "Barong".into(),
            domain: "barong.io".into(),
            frontend_url: "http://localhost:3000".into(),
            uid_prefix: "ID".into(),
            session_name: "_barong_session".into(),
            session_expire_time: 1800,
            jwt_expire_time: 3600,
            jwt_algorithm: JwtAlgorithm::Rs256,
            csrf_protection: true,
            apikey_nonce_lifetime: 5000,
            gateway: "cloudflare".into(),
            first_registration_superadmin: false,
            captcha: CaptchaMode::None,
            recaptcha_site_key: String::new(),
            recaptcha_secret_key: Secret::default(),
            recaptcha_verify_url: "https://www.google.com/recaptcha/api/siteverify".into(),
            geetest_id: String::new(),
            geetest_key: Secret::default(),
            geetest_api_url: "https://api.geetest.com".into(),
            captcha_protected_endpoints: vec![
                "user_create".into(),
                "session_create".into(),
                "password_reset".into(),
                "email_confirmation".into(),
            ],
            captcha_timeout_ms: 5000,
            password_regexp: r"^(?=.*[[:lower:]])(?=.*[[:upper:]])(?=.*[[:digit:]])(?=.*[[:graph:]]).{8,80}$".into(),
            password_min_entropy: 14.0,
            password_use_dictionary: true,
            phone_verification: PhoneVerification::File,
            sms_content_template: "Your verification code for Barong: {{code}}".into(),
            twilio_phone_number: String::new(),
            twilio_account_sid: String::new(),
            twilio_auth_token: Secret::default(),
            twilio_service_sid: String::new(),
            api_data_masking_enabled: true,
            geoip_lang: "en".into(),
            maxminddb_path: String::new(),
            authz_rules_file: "config/authz_rules.yml".into(),
            auth0_domain: String::new(),
            auth0_client_id: String::new(),
            kyc_provider: "local".into(),
            default_language: "en".into(),
            api_cors_origins: "*".into(),
            api_cors_allow_credentials: false,
            api_cors_max_age: 3600,
            activation_requirements: BTreeMap::from([("email".to_string(), "verified".to_string())]),
            state_triggers: vec![
                StateTrigger { state: "banned".into(), labels: vec!["ban".into(), "fraud".into()] },
                StateTrigger { state: "deleted".into(), labels: vec!["delete".into()] },
                StateTrigger { state: "locked".into(), labels: vec!["suspicious".into(), "lock".into()] },
            ],
            user_storage_titles: Vec::new(),
            document_types: [
                "Passport",
                "Identity card",
                "Driver license",
                "Utility Bill",
                "Residental",
                "Institutional",
                "Address",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            required_docs_expire: true,
            doc_num_limit: 10,
            upload_extension_whitelist: "jpg,jpeg,png,pdf".into(),
            upload_size_min_range: 1,
            upload_size_max_range: 10,
            upload_auth_url_expiration: 1,
            login_on_email_confirmation: false,
            session_cookie_secure: false,
            session_max_lifetime: 86_400,
            trusted_proxies: vec!["127.0.0.1/32".into(), "::1/128".into()],
            max_body_bytes: 64 * 1024,
            max_upload_request_bytes: 32 * 1024 * 1024,
            uploads_dir: String::new(),
            event_api_rabbitmq_url: Secret::default(),
            event_api_rabbitmq_host: String::new(),
            event_api_rabbitmq_port: 5672,
            event_api_rabbitmq_username: "guest".into(),
            event_api_rabbitmq_password: Secret("guest".into()),
            authz_jwt_reuse_seconds: 30,
            argon2: Argon2Settings::default(),
            mailer: MailerSettings::default(),
            login_throttle: ThrottleSettings::default(),
            twilio_api_url: "https://api.twilio.com".into(),
            twilio_verify_url: "https://verify.twilio.com".into(),
            phone_code_lifetime: 600,
            phone_code_max_attempts: 5,
            phone_code_resend_interval: 60,
            phone_code_max_sends_per_hour: 5,
            phone_max_per_user: 5,
        }
    }
}

impl Default for Argon2Settings {
    fn default() -> Self {
        Argon2Settings { memory_kib: 19_456, iterations: 2, parallelism: 1, max_concurrent: 0 }
    }
}

impl Default for MailerSettings {
    fn default() -> Self {
        MailerSettings {
            transport: MailTransport::File,
            smtp_url: Secret::default(),
            from: "noreply@barong.io".into(),
            templates_dir: String::new(),
            max_attempts: 20,
            timeout_ms: 5000,
        }
    }
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings { max_failures_per_account: 10, max_failures_per_ip: 50, window_seconds: 900 }
    }
}

/// Top-level keys that may also come from `BARONG_<KEY>` environment variables (scalars only).
pub const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_max_connections",
    "log_level",
    "app_name",
    "domain",
    "frontend_url",
    "uid_prefix",
    "session_name",
    "session_expire_time",
    "jwt_expire_time",
    "jwt_algorithm",
    "csrf_protection",
    "apikey_nonce_lifetime",
    "gateway",
    "first_registration_superadmin",
    "captcha",
    "recaptcha_site_key",
    "recaptcha_secret_key",
    "recaptcha_verify_url",
    "geetest_id",
    "geetest_key",
    "geetest_api_url",
    "captcha_timeout_ms",
    "password_regexp",
    "password_min_entropy",
    "password_use_dictionary",
    "phone_verification",
    "sms_content_template",
    "twilio_phone_number",
    "twilio_account_sid",
    "twilio_auth_token",
    "twilio_service_sid",
    "twilio_api_url",
    "twilio_verify_url",
    "phone_code_lifetime",
    "phone_code_max_attempts",
    "phone_code_resend_interval",
    "phone_code_max_sends_per_hour",
    "phone_max_per_user",
    "api_data_masking_enabled",
    "geoip_lang",
    "maxminddb_path",
    "authz_rules_file",
    "auth0_domain",
    "auth0_client_id",
    "kyc_provider",
    "default_language",
    "api_cors_origins",
    "api_cors_allow_credentials",
    "api_cors_max_age",
    "login_on_email_confirmation",
    "session_cookie_secure",
    "session_max_lifetime",
    "max_body_bytes",
    "max_upload_request_bytes",
    "uploads_dir",
    "event_api_rabbitmq_url",
    "event_api_rabbitmq_host",
    "event_api_rabbitmq_port",
    "event_api_rabbitmq_username",
    "event_api_rabbitmq_password",
    "required_docs_expire",
    "doc_num_limit",
    "upload_extension_whitelist",
    "upload_size_min_range",
    "upload_size_max_range",
    "upload_auth_url_expiration",
    "authz_jwt_reuse_seconds",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let mut c = Config {
            recaptcha_secret_key: Secret("recaptcha-very-secret".into()),
            database_url: Secret("postgres://u:pgpass@h/db".into()),
            ..Default::default()
        };
        c.mailer.smtp_url = Secret("smtps://me:mailpass@smtp".into());
        let shown = format!("{c:?}");
        for s in ["recaptcha-very-secret", "pgpass", "mailpass"] {
            assert!(!shown.contains(s), "{s} leaked");
        }
    }

    #[test]
    fn jwt_algorithm_takes_exactly_the_jose_names() {
        for a in JwtAlgorithm::ALL {
            assert_eq!(a.as_str().parse::<JwtAlgorithm>(), Ok(a));
            assert_eq!(serde_json::to_value(a).ok(), Some(serde_json::Value::from(a.as_str())));
        }
        for bad in ["HS256", "none", "rs256", "EDDSA", ""] {
            let e = bad.parse::<JwtAlgorithm>().expect_err("refused");
            assert!(e.contains("RS256, ES256 or EdDSA"), "{e}");
            assert!(serde_json::from_value::<JwtAlgorithm>(bad.into()).is_err());
        }
        assert_eq!(Config::default().jwt_algorithm, JwtAlgorithm::Rs256);
    }
}
