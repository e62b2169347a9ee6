//! The daemon's configuration file, as typed settings. Every Barong setting keeps its Barong name
//! as a top-level key (and its `BARONG_<KEY>` environment variable); settings new to barong-rs are
//! nested by concern. Loading is in `load.rs`, defaults in `defaults.rs`.

use std::collections::BTreeMap;

use common::jwt::JwtAlgorithm;
use serde::{Deserialize, Serialize};

use crate::config::amqp::EventApi;
use crate::config::limits::{BodySettings, DeniedAuditSettings, RotationSettings};
use crate::config::management::ManagementApiSettings;
use crate::config::operability::{LogFormat, MetricsListen};
use crate::config::proxies::Proxies;
use crate::config::values::WebauthnUserVerification;
use crate::config::values::{
    CaptchaMode, Extensions, Gateway, KycProvider, Listen, MailTransport, Mode, PhoneVerification, Secret,
};

/// The whole configuration file. Unknown keys are an error, so a typo never silently falls back
/// to a default.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    // --- where the daemon runs ------------------------------------------------------------
    /// `development` (default: development-only settings are one start-up warning) or
    /// `production` (they stop start-up; also `barongd --production`), `BARONG_MODE`.
    pub mode: Mode,
    /// Address the HTTP API listens on (`--listen`, `BARONG_LISTEN`).
    pub listen: Listen,
    /// Data directory: database (SQLite default), keys, outbox, uploads, admin socket.
    pub data_dir: String,
    /// `sqlite://...` or `postgres://...`; empty means `sqlite://<data_dir>/barong.db`.
    pub database_url: Secret,
    /// Maximum database connections of this daemon; 0 picks by backend: 2 for SQLite (one
    /// writer at a time, and each connection keeps its own cache and thread), 16 for PostgreSQL.
    pub database_max_connections: u32,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `barongd=debug`.
    pub log_level: String,
    /// `text` (default) or `json`: one JSON object a line, with the request's span fields.
    pub log_format: LogFormat,
    /// `host:port` of the Prometheus `/metrics` and health-probe listener; empty (default): none.
    pub metrics_listen: MetricsListen,

    // --- Barong's own settings: same names, as YAML keys and BARONG_* variables -----------
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
    /// Seconds a new signing key (`keys rotate`, a `jwt_algorithm` change) is published in the JWKS
    /// before it signs, so consumers caching the JWKS (60 s by our Cache-Control) know it first.
    pub jwt_key_activation_delay: i64,
    pub csrf_protection: bool,
    /// Window for API-key nonces, milliseconds.
    pub apikey_nonce_lifetime: i64,
    /// `cloudflare` (default) or `akamai` (trust `True-Client-IP` from trusted proxies).
    pub gateway: Gateway,
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
    /// The Auth0 tenant (`tenant.eu.auth0.com`) whose ID tokens `POST identity/sessions/auth0`
    /// accepts; with `auth0_client_id`, turns Auth0 login on. The tokens' issuer must be
    /// `https://<auth0_domain>/`.
    pub auth0_domain: String,
    /// The Auth0 application's client id: the audience of the ID tokens.
    pub auth0_client_id: String,
    /// Where the tenant's signing keys are fetched; empty means
    /// `https://<auth0_domain>/.well-known/jwks.json`. For tests and proxies; production mode
    /// refuses a URL that is not https or points at this machine.
    pub auth0_jwks_url: String,
    /// `local` (the operator reviews); Barong's `kycaid` is not implemented and refused.
    pub kyc_provider: KycProvider,
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
    pub upload_extension_whitelist: Extensions,
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
    pub trusted_proxies: Proxies,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: u64,
    /// Largest accepted `multipart/form-data` body of `POST resource/documents` and
    /// `resource/addresses`, bytes; every other request keeps `max_body_bytes`.
    pub max_upload_request_bytes: u64,
    /// Where uploaded KYC files live; empty means `<data_dir>/uploads`. Daemons sharing one
    /// PostgreSQL database must share this directory too (a network volume), or a file stored
    /// by one is missing on the others.
    pub uploads_dir: String,
    /// Barong's `storage_provider`: `local` (default: files under `uploads_dir`), or a bucket:
    /// `aws` (S3 or any S3-compatible server), `google` (Cloud Storage through its S3-compatible
    /// XML API, HMAC keys) or `alicloud` (OSS, S3-compatible); case-insensitive, as Barong's
    /// `AWS`/`Google`/`AliCloud`. A bucket lets daemons on several machines share the files.
    pub storage_provider: String,
    pub storage_bucket_name: String,
    pub storage_access_key: String,
    pub storage_secret_key: Secret,
    /// Empty: the provider's own endpoint (`alicloud` needs one).
    pub storage_endpoint: String,
    /// Empty: `us-east-1` (S3's default; other providers ignore it or accept it).
    pub storage_region: String,
    /// Only 4 (AWS Signature Version 4), Barong's default.
    pub storage_signature_version: u32,
    /// `true`: `ENDPOINT/BUCKET/KEY` (MinIO and most self-hosted servers); `false`:
    /// `BUCKET.ENDPOINT/KEY`.
    pub storage_pathstyle: bool,
    /// RabbitMQ of the Event API (`EVENT_API_RABBITMQ_URL`, `amqp://user:pass@host:port/vhost`).
    /// Empty, with `event_api_rabbitmq_host` empty too, means no events are published.
    pub event_api_rabbitmq_url: Secret,
    /// Barong's split form of the same, used when the URL is empty and the host is set.
    pub event_api_rabbitmq_host: String,
    pub event_api_rabbitmq_port: u16,
    pub event_api_rabbitmq_username: String,
    pub event_api_rabbitmq_password: Secret,
    /// PEM file of the CA(s) that sign the RabbitMQ server's certificate, for an `amqps://` URL
    /// (`EVENT_API_RABBITMQ_CA_FILE`); empty means the Mozilla roots built into barongd.
    pub event_api_rabbitmq_ca_file: String,
    /// Mask last name and birth date in `model.profile.*` events as the resource API masks them.
    /// Off by default: Barong's consumers got them in clear (docs/compatibility.md#profile-events).
    pub event_api_mask_profile_pii: bool,
    /// How long the authz gateway reuses an upstream JWT for the same session or API key, seconds
    /// (never past the token's `exp`; dropped at once when the holder changes). 0 signs every time.
    pub authz_jwt_reuse_seconds: i64,
    /// How often the change feed is read, milliseconds: other daemons see a logout, ban, level
    /// or key change within this (keep it at most 1000); the daemon that made the change drops
    /// its own caches before it answers.
    pub change_feed_poll_ms: u64,
    /// Slow request bodies and open uploads.
    pub request_body: BodySettings,
    /// Size and rate caps of the admin activity rows of denied gateway requests.
    pub denied_audit: DeniedAuditSettings,
    pub master_key_rotation: RotationSettings,
    pub argon2: Argon2Settings,
    /// While any bcrypt digest imported from Barong remains, every sign-in's password step takes
    /// at least this long, milliseconds, so a slow bcrypt check does not tell a not-yet-migrated
    /// account from others. Unset: 1.5 × the slowest of a few bcrypt checks at the highest stored
    /// cost, measured at start (and again when a higher cost appears). 0 turns the floor off.
    pub legacy_password_time_floor_ms: Option<u64>,
    pub mailer: MailerSettings,
    pub login_throttle: ThrottleSettings,
    pub mail_throttle: MailThrottleSettings,
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
    /// Barong's `abilities.yml` (CanCan rules per admin role); empty means Barong's default file,
    /// built in. Validated at start-up: an unknown model or action stops the daemon.
    pub abilities_file: String,
    /// Roles that see clear PII (last names, birth dates, phone and document numbers) in Admin
    /// API responses; the others get the user API's masks. `"*"` means every role (Barong).
    /// Env `BARONG_ADMIN_UNMASKED_PII_ROLES`, comma-separated.
    pub admin_unmasked_pii_roles: Vec<String>,
    /// Barong's `profile_double_verification`: a profile an admin created (`POST
    /// /admin/profiles`) must be verified by another admin, unless the creator's role is in
    /// `profile_verification_roles`.
    pub profile_double_verification: bool,
    /// Roles that may verify a profile they created themselves (env comma-separated).
    pub profile_verification_roles: Vec<String>,
    /// The abilities read from `abilities_file` (or the built-in file) when the configuration
    /// is loaded.
    #[serde(skip)]
    pub abilities: crate::config::abilities::AbilitiesFile,
    /// WebAuthn as a second factor: the relying party's id, a domain the origins are on
    /// (`exchange.example`, `localhost`). WebAuthn is off unless this and `webauthn_origins` are set.
    pub webauthn_rp_id: String,
    /// The name authenticators show; empty: `app_name`.
    pub webauthn_rp_name: String,
    /// The exact origins (`https://exchange.example`) ceremonies may come from; env comma-separated.
    pub webauthn_origins: Vec<String>,
    /// User verification (PIN, biometrics) asked of authenticators: `required`, `preferred`
    /// (default) or `discouraged` (presence only).
    pub webauthn_user_verification: WebauthnUserVerification,
    /// Credentials one user may register.
    pub webauthn_max_credentials: i64,
    /// Enrolling a credential needs a session opened within this many seconds.
    pub webauthn_enrol_window: i64,
    /// Seconds a ceremony's challenge stays valid.
    pub webauthn_challenge_lifetime: i64,
    /// The Management API: Barong's `management_api.yml`, allowed networks, token hardening.
    pub management_api: ManagementApiSettings,
    /// The Management API may create and update API keys of users (`/api_keys`).
    pub mgn_api_keys_user: bool,
    /// The Management API may create and update API keys of service accounts.
    pub mgn_api_keys_sa: bool,
    /// The Event API's broker, parsed from `event_api_rabbitmq_url` (or the host form) when the
    /// configuration is loaded; `None` when events are off.
    #[serde(skip)]
    pub event_api: Option<EventApi>,
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

/// Brute-force protection for every check of a password or a TOTP code: login, password change,
/// account deletion, 2FA and API-key codes, all counted in one bucket per account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ThrottleSettings {
    /// Failed attempts per account inside `window_seconds` before it is refused for a while.
    pub max_failures_per_account: i64,
    /// Failed attempts per client IP (IPv6: per /64) inside `window_seconds`.
    pub max_failures_per_ip: i64,
    pub window_seconds: i64,
    /// Password checks of one account waiting or running at once; more are refused at once, so
    /// no one fills the hashing queue for everyone.
    pub max_hashing_per_account: usize,
    /// Password checks from one client IP (IPv6: one /64) waiting or running at once.
    pub max_hashing_per_ip: usize,
}

/// Limits on the mails anyone can trigger (`password/generate_code`, `email/generate_code`). A
/// request over a limit gets the same 201 and no mail, so the limit reveals nothing.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailThrottleSettings {
    /// Mails to one address per minute.
    pub max_per_address_per_minute: i64,
    /// Mails to one address per hour.
    pub max_per_address_per_hour: i64,
    /// Requests from one client IP (IPv6: one /64) per hour.
    pub max_per_ip_per_hour: i64,
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
    fn jwt_algorithm_defaults_to_barongs() {
        assert_eq!(Config::default().jwt_algorithm, JwtAlgorithm::Rs256);
    }
}
