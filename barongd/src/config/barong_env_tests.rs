use std::collections::HashMap;

use super::*;
use crate::config::load::{Overrides, load};
use crate::config::values::MailTransport;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k| m.get(k).cloned()
}

fn loaded(pairs: &[(&str, &str)]) -> Result<crate::config::Config, String> {
    load(&Overrides::default(), &env_of(pairs))
}

#[test]
fn database_parts_build_a_postgres_url_with_encoded_credentials() {
    let c = loaded(&[
        ("DATABASE_ADAPTER", "postgresql"),
        ("DATABASE_HOST", "db.internal"),
        ("DATABASE_PORT", "5433"),
        ("DATABASE_USER", "bar ong"),
        ("DATABASE_PASS", "p@ss:w/rd"),
        ("DATABASE_NAME", "barong_production"),
    ])
    .expect("postgresql");
    assert_eq!(c.database_url.expose(), "postgres://bar%20ong:p%40ss%3Aw%2Frd@db.internal:5433/barong_production");
    // Barong's defaults for the parts left out (PostgreSQL's port, not MySQL's), no empty password.
    let c = loaded(&[("DATABASE_ADAPTER", "postgresql")]).expect("defaults");
    assert_eq!(c.database_url.expose(), "postgres://root@127.0.0.1:5432/barong_production");
    // DATABASE_URL and the flag win over the parts.
    let c = loaded(&[("DATABASE_ADAPTER", "mysql2"), ("DATABASE_URL", "postgres://u@h/db")]).expect("URL wins");
    assert_eq!(c.database_url.expose(), "postgres://u@h/db");
    let flag = Overrides { database_url: Some("sqlite:///tmp/x.db".into()), ..Default::default() };
    let c = load(&flag, &env_of(&[("DATABASE_HOST", "mysql.internal")])).expect("flag wins");
    assert_eq!(c.database_url.expose(), "sqlite:///tmp/x.db");
    let e = loaded(&[("DATABASE_ADAPTER", "postgresql"), ("DATABASE_PORT", "x")]).expect_err("port");
    assert!(e.contains("DATABASE_PORT"), "{e}");
}

#[test]
fn mysql_is_refused_with_one_line_pointing_at_the_importer() {
    for env in [
        vec![("DATABASE_ADAPTER", "mysql2"), ("DATABASE_PASS", "mysql-secret")],
        vec![("DATABASE_HOST", "db"), ("DATABASE_PASS", "mysql-secret")],
        vec![("DATABASE_URL", "mysql2://root:mysql-secret@db/barong")],
        vec![("DATABASE_URL", "mysql://root:mysql-secret@db/barong")],
    ] {
        let e = loaded(&env).expect_err("MySQL");
        assert!(e.contains("MySQL") && e.contains("barongctl import barong --from-env"), "{env:?}: {e}");
        assert!(!e.contains("mysql-secret") && !e.contains('\n'), "{e}");
    }
    let e = loaded(&[("DATABASE_ADAPTER", "sqlserver")]).expect_err("other adapter");
    assert!(e.contains("DATABASE_ADAPTER=sqlserver"), "{e}");
}

#[test]
fn port_listens_on_every_interface_unless_barong_listen_or_the_flag() {
    assert_eq!(loaded(&[("PORT", "8080")]).expect("PORT").listen.to_string(), "0.0.0.0:8080");
    let c = loaded(&[("PORT", "8080"), ("BARONG_LISTEN", "127.0.0.1:9")]).expect("BARONG_LISTEN wins");
    assert_eq!(c.listen.to_string(), "127.0.0.1:9");
    let flag = Overrides { listen: Some("127.0.0.1:7".into()), ..Default::default() };
    assert_eq!(load(&flag, &env_of(&[("PORT", "8080")])).expect("flag").listen.to_string(), "127.0.0.1:7");
    assert!(loaded(&[("PORT", "http")]).expect_err("number").contains("PORT"));
}

#[test]
fn smtp_and_sender_variables_configure_the_mailer() {
    let c = loaded(&[
        ("BARONG_SMTP_HOST", "mail.example.com"),
        ("BARONG_SMTP_PORT", "2525"),
        ("BARONG_SMTP_USER", "mailer@example.com"),
        ("BARONG_SMTP_PASSWORD", "smtp secret"),
        ("BARONG_SENDER_EMAIL", "support@exchange.example"),
        ("BARONG_SENDER_NAME", "Exchange"),
    ])
    .expect("smtp");
    assert_eq!(c.mailer.transport, MailTransport::Smtp);
    assert_eq!(c.mailer.smtp_url.expose(), "smtp://mailer%40example.com:smtp%20secret@mail.example.com:2525");
    assert_eq!(c.mailer.from, "\"Exchange\" <support@exchange.example>");
    assert!(!crate::config::load::redacted_yaml(&c).contains("smtp%20secret"));
    // No host: the file transport stays; Barong's localhost:1025 default is not applied.
    let c = loaded(&[("BARONG_SMTP_PORT", "2525"), ("BARONG_SENDER_EMAIL", "a@b.example")]).expect("no host");
    assert_eq!(c.mailer.transport, MailTransport::File);
    assert_eq!(c.mailer.from, "\"Barong\" <a@b.example>");
    let c = loaded(&[("BARONG_SMTP_HOST", "mail")]).expect("host only");
    assert_eq!(c.mailer.smtp_url.expose(), "smtp://mail:1025");
}

#[test]
fn the_files_smtp_url_wins_over_barong_smtp_host() {
    let mut map = crate::config::yaml::mapping("mailer: {transport: smtp, smtp_url: 'smtp://own:25'}\n").expect("yaml");
    let w = apply(&mut map, &env_of(&[("BARONG_SMTP_HOST", "other")]), false).expect("applies");
    assert!(w.is_empty());
    let c = crate::config::load::from_mapping(map, &Overrides::default(), &env_of(&[])).expect("loads");
    assert_eq!(c.mailer.smtp_url.expose(), "smtp://own:25");
}

#[test]
fn log_level_uses_rubys_names() {
    assert_eq!(loaded(&[("LOG_LEVEL", "fatal")]).expect("fatal").log_level, "error");
    assert_eq!(loaded(&[("LOG_LEVEL", "WARN")]).expect("warn").log_level, "warn");
    assert_eq!(loaded(&[("LOG_LEVEL", "warn"), ("BARONG_LOG_LEVEL", "debug")]).expect("ours").log_level, "debug");
    assert!(loaded(&[("LOG_LEVEL", "loud")]).expect_err("bad").contains("LOG_LEVEL"));
}

#[test]
fn kycaid_is_chosen_only_explicitly_and_needs_its_token() {
    // Barong's default was kycaid; an environment that never named a provider stays local.
    assert_eq!(loaded(&[]).expect("default").kyc_provider, crate::config::KycProvider::Local);
    let err = loaded(&[("BARONG_KYC_PROVIDER", "kycaid")]).expect_err("no token");
    assert!(err.contains("kycaid_authorization_token: required"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let c = loaded(&[
        ("BARONG_KYC_PROVIDER", "kycaid"),
        ("BARONG_KYCAID_AUTHORIZATION_TOKEN", "tok-123"),
        ("BARONG_KYCAID_SANDBOX_MODE", "false"),
        ("BARONG_KYCAID_API_ENDPOINT", "https://kycaid.example/"),
        ("BARONG_KYCAID_FORM_ID", "form-1"),
    ])
    .expect("kycaid");
    assert_eq!(c.kyc_provider, crate::config::KycProvider::Kycaid);
    assert_eq!(c.kycaid_authorization_token.expose(), "tok-123");
    assert!(!c.kycaid_sandbox_mode);
    assert_eq!((c.kycaid_api_endpoint.as_str(), c.kycaid_form_id.as_str()), ("https://kycaid.example/", "form-1"));
    let err = loaded(&[
        ("BARONG_KYC_PROVIDER", "kycaid"),
        ("BARONG_KYCAID_AUTHORIZATION_TOKEN", "tok-123"),
        ("BARONG_KYCAID_API_ENDPOINT", "api.kycaid.com"),
    ])
    .expect_err("bad endpoint");
    assert!(err.contains("(kycaid_api_endpoint): `api.kycaid.com` is not an http(s) URL"), "{err}");
    assert!(!err.contains("tok-123"), "{err}");
    assert!(loaded(&[("BARONG_KYC_PROVIDER", "acme")]).is_err());
    // With local, the KYCAID variables are read but unused, and no longer named as ignored.
    assert!(ignored(&["BARONG_KYCAID_FORM_ID".to_string()]).is_empty());
}

#[test]
fn ignored_variables_are_named_once_without_values() {
    let names: Vec<String> = ["PATH", "TZ", "BARONG_REDIS_URL", "VAULT_RAILS_ENABLED", "RAILS_ENV", "BARONG_APP_NAME"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(ignored(&names), ["BARONG_REDIS_URL", "RAILS_ENV", "TZ", "VAULT_RAILS_ENABLED"]);
    let line = ignored_line(&names).expect("a line");
    assert!(!line.contains('\n') && line.contains("BARONG_REDIS_URL, RAILS_ENV, TZ"), "{line}");
    assert_eq!(ignored_line(&["PATH".to_string()]), None);
    // JWT_PRIVATE_KEY_PATH is read (the signing key), never listed as ignored.
    assert!(ignored(&["JWT_PRIVATE_KEY_PATH".to_string()]).is_empty());
}
