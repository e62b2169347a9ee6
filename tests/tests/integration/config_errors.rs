//! Configuration errors name the key, where it was set (file line or variable) and what to
//! write instead; `barongd config check` takes the daemon's flags on either side (issue 14, 3).

use std::process::Command;

use super::*;

/// Runs barongd with `args` and `env` (Barong's variables that would interfere removed).
fn barongd(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(binary("barongd"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("LOG_LEVEL")
        .env_remove("BARONG_LOG_LEVEL")
        .env_remove("BARONG_CONFIG")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A config file with `text` in a fresh folder; (folder, path as text).
fn config_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("barong.yml");
    std::fs::write(&path, text).expect("write");
    (dir, path.display().to_string())
}

#[test]
fn a_misspelt_log_level_fails_config_check_with_the_allowed_levels() {
    let (_dir, path) = config_file("listen: 127.0.0.1:0\nlog_level: debg\n");
    let (code, out, err) = barongd(&["--config", &path, "config", "check"], &[]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "barongd: configuration error: config file {path}: log_level at line 2: unknown level `debg` in \
             `debg`; did you mean debug? use trace, debug, info, warn, error or off, or per target: \
             info,barongd=debug"
        )
    );
    assert!(out.is_empty(), "nothing printed as valid: {out}");
    // The same from the variable and the flag, each named.
    let (code, _, err) = barongd(&["config", "check"], &[("BARONG_LOG_LEVEL", "verbose")]);
    assert_eq!(code, 2);
    assert!(err.contains("BARONG_LOG_LEVEL (log_level): unknown level `verbose`"), "{err}");
    let (code, _, err) = barongd(&["config", "check", "--log-level", "info,access=loud"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("--log-level (log_level): unknown level `loud`"), "{err}");
}

#[test]
fn durations_take_units_and_a_bad_one_names_its_key_and_the_forms() {
    let (_dir, path) = config_file("session_expire_time: \"15m\"\njwt_expire_time: 2h\nmailer:\n  timeout_ms: 5s\n");
    let (code, out, err) = barongd(&["--config", &path, "config", "check"], &[("BARONG_SESSION_MAX_LIFETIME", "1d")]);
    assert_eq!(code, 0, "{err}");
    for line in
        ["session_expire_time: 900", "jwt_expire_time: 7200", "session_max_lifetime: 86400", "  timeout_ms: 5000"]
    {
        assert!(out.lines().any(|l| l == line), "{line} missing from:\n{out}");
    }
    let (_dir, path) = config_file("listen: 127.0.0.1:0\n\nsession_expire_time: 15x\n");
    let (code, _, err) = barongd(&["--config", &path, "config", "check"], &[]);
    assert_eq!(code, 2);
    assert_eq!(
        err.trim_end(),
        format!(
            "barongd: configuration error: config file {path}: session_expire_time at line 3: `15x` is not a \
             duration: use whole seconds (900) or a number with a unit: 30s, 15m, 2h, 1d"
        )
    );
    let (code, _, err) = barongd(&["config", "check"], &[("BARONG_JWT_EXPIRE_TIME", "soon")]);
    assert_eq!(code, 2);
    assert!(err.contains("BARONG_JWT_EXPIRE_TIME (jwt_expire_time): `soon` is not a duration"), "{err}");
}

#[test]
fn a_misspelt_nested_key_is_named_with_its_section_line_and_the_nearest_key() {
    let text = "# barong-rs\nlisten: 127.0.0.1:0\napp_name: Exchange\n\n# sessions\nsession_expire_time: 900\n\
                login_on_email_confirmation: false\n\nargon2:\n  memory_kib: 256\n\nmailer:\n  transprt: smtp\n  \
                smtp_url: smtp://127.0.0.1:25\n";
    let (_dir, path) = config_file(text);
    assert_eq!(text.lines().nth(12), Some("  transprt: smtp"), "line 13");
    let (code, _, err) = barongd(&["--config", &path, "config", "check"], &[]);
    assert_eq!(code, 2, "an unknown key inside a section is an error, not a warning: {err}");
    assert_eq!(
        err.trim_end(),
        format!(
            "barongd: configuration error: config file {path}: unknown key mailer.transprt at line 13; did you \
             mean mailer.transport?"
        )
    );
    // A bad value inside a section: its full path and line.
    let (_dir, path) = config_file("mailer:\n  from: a@example.com\n  max_attempts: many\n");
    let (code, _, err) = barongd(&["--config", &path, "config", "check"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("config file {path}: mailer.max_attempts at line 3: invalid type: string \"many\"")),
        "{err}"
    );
    // A closed set lists what it accepts.
    let (_dir, path) = config_file("captcha: recaptch\n");
    let (_, _, err) = barongd(&["--config", &path, "config", "check"], &[]);
    assert!(err.contains("captcha at line 1: unknown variant `recaptch`, expected one of"), "{err}");
}

#[test]
fn environment_errors_name_the_variable() {
    for (var, value, needle) in [
        ("BARONG_LOG_FORMAT", "xml", "BARONG_LOG_FORMAT (log_format): `xml` must be text or json"),
        (
            "BARONG_CSRF_PROTECTION",
            "yes",
            "BARONG_CSRF_PROTECTION (csrf_protection): expected true or false, got `yes`",
        ),
        ("BARONG_UID_PREFIX", "TOOLONGX", "BARONG_UID_PREFIX (uid_prefix): `TOOLONGX` must be 2 to 6 ASCII letters"),
        ("BARONG_MANAGEMENT_API_MAX_TOKEN_LIFETIME", "5 minutes", "BARONG_MANAGEMENT_API_MAX_TOKEN_LIFETIME"),
    ] {
        let (code, _, err) = barongd(&["config", "check"], &[(var, value)]);
        assert_eq!(code, 2, "{var}: {err}");
        assert!(err.contains(needle), "{needle} not in: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn half_made_auth0_and_amqps_settings_stop_start_up_with_one_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, "not a certificate\n").expect("write");
    let ca = ca.display().to_string();
    let amqps = ("EVENT_API_RABBITMQ_URL", "amqps://u:ca-Secret-1@mq.example:5671/%2f");
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("BARONG_AUTH0_DOMAIN", "tenant.eu.auth0.com")], "auth0_client_id: required when auth0_domain is set"),
        (
            &[amqps, ("EVENT_API_RABBITMQ_CA_FILE", "/nonexistent/ca.pem")],
            "EVENT_API_RABBITMQ_CA_FILE (event_api_rabbitmq_ca_file)",
        ),
        (&[amqps, ("EVENT_API_RABBITMQ_CA_FILE", &ca)], "holds no PEM certificate"),
        (
            &[("EVENT_API_RABBITMQ_URL", "amqp://u:ca-Secret-1@mq.example/%2f"), ("EVENT_API_RABBITMQ_CA_FILE", &ca)],
            "is amqp://, not amqps://",
        ),
    ];
    for (env, needle) in cases {
        // `config check` loads as start-up does, and cannot start a daemon if a case passed.
        let (code, _, err) = barongd(&["config", "check"], env);
        assert_eq!(code, 2, "{env:?}: {err}");
        assert!(err.contains(needle), "{needle} not in: {err}");
        assert!(!err.contains("ca-Secret-1"), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
}

#[test]
fn config_check_takes_the_daemons_flags_on_either_side() {
    let (dir, path) = config_file("session_expire_time: 600\n");
    let data = dir.path().join("d").display().to_string();
    let before = barongd(&["--config", &path, "--listen", "127.0.0.1:4321", "config", "check"], &[]);
    let after = barongd(&["config", "check", "--listen", "127.0.0.1:4321", "--config", &path], &[]);
    let mixed = barongd(&["--listen", "127.0.0.1:4321", "config", "--config", &path, "check", "--strict"], &[]);
    assert_eq!(before.0, 0, "{}", before.2);
    assert_eq!(before, after, "flags after the subcommand");
    assert_eq!(before.1, mixed.1, "flags between the words");
    assert!(before.1.contains("listen: 127.0.0.1:4321") && before.1.contains("session_expire_time: 600"));
    let (code, out, err) =
        barongd(&["config", "check", "--data-dir", &data, "--log-level", "warn", "--database-url", "sqlite:x.db"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("data_dir: {data}")) && out.contains("log_level: warn"), "{out}");
    assert!(out.contains("database_url: sqlite:x.db"), "a flag stays relative to the working directory: {out}");
}

#[test]
fn help_shows_every_flags_variable_and_default() {
    let (code, out, _) = barongd(&["--help"], &[("DATABASE_URL", "postgres://u:help-secret@h/db")]);
    assert_eq!(code, 0);
    for needle in [
        "--config <CONFIG>",
        "[env: BARONG_CONFIG",
        "[env: BARONG_LISTEN",
        "[default: 127.0.0.1:3000]",
        "[env: BARONG_DATA_DIR",
        "[default: ./data]",
        "[env: DATABASE_URL",
        "--log-level <LOG_LEVEL>",
        "[env: BARONG_LOG_LEVEL",
        "[default: info]",
    ] {
        assert!(out.contains(needle), "{needle} missing from:\n{out}");
    }
    assert!(!out.contains("help-secret"), "values of variables are not shown");
}

#[tokio::test]
async fn the_log_level_flag_overrides_the_file() {
    let (dir, path) = config_file("listen: 127.0.0.1:0\nlog_level: error\nargon2: {memory_kib: 256, iterations: 1}\n");
    let data = dir.path().join("data").display().to_string();
    let (code, out, _) = barongd(&["--config", &path, "--log-level", "info", "config", "check"], &[]);
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l == "log_level: info"), "{out}");
    // A daemon on `log_level: error` would not print its info line "listening on".
    let mut child = Command::new(binary("barongd"))
        .args(["--config", &path, "--data-dir", &data, "--log-level", "info"])
        .env_remove("RUST_LOG")
        .env_remove("DATABASE_URL")
        .env("JWT_PRIVATE_KEY_PATH", concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/jwt_test_key.pem"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let stderr = child.stderr.take().expect("piped");
    let seen = tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        std::io::BufReader::new(stderr).lines().map_while(Result::ok).any(|l| l.contains("listening on http://"))
    });
    let seen = tokio::time::timeout(Duration::from_secs(60), seen).await;
    let _ = child.kill();
    let _ = child.wait();
    assert!(matches!(seen, Ok(Ok(true))), "the info line was printed: {seen:?}");
}
