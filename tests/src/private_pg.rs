//! A private PostgreSQL cluster for one test, which the test may restart: the machine's shared
//! server serves other tests in parallel and must not be. PostgreSQL refuses to run as root, so
//! the cluster belongs to the `postgres` account (through `runuser`) and lives in a temporary
//! directory with its own port and socket directory.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = "/usr/lib/postgresql/15/bin";

pub struct PrivatePg {
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PrivatePg {
    /// Creates and starts the cluster; None (after saying why) when the binaries or the
    /// `postgres` account are missing. Under CI=true that is a failure.
    pub fn start() -> Option<PrivatePg> {
        let missing = if !Path::new(BIN).join("initdb").exists() {
            Some(format!("no PostgreSQL binaries in {BIN}"))
        } else if !Command::new("id").arg("postgres").output().is_ok_and(|o| o.status.success()) {
            Some("no postgres account".to_string())
        } else {
            None
        };
        if let Some(why) = missing {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "a private PostgreSQL cannot start: {why}");
            eprintln!("SKIPPED (private PostgreSQL): {why}");
            return None;
        }
        let dir = tempfile::Builder::new().prefix("barong-pg").tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
        run("chown", &["postgres:postgres", &dir.path().display().to_string()]);
        let pg = PrivatePg { dir, port };
        pg.as_postgres("initdb", &["-D", &pg.data(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        pg.start_server();
        Some(pg)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// `postgres://` URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn start_server(&self) {
        let opts =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", self.port, self.dir.path().display());
        let log = self.log().display().to_string();
        self.as_postgres("pg_ctl", &["-D", &self.data(), "-l", &log, "-o", &opts, "-w", "start"]);
    }

    /// Stops the server (fast: open connections are terminated, as in a restart).
    pub fn stop(&self) {
        self.as_postgres("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// Starts it again after [`Self::stop`].
    pub fn start_again(&self) {
        self.start_server();
    }

    fn as_postgres(&self, tool: &str, args: &[&str]) {
        let exe = format!("{BIN}/{tool}");
        let mut all = vec!["-u", "postgres", "--", exe.as_str()];
        all.extend_from_slice(args);
        let out = Command::new("runuser").args(&all).current_dir(self.dir.path()).output().expect("runuser runs");
        assert!(
            out.status.success(),
            "{tool} failed: {}\n{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(self.log()).unwrap_or_default()
        );
    }
}

fn run(cmd: &str, args: &[&str]) {
    let ok = Command::new(cmd).args(args).status().is_ok_and(|s| s.success());
    assert!(ok, "{cmd} {args:?} failed");
}

impl Drop for PrivatePg {
    fn drop(&mut self) {
        let exe = format!("{BIN}/pg_ctl");
        let data = self.data();
        let _ = Command::new("runuser")
            .args(["-u", "postgres", "--", &exe, "-D", &data, "-m", "immediate", "-w", "stop"])
            .output();
    }
}
