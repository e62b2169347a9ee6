//! Production mode (issue 14): `barongd --production` (or `mode: production`, `BARONG_MODE`)
//! refuses each development default with exit 2 and one line naming the key and what to set;
//! a proper configuration starts; the default mode logs the same findings in one warning line.

use std::process::{Command, Stdio};

use super::*;

/// Runs barongd until it exits (60 s at most: one that starts instead is killed and fails the
/// test); returns its exit code, stdout and stderr. The test's environment gives it no key, mode
/// or database.
pub fn barongd_exit(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let mut child = Command::new(binary("barongd"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("BARONG_MASTER_KEY")
        .env_remove("BARONG_MODE")
        .env_remove("BARONG_CONFIG")
        .env_remove("RUST_LOG")
        .env_remove("PORT")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("barongd runs");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("barongd {args:?} did not exit:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// A configuration with no development default, as YAML lines; `changes` replace (or add) keys.
fn config(smtp_port: u16, changes: &[(&str, &str)]) -> String {
    let mailer =
        format!("{{transport: smtp, smtp_url: \"smtp://127.0.0.1:{smtp_port}\", from: noreply@exchange.example}}");
    let mut keys: Vec<(&str, String)> = vec![
        ("frontend_url", "https://exchange.example".into()),
        ("phone_verification", "twilio_verify".into()),
        ("twilio_account_sid", "AC0123".into()),
        ("twilio_auth_token", "twilio-token".into()),
        ("twilio_service_sid", "VA0123".into()),
        ("api_cors_origins", "https://exchange.example".into()),
        ("session_cookie_secure", "true".into()),
        ("mailer", mailer),
    ];
    for (key, value) in changes {
        match keys.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value.to_string(),
            None => keys.push((key, value.to_string())),
        }
    }
    keys.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
}

const ALL_DEFAULTS: [&str; 6] = [
    "frontend_url",
    "phone_verification",
    "api_cors_origins",
    "session_cookie_secure",
    "mailer.transport",
    "mailer.from",
];

#[test]
fn production_mode_refuses_each_development_default_by_name() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("barong.yml");
    let data = dir.path().join("data");
    let path = cfg.display().to_string();
    let data_arg = data.display().to_string();
    let start = ["--production", "--config", &path, "--data-dir", &data_arg, "--listen", "127.0.0.1:0"];
    let port = closed_port();
    let cases: &[(&str, &str, &str)] = &[
        ("mailer", "{transport: file, from: noreply@exchange.example}", "mailer.transport"),
        ("mailer", "{transport: smtp, smtp_url: \"smtp://127.0.0.1:25\", from: noreply@barong.io}", "mailer.from"),
        ("phone_verification", "file", "phone_verification"),
        ("phone_verification", "mock", "phone_verification"),
        ("frontend_url", "http://localhost:3000", "frontend_url"),
        ("frontend_url", "https://127.0.0.1:3000", "frontend_url"),
        ("frontend_url", "http://exchange.example", "frontend_url"),
        ("session_cookie_secure", "false", "session_cookie_secure"),
        ("api_cors_origins", "'*'", "api_cors_origins"),
        ("csrf_protection", "false", "csrf_protection"),
        ("argon2", "{memory_kib: 256, iterations: 1, parallelism: 1}", "argon2"),
    ];
    for (key, value, named) in cases {
        std::fs::write(&cfg, config(port, &[(key, value)])).expect("write");
        let (code, _, err) = barongd_exit(&start, &[]);
        assert_eq!(code, Some(2), "{key}: {value}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(err.contains(&format!("production mode: {named}: ")), "{named} not named: {err}");
        assert!(!data.exists(), "nothing is made before the refusal");
    }
    // Each line says what to set instead.
    std::fs::write(&cfg, config(port, &[("mailer", "{transport: file}")])).expect("write");
    let (_, _, err) = barongd_exit(&start, &[]);
    assert!(err.contains("set mailer.transport: smtp and mailer.smtp_url"), "{err}");
    assert!(!err.contains("twilio-token"), "no secret in the message: {err}");

    // Every default at once: one line each. The mode may also come from the file or BARONG_MODE.
    let bare = ["--data-dir", &data_arg, "--listen", "127.0.0.1:0"];
    let with_flag: Vec<&str> = ["--production"].iter().chain(bare.iter()).copied().collect();
    std::fs::write(&cfg, "mode: production\n").expect("write");
    let in_file: Vec<&str> = ["--config", &path].iter().chain(bare.iter()).copied().collect();
    for (args, env) in [(&with_flag, vec![]), (&in_file, vec![]), (&bare.to_vec(), vec![("BARONG_MODE", "production")])]
    {
        let (code, _, err) = barongd_exit(args, &env);
        assert_eq!(code, Some(2), "{args:?} {env:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), ALL_DEFAULTS.len(), "{err}");
        for key in ALL_DEFAULTS {
            assert!(err.contains(&format!("production mode: {key}: ")), "{key} not named: {err}");
        }
    }
}

#[test]
fn config_check_reports_the_same_findings() {
    // Development: warnings, one a key with its fix, and the check passes.
    let (code, out, err) = barongd_exit(&["config", "check"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("mode: development"), "{out}");
    for key in ALL_DEFAULTS {
        assert!(err.contains(&format!("warning: development default: {key}: ")), "{key} not named: {err}");
    }
    // Production, the flag before or after the subcommand: errors, exit 2.
    for args in [["--production", "config", "check"], ["config", "check", "--production"]] {
        let (code, _, err) = barongd_exit(&args, &[]);
        assert_eq!(code, Some(2), "{args:?}: {err}");
        for key in ALL_DEFAULTS {
            assert!(err.contains(&format!("production mode: {key}: ")), "{key} not named: {err}");
        }
    }
    // A proper configuration passes in production mode without a warning about defaults.
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("barong.yml");
    std::fs::write(&cfg, config(closed_port(), &[("mode", "production")])).expect("write");
    let (code, out, err) = barongd_exit(&["--config", &cfg.display().to_string(), "config", "check"], &[]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("mode: production") && !err.contains("development default"), "{out}\n{err}");
}

// Real argon2 cost (the production floor) and SMTP on a closed port: start-up needs neither a
// connection nor a mail, and a registration is queued and answered.
both!(
    a_production_config_starts_and_serves,
    config = config(
        closed_port(),
        &[("mode", "production"), ("argon2", "{memory_kib: 19456, iterations: 2, parallelism: 1}")]
    ),
    |srv: TestServer| async move {
        let logs = srv.logs();
        assert!(!logs.contains("development defaults"), "{logs}");
        register(&srv, &srv.client(), "prod@example.com").await;
        assert!(srv.outbox().is_empty(), "mail goes to SMTP, not to files");
    }
);

both!(development_mode_logs_one_warning_naming_each_default, |srv: TestServer| async move {
    let logs = srv.logs();
    let lines: Vec<&str> = logs.lines().filter(|l| l.contains("development defaults in effect")).collect();
    assert_eq!(lines.len(), 1, "{logs}");
    // The harness's cheap argon2 is a development setting too.
    for key in ALL_DEFAULTS.iter().chain(&["argon2"]) {
        assert!(lines[0].contains(key), "{key} not named: {}", lines[0]);
    }
    assert!(lines[0].contains("WARN"), "{}", lines[0]);
});
