//! Sign-ins per second with 32 concurrent clients, next to raw argon2id verifications per second
//! with the same parameters on the same machine. See bench/README.md.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

const PASSWORD: &str = "Zahsh8ei-Quoo";

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn release_binary(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let path = root.join("target/release").join(name);
    if !path.exists() {
        eprintln!("{} is missing: run `cargo build --release -p barongd -p barongctl` first", path.display());
        std::process::exit(2);
    }
    path
}

fn rss_kib(pid: u32) -> u64 {
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

struct Daemon {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
    data: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_daemon() -> Daemon {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("bench.yml");
    std::fs::write(&config, "listen: 127.0.0.1:0\nlog_level: \"info,access=warn\"\nlogin_throttle: {max_failures_per_account: 1000000, max_failures_per_ip: 1000000, window_seconds: 1}\n")
        .expect("config");
    let mut child = Command::new(release_binary("barongd"))
        .args(["--config", &config.display().to_string(), "--data-dir", &data.display().to_string()])
        .env_remove("RUST_LOG")
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

fn create_user(d: &Daemon) {
    let mut ctl = Command::new(release_binary("barongctl"))
        .args(["--data-dir", &d.data.display().to_string(), "user", "create", "--email", "bench@example.com"])
        .args(["--level", "1", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("barongctl runs");
    if let Some(mut s) = ctl.stdin.take() {
        let _ = s.write_all(PASSWORD.as_bytes());
    }
    assert!(ctl.wait().expect("barongctl").success(), "user create failed");
}

async fn logins(addr: &str, clients: usize, seconds: u64) -> (u64, u64, Vec<Duration>) {
    let ok = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let url = format!("http://{addr}/api/v2/barong/identity/sessions");
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (ok, failed, stop, url) = (ok.clone(), failed.clone(), stop.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let client =
                reqwest::Client::builder().user_agent("Mozilla/5.0 Chrome/120.0 bench").build().expect("client");
            let body = serde_json::json!({"email": "bench@example.com", "password": PASSWORD});
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                match client.post(&url).json(&body).send().await {
                    Ok(r) if r.status().as_u16() == 200 => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        latencies.push(t.elapsed());
                    }
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed), all)
}

fn raw_argon2(seconds: u64) -> f64 {
    let params = Params::new(19_456, 2, 1, None).expect("params");
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let hash = argon.hash_password(PASSWORD.as_bytes(), &SaltString::generate(&mut OsRng)).expect("hash").to_string();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let count = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (argon, hash, count) = (argon.clone(), hash.clone(), count.clone());
            std::thread::spawn(move || {
                let parsed = PasswordHash::new(&hash).expect("parse");
                while Instant::now() < deadline {
                    assert!(argon.verify_password(PASSWORD.as_bytes(), &parsed).is_ok());
                    count.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for h in handles {
        let _ = h.join();
    }
    count.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 10);
    let clients = arg("--clients", 32) as usize;
    let daemon = start_daemon();
    create_user(&daemon);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let idle = rss_kib(daemon.child.id());
    let started = Instant::now();
    let (ok, failed, mut lat) = logins(&daemon.addr, clients, seconds).await;
    let elapsed = started.elapsed().as_secs_f64();
    let after = rss_kib(daemon.child.id());
    drop(daemon);
    lat.sort();
    let login_rate = ok as f64 / elapsed;
    let raw = raw_argon2(seconds);
    println!("bench/login: {clients} clients, {seconds} s, argon2id m=19456 KiB t=2 p=1");
    println!(
        "  sign-ins/s           {login_rate:>10.1}   ({ok} ok, {failed} failed; p50 {:.1} ms, p99 {:.1} ms)",
        percentile(&lat, 0.5),
        percentile(&lat, 0.99)
    );
    println!("  raw argon2 verify/s  {raw:>10.1}   (all cores, same parameters)");
    println!("  ratio                {:>10.3}   (target >= 0.85)", login_rate / raw);
    println!("  RSS idle             {:>10.1} MiB", idle as f64 / 1024.0);
    println!("  RSS after the run    {:>10.1} MiB", after as f64 / 1024.0);
}
