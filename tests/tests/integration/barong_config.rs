//! barongd started the way Barong was: on Barong's shipped `barong.yml` and `authz_rules.yml`
//! (tests/fixtures/barong/) and Barong's environment variables only, with no barong-rs name set
//! (migration spec §3, §4).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use super::*;

const PG_SECRET: &str = "pg-pass-never-logged";
const REDIS_SECRET: &str = "redis-pass-never-logged";
const RAILS_SECRET: &str = "secret-key-base-never-logged";

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/barong").join(name)
}

/// `postgres://USER[:PASS]@HOST:PORT/NAME` as Barong's `DATABASE_*` parts.
fn database_parts(url: &str) -> Vec<(&'static str, String)> {
    let rest = url.strip_prefix("postgres://").or_else(|| url.strip_prefix("postgresql://")).expect("postgres URL");
    let (auth, rest) = rest.split_once('@').expect("user@host");
    let user = auth.split(':').next().expect("user");
    let (hostport, name) = rest.split_once('/').expect("host/name");
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "5432"));
    vec![
        ("DATABASE_ADAPTER", "postgresql".into()),
        ("DATABASE_HOST", host.into()),
        ("DATABASE_PORT", port.into()),
        ("DATABASE_USER", user.into()),
        // The test server trusts local connections, so a password is accepted and ignored.
        ("DATABASE_PASS", PG_SECRET.into()),
        ("DATABASE_NAME", name.into()),
    ]
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// barongd with only `env` (the environment cleared) in `dir`, its stderr collected.
struct Daemon {
    child: Child,
    logs: Arc<Mutex<String>>,
}

impl Daemon {
    fn start(dir: &std::path::Path, env: &[(&str, String)]) -> Daemon {
        let mut child = Command::new(binary("barongd"))
            .current_dir(dir)
            .env_clear()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("barongd starts");
        let logs = Arc::new(Mutex::new(String::new()));
        let sink = logs.clone();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
            }
        });
        Daemon { child, logs }
    }

    fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    async fn wait_listening(&mut self) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let logs = self.logs();
            if let Some(i) = logs.find("listening on http://") {
                let rest = &logs[i + "listening on http://".len()..];
                return rest.split_whitespace().next().unwrap_or_default().to_string();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("barongd exited with {status}:\n{logs}");
            }
            assert!(std::time::Instant::now() < deadline, "barongd did not start:\n{logs}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ctl(data_dir: &std::path::Path, args: &[&str]) -> Value {
    let out = Command::new(binary("barongctl"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--json")
        .args(args)
        .output()
        .expect("barongctl runs");
    assert!(out.status.success(), "barongctl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

async fn wait_for_mail(messages: &Arc<std::sync::Mutex<Vec<String>>>, to: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(m) = messages.lock().expect("lock").iter().find(|m| m.contains(&format!("To: {to}"))) {
            return m.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no mail to {to}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barong_config_and_environment_run_barongd() {
    let Some(admin) = pg_url() else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true requires BARONG_TEST_PG_URL");
        eprintln!("SKIPPED (PostgreSQL): BARONG_TEST_PG_URL is not set");
        return;
    };
    let run = async move {
        let pg = PgDatabase::create(&admin).await;
        let dir = tempfile::tempdir().expect("tmp");
        // Barong's shipped barong.yml, plus a key an operator kept from a fork (Barong ignored it).
        let shipped = std::fs::read_to_string(fixture("barong.yml")).expect("fixture");
        let config = dir.path().join("barong.yml");
        std::fs::write(&config, format!("{shipped}\nkyc_levels: 3\n")).expect("write");
        let (smtp_port, messages) = smtp_sink(0).await;
        let port = free_port();
        let mut env: Vec<(&str, String)> = database_parts(&pg.url());
        env.extend([
            ("PORT", port.to_string()),
            ("BARONG_CONFIG", config.display().to_string()),
            ("BARONG_AUTHZ_RULES_FILE", fixture("authz_rules.yml").display().to_string()),
            ("BARONG_SMTP_HOST", "127.0.0.1".into()),
            ("BARONG_SMTP_PORT", smtp_port.to_string()),
            ("BARONG_SENDER_EMAIL", "noreply@exchange.example".into()),
            ("BARONG_SENDER_NAME", "Exchange".into()),
            ("BARONG_APP_NAME", "Exchange".into()),
            ("LOG_LEVEL", "info".into()),
            ("RAILS_ENV", "production".into()),
            ("TZ", "UTC".into()),
            ("BARONG_REDIS_URL", format!("redis://:{REDIS_SECRET}@127.0.0.1:6379/1")),
            ("SECRET_KEY_BASE", RAILS_SECRET.into()),
            // On PostgreSQL the operator provides the master key (barongd makes none there).
            ("BARONG_MASTER_KEY", "ab".repeat(32)),
        ]);
        let mut daemon = Daemon::start(dir.path(), &env);
        let bound = daemon.wait_listening().await;
        assert_eq!(bound, format!("0.0.0.0:{port}"), "PORT means every interface");
        let base = format!("http://127.0.0.1:{port}");
        let url = |p: &str| format!("{base}/api/v2/barong/{p}");
        let c = reqwest::Client::builder().cookie_store(true).user_agent(TEST_UA).build().expect("client");

        // Registration mail goes out by SMTP with Barong's sender.
        let email = "migrated@example.com";
        let (s, b) = post(&c, &url("identity/users"), json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(s, 201, "register: {b}");
        let mail = wait_for_mail(&messages, email).await;
        assert!(mail.contains("noreply@exchange.example") && mail.contains("Exchange"), "{mail}");
        let token = token_in(&mail, "confirmation_token").expect("token");
        let (s, _) = post(&c, &url("identity/users/email/confirm_code"), json!({"token": token})).await;
        assert_eq!(s, 201);
        assert!(
            !dir.path()
                .join("data/outbox")
                .read_dir()
                .is_ok_and(|mut d| d.any(|e| { e.is_ok_and(|e| e.path().extension().is_some_and(|x| x == "eml")) }))
        );

        // The data is in the PostgreSQL database DATABASE_* named.
        {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&pg.url()).await.expect("postgres");
            let emails: Vec<String> =
                sqlx::query_scalar("SELECT email FROM users").fetch_all(&mut conn).await.expect("users");
            assert_eq!(emails, [email]);
        }

        // The state triggers of Barong's map: a private `ban` label bans, `lock` locks.
        let (s, b) = post(&c, &url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(s, 200, "login: {b}");
        assert_eq!(get(&c, &url("resource/users/me")).await.0, 200);
        let data = dir.path().join("data");
        assert_eq!(ctl(&data, &["label", "set", email, "ban", "fraud"])["state"], "banned");
        assert_eq!(get(&c, &url("resource/users/me")).await.0, 401);
        ctl(&data, &["label", "remove", email, "ban"]);
        assert_eq!(ctl(&data, &["label", "set", email, "lock", "yes"])["state"], "locked");

        // An authz `pass` rule of the `rules:` wrapper passes; a `block` rule blocks.
        let auth = |p: &str| format!("{base}/api/v2/auth/{p}");
        let anon = reqwest::Client::new();
        assert_eq!(anon.get(auth("api/v2/arke/public/ping")).send().await.expect("pass").status().as_u16(), 200);
        assert_eq!(anon.get(auth("api/v2/barong/management/x")).send().await.expect("block").status().as_u16(), 401);

        // The start-up log names the unknown key and the ignored variables, never a secret.
        let logs = daemon.logs();
        let config_shown = config.display().to_string();
        assert!(logs.contains(&format!("config file {config_shown}: unknown key kyc_levels at line")), "{logs}");
        let ignored = logs.lines().find(|l| l.contains("Barong variables ignored")).expect("the ignored line");
        for name in ["BARONG_REDIS_URL", "SECRET_KEY_BASE", "RAILS_ENV", "TZ"] {
            assert!(ignored.contains(name), "{name} not in {ignored}");
        }
        assert_eq!(logs.matches("Barong variables ignored").count(), 1);
        for secret in [PG_SECRET, REDIS_SECRET, RAILS_SECRET] {
            assert!(!logs.contains(secret), "{secret} leaked:\n{logs}");
        }
    };
    tokio::time::timeout(TEST_LIMIT, run).await.expect("within the test time limit");
}

fn refused(env: &[(&str, String)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let out = Command::new(binary("barongd"))
        .current_dir(dir.path())
        .env_clear()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PORT", free_port().to_string())
        .output()
        .expect("runs");
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn barong_config_mysql_adapter_stops_with_one_line() {
    let (code, err) = refused(&[("DATABASE_ADAPTER", "mysql2".into()), ("DATABASE_PASS", "mysql-secret".into())]);
    assert_eq!(code, Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("MySQL") && err.contains("barongctl import barong --from-env"), "{err}");
    assert!(!err.contains("mysql-secret"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barong_config_refuses_barongs_own_database() {
    use sqlx::Connection;
    let rails = "CREATE TABLE schema_migrations (version VARCHAR(255) NOT NULL PRIMARY KEY); \
                 INSERT INTO schema_migrations VALUES ('20210407094208'), ('20210315101420')";
    let dir = tempfile::tempdir().expect("tmp");
    let sqlite = format!("sqlite://{}", dir.path().join("barong.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&format!("{sqlite}?mode=rwc")).await.expect("sqlite");
    sqlx::raw_sql(rails).execute(&mut conn).await.expect("Rails table");
    drop(conn);
    let mut urls = vec![(sqlite, None)];
    if let Some(admin) = pg_url() {
        let pg = PgDatabase::create(&admin).await;
        let mut conn = sqlx::PgConnection::connect(&pg.url()).await.expect("postgres");
        sqlx::raw_sql(rails).execute(&mut conn).await.expect("Rails table");
        urls.push((pg.url(), Some(pg)));
    }
    for (url, _pg) in urls {
        let (code, err) = tokio::task::spawn_blocking(move || refused(&[("DATABASE_URL", url)])).await.expect("join");
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("Barong's own schema") && err.contains("barongctl import barong"), "{err}");
    }
}
