use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use super::*;

fn barongd(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = Command::new(binary("barongd"))
        .args(args)
        .envs(env.iter().copied())
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_configuration_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("barong.yml");
    std::fs::write(&cfg, "session_expire_time: soon\n").expect("write");
    type Case<'a> = (Vec<String>, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (vec!["--config".into(), cfg.display().to_string()], vec![], "session_expire_time at line 1:"),
        (vec!["--config".into(), "/nonexistent/barong.yml".into()], vec![], "/nonexistent/barong.yml"),
        (vec!["--database-url".into(), "mysql://x".into()], vec![], "database_url"),
        (vec!["--listen".into(), "not-an-address".into()], vec![], "listen"),
        (vec![], vec![("BARONG_SESSION_EXPIRE_TIME", "soon")], "BARONG_SESSION_EXPIRE_TIME"),
        (vec![], vec![("BARONG_UID_PREFIX", "TOOLONGX")], "uid_prefix"),
    ];
    for (args, env, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).chain(["config", "check"]).collect();
        let (code, _, err) = barongd(&args, &env);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{needle} not named in: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    // An unknown key is a warning (Barong ignored them), an error under `config check --strict`.
    std::fs::write(&cfg, "sesion_expire_time: 5\n").expect("write");
    let path = cfg.display().to_string();
    let (code, _, err) = barongd(&["--config", &path, "config", "check"], &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("unknown key sesion_expire_time at line 1, ignored; did you mean session_expire_time?"),
        "{err}"
    );
    let (code, _, err) = barongd(&["--config", &path, "config", "check", "--strict"], &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("sesion_expire_time") && err.trim_end().lines().count() == 1, "{err}");
}

#[test]
fn config_check_prints_the_effective_config_without_secrets() {
    let (code, out, _) = barongd(
        &["--database-url", "postgres://u:very-secret@127.0.0.1/db", "config", "check"],
        &[("BARONG_RECAPTCHA_SECRET_KEY", "also-secret"), ("BARONG_SESSION_EXPIRE_TIME", "900")],
    );
    assert_eq!(code, 0);
    assert!(out.contains("session_expire_time: 900"), "{out}");
    assert!(!out.contains("very-secret") && !out.contains("also-secret"), "{out}");
}

#[tokio::test]
async fn data_dir_layout_and_graceful_shutdown() {
    let mut srv = TestServer::spawn(Backend::Sqlite).await.expect("sqlite");
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("exists").permissions().mode() & 0o777;
    assert_eq!(mode(&srv.data_dir), 0o700);
    assert_eq!(mode(&srv.data_dir.join("keys")), 0o700);
    assert_eq!(mode(&srv.data_dir.join("keys/master.key")), 0o600);
    assert_eq!(mode(&srv.data_dir.join("barongd.sock")) & 0o777, 0o600);
    assert!(srv.data_dir.join("outbox").is_dir() && srv.data_dir.join("uploads").is_dir());
    let starts = srv.logs().lines().filter(|l| l.contains("listening on http://")).count();
    assert_eq!(starts, 1);
    // A request in flight when SIGTERM arrives still gets its answer.
    let c = srv.client();
    let slow = tokio::spawn({
        let url = srv.url("identity/users");
        async move { post(&c, &url, json!({"email": "late@example.com", "password": PASSWORD})).await.0 }
    });
    tokio::time::sleep(Duration::from_millis(5)).await;
    let code = tokio::task::spawn_blocking(move || {
        let code = srv.terminate();
        (code, srv)
    })
    .await
    .expect("join");
    assert_eq!(code.0, Some(0));
    assert!(!code.1.data_dir.join("barongd.sock").exists(), "socket removed at shutdown");
    let status = slow.await.expect("join");
    assert!(status == 201 || status == 0 || status == 404, "in-flight request answered: {status}");
}

#[tokio::test]
async fn a_restart_keeps_users_and_keys() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    let opts = Options { data_dir: Some(dir.clone()), ..Default::default() };
    let mut first = TestServer::spawn_with(Backend::Sqlite, opts.clone()).await.expect("sqlite");
    register(&first, &first.client(), "keep@example.com").await;
    let token = mailed_token(&first, "keep@example.com", "confirmation_token").await;
    assert_eq!(first.terminate(), Some(0));
    let second = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("sqlite");
    // The token signed before the restart still verifies: the key survived.
    let (s, _) =
        post(&second.client(), &second.url("identity/users/email/confirm_code"), json!({"token": token})).await;
    assert_eq!(s, 201);
}

#[test]
fn no_arguments_means_sqlite_in_data() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(binary("barongd"))
        .args(["config", "check"])
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("listen: 127.0.0.1:3000") && text.contains("sqlite://./data/barong.db"), "{text}");
}

// A data dir made before (by hand, with a loose umask) is tightened at start, and the SQLite
// database and its WAL are owner-only: they hold sealed secrets, session hashes and PII indexes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_open_data_dir_is_made_owner_only() {
    use std::os::unix::fs::DirBuilderExt;
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("data");
    std::fs::DirBuilder::new().mode(0o755).create(&dir).expect("data dir");
    std::fs::DirBuilder::new().mode(0o755).create(dir.join("outbox")).expect("outbox");
    let mode = |p: &std::path::Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    let opts = Options { data_dir: Some(dir.clone()), ..Default::default() };
    let srv = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("sqlite always runs");
    within_limit(srv, |srv| async move {
        register(&srv, &srv.client(), "perm@example.com").await;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("outbox")), 0o700);
        assert_eq!(mode(&dir.join("barong.db")), 0o600);
        let wal = dir.join("barong.db-wal");
        assert!(wal.exists(), "WAL mode");
        assert_eq!(mode(&wal), 0o600);
    })
    .await;
}
