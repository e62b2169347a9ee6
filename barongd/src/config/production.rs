//! Production mode (`mode: production`, `BARONG_MODE`, `barongd --production`): the settings that
//! are only safe on a developer's machine (mails and SMS written to files, links to localhost,
//! cookies without `Secure`, any CORS origin, …) stop start-up, one line per setting naming what
//! to set instead. In the default `development` mode the same findings are one start-up warning,
//! so a deployment that forgot the mode still says what it runs on.

use crate::config::settings::Config;
pub use crate::config::values::Mode;
use crate::config::values::{MailTransport, PhoneVerification};

/// One development default in effect: the key, what it does now, what to set instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub key: &'static str,
    pub problem: String,
    pub fix: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}; {}", self.key, self.problem, self.fix)
    }
}

/// What start-up (and `config check`) does with the findings.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Clean,
    /// Development mode: one line naming every key.
    Warn(String),
    /// Production mode: one line per finding.
    Refuse(Vec<String>),
}

pub fn verdict(c: &Config) -> Verdict {
    let found = findings(c);
    if found.is_empty() {
        return Verdict::Clean;
    }
    match c.mode {
        Mode::Production => Verdict::Refuse(found.iter().map(|f| format!("production mode: {f}")).collect()),
        Mode::Development => {
            let keys: Vec<&str> = found.iter().map(|f| f.key).collect();
            Verdict::Warn(format!(
                "development defaults in effect (refused with mode: production or --production): {}; `barongd \
                 config check` says what to set instead",
                keys.join(", ")
            ))
        }
    }
}

/// Argon2id parameters OWASP names as the least for passwords: m=47104/t=1 … m=7168/t=5, i.e. at
/// least 7 MiB and memory × iterations of at least 35840 KiB.
const ARGON2_MIN_MEMORY_KIB: u32 = 7168;
const ARGON2_MIN_WORK: u64 = 35_840;

/// Every development-only setting in effect, in the order of the example file.
pub fn findings(c: &Config) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut add = |key: &'static str, problem: String, fix: &str| {
        out.push(Finding { key, problem, fix: fix.to_string() });
    };
    if c.frontend_url.is_empty() {
        if c.domain == "barong.io" {
            add(
                "domain",
                "email links go to https://barong.io".into(),
                "set frontend_url (or domain) to your front-end",
            );
        }
    } else if let Some(problem) = local_url(&c.frontend_url) {
        add(
            "frontend_url",
            format!("{} {problem}: email links would not reach users", c.frontend_url),
            "set it to the https:// address of your front-end",
        );
    }
    if !c.csrf_protection {
        add("csrf_protection", "off".into(), "set csrf_protection: true");
    }
    if c.phone_verification == PhoneVerification::File {
        add(
            "phone_verification",
            "file: SMS codes are written to <data_dir>/outbox, never sent".into(),
            "set phone_verification: twilio_sms or twilio_verify with the twilio_* keys",
        );
    } else if c.phone_verification == PhoneVerification::Mock {
        add(
            "phone_verification",
            "mock: nothing is sent and any code is accepted".into(),
            "set phone_verification: twilio_sms or twilio_verify with the twilio_* keys",
        );
    }
    if c.api_cors_origins.split(',').any(|o| o.trim() == "*") {
        add(
            "api_cors_origins",
            "* lets any web site read the API's answers".into(),
            "list your front-end origins, e.g. https://exchange.example.com",
        );
    }
    if !c.session_cookie_secure {
        add(
            "session_cookie_secure",
            "false: the session cookie is also sent over plain HTTP".into(),
            "set session_cookie_secure: true (serve the API over HTTPS)",
        );
    }
    let argon = &c.argon2;
    if argon.memory_kib < ARGON2_MIN_MEMORY_KIB
        || u64::from(argon.memory_kib) * u64::from(argon.iterations) < ARGON2_MIN_WORK
    {
        add(
            "argon2",
            format!(
                "memory_kib {} with iterations {} makes password hashes cheap to guess",
                argon.memory_kib, argon.iterations
            ),
            "remove argon2: (19456 KiB, 2 iterations) or raise it",
        );
    }
    if c.mailer.transport == MailTransport::File {
        add(
            "mailer.transport",
            "file: mails are written to <data_dir>/outbox, never sent".into(),
            "set mailer.transport: smtp and mailer.smtp_url",
        );
    }
    if c.mailer.from.ends_with("@barong.io") {
        add(
            "mailer.from",
            format!("{} is the example sender, not an address of yours", c.mailer.from),
            "set mailer.from to a sender address of your domain",
        );
    }
    let storage = crate::config::storage::endpoint(c);
    if crate::config::storage::provider(c) != crate::config::storage::Provider::Local && storage.starts_with("http://")
    {
        add(
            "storage_endpoint",
            format!("{storage} is plain HTTP: KYC files travel unencrypted"),
            "use the bucket's https:// endpoint",
        );
    }
    if c.event_api.as_ref().is_some_and(|e| e.target.username == "guest" && e.target.password == "guest") {
        add(
            "event_api_rabbitmq_password",
            "the Event API signs in to RabbitMQ as guest/guest (RabbitMQ allows it from localhost only)".into(),
            "create a RabbitMQ user for barongd and set its name and password",
        );
    }
    if !c.auth0_jwks_url.is_empty()
        && let Some(problem) = local_url(&c.auth0_jwks_url)
    {
        add(
            "auth0_jwks_url",
            format!("{} {problem}: Auth0's signing keys must come from the tenant", c.auth0_jwks_url),
            "remove auth0_jwks_url (keys then come from https://<auth0_domain>/.well-known/jwks.json)",
        );
    }
    if c.kyc_provider == crate::config::KycProvider::Kycaid
        && let Some(problem) = local_url(&c.kycaid_api_endpoint)
    {
        add(
            "kycaid_api_endpoint",
            format!("{} {problem}: identity documents must go to KYCAID over TLS", c.kycaid_api_endpoint),
            "remove kycaid_api_endpoint (default https://api.kycaid.com/)",
        );
    }
    out
}

/// Why `url` only works on the developer's machine, if it does.
fn local_url(url: &str) -> Option<&'static str> {
    let Ok(parsed) = reqwest::Url::parse(url) else { return Some("is not an absolute URL") };
    let host = parsed.host_str().unwrap_or_default().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
    let local = match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback() || ip.is_unspecified(),
        Err(_) => host.is_empty() || host == "localhost" || host.ends_with(".localhost"),
    };
    if local {
        Some("points at this machine")
    } else if parsed.scheme() != "https" {
        Some("is not https")
    } else {
        None
    }
}

#[cfg(test)]
#[path = "production_tests.rs"]
mod tests;
