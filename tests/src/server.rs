//! `TestServer`: one real barongd process with its own data dir and database, and what a test
//! reads from it (HTTP, outbox, logs, database, barongctl).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::binaries::{binary, workspace_root};
use crate::pg::{PgDatabase, pg_url};

/// The database a test daemon runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
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

impl Options {
    /// A daemon without `JWT_PRIVATE_KEY_PATH` (the harness otherwise pins every daemon to
    /// `tests/fixtures/jwt_test_key.pem`, which saves an RSA key generation per start): its key
    /// ring decides, so `keys rotate` and `keys activate` work and a first start generates a key.
    pub fn unpinned() -> Options {
        Options { env: vec![(JWT_KEY_VAR.into(), String::new())], ..Default::default() }
    }
}

/// Barong's key file variable; empty means unset to barongd.
const JWT_KEY_VAR: &str = "JWT_PRIVATE_KEY_PATH";

/// A running barongd, killed when dropped.
pub struct TestServer {
    pub backend: Backend,
    pub base: String,
    pub addr: String,
    pub data_dir: PathBuf,
    pub database_url: String,
    _tmp: Option<tempfile::TempDir>,
    child: Child,
    pub(crate) logs: Arc<Mutex<String>>,
    /// Keeps a PostgreSQL test database alive while a daemon (or its sibling) uses it.
    _pg: Option<Arc<PgDatabase>>,
    /// What it was started with, for [`TestServer::restart`].
    opts: Options,
}

/// The browser user agent of [`TestServer::client`].
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
                (Some(Arc::new(db)), url)
            }
            (Backend::Sqlite, None) => (None, String::new()),
        };
        Some(Self::start(backend, opts, pg, database_url))
    }

    /// A second daemon on the same database (and its own data dir).
    pub async fn sibling(&self, config: &str) -> TestServer {
        // The same key file as this daemon (a sibling pinned to another key would take over).
        let mut env: Vec<(String, String)> = self.opts.env.iter().filter(|(k, _)| k == JWT_KEY_VAR).cloned().collect();
        env.push(("BARONG_MASTER_KEY".into(), self.master_key()));
        let opts = Options {
            config: config.to_string(),
            database_url: Some(self.database_url.clone()),
            env,
            ..Default::default()
        };
        Self::start(self.backend, opts, self._pg.clone(), self.database_url.clone())
    }

    pub fn master_key(&self) -> String {
        std::fs::read_to_string(self.data_dir.join("keys/master.key")).unwrap_or_default().trim().to_string()
    }

    fn start(backend: Backend, opts: Options, pg: Option<Arc<PgDatabase>>, database_url: String) -> TestServer {
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
        // On PostgreSQL barongd makes no master key (every daemon of a database needs the same
        // one): the harness provides it, as an operator does, unless the test gives its own.
        if backend == Backend::Postgres && !opts.env.iter().any(|(k, _)| k == "BARONG_MASTER_KEY") {
            provide_master_key(&data_dir);
        }
        let config_path = data_dir.with_extension("yml");
        // Cheap argon2 keeps the suite fast (unless a test sets its own); production defaults are
        // covered by unit tests and bench/.
        let own_argon2 = opts.config.lines().any(|l| l.starts_with("argon2:"));
        let argon2 = if own_argon2 { "" } else { "argon2: {memory_kib: 256, iterations: 1, parallelism: 1}\n" };
        let config = format!("listen: 127.0.0.1:0\n{argon2}log_level: info\n{}\n", opts.config);
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
            // Barong's variables that would override the generated config (PORT beats `listen`).
            .env_remove("PORT")
            .env_remove("LOG_LEVEL")
            .env(JWT_KEY_VAR, workspace_root().join("tests/fixtures/jwt_test_key.pem"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("barongd starts");
        let opts = Options { data_dir: Some(data_dir.clone()), database_url: Some(database_url.clone()), ..opts };
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
            opts,
        }
    }

    /// SIGKILL: the daemon dies at once, mid-request, as in a crash or an OOM kill.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the daemon again on the same data dir and database (after [`TestServer::kill`] or
    /// [`TestServer::terminate`]); it may listen on another port.
    pub fn restart(&mut self) {
        self.kill();
        let mut next = Self::start(self.backend, self.opts.clone(), None, self.database_url.clone());
        std::mem::swap(&mut self.child, &mut next.child);
        std::mem::swap(&mut self.logs, &mut next.logs);
        self.base = next.base.clone();
        self.addr = next.addr.clone();
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
        // Longer than the daemon's own bounded shutdown (10 s for requests, 5 s each for the mail
        // and event workers), so a slow but clean exit is not taken for a hang.
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

/// A random key in `<data_dir>/keys/master.key` (0600), unless one is there.
pub fn provide_master_key(data_dir: &std::path::Path) {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let keys = data_dir.join("keys");
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&keys).expect("keys dir");
    let path = keys.join("master.key");
    if path.exists() {
        return;
    }
    let key = format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple());
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path).expect("key file");
    std::io::Write::write_all(&mut f, key.as_bytes()).expect("write key");
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
