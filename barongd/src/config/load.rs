//! Loading the configuration: defaults < YAML file < `BARONG_*` environment < command-line flags,
//! parsed into typed settings, then the checks between settings, every problem at once, in one
//! line.

use std::path::PathBuf;

use crate::config::amqp::EventApi;
use crate::config::env as config_env;
use crate::config::limits::limit_errors;
pub use crate::config::overrides::Overrides;
use crate::config::settings::Config;
use crate::config::sources::{FileSource, Sources};
use crate::config::typed::typed;
use crate::config::values::{MailTransport, PhoneVerification, Secret};
use crate::config::yaml::{self, Mapping, Value};
use crate::config::{barong_env, barong_file, durations, log_level, paths, unknown_keys};
use crate::redact::redact_url;

/// The configuration and the warnings to log once it is known where logs go.
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<String>,
}

/// Reads and validates the configuration; `env` is the process environment (a parameter so
/// tests need not mutate the real one).
pub fn load(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
    load_checked(flags, env, false).map(|l| l.config)
}

/// As [`load`], with the warnings; `strict` (`config check --strict`) makes unknown top-level
/// keys errors (unknown keys inside a section always are).
pub fn load_checked(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>, strict: bool) -> Result<Loaded, String> {
    let file = flags.config.clone().or_else(|| env("BARONG_CONFIG").map(PathBuf::from));
    let Some(path) = file else {
        return build(Mapping::new(), None, flags, env);
    };
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| format!("config file {shown}: {e}"))?;
    let mut map = yaml::mapping(&text).map_err(|e| format!("config file {shown}: {e}"))?;
    let mut source = FileSource::new(&path, map.clone(), &text);
    let (mut warnings, mut errors) = (Vec::new(), Vec::new());
    for unknown in unknown_keys::find(&map, &defaults()?) {
        if unknown.top_level() && !strict {
            // Barong ignored unknown top-level keys; its own files carry some.
            warnings.push(unknown.describe(&source, true));
            map.remove(unknown.path.as_str());
        } else {
            errors.push(unknown.describe(&source, false));
        }
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let prepared = barong_file::prepare(map, &shown)?;
    source.map = prepared.map.clone();
    warnings.extend(prepared.warnings);
    let mut loaded = build(prepared.map, Some(&source), flags, env)?;
    loaded.warnings.splice(0..0, warnings);
    Ok(loaded)
}

/// The default settings as a YAML mapping (the known keys and their types).
fn defaults() -> Result<Mapping, String> {
    match yaml::to_value(&Config::default())? {
        Value::Mapping(m) => Ok(m),
        _ => Err("the default settings are not a mapping".into()),
    }
}

/// The configuration from the settings of a file (`map`), then `env`, then `flags`, validated.
pub fn from_mapping(map: Mapping, flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
    build(map, None, flags, env).map(|l| l.config)
}

fn build(
    mut map: Mapping,
    file: Option<&FileSource>,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, String> {
    let defaults = defaults()?;
    config_env::apply(&mut map, &defaults, env)?;
    crate::config::management::apply_env(&mut map, env)?;
    let mut warnings = barong_env::apply(&mut map, env, flags.database_url.is_some())?;
    let mut set = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            map.insert(Value::String(k.to_string()), Value::String(v.clone()));
        }
    };
    set("listen", &flags.listen);
    set("data_dir", &flags.data_dir);
    set("database_url", &flags.database_url);
    set("log_level", &flags.log_level);
    let sources = Sources { file, flags, env };
    durations::normalise(&mut map).map_err(|(path, e)| sources.describe(&path, &e))?;
    let mut config = typed(map, &sources)?;
    let mut errors = Vec::new();
    paths::resolve(&mut config, &sources, &mut errors);
    if config.database_url.is_empty() {
        config.database_url = Secret(format!("sqlite://{}/barong.db", config.data_dir.trim_end_matches('/')));
    }
    errors.extend(validate(&config).into_iter().map(|e| sources.place(e, &defaults)));
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    // Barong's `config/cloudflare_ips.yml`: beside the config file (the folder Barong's lived in),
    // or in `config/` of the working directory when there is no file, as in a Barong checkout.
    // Trusting more proxies changes whose address the gateway believes, so it is never silent.
    let cloudflare = match sources.file {
        Some(f) => f.dir.join("cloudflare_ips.yml"),
        None => std::path::PathBuf::from("config/cloudflare_ips.yml"),
    };
    let trusted = config.trusted_proxies.add_cloudflare_file(&cloudflare)?;
    if trusted > 0 {
        let shown = std::path::absolute(&cloudflare).unwrap_or(cloudflare);
        warnings.push(format!("trusting {trusted} proxy networks from {} (Barong's Cloudflare list)", shown.display()));
    }
    config.abilities = crate::config::abilities::AbilitiesFile::load(&config.abilities_file)?;
    config.event_api = match config.event_api_url() {
        Some(url) => {
            let api = EventApi::parse(&url).map_err(|e| sources.describe("event_api_rabbitmq_url", &e))?;
            match config.event_api_rabbitmq_ca_file.as_str() {
                "" => Some(api),
                ca => Some(api.with_ca_file(ca).map_err(|e| sources.describe("event_api_rabbitmq_ca_file", &e))?),
            }
        }
        None if !config.event_api_rabbitmq_ca_file.is_empty() => {
            return Err(sources.describe("event_api_rabbitmq_ca_file", "set, but no Event API URL is configured"));
        }
        None => None,
    };
    Ok(Loaded { config, warnings })
}

/// The checks of single values and between settings, each error `KEY: what is wrong`.
fn validate(c: &Config) -> Vec<String> {
    let mut errors = Vec::new();
    if let Err(e) = log_level::check(&c.log_level) {
        errors.push(format!("log_level: {e}"));
    }
    let url = c.database_url.expose();
    if url.starts_with("mysql") {
        errors.push(barong_env::mysql_refusal("database_url mysql://…"));
    } else if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        errors.push("database_url: must start with sqlite:// or postgres://".to_string());
    }
    if !(2..=6).contains(&c.uid_prefix.len()) || !c.uid_prefix.chars().all(|ch| ch.is_ascii_alphabetic()) {
        errors.push(format!("uid_prefix: `{}` must be 2 to 6 ASCII letters", c.uid_prefix));
    }
    for (key, value) in [
        ("session_expire_time", c.session_expire_time),
        ("jwt_expire_time", c.jwt_expire_time),
        ("apikey_nonce_lifetime", c.apikey_nonce_lifetime),
        ("session_max_lifetime", c.session_max_lifetime),
    ] {
        if value <= 0 {
            errors.push(format!("{key}: must be positive"));
        }
    }
    if c.jwt_key_activation_delay < 0 {
        errors.push("jwt_key_activation_delay: must be 0 or more seconds".to_string());
    }
    const ENDPOINTS: [&str; 4] = ["user_create", "session_create", "password_reset", "email_confirmation"];
    for e in &c.captcha_protected_endpoints {
        if !ENDPOINTS.contains(&e.as_str()) {
            errors.push(format!("captcha_protected_endpoints: unknown endpoint `{e}`"));
        }
    }
    if fancy_regex::Regex::new(&c.password_regexp).is_err() {
        errors.push("password_regexp: not a valid regular expression".into());
    }
    if c.mailer.transport == MailTransport::Smtp && c.mailer.smtp_url.is_empty() {
        errors.push("mailer.smtp_url: required when mailer.transport is smtp".into());
    }
    if c.argon2.memory_kib < 8 || c.argon2.iterations < 1 || c.argon2.parallelism < 1 {
        errors.push("argon2: memory_kib >= 8, iterations >= 1 and parallelism >= 1 are required".into());
    }
    if c.legacy_password_time_floor_ms.is_some_and(|ms| ms > 60_000) {
        errors.push("legacy_password_time_floor_ms: must be at most 60000 (a minute per sign-in)".into());
    }
    let (t, m) = (&c.login_throttle, &c.mail_throttle);
    if t.window_seconds < 1 || t.max_hashing_per_account < 1 || t.max_hashing_per_ip < 1 {
        errors.push("login_throttle: window_seconds and max_hashing_per_* must be at least 1".into());
    }
    if m.max_per_address_per_minute < 1 || m.max_per_address_per_hour < 1 || m.max_per_ip_per_hour < 1 {
        errors.push("mail_throttle: every limit must be at least 1".into());
    }
    if c.max_body_bytes < 1024 {
        errors.push("max_body_bytes: must be at least 1024".into());
    }
    upload_errors(c, &mut errors);
    limit_errors(&c.request_body, &c.denied_audit, c.change_feed_poll_ms, &mut errors);
    if c.master_key_rotation.batch_size < 1 || c.master_key_rotation.batch_delay_ms > 60_000 {
        errors.push("master_key_rotation: batch_size must be at least 1, batch_delay_ms at most 60000".into());
    }
    phone_errors(c, &mut errors);
    auth0_errors(c, &mut errors);
    crate::config::webauthn::webauthn_errors(c, &mut errors);
    crate::config::management::management_errors(&c.management_api, &mut errors);
    errors
}

/// Auth0 login is on with both the tenant and the client id; one without the other is a
/// half-made configuration, not a way to turn it off.
fn auth0_errors(c: &Config, errors: &mut Vec<String>) {
    let (domain, client) = (c.auth0_domain.trim(), c.auth0_client_id.trim());
    match (domain.is_empty(), client.is_empty()) {
        (false, true) => errors.push("auth0_client_id: required when auth0_domain is set".into()),
        (true, false) => errors.push("auth0_domain: required when auth0_client_id is set".into()),
        _ => {}
    }
    let host_like = |d: &str| !d.is_empty() && d.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.');
    if !domain.is_empty() && !host_like(domain) {
        errors.push(format!("auth0_domain: `{domain}` must be the tenant's host name, e.g. tenant.eu.auth0.com"));
    }
    if !c.auth0_jwks_url.is_empty() {
        if domain.is_empty() {
            errors.push("auth0_jwks_url: set, but auth0_domain is not".into());
        } else if !reqwest::Url::parse(&c.auth0_jwks_url).is_ok_and(|u| matches!(u.scheme(), "https" | "http")) {
            errors.push("auth0_jwks_url: must be an absolute https:// (or http://) URL".into());
        }
    }
}

/// Phone verification: a Twilio mode needs its credentials, and the code limits must be usable.
fn phone_errors(c: &Config, errors: &mut Vec<String>) {
    let needed: &[(&str, bool)] = match c.phone_verification {
        PhoneVerification::TwilioSms => &[
            ("twilio_account_sid", c.twilio_account_sid.is_empty()),
            ("twilio_auth_token", c.twilio_auth_token.is_empty()),
            ("twilio_phone_number", c.twilio_phone_number.is_empty()),
        ],
        PhoneVerification::TwilioVerify => &[
            ("twilio_account_sid", c.twilio_account_sid.is_empty()),
            ("twilio_auth_token", c.twilio_auth_token.is_empty()),
            ("twilio_service_sid", c.twilio_service_sid.is_empty()),
        ],
        PhoneVerification::File | PhoneVerification::Mock => &[],
    };
    for (key, missing) in needed {
        if *missing {
            errors.push(format!("{key}: required when phone_verification is {}", c.phone_verification.as_str()));
        }
    }
    for (key, url) in [("twilio_api_url", &c.twilio_api_url), ("twilio_verify_url", &c.twilio_verify_url)] {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            errors.push(format!("{key}: must start with https:// or http://"));
        }
    }
    if !c.sms_content_template.contains("{{code}}") {
        errors.push("sms_content_template: must contain {{code}}".into());
    }
    for (key, value, min) in [
        ("phone_code_lifetime", c.phone_code_lifetime, 1),
        ("phone_code_max_attempts", c.phone_code_max_attempts, 1),
        ("phone_code_resend_interval", c.phone_code_resend_interval, 0),
        ("phone_code_max_sends_per_hour", c.phone_code_max_sends_per_hour, 1),
        ("phone_max_per_user", c.phone_max_per_user, 1),
    ] {
        if value < min {
            errors.push(format!("{key}: must be at least {min}"));
        }
    }
}

/// Documents and uploads: every whitelisted extension must be one whose content we can check.
fn upload_errors(c: &Config, errors: &mut Vec<String>) {
    if c.doc_num_limit < 1 {
        errors.push("doc_num_limit: must be at least 1".into());
    }
    if c.upload_size_max_range < 1 || c.upload_size_max_range > 1024 {
        errors.push("upload_size_max_range: must be 1 to 1024 (MB)".into());
    } else if c.upload_size_min_range > c.upload_size_max_range * 1024 * 1024 {
        errors.push("upload_size_min_range: must not exceed upload_size_max_range (bytes vs MB)".into());
    }
    if c.upload_auth_url_expiration < 1 {
        errors.push("upload_auth_url_expiration: must be at least 1 (minutes)".into());
    }
    if c.max_upload_request_bytes < c.max_body_bytes {
        errors.push("max_upload_request_bytes: must be at least max_body_bytes".into());
    }
    crate::config::storage::storage_errors(c, errors);
}

/// The effective configuration as YAML with secrets replaced, for `barongd config check`.
pub fn redacted_yaml(c: &Config) -> String {
    let mut c = c.clone();
    let hide = |s: &mut Secret| {
        if !s.is_empty() {
            *s = Secret("[redacted]".into());
        }
    };
    c.database_url = Secret(redact_url(c.database_url.expose()));
    hide(&mut c.recaptcha_secret_key);
    hide(&mut c.geetest_key);
    hide(&mut c.mailer.smtp_url);
    hide(&mut c.twilio_auth_token);
    hide(&mut c.storage_secret_key);
    hide(&mut c.event_api_rabbitmq_password);
    c.event_api_rabbitmq_url = Secret(redact_url(c.event_api_rabbitmq_url.expose()));
    yaml::to_string(&c).unwrap_or_default()
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
