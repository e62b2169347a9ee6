use super::*;
use crate::config::values::Secret;

/// A configuration with nothing development-only left.
fn production_ready() -> Config {
    let mut c = Config {
        mode: Mode::Production,
        frontend_url: "https://exchange.example.com".into(),
        phone_verification: PhoneVerification::TwilioVerify,
        api_cors_origins: "https://exchange.example.com".into(),
        session_cookie_secure: true,
        ..Default::default()
    };
    c.mailer.transport = MailTransport::Smtp;
    c.mailer.smtp_url = Secret("smtp://127.0.0.1:2525".into());
    c.mailer.from = "noreply@example.com".into();
    c
}

fn keys(c: &Config) -> Vec<&'static str> {
    findings(c).iter().map(|f| f.key).collect()
}

#[test]
fn the_defaults_are_all_named() {
    assert_eq!(
        keys(&Config::default()),
        [
            "frontend_url",
            "phone_verification",
            "api_cors_origins",
            "session_cookie_secure",
            "mailer.transport",
            "mailer.from"
        ]
    );
}

#[test]
fn a_production_config_is_clean_and_each_change_is_named() {
    assert_eq!(verdict(&production_ready()), Verdict::Clean);
    type Change = fn(&mut Config);
    let cases: [(Change, &str); 11] = [
        (|c| c.frontend_url = "http://exchange.example.com".into(), "frontend_url"),
        (|c| c.frontend_url = "https://127.0.0.1:3000".into(), "frontend_url"),
        (|c| c.frontend_url = "https://[::1]/".into(), "frontend_url"),
        (|c| c.frontend_url = "https://app.localhost".into(), "frontend_url"),
        (|c| c.frontend_url = String::new(), "domain"),
        (|c| c.csrf_protection = false, "csrf_protection"),
        (|c| c.phone_verification = PhoneVerification::Mock, "phone_verification"),
        (|c| c.api_cors_origins = "https://a.example.com, *".into(), "api_cors_origins"),
        (|c| c.argon2.memory_kib = 256, "argon2"),
        (|c| c.argon2.iterations = 1, "argon2"),
        (|c| c.mailer.transport = MailTransport::File, "mailer.transport"),
    ];
    for (change, key) in cases {
        let mut c = production_ready();
        change(&mut c);
        assert_eq!(keys(&c), [key]);
        let Verdict::Refuse(lines) = verdict(&c) else { panic!("{key} not refused") };
        assert_eq!(lines.len(), 1);
        assert!(lines[0].starts_with(&format!("production mode: {key}: ")), "{}", lines[0]);
    }
    // OWASP's other pairs pass: more iterations for less memory.
    let mut c = production_ready();
    c.argon2.memory_kib = 7168;
    c.argon2.iterations = 5;
    assert_eq!(verdict(&c), Verdict::Clean);
    c.frontend_url = String::new();
    c.domain = "example.com".into();
    assert_eq!(verdict(&c), Verdict::Clean);
}

#[test]
fn development_mode_warns_once_naming_every_key() {
    let Verdict::Warn(line) = verdict(&Config::default()) else { panic!("a warning") };
    assert!(!line.contains('\n'));
    for key in ["frontend_url", "phone_verification", "api_cors_origins", "session_cookie_secure", "mailer.transport"] {
        assert!(line.contains(key), "{key} missing: {line}");
    }
    let Verdict::Refuse(lines) = verdict(&Config { mode: Mode::Production, ..Default::default() }) else {
        panic!("refused")
    };
    assert_eq!(lines.len(), 6);
    assert!(lines.iter().any(|l| l.contains("set mailer.transport: smtp and mailer.smtp_url")), "{lines:?}");
}

#[test]
fn guest_rabbitmq_credentials_are_named() {
    let mut c = production_ready();
    c.event_api = Some(crate::config::amqp::EventApi::parse("amqp://guest:guest@mq.internal:5672/%2f").expect("url"));
    assert_eq!(keys(&c), ["event_api_rabbitmq_password"]);
    c.event_api = Some(crate::config::amqp::EventApi::parse("amqp://barong:s3cret@mq.internal:5672/%2f").expect("url"));
    assert!(keys(&c).is_empty());
}

#[test]
fn a_local_auth0_jwks_url_is_named() {
    let mut c = production_ready();
    c.auth0_domain = "tenant.eu.auth0.com".into();
    c.auth0_client_id = "client".into();
    c.auth0_jwks_url = "http://127.0.0.1:9/.well-known/jwks.json".into();
    assert_eq!(keys(&c), ["auth0_jwks_url"]);
    c.auth0_jwks_url = "https://keys.example.com/jwks.json".into();
    assert!(keys(&c).is_empty());
}

#[test]
fn a_bucket_over_plain_http_is_named() {
    let bucket = |endpoint: &str| Config {
        storage_provider: "aws".into(),
        storage_bucket_name: "kyc".into(),
        storage_endpoint: endpoint.into(),
        ..production_ready()
    };
    assert_eq!(keys(&bucket("http://minio.internal:9000")), ["storage_endpoint"]);
    assert!(keys(&bucket("https://minio.internal:9000")).is_empty());
    assert!(keys(&bucket("")).is_empty(), "AWS's own endpoint is https");
    let local = Config { storage_endpoint: "http://minio.internal:9000".into(), ..production_ready() };
    assert!(keys(&local).is_empty(), "unused while the provider is local");
}
