//! testkit: starts the real `barongd` binary on port 0 with a fresh SQLite file or a fresh
//! PostgreSQL database, and gives tests an HTTP client, the outbox, the logs and `barongctl`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub use serde_json::{Value, json};

pub mod mmdb;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// `BARONG_TEST_PG_URL`, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub fn pg_url() -> Option<String> {
    std::env::var("BARONG_TEST_PG_URL").ok().filter(|s| !s.is_empty())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Path of a workspace binary, building it once if it is not there yet.
pub fn binary(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let target =
        std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace_root().join("target"));
    let path = target.join("debug").join(name);
    if !path.exists() {
        BUILD.call_once(|| {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "-p", "barongd", "-p", "barongctl"])
                .current_dir(workspace_root())
                .status()
                .expect("cargo build runs");
            assert!(status.success(), "building barongd and barongctl failed");
        });
    }
    path
}

/// A PostgreSQL database made for one test and dropped after it.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub async fn create(admin_url: &str) -> PgDatabase {
        use sqlx::Connection;
        let name = format!("barong_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(admin_url)
            .await
            .unwrap_or_else(|e| panic!("BARONG_TEST_PG_URL is set but PostgreSQL does not answer: {e}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        PgDatabase { admin_url: admin_url.to_string(), name }
    }

    pub fn url(&self) -> String {
        match self.admin_url.rfind('/') {
            Some(i) => format!("{}/{}", &self.admin_url[..i], self.name),
            None => self.admin_url.clone(),
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs outside async context: a short-lived runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Options for a test daemon.
#[derive(Default, Clone)]
pub struct Options {
    /// Extra YAML appended to the generated config file.
    pub config: String,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
    /// Reuse this data dir (for restart tests).
    pub data_dir: Option<PathBuf>,
    /// Use this database URL instead of a fresh one (two daemons on one database).
    pub database_url: Option<String>,
}

pub struct TestServer {
    pub backend: Backend,
    pub base: String,
    pub addr: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    _tmp: Option<tempfile::TempDir>,
    child: Child,
    logs: Arc<Mutex<String>>,
    _pg: Option<Arc<PgDatabaseHandle>>,
}

/// Shared ownership of a test database, so two daemons can use one.
pub struct PgDatabaseHandle(#[allow(dead_code)] PgDatabase);

pub const TEST_UA: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";

impl TestServer {
    /// Starts a daemon, or returns `None` (after saying so loudly) when the backend is
    /// PostgreSQL and `BARONG_TEST_PG_URL` is not set.
    pub async fn spawn(backend: Backend) -> Option<TestServer> {
        Self::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, opts: Options) -> Option<TestServer> {
        let (pg, database_url) = match (backend, &opts.database_url) {
            (_, Some(url)) => (None, url.clone()),
            (Backend::Postgres, None) => {
                let Some(admin) = pg_url() else {
                    // CI must run both halves; the harness hides a passing test's output, so
                    // a skip there has to be a failure to be seen at all.
                    assert!(
                        std::env::var("CI").as_deref() != Ok("true"),
                        "BARONG_TEST_PG_URL is not set, and CI=true requires the PostgreSQL tests"
                    );
                    eprintln!("SKIPPED (PostgreSQL): BARONG_TEST_PG_URL is not set");
                    return None;
                };
                let db = PgDatabase::create(&admin).await;
                let url = db.url();
                (Some(Arc::new(PgDatabaseHandle(db))), url)
            }
            (Backend::Sqlite, None) => (None, String::new()),
        };
        Some(Self::start(backend, opts, pg, database_url))
    }

    /// A second daemon on the same database (and its own data dir).
    pub async fn sibling(&self, config: &str) -> TestServer {
        let opts = Options {
            config: config.to_string(),
            database_url: Some(self.database_url.clone()),
            env: vec![("BARONG_MASTER_KEY".into(), self.master_key())],
            ..Default::default()
        };
        Self::start(self.backend, opts, self._pg.clone(), self.database_url.clone())
    }

    pub fn master_key(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("keys/master.key")).unwrap_or_default().trim().to_string()
    }

    fn start(backend: Backend, opts: Options, pg: Option<Arc<PgDatabaseHandle>>, database_url: String) -> TestServer {
        let (tmp, data_dir) = match &opts.data_dir {
            Some(d) => (None, d.clone()),
            None => {
                let t = tempfile::Builder::new().prefix("barongd-test").tempdir().expect("tempdir");
                let d = t.path().join("data");
                (Some(t), d)
            }
        };
        let database_url =
            if database_url.is_empty() { format!("sqlite://{}/barong.db", data_dir.display()) } else { database_url };
        let config_path = data_dir.with_extension("yml");
        // Cheap argon2 keeps the suite fast; production defaults are covered by unit tests and bench/.
        let config = format!(
            "listen: 127.0.0.1:0\nargon2: {{memory_kib: 256, iterations: 1, parallelism: 1}}\nlog_level: info\n{}\n",
            opts.config
        );
        std::fs::create_dir_all(config_path.parent().expect("parent")).expect("config dir");
        std::fs::write(&config_path, config).expect("write config");
        let mut cmd = Command::new(binary("barongd"));
        cmd.arg("--config")
            .arg(&config_path)
            .arg("--data-dir")
            .arg(&data_dir)
            .arg("--database-url")
            .arg(&database_url)
            .env_remove("RUST_LOG")
            .env("JWT_PRIVATE_KEY_PATH", workspace_root().join("tests/fixtures/jwt_test_key.pem"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("barongd starts");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let stderr = child.stderr.take().expect("stderr piped");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                // Log first, then announce: a test that sees the address also sees the line.
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                if let Some(i) = line.find("listening on http://") {
                    let rest = &line[i + "listening on http://".len()..];
                    let addr = rest.split_whitespace().next().unwrap_or_default().to_string();
                    let _ = tx.send(addr);
                }
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                std::thread::sleep(Duration::from_millis(200));
                panic!("barongd did not start; its log:\n{}", logs.lock().map(|l| l.clone()).unwrap_or_default());
            }
        };
        TestServer {
            backend,
            base: format!("http://{addr}"),
            addr,
            data_dir,
            database_url,
            _tmp: tmp,
            child,
            logs,
            _pg: pg,
        }
    }

    /// `/api/v2/barong/<path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v2/barong/{}", self.base, path.trim_start_matches('/'))
    }

    /// A client with a cookie jar and a browser user agent.
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .user_agent(TEST_UA)
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client")
    }

    pub fn logs(&self) -> String {
        self.logs.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// The `.eml` files in the outbox, oldest first, waiting up to `timeout` for at least `n`.
    pub async fn wait_mail(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.outbox();
            if mails.len() >= n || Instant::now() > deadline {
                return mails;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn outbox(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.data_dir.join("outbox"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "eml"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }

    /// The SMS `.txt` files in the outbox (`phone_verification: file`), oldest first.
    pub fn sms_outbox(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.data_dir.join("outbox"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "txt"))
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files.iter().filter_map(|p| std::fs::read_to_string(p).ok()).collect()
    }

    /// Runs `barongctl --data-dir <dir> <args>` with `stdin` and returns (status, stdout, stderr).
    pub fn ctl(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        use std::io::Write;
        let mut child = Command::new(binary("barongctl"))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("barongctl runs");
        if let Some(mut sin) = child.stdin.take() {
            let _ = sin.write_all(stdin.unwrap_or("").as_bytes());
        }
        let out = child.wait_with_output().expect("barongctl finishes");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// Sends SIGTERM and waits for the exit status.
    pub fn terminate(&mut self) -> Option<i32> {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl TestServer {
    /// Runs a statement directly on the daemon's database (tests that need a state the API
    /// cannot produce, or that inspect what is stored).
    pub async fn sql(&self, stmt: &str) {
        use sqlx::Connection;
        let stmt = sqlx::AssertSqlSafe(stmt.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.database_url).await.expect("sqlite");
                sqlx::raw_sql(stmt).execute(&mut c).await.expect("statement");
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.database_url).await.expect("postgres");
                sqlx::raw_sql(stmt).execute(&mut c).await.expect("statement");
            }
        }
    }

    /// The first column of every row of `query`, as text (the query must select text).
    pub async fn sql_texts(&self, query: &str) -> Vec<String> {
        use sqlx::Connection;
        let query = sqlx::AssertSqlSafe(query.to_string());
        match self.backend {
            Backend::Sqlite => {
                let mut c = sqlx::SqliteConnection::connect(&self.database_url).await.expect("sqlite");
                sqlx::query_scalar::<_, String>(query).fetch_all(&mut c).await.expect("query")
            }
            Backend::Postgres => {
                let mut c = sqlx::PgConnection::connect(&self.database_url).await.expect("postgres");
                sqlx::query_scalar::<_, String>(query).fetch_all(&mut c).await.expect("query")
            }
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The first `name=value` token found in a message (the JWT in an email link).
pub fn token_in(mail: &str, name: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r"{name}=([A-Za-z0-9_\-\.]+)")).ok()?;
    re.captures(mail).map(|c| c[1].to_string())
}

/// Runs `body` against SQLite and PostgreSQL as two tests.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(srv) = $crate::TestServer::spawn($crate::Backend::Sqlite).await else { return };
                $crate::within_limit(srv, $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(srv) = $crate::TestServer::spawn($crate::Backend::Postgres).await else { return };
                $crate::within_limit(srv, $body).await;
            }
        }
    };
}

/// How long one test may run. A stuck test fails with the daemon's log instead of holding the
/// suite until CI's own limit.
pub const TEST_LIMIT: Duration = Duration::from_secs(300);

/// Runs a test body against `srv`, failing it with the tail of the daemon's log after
/// [`TEST_LIMIT`].
pub async fn within_limit<F, Fut>(srv: TestServer, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let logs = srv.logs.clone();
    if tokio::time::timeout(TEST_LIMIT, body(srv)).await.is_err() {
        let logs = logs.lock().map(|l| l.clone()).unwrap_or_default();
        let tail: Vec<&str> = logs.lines().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
        panic!("the test ran longer than {TEST_LIMIT:?}; the daemon's last log lines:\n{}", tail.join("\n"));
    }
}

/// A one-route HTTP server on loopback answering every request with `status` and `body`
/// (a stand-in for reCAPTCHA or Geetest). Returns its base URL and the request bodies it saw.
pub async fn fake_http(status: u16, body: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    fake_server(status, body, false).await
}

/// As [`fake_http`], but keeps each whole request (request line, headers and body), for tests
/// that check the path and the credentials an external API received.
pub async fn fake_http_requests(status: u16, body: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    fake_server(status, body, true).await
}

async fn fake_server(status: u16, body: &'static str, whole: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let Ok(n) = s.read(&mut chunk).await else { return };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            if let Ok(mut l) = log.lock() {
                                l.push(if whole { text } else { text[end + 4..].to_string() });
                            }
                            break;
                        }
                    }
                }
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

/// A minimal SMTP server on loopback that accepts every message (no auth, no TLS) and keeps the
/// DATA of each one. `port` 0 picks a free port; a fixed port lets a test start it late.
pub async fn smtp_sink(port: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind smtp");
    let port = listener.local_addr().expect("addr").port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let store = messages.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            if let Ok(mut m) = store.lock() {
                                m.push(std::mem::take(&mut data));
                            }
                            let _ = w.write_all(b"250 OK queued\r\n").await;
                        } else {
                            data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            data.push('\n');
                        }
                        continue;
                    }
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (port, messages)
}
