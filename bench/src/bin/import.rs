//! `barongctl import barong` speed: a Barong database built in MariaDB by
//! tests/tools/make_barong_db.py (see bench/README.md) imported into a fresh barongd on SQLite or
//! PostgreSQL. Prints the bulk run (users/s, rows/s) and the cut-over run over the unchanged
//! source (the downtime's import part).
//!
//! `import --manifest M.json --secrets S.json --uploads DIR [--mysql mysql://root@127.0.0.1:3306]
//!  [--postgres postgres://…/db]`

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use barong_bench::{Daemon, release_binary, start_daemon};
use serde_json::{Value, json};

fn text_arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

/// One `barongctl --json import barong …` to its end: (seconds, final status).
fn run(d: &Daemon, args: &[String]) -> (f64, Value) {
    let t = Instant::now();
    let out = Command::new(release_binary("barongctl"))
        .args(["--data-dir", &d.data.display().to_string(), "--json", "import", "barong"])
        .args(args)
        .output()
        .expect("barongctl runs");
    let secs = t.elapsed().as_secs_f64();
    assert!(out.status.success(), "import failed: {}", String::from_utf8_lossy(&out.stderr));
    (secs, serde_json::from_slice(&out.stdout).expect("status JSON"))
}

/// Rows the run read from Barong, summed over tables.
fn rows(status: &Value) -> i64 {
    status["tables"].as_array().map_or(0, |t| t.iter().map(|e| e[1]["source"].as_i64().unwrap_or(0)).sum())
}

fn table(status: &Value, name: &str) -> Value {
    status["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e[0] == name))
        .map(|e| e[1].clone())
        .unwrap_or(Value::Null)
}

fn main() {
    let manifest_path = text_arg("--manifest").expect("--manifest M.json (make_barong_db.py's)");
    let secrets = text_arg("--secrets").expect("--secrets S.json");
    let uploads = text_arg("--uploads").expect("--uploads DIR");
    let mysql = text_arg("--mysql").unwrap_or_else(|| "mysql://root@127.0.0.1:3306".into());
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).expect("manifest")).expect("manifest JSON");
    let database = manifest["source"]["database"].as_str().expect("source database");
    let work = tempfile::tempdir().expect("tempdir");
    let skb = work.path().join("skb");
    std::fs::write(&skb, manifest["barong_env"]["SECRET_KEY_BASE"].as_str().expect("skb")).expect("skb");
    let transit = work.path().join("transit.json");
    let export = json!({"data": {"keys": {"1": manifest["vault"]["transit_key_b64"]}}});
    std::fs::write(&transit, export.to_string()).expect("transit");
    let p = |path: &Path| path.display().to_string();
    let args = vec![
        "--from".to_string(),
        format!("{}/{database}", mysql.trim_end_matches('/')),
        "--secret-key-base-file".into(),
        p(&skb),
        "--secrets-file".into(),
        secrets,
        "--transit-key-file".into(),
        p(&transit),
        "--uploads".into(),
        uploads,
    ];
    let (backend, extra) = match text_arg("--postgres") {
        Some(url) => ("PostgreSQL", format!("database_url: \"{url}\"")),
        None => ("SQLite", String::new()),
    };
    let d = start_daemon(&extra);
    let (bulk, status) = run(&d, &args);
    let users = table(&status, "users")["source"].as_i64().unwrap_or(0);
    let total = rows(&status);
    println!(
        "{backend}: bulk run {bulk:.1} s: {users} users ({:.0} users/s), {total} rows ({:.0} rows/s)",
        users as f64 / bulk,
        total as f64 / bulk
    );
    let (again, status) = run(&d, &args);
    let last = &status["last_run"];
    let changed: i64 = ["inserted", "updated", "deleted"].iter().map(|k| last[k].as_i64().unwrap_or(0)).sum();
    println!("{backend}: cut-over run over the unchanged source {again:.1} s ({changed} rows written)");
}
