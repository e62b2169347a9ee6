//! Defaults: what barongd runs with when a setting is absent (Barong's defaults for Barong's
//! settings). `config/barong.example.yml` documents the same values; a test keeps them equal.

use std::collections::BTreeMap;

use common::jwt::JwtAlgorithm;

use crate::config::operability::{LogFormat, MetricsListen};
use crate::config::proxies::Proxies;
use crate::config::settings::{
    Argon2Settings, Config, MailThrottleSettings, MailerSettings, StateTrigger, ThrottleSettings,
};
use crate::config::values::{
    CaptchaMode, Extensions, Gateway, KycProvider, Listen, MailTransport, Mode, PhoneVerification, Secret,
};

impl Default for Config {
    fn default() -> Self {
        Config {
            mode: Mode::Development,
            listen: Listen(std::net::SocketAddr::from(([127, 0, 0, 1], 3000))),
            data_dir: "./data".into(),
            database_url: Secret::default(),
            database_max_connections: 0,
            log_level: "info".into(),
            log_format: LogFormat::Text,
            metrics_listen: MetricsListen(None),
            app_name: "Barong".into(),
            domain: "barong.io".into(),
            frontend_url: "http://localhost:3000".into(),
            uid_prefix: "ID".into(),
            session_name: "_barong_session".into(),
            session_expire_time: 1800,
            jwt_expire_time: 3600,
            jwt_key_activation_delay: 300,
            jwt_algorithm: JwtAlgorithm::Rs256,
            csrf_protection: true,
            apikey_nonce_lifetime: 5000,
            gateway: Gateway::Cloudflare,
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
            auth0_jwks_url: String::new(),
            kyc_provider: KycProvider::Local,
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
            upload_extension_whitelist: Extensions::try_from("jpg,jpeg,png,pdf".to_string())
                .expect("the default list parses"),
            upload_size_min_range: 1,
            upload_size_max_range: 10,
            upload_auth_url_expiration: 1,
            login_on_email_confirmation: false,
            session_cookie_secure: false,
            session_max_lifetime: 86_400,
            trusted_proxies: Proxies::try_from(vec!["127.0.0.1/32".to_string(), "::1/128".to_string()])
                .expect("the default list parses"),
            max_body_bytes: 64 * 1024,
            max_upload_request_bytes: 32 * 1024 * 1024,
            uploads_dir: String::new(),
            storage_provider: "local".into(),
            storage_bucket_name: String::new(),
            storage_access_key: String::new(),
            storage_secret_key: Secret::default(),
            storage_endpoint: String::new(),
            storage_region: String::new(),
            storage_signature_version: 4,
            storage_pathstyle: false,
            event_api_rabbitmq_url: Secret::default(),
            event_api_rabbitmq_host: String::new(),
            event_api_rabbitmq_port: 5672,
            event_api_rabbitmq_username: "guest".into(),
            event_api_rabbitmq_password: Secret("guest".into()),
            event_api_rabbitmq_ca_file: String::new(),
            event_api_mask_profile_pii: false,
            authz_jwt_reuse_seconds: 30,
            change_feed_poll_ms: 100,
            request_body: Default::default(),
            denied_audit: Default::default(),
            master_key_rotation: Default::default(),
            legacy_password_time_floor_ms: None,
            argon2: Argon2Settings::default(),
            mailer: MailerSettings::default(),
            login_throttle: ThrottleSettings::default(),
            mail_throttle: MailThrottleSettings::default(),
            twilio_api_url: "https://api.twilio.com".into(),
            twilio_verify_url: "https://verify.twilio.com".into(),
            phone_code_lifetime: 600,
            phone_code_max_attempts: 5,
            phone_code_resend_interval: 60,
            phone_code_max_sends_per_hour: 5,
            phone_max_per_user: 5,
            webauthn_rp_id: String::new(),
            webauthn_rp_name: String::new(),
            webauthn_origins: Vec::new(),
            webauthn_user_verification: crate::config::values::WebauthnUserVerification::Preferred,
            webauthn_max_credentials: 10,
            webauthn_enrol_window: 900,
            webauthn_challenge_lifetime: 300,
            abilities_file: String::new(),
            profile_double_verification: false,
            profile_verification_roles: vec!["superadmin".into()],
            admin_unmasked_pii_roles: vec!["superadmin".into(), "compliance".into()],
            abilities: crate::config::abilities::AbilitiesFile::builtin(),
            management_api: Default::default(),
            mgn_api_keys_user: false,
            mgn_api_keys_sa: false,
            event_api: None,
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
        ThrottleSettings {
            max_failures_per_account: 10,
            max_failures_per_ip: 50,
            window_seconds: 900,
            max_hashing_per_account: 4,
            max_hashing_per_ip: 16,
        }
    }
}

impl Default for MailThrottleSettings {
    fn default() -> Self {
        MailThrottleSettings { max_per_address_per_minute: 1, max_per_address_per_hour: 5, max_per_ip_per_hour: 20 }
    }
}
