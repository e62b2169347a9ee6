//! Shared pieces of the benchmarks: the release binaries, a throw-away daemon, RSS readings.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A text argument (`--name value`), or `default`.
pub fn text_arg(name: &str, default: &str) -> String {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned().unwrap_or_else(|| default.into())
}

pub fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `p` quantile (0..=1) of sorted latencies, in ms.
pub fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

pub fn release_binary(name: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("target/release").join(name);
    if !path.exists() {
        eprintln!("{} is missing: run `cargo build --release -p barongd -p barongctl` first", path.display());
        std::process::exit(2);
    }
    path
}

pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

pub struct Daemon {
    pub child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
    pub data: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the release barongd on a fresh data dir; `extra_config` is appended to its YAML.
pub fn start_daemon(extra_config: &str) -> Daemon {
    start_daemon_with(extra_config, &[])
}

/// `start_daemon` with extra environment variables.
pub fn start_daemon_with(extra_config: &str, env: &[(&str, String)]) -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("bench.yml");
    std::fs::write(&config, format!("listen: 127.0.0.1:0\nlog_level: \"info,access=warn\"\n{extra_config}\n"))
        .expect("config");
    // On PostgreSQL barongd makes no master key: the operator provides one, and so does the bench.
    if !env.iter().any(|(k, _)| *k == "BARONG_MASTER_KEY") {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(data.join("keys")).expect("keys dir");
        let made = Command::new(release_binary("barongd"))
            .args(["keys", "new-master", "--out", &data.join("keys/master.key").display().to_string()])
            .status()
            .expect("barongd keys new-master");
        assert!(made.success(), "barongd keys new-master failed");
    }
    let mut child = Command::new(release_binary("barongd"))
        .args(["--config", &config.display().to_string(), "--data-dir", &data.display().to_string()])
        .env_remove("RUST_LOG")
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("barongd starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(i) = line.find("listening on http://") {
                let addr = line[i + 20..].split_whitespace().next().unwrap_or_default().to_string();
                let _ = tx.send(addr);
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(60)).expect("barongd listening");
    Daemon { child, addr, _dir: dir, data }
}

impl Daemon {
    /// A second daemon on this one's PostgreSQL database, with its own data dir and this one's
    /// master key (the sealed signing keys and secrets open with it).
    pub fn sibling(&self, extra_config: &str) -> Daemon {
        let key = std::fs::read_to_string(self.data.join("keys/master.key")).expect("master key");
        start_daemon_with(extra_config, &[("BARONG_MASTER_KEY", key.trim().to_string())])
    }
}

/// A PostgreSQL database made for one run and dropped after it.
pub struct ScratchPg {
    admin: sqlx::PgConnection,
    name: String,
    /// The new database's URL.
    pub url: String,
}

impl ScratchPg {
    /// Creates `<prefix>_<pid>` on the server of `server_url` (any database on it).
    pub async fn create(server_url: &str, prefix: &str) -> ScratchPg {
        use sqlx::Connection;
        let name = format!("{prefix}_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(server_url).await.expect("connect to PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("create db");
        let url = match server_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("the PostgreSQL URL must end with /<database>"),
        };
        ScratchPg { admin, name, url }
    }

    /// Commits and rows written (inserted, updated, deleted) so far in this database.
    pub async fn writes(&mut self) -> (i64, i64) {
        sqlx::query_as(
            "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = $1",
        )
        .bind(&self.name)
        .fetch_one(&mut self.admin)
        .await
        .expect("pg_stat_database")
    }

    pub async fn drop_db(mut self) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP DATABASE {} WITH (FORCE)", self.name)))
            .execute(&mut self.admin)
            .await
            .expect("drop db");
    }
}

/// Creates an active level-1 user with barongctl.
pub fn create_user(d: &Daemon, email: &str, password: &str) {
    create_user_with_role(d, email, password, "member");
}

/// Creates an active level-1 user of `role` with barongctl.
pub fn create_user_with_role(d: &Daemon, email: &str, password: &str, role: &str) {
    let mut ctl = Command::new(release_binary("barongctl"))
        .args(["--data-dir", &d.data.display().to_string(), "user", "create", "--email", email])
        .args(["--level", "1", "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("barongctl runs");
    if let Some(mut s) = ctl.stdin.take() {
        let _ = s.write_all(password.as_bytes());
    }
    assert!(ctl.wait().expect("barongctl").success(), "user create failed");
}
