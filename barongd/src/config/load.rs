//! Loading the configuration: defaults < YAML file < `BARONG_*` environment < command-line flags,
//! parsed into typed settings, then the checks between settings, every problem at once, in one
//! line.

use std::path::PathBuf;

use crate::config::amqp::EventApi;
use crate::config::env as config_env;
use crate::config::limits::limit_errors;
use crate::config::settings::Config;
use crate::config::values::{MailTransport, PhoneVerification, Secret};
use crate::config::yaml::{self, Mapping, Value};
use crate::redact::redact_url;

/// What the command line can override.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub listen: Option<String>,
    pub data_dir: Option<String>,
    pub database_url: Option<String>,
}

/// Reads and validates the configuration; `env` is the process environment (a parameter so
/// tests need not mutate the real one).
pub fn load(flags: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Result<Config, String> {
    let file = flags.config.clone().or_else(|| env("BARONG_CONFIG").map(PathBuf::from));
    let map = match &file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("config file {}: {e}", path.display()))?;
            yaml::mapping(&text).map_err(|e| format!("config file {}: {e}", path.display()))?
        }
        None => Mapping::new(),
    };
    from_mapping(map, flags, env)
}

/// The configuration from the settings of a file (`map`), then `env`, then `flags`, validated.
pub fn from_mapping(
    mut map: Mapping,
    flags: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, String> {
    let Value::Mapping(defaults) = yaml::to_value(&Config::default())? else {
        return Err("the default settings are not a mapping".into());
    };
    config_env::apply(&mut map, &defaults, env)?;
    crate::config::management::apply_env(&mut map, env)?;
    let mut set = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            map.insert(Value::String(k.to_string()), Value::String(v.clone()));
        }
    };
    set("listen", &flags.listen);
    set("data_dir", &flags.data_dir);
    set("database_url", &flags.database_url);
    let mut config: Config = yaml::from_value(Value::Mapping(map))?;
    if config.database_url.is_empty() {
        config.database_url = Secret(format!("sqlite://{}/barong.db", config.data_dir.trim_end_matches('/')));
    }
    validate(&config)?;
    config.abilities = crate::config::abilities::AbilitiesFile::load(&config.abilities_file)?;
    config.event_api = match config.event_api_url() {
        Some(url) => Some(EventApi::parse(&url).map_err(|e| format!("event_api_rabbitmq_url: {e}"))?),
        None => None,
    };
    Ok(config)
}

fn validate(c: &Config) -> Result<(), String> {
    let mut errors = Vec::new();
    let url = c.database_url.expose();
    if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
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
    phone_errors(c, &mut errors);
    crate::config::management::management_errors(&c.management_api, &mut errors);
    if errors.is_empty() { Ok(()) } else { Err(errors.join("; ")) }
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
    hide(&mut c.event_api_rabbitmq_password);
    c.event_api_rabbitmq_url = Secret(redact_url(c.event_api_rabbitmq_url.expose()));
    yaml::to_string(&c).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k| m.get(k).cloned()
    }

    fn write(text: &str) -> tempfile::NamedTempFile {
        let f = tempfile::NamedTempFile::new().expect("tmp");
        std::fs::write(f.path(), text).expect("write");
        f
    }

    #[test]
    fn defaults_need_nothing() {
        let c = load(&Overrides::default(), &env_of(&[])).expect("defaults load");
        assert_eq!(c.listen.to_string(), "127.0.0.1:3000");
        assert_eq!(c.database_url.expose(), "sqlite://./data/barong.db");
    }

    #[test]
    fn flags_beat_env_beat_file() {
        let f = write("session_expire_time: 100\nlisten: 127.0.0.1:1\ncaptcha: none\n");
        let flags =
            Overrides { config: Some(f.path().into()), listen: Some("127.0.0.1:3".into()), ..Default::default() };
        let c = load(&flags, &env_of(&[("BARONG_LISTEN", "127.0.0.1:2"), ("BARONG_SESSION_EXPIRE_TIME", "200")]))
            .expect("loads");
        assert_eq!(c.listen.to_string(), "127.0.0.1:3");
        assert_eq!(c.session_expire_time, 200);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let f = write("sesion_expire_time: 100\n");
        let flags = Overrides { config: Some(f.path().into()), ..Default::default() };
        let e = load(&flags, &env_of(&[])).expect_err("typo refused");
        assert!(e.contains("sesion_expire_time"), "{e}");
        assert!(!e.contains('\n'));
        let e = load(&Overrides::default(), &env_of(&[("BARONG_CSRF_PROTECTION", "yes")])).expect_err("bool");
        assert!(e.contains("BARONG_CSRF_PROTECTION"), "{e}");
        let e = load(&Overrides { database_url: Some("mysql://x".into()), ..Default::default() }, &env_of(&[]))
            .expect_err("scheme");
        assert!(e.contains("database_url"), "{e}");
        let missing = Overrides { config: Some("/nonexistent/barong.yml".into()), ..Default::default() };
        assert!(load(&missing, &env_of(&[])).expect_err("missing").contains("/nonexistent/barong.yml"));
    }

    #[test]
    fn the_example_file_is_valid_and_matches_the_defaults() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/barong.example.yml");
        let flags = Overrides { config: Some(path.into()), ..Default::default() };
        let c = load(&flags, &env_of(&[])).expect("example loads");
        let d = load(&Overrides::default(), &env_of(&[])).expect("defaults load");
        assert_eq!(redacted_yaml(&c), redacted_yaml(&d), "example and defaults agree");
    }

    #[test]
    fn the_legacy_password_floor_is_measured_unless_set() {
        assert_eq!(load(&Overrides::default(), &env_of(&[])).expect("default").legacy_password_time_floor_ms, None);
        let var = "BARONG_LEGACY_PASSWORD_TIME_FLOOR_MS";
        let c = load(&Overrides::default(), &env_of(&[(var, "300")])).expect("set");
        assert_eq!(c.legacy_password_time_floor_ms, Some(300));
        assert!(load(&Overrides::default(), &env_of(&[(var, "soon")])).expect_err("not a number").contains(var));
        let e = load(&Overrides::default(), &env_of(&[(var, "60001")])).expect_err("too long");
        assert!(e.contains("legacy_password_time_floor_ms"), "{e}");
    }

    #[test]
    fn phone_verification_needs_its_credentials() {
        let e =
            load(&Overrides::default(), &env_of(&[("BARONG_PHONE_VERIFICATION", "twilio_sms")])).expect_err("creds");
        assert!(e.contains("twilio_account_sid") && e.contains("twilio_phone_number"), "{e}");
        assert!(!e.contains('\n'));
        let e =
            load(&Overrides::default(), &env_of(&[("BARONG_PHONE_VERIFICATION", "twilio_verify")])).expect_err("creds");
        assert!(e.contains("twilio_service_sid"), "{e}");
        let e =
            load(&Overrides::default(), &env_of(&[("BARONG_PHONE_VERIFICATION", "carrier_pigeon")])).expect_err("mode");
        assert!(e.contains("carrier_pigeon") && e.contains("phone_verification"), "{e}");
        let ok = [
            ("BARONG_PHONE_VERIFICATION", "twilio_verify"),
            ("BARONG_TWILIO_ACCOUNT_SID", "AC1"),
            ("BARONG_TWILIO_AUTH_TOKEN", "tw-secret"),
            ("BARONG_TWILIO_SERVICE_SID", "VA1"),
        ];
        let c = load(&Overrides::default(), &env_of(&ok)).expect("complete");
        assert_eq!(c.phone_verification, PhoneVerification::TwilioVerify);
        assert!(!redacted_yaml(&c).contains("tw-secret"));
        assert!(!format!("{c:?}").contains("tw-secret"));
        assert_eq!(
            load(&Overrides::default(), &env_of(&[])).expect("defaults").phone_verification,
            PhoneVerification::File
        );
        let e = load(&Overrides::default(), &env_of(&[("BARONG_SMS_CONTENT_TEMPLATE", "no code")])).expect_err("tpl");
        assert!(e.contains("sms_content_template"), "{e}");
    }

    #[test]
    fn event_api_settings_are_read_checked_and_redacted() {
        let c =
            load(&Overrides::default(), &env_of(&[("EVENT_API_RABBITMQ_URL", "amqp://ev:amqp-secret@mq:5672/%2f")]))
                .expect("Barong's unprefixed variable");
        assert_eq!(c.event_api_url().as_deref(), Some("amqp://ev:amqp-secret@mq:5672/%2f"));
        let shown = redacted_yaml(&c);
        assert!(!shown.contains("amqp-secret") && shown.contains("ev:***@mq"), "{shown}");
        let c = load(
            &Overrides::default(),
            &env_of(&[("BARONG_EVENT_API_RABBITMQ_HOST", "mq"), ("BARONG_EVENT_API_RABBITMQ_PASSWORD", "p@ss word")]),
        )
        .expect("split form");
        assert_eq!(c.event_api_url().as_deref(), Some("amqp://guest:p%40ss%20word@mq:5672/%2f"));
        assert!(!redacted_yaml(&c).contains("p@ss"));
        assert_eq!(load(&Overrides::default(), &env_of(&[])).expect("defaults").event_api_url(), None);
        let e = load(&Overrides::default(), &env_of(&[("EVENT_API_RABBITMQ_URL", "http://mq")])).expect_err("scheme");
        assert!(e.starts_with("event_api_rabbitmq_url:") && !e.contains('\n'), "{e}");
        let e = load(&Overrides::default(), &env_of(&[("EVENT_API_RABBITMQ_URL", "amqps://u:tls-secret@mq")]))
            .expect_err("no TLS client");
        assert!(!e.contains("tls-secret"), "{e}");
    }

    #[test]
    fn upload_settings_are_checked() {
        let e = load(&Overrides::default(), &env_of(&[("BARONG_UPLOAD_EXTENSION_WHITELIST", "png, exe")]))
            .expect_err("exe has no content check");
        assert!(e.contains("upload_extension_whitelist") && e.contains("exe"), "{e}");
        assert!(!e.contains('\n'));
        let e = load(&Overrides::default(), &env_of(&[("BARONG_DOC_NUM_LIMIT", "0")])).expect_err("limit");
        assert!(e.contains("doc_num_limit"), "{e}");
        let e = load(&Overrides::default(), &env_of(&[("BARONG_MAX_UPLOAD_REQUEST_BYTES", "2048")])).expect_err("cap");
        assert!(e.contains("max_upload_request_bytes"), "{e}");
        let c = load(&Overrides::default(), &env_of(&[("BARONG_UPLOAD_EXTENSION_WHITELIST", " PNG ,pdf")]))
            .expect("upper case and spaces are fine");
        assert_eq!(c.upload_extension_whitelist.names(), ["png", "pdf"]);
    }

    #[test]
    fn check_output_hides_secrets() {
        let c = Config {
            database_url: Secret("postgres://u:pw-secret@h/db".into()),
            recaptcha_secret_key: Secret("rc-secret".into()),
            ..Default::default()
        };
        let y = redacted_yaml(&c);
        assert!(!y.contains("pw-secret") && !y.contains("rc-secret"), "{y}");
    }

    #[test]
    fn abilities_and_unmasked_roles_are_read_and_checked() {
        let d = load(&Overrides::default(), &env_of(&[])).expect("defaults");
        assert_eq!(d.admin_unmasked_pii_roles, ["superadmin", "compliance"]);
        assert_eq!(d.abilities, crate::config::abilities::AbilitiesFile::builtin());
        let c = load(&Overrides::default(), &env_of(&[("BARONG_ADMIN_UNMASKED_PII_ROLES", "admin, compliance")]))
            .expect("list from env");
        assert_eq!(c.admin_unmasked_pii_roles, ["admin", "compliance"]);
        assert_eq!(d.profile_verification_roles, ["superadmin"]);
        let c = load(&Overrides::default(), &env_of(&[("BARONG_PROFILE_VERIFICATION_ROLES", "compliance")]))
            .expect("list from env");
        assert_eq!(c.profile_verification_roles, ["compliance"]);
        let f = write("admin_permissions:\n  ops:\n    manage: [Wallet]\n");
        let path = f.path().to_string_lossy().to_string();
        let c = load(&Overrides::default(), &env_of(&[("BARONG_ABILITIES_FILE", &path)])).expect_err("bad model");
        assert!(c.contains("admin_permissions.ops.manage: unknown model `Wallet`") && !c.contains('\n'), "{c}");
    }
}
