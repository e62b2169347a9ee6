//! Sign-ins per second with 32 concurrent clients, next to raw argon2id verifications per second
//! with the same parameters on the same machine. See bench/README.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use barong_bench::{arg, create_user, percentile, rss_kib, start_daemon};

const PASSWORD: &str = "Zahsh8ei-Quoo";

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

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 10);
    let clients = arg("--clients", 32) as usize;
    let daemon = start_daemon(
        // One account signing in from one IP, 32 at a time: every per-client limit lifted.
        "login_throttle: {max_failures_per_account: 1000000, max_failures_per_ip: 1000000, window_seconds: 1, \
         max_hashing_per_account: 1000, max_hashing_per_ip: 1000}",
    );
    create_user(&daemon, "bench@example.com", PASSWORD);
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
