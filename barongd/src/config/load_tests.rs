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
    let flags = Overrides { config: Some(f.path().into()), listen: Some("127.0.0.1:3".into()), ..Default::default() };
    let c = load(&flags, &env_of(&[("BARONG_LISTEN", "127.0.0.1:2"), ("BARONG_SESSION_EXPIRE_TIME", "200")]))
        .expect("loads");
    assert_eq!(c.listen.to_string(), "127.0.0.1:3");
    assert_eq!(c.session_expire_time, 200);
}

#[test]
fn unknown_keys_and_bad_values_are_named() {
    let f = write("sesion_expire_time: 100\n");
    let flags = Overrides { config: Some(f.path().into()), ..Default::default() };
    let l = load_checked(&flags, &env_of(&[]), false).expect("an unknown key is a warning");
    assert!(l.warnings[0].contains("sesion_expire_time") && l.warnings[0].contains("session_expire_time"));
    assert_eq!(l.config.session_expire_time, 1800);
    let e = load_checked(&flags, &env_of(&[]), true).err().expect("--strict refuses it");
    assert!(e.contains("sesion_expire_time"), "{e}");
    assert!(!e.contains('\n'));
    // Values of known keys stay strict, naming the key and the file.
    let f = write("session_expire_time: soon\n");
    let path = f.path().display().to_string();
    let e = load(&Overrides { config: Some(f.path().into()), ..Default::default() }, &env_of(&[])).expect_err("type");
    assert!(e.starts_with(&format!("config file {path}: session_expire_time at line 1: ")) && !e.contains('\n'), "{e}");
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
    let mut c = load(&flags, &env_of(&[])).expect("example loads");
    let d = load(&Overrides::default(), &env_of(&[])).expect("defaults load");
    // Its paths are relative to its folder, config/: the rules file beside it, data in config/data.
    let dir = std::path::absolute(concat!(env!("CARGO_MANIFEST_DIR"), "/../config")).expect("absolute");
    assert_eq!(c.authz_rules_file, dir.join("authz_rules.yml").display().to_string());
    assert_eq!(c.data_dir, dir.join("./data").display().to_string());
    (c.authz_rules_file, c.data_dir, c.database_url) =
        (d.authz_rules_file.clone(), d.data_dir.clone(), d.database_url.clone());
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
    let e = load(&Overrides::default(), &env_of(&[("BARONG_PHONE_VERIFICATION", "twilio_sms")])).expect_err("creds");
    assert!(e.contains("twilio_account_sid") && e.contains("twilio_phone_number"), "{e}");
    assert!(!e.contains('\n'));
    let e = load(&Overrides::default(), &env_of(&[("BARONG_PHONE_VERIFICATION", "twilio_verify")])).expect_err("creds");
    assert!(e.contains("twilio_service_sid"), "{e}");
    let e = load(&Overrides::default(), &env_of(&[("BARONG_PHONE_VERIFICATION", "carrier_pigeon")])).expect_err("mode");
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
    let c = load(&Overrides::default(), &env_of(&[("EVENT_API_RABBITMQ_URL", "amqp://ev:amqp-secret@mq:5672/%2f")]))
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
    assert!(e.starts_with("EVENT_API_RABBITMQ_URL (event_api_rabbitmq_url):") && !e.contains('\n'), "{e}");
    let c =
        load(&Overrides::default(), &env_of(&[("EVENT_API_RABBITMQ_URL", "amqps://u:tls-secret@mq")])).expect("TLS");
    assert!(c.event_api.as_ref().is_some_and(|e| e.target.tls && e.target.port == 5671 && e.tls_roots.is_empty()));
    let e = load(
        &Overrides::default(),
        &env_of(&[
            ("EVENT_API_RABBITMQ_URL", "amqps://u:tls-secret@mq"),
            ("EVENT_API_RABBITMQ_CA_FILE", "/nonexistent/ca.pem"),
        ]),
    )
    .expect_err("missing CA file");
    assert!(e.starts_with("EVENT_API_RABBITMQ_CA_FILE (event_api_rabbitmq_ca_file):") && !e.contains('\n'), "{e}");
    assert!(!e.contains("tls-secret"), "{e}");
}

#[test]
fn auth0_needs_both_settings() {
    let e = load(&Overrides::default(), &env_of(&[("BARONG_AUTH0_DOMAIN", "tenant.auth0.com")])).expect_err("half");
    assert!(e.contains("auth0_client_id: required when auth0_domain is set") && !e.contains('\n'), "{e}");
    let e = load(&Overrides::default(), &env_of(&[("BARONG_AUTH0_CLIENT_ID", "abc")])).expect_err("half");
    assert!(e.contains("auth0_domain: required"), "{e}");
    let both = [("BARONG_AUTH0_DOMAIN", "https://tenant.auth0.com/"), ("BARONG_AUTH0_CLIENT_ID", "abc")];
    let e = load(&Overrides::default(), &env_of(&both)).expect_err("a URL, not a host");
    assert!(e.starts_with("BARONG_AUTH0_DOMAIN (auth0_domain):") && e.contains("host name"), "{e}");
    let c = load(
        &Overrides::default(),
        &env_of(&[("BARONG_AUTH0_DOMAIN", "t.auth0.com"), ("BARONG_AUTH0_CLIENT_ID", "a")]),
    );
    assert!(c.is_ok());
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

#[test]
fn barongs_shipped_barong_yml_loads_as_barong_meant_it() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/barong/barong.yml");
    let flags = Overrides { config: Some(path.into()), ..Default::default() };
    let l = load_checked(&flags, &env_of(&[]), true).expect("no unknown key, no type error");
    let c = l.config;
    let states: Vec<&str> = c.state_triggers.iter().map(|t| t.state.as_str()).collect();
    assert_eq!(states, ["banned", "deleted", "locked"]);
    assert_eq!(c.state_triggers[2].labels, ["suspicious", "lock"]);
    assert!(c.user_storage_titles.is_empty(), "a key holding only comments is absent");
    assert_eq!(c.profile_verification_roles, ["superadmin"]);
    assert_eq!(c.document_types.len(), 7);
    assert_eq!(c.activation_requirements.get("email").map(String::as_str), Some("verified"));
}

#[test]
fn the_cloudflare_list_is_read_beside_the_config_file_and_said() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("barong.yml");
    std::fs::write(&file, "captcha: none\n").expect("write");
    let flags = Overrides { config: Some(file.clone()), ..Default::default() };
    let cf: std::net::IpAddr = "173.245.48.7".parse().expect("ip");
    let l = load_checked(&flags, &env_of(&[]), false).expect("loads");
    assert!(!l.config.trusted_proxies.trusts(cf));
    assert!(!l.warnings.iter().any(|w| w.contains("Cloudflare")), "{:?}", l.warnings);
    std::fs::write(dir.path().join("cloudflare_ips.yml"), "173.245.48.0/20\n103.21.244.0/22\n").expect("write");
    let l = load_checked(&flags, &env_of(&[]), false).expect("loads");
    assert!(l.config.trusted_proxies.trusts(cf));
    let said = l.warnings.iter().find(|w| w.contains("Cloudflare")).expect("a line says so");
    assert!(said.contains("trusting 2 proxy networks") && said.contains("cloudflare_ips.yml"), "{said}");
    std::fs::write(dir.path().join("cloudflare_ips.yml"), "not-a-network\n").expect("write");
    let e = load_checked(&flags, &env_of(&[]), false).err().expect("refused");
    assert!(e.contains("cloudflare_ips.yml") && e.contains("not-a-network"), "{e}");
}

#[test]
fn barongs_storage_variables_configure_the_bucket() {
    let env = env_of(&[
        ("BARONG_STORAGE_PROVIDER", "AWS"),
        ("BARONG_STORAGE_BUCKET_NAME", "kyc"),
        ("BARONG_STORAGE_ACCESS_KEY", "AKIA1"),
        ("BARONG_STORAGE_SECRET_KEY", "st0rage-secret"),
        ("BARONG_STORAGE_ENDPOINT", "https://minio.example.com"),
        ("BARONG_STORAGE_REGION", "eu-west-1"),
        ("BARONG_STORAGE_SIGNATURE_VERSION", "4"),
        ("BARONG_STORAGE_PATHSTYLE", "true"),
    ]);
    let loaded = load_checked(&Overrides::default(), &env, false).expect("loads");
    let c = loaded.config;
    assert_eq!(crate::config::storage::provider(&c), crate::config::storage::Provider::Aws);
    assert_eq!((c.storage_bucket_name.as_str(), c.storage_region.as_str()), ("kyc", "eu-west-1"));
    assert!(c.storage_pathstyle);
    assert!(loaded.warnings.iter().all(|w| !w.contains("STORAGE")), "no longer ignored: {:?}", loaded.warnings);
    assert!(!redacted_yaml(&c).contains("st0rage-secret"));
    assert!(!format!("{c:?}").contains("st0rage-secret"));
    let e = load(&Overrides::default(), &env_of(&[("BARONG_STORAGE_PROVIDER", "Google")])).expect_err("no bucket");
    assert!(e.contains("storage_bucket_name: required when storage_provider is google"), "{e}");
    assert!(!e.contains('\n'), "{e}");
}
