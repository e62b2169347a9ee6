//! A Barong 2.7 database in MariaDB for the import tests, built by `tests/tools/make_barong_db.py`
//! (independent of barong-rs: PyMySQL, bcrypt, cryptography) with its manifest, secrets export
//! and upload files; dropped when the fixture is dropped.
//!
//! Needs `BARONG_TEST_FIXTURE_PYTHON` (a Python with those packages; `.ci/run` makes
//! `target/fixture-venv`) and MariaDB at `BARONG_TEST_MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306`). Without them the test is skipped loudly (failed under `CI=true`).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub struct BarongFixture {
    pub database: String,
    /// `mysql://root@127.0.0.1:3306/<database>`: what `import barong --from` takes.
    pub url: String,
    pub dir: tempfile::TempDir,
    pub manifest: Value,
    python: String,
    host: String,
    port: String,
    user: String,
}

fn mysql_parts() -> (String, String, String) {
    let url = std::env::var("BARONG_TEST_MYSQL_URL").unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
    let rest = url.trim_start_matches("mysql://").trim_end_matches('/');
    let (user, hostport) = rest.split_once('@').unwrap_or(("root", rest));
    let (host, port) = hostport.split_once(':').unwrap_or((hostport, "3306"));
    (host.to_string(), port.to_string(), user.to_string())
}

impl BarongFixture {
    /// Builds a database of `users` users from `seed`, with `extra` arguments; `None` when the
    /// fixture's Python is not configured (outside CI).
    pub fn build(users: u32, seed: u32, extra: &[&str]) -> Option<BarongFixture> {
        let Some(python) = std::env::var("BARONG_TEST_FIXTURE_PYTHON").ok().filter(|p| !p.is_empty()) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "BARONG_TEST_FIXTURE_PYTHON is not set (CI must run the import tests)"
            );
            eprintln!(
                "SKIPPED: import test needs BARONG_TEST_FIXTURE_PYTHON (a venv with PyMySQL, bcrypt, cryptography)"
            );
            return None;
        };
        let (host, port, user) = mysql_parts();
        let database = format!("barong_fixture_{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let dir = tempfile::tempdir().expect("temp dir");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/make_barong_db.py");
        let path = |n: &str| dir.path().join(n).display().to_string();
        let users = users.to_string();
        let seed = seed.to_string();
        let mut args = vec![
            script.display().to_string(),
            "--host".into(),
            host.clone(),
            "--port".into(),
            port.clone(),
            "--user".into(),
            user.clone(),
            "--database".into(),
            database.clone(),
            "--replace".into(),
            "--users".into(),
            users,
            "--seed".into(),
            seed,
            "--manifest".into(),
            path("manifest.json"),
            "--secrets-out".into(),
            path("secrets.json"),
            "--uploads-dir".into(),
            path("uploads"),
            "--config-out".into(),
            path("config"),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let out = Command::new(&python).args(&args).output().expect("fixture python runs");
        assert!(out.status.success(), "make_barong_db.py failed: {}", String::from_utf8_lossy(&out.stderr));
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("manifest.json")).expect("manifest"))
                .expect("manifest is JSON");
        let url = format!("mysql://{user}@{host}:{port}/{database}");
        Some(BarongFixture { database, url, dir, manifest, python, host, port, user })
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Every API key of the manifest: the users' and the service accounts'.
    pub fn api_keys(&self) -> Vec<Value> {
        let of = |owners: &Value| -> Vec<Value> {
            owners
                .as_array()
                .map(|o| o.iter().flat_map(|x| x["api_keys"].as_array().cloned().unwrap_or_default()).collect())
                .unwrap_or_default()
        };
        let mut keys = of(&self.manifest["users"]);
        keys.extend(of(&self.manifest["service_accounts"]));
        keys
    }

    /// Runs one SQL statement on the fixture database (a change between runs).
    pub fn sql(&self, stmt: &str) {
        let code = "import pymysql,sys\nc=pymysql.connect(host=sys.argv[1],port=int(sys.argv[2]),user=sys.argv[3],\
            database=sys.argv[4],autocommit=True)\nc.cursor().execute(sys.argv[5])\n";
        let out = Command::new(&self.python)
            .args(["-c", code, &self.host, &self.port, &self.user, &self.database, stmt])
            .output()
            .expect("python runs");
        assert!(out.status.success(), "fixture SQL failed: {}", String::from_utf8_lossy(&out.stderr));
    }
}

impl Drop for BarongFixture {
    fn drop(&mut self) {
        let code = "import pymysql,sys\nc=pymysql.connect(host=sys.argv[1],port=int(sys.argv[2]),user=sys.argv[3],autocommit=True)\nc.cursor().execute('DROP DATABASE IF EXISTS `'+sys.argv[4]+'`')\n";
        let _ =
            Command::new(&self.python).args(["-c", code, &self.host, &self.port, &self.user, &self.database]).output();
    }
}
