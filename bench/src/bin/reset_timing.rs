//! `password/generate_code` reply times for a known and for an unknown email: the two must not
//! tell an observer whether an account exists. See bench/README.md.

use std::time::{Duration, Instant};

use barong_bench::{arg, create_user, percentile, start_daemon};

const PASSWORD: &str = "Zahsh8ei-Quoo";

async fn timed(c: &reqwest::Client, url: &str, email: &str) -> Duration {
    let t = Instant::now();
    let r = c.post(url).json(&serde_json::json!({"email": email})).send().await.expect("generate_code");
    assert_eq!(r.status().as_u16(), 201, "generate_code");
    let _ = r.bytes().await;
    t.elapsed()
}

#[tokio::main]
async fn main() {
    let n = arg("--requests", 300) as usize;
    // Limits lifted, so every request for the known email does the full work.
    let daemon = start_daemon(
        "mail_throttle: {max_per_address_per_minute: 1000000, max_per_address_per_hour: 1000000, \
         max_per_ip_per_hour: 1000000}",
    );
    create_user(&daemon, "known@example.com", PASSWORD);
    let url = format!("http://{}/api/v2/barong/identity/users/password/generate_code", daemon.addr);
    let c = reqwest::Client::new();
    for i in 0..20 {
        timed(&c, &url, "known@example.com").await;
        timed(&c, &url, &format!("warm{i}@example.com")).await;
    }
    let (mut known, mut unknown) = (Vec::with_capacity(n), Vec::with_capacity(n));
    // Interleaved, so both see the same machine load; a pause lets each request's background work
    // (started 20 ms after the reply) finish before the next is timed. An untimed request right
    // before each timed one gives both the same history: without it the known email, always
    // timed after an idle pause, was slower than the unknown one, timed after the known email's
    // background work had kept the machine warm (the same with a repeated unknown address).
    for i in 0..n {
        timed(&c, &url, "warm@example.com").await;
        known.push(timed(&c, &url, "known@example.com").await);
        tokio::time::sleep(Duration::from_millis(40)).await;
        timed(&c, &url, "warm@example.com").await;
        unknown.push(timed(&c, &url, &format!("nobody{i}@example.com")).await);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    known.sort();
    unknown.sort();
    let (k, u) = (percentile(&known, 0.5), percentile(&unknown, 0.5));
    println!("bench/reset_timing: {n} requests each, SQLite, loopback");
    println!("  known email    median {k:.3} ms  p90 {:.3} ms", percentile(&known, 0.9));
    println!("  unknown email  median {u:.3} ms  p90 {:.3} ms", percentile(&unknown, 0.9));
    println!("  ratio          {:.3}   (target within 1.10)", k / u.max(1e-9));
}
