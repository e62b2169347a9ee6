//! Gateway decisions per second with 64 connections on loopback: the cookie flow, the API-key
//! flow and a denied request, next to the same daemon's `public/ping`. See bench/README.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hmac::Mac;
use serde_json::{Value, json};

use barong_bench::{arg, create_user, percentile, rss_kib, start_daemon};

const PASSWORD: &str = "Zahsh8ei-Quoo";
const UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
const USERS: usize = 8;
/// A key takes at most ~1,000 distinct nonces a second (ms, each once, within the nonce window).
const KEY_USERS: usize = 32;

/// A logged-in client (its own session).
async fn login(base: &str, email: &str) -> (reqwest::Client, String) {
    let c = reqwest::Client::builder().cookie_store(true).user_agent(UA).build().expect("client");
    let r = c
        .post(format!("{base}/api/v2/barong/identity/sessions"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status().as_u16(), 200, "login");
    let body: Value = r.json().await.expect("json");
    (c, body["csrf_token"].as_str().expect("csrf").to_string())
}

/// 2FA on and one HS256 key: (kid, secret). The current step enables 2FA, the next creates the key.
async fn api_key(base: &str, email: &str) -> (String, String) {
    let (c, csrf) = login(base, email).await;
    let r = c.post(format!("{base}/api/v2/barong/resource/otp/generate_qrcode")).header("X-CSRF-Token", &csrf);
    let body: Value = r.send().await.expect("qrcode").json().await.expect("json");
    let totp = totp_rs::TOTP::from_url_unchecked(body["data"]["url"].as_str().expect("url")).expect("otpauth");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let r = c
        .post(format!("{base}/api/v2/barong/resource/otp/enable"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"code": totp.generate(now)}));
    assert_eq!(r.send().await.expect("enable").status().as_u16(), 201, "otp/enable");
    let r = c
        .post(format!("{base}/api/v2/barong/resource/api_keys"))
        .header("X-CSRF-Token", &csrf)
        .json(&json!({"algorithm": "HS256", "totp_code": totp.generate(now + 30)}));
    let key: Value = r.send().await.expect("api key").json().await.expect("json");
    (key["kid"].as_str().expect("kid").to_string(), key["secret"].as_str().expect("secret").to_string())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64
}

#[derive(Clone)]
enum Flow {
    Ping,
    Cookie(Vec<reqwest::Client>),
    /// `GET resource/users/me` with the cookie flow's sessions (the frontend's per-page call).
    Me(Vec<reqwest::Client>),
    ApiKey(Arc<Vec<(String, String, AtomicI64)>>),
    Denied,
}

struct Run {
    ok: u64,
    unexpected: u64,
    rate: f64,
    latencies: Vec<Duration>,
}

async fn run(base: &str, flow: Flow, clients: usize, seconds: u64) -> Run {
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (ok, bad, stop, flow) = (ok.clone(), bad.clone(), stop.clone(), flow.clone());
        let base = base.to_string();
        tasks.push(tokio::spawn(async move {
            let plain = reqwest::Client::builder().user_agent(UA).build().expect("client");
            let (client, url, expect) = match &flow {
                Flow::Ping => (plain, format!("{base}/api/v2/barong/public/ping"), 200),
                Flow::Cookie(cs) => {
                    (cs[i % cs.len()].clone(), format!("{base}/api/v2/auth/api/v2/peatio/account/balances"), 200)
                }
                Flow::Me(cs) => (cs[i % cs.len()].clone(), format!("{base}/api/v2/barong/resource/users/me"), 200),
                Flow::ApiKey(_) => (plain, format!("{base}/api/v2/auth/api/v2/peatio/account/balances"), 200),
                Flow::Denied => (plain, format!("{base}/api/v2/auth/api/v2/peatio/account/balances"), 401),
            };
            let mut latencies = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let mut req = client.get(&url);
                if let Flow::ApiKey(keys) = &flow {
                    let (kid, secret, counter) = &keys[i % keys.len()];
                    // Nonces are single-use per key: a per-key counter that never falls behind the clock.
                    let floor = now_ms() - 4000;
                    let nonce = counter.fetch_add(1, Ordering::SeqCst).max(floor);
                    counter.fetch_max(nonce + 1, Ordering::SeqCst);
                    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
                    mac.update(format!("{nonce}{kid}").as_bytes());
                    req = req
                        .header("X-Auth-Apikey", kid)
                        .header("X-Auth-Nonce", nonce.to_string())
                        .header("X-Auth-Signature", hex::encode(mac.finalize().into_bytes()));
                }
                let t = Instant::now();
                match req.send().await {
                    Ok(r) if r.status().as_u16() == expect => {
                        let _ = r.bytes().await;
                        ok.fetch_add(1, Ordering::Relaxed);
                        latencies.push(t.elapsed());
                    }
                    _ => {
                        bad.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            latencies
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort();
    let ok = ok.load(Ordering::Relaxed);
    Run { ok, unexpected: bad.load(Ordering::Relaxed), rate: ok as f64 / elapsed, latencies }
}

/// Logs in `n` distinct sessions (real sign-ins, production argon2 cost) and makes one gateway
/// call with each, so every session sits in the gateway's caches; returns how many calls passed.
async fn distinct_sessions(base: &str, emails: &[String], n: usize) -> usize {
    let c = reqwest::Client::builder().user_agent(UA).build().expect("client");
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (c, next, base, emails) = (c.clone(), next.clone(), base.to_string(), emails.to_vec());
        tasks.push(tokio::spawn(async move {
            let mut passed = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= n {
                    return passed;
                }
                let r = c
                    .post(format!("{base}/api/v2/barong/identity/sessions"))
                    .json(&json!({"email": emails[i % emails.len()], "password": PASSWORD}))
                    .send()
                    .await
                    .expect("login");
                let cookie = r
                    .headers()
                    .get("set-cookie")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split(';').next())
                    .map(str::to_string)
                    .expect("session cookie");
                let r = c
                    .get(format!("{base}/api/v2/auth/api/v2/peatio/account/balances"))
                    .header("Cookie", cookie)
                    .send()
                    .await
                    .expect("gateway");
                if r.status().as_u16() == 200 {
                    passed += 1;
                }
            }
        }));
    }
    let mut passed = 0;
    for t in tasks {
        passed += t.await.unwrap_or(0);
    }
    passed
}

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 5);
    let clients = arg("--clients", 64) as usize;
    let daemon = start_daemon("");
    let base = format!("http://{}", daemon.addr);
    // Separate users for sessions and keys: enabling 2FA ends the user's other sessions.
    let emails: Vec<String> = (0..USERS).map(|i| format!("bench{i}@example.com")).collect();
    let key_emails: Vec<String> = (0..KEY_USERS).map(|i| format!("keys{i}@example.com")).collect();
    for e in emails.iter().chain(&key_emails) {
        create_user(&daemon, e, PASSWORD);
    }
    let mut sessions = Vec::new();
    for i in 0..clients {
        sessions.push(login(&base, &emails[i % USERS]).await.0);
    }
    let mut keys = Vec::new();
    for e in &key_emails {
        let (kid, secret) = api_key(&base, e).await;
        keys.push((kid, secret, AtomicI64::new(now_ms() - 4000)));
    }
    let keys = Arc::new(keys);
    let idle = rss_kib(daemon.child.id());
    let ping = run(&base, Flow::Ping, clients, seconds).await;
    let cookie = run(&base, Flow::Cookie(sessions.clone()), clients, seconds).await;
    let me = run(&base, Flow::Me(sessions), clients, seconds).await;
    let apikey = run(&base, Flow::ApiKey(keys), clients, seconds).await;
    let denied = run(&base, Flow::Denied, clients, seconds).await;
    let after = rss_kib(daemon.child.id());
    drop(daemon);
    // Memory is measured on a fresh daemon, so the figure is what 10,000 sessions cost and not
    // what the flood above left in the allocator (printed above as "after"). The 32 concurrent
    // sign-ins all come from one IP and share 8 accounts: the limits on password checks in flight
    // per IP and per account are lifted.
    let daemon = start_daemon("login_throttle: {max_hashing_per_ip: 1000, max_hashing_per_account: 1000}");
    for e in &emails {
        create_user(&daemon, e, PASSWORD);
    }
    let base = format!("http://{}", daemon.addr);
    let n = arg("--sessions", 10_000) as usize;
    let started = Instant::now();
    let passed = distinct_sessions(&base, &emails, n).await;
    let took = started.elapsed().as_secs_f64();
    let with_sessions = rss_kib(daemon.child.id());
    // The argon2 threads give their memory blocks back after 5 idle seconds, the cache sweeper
    // runs every 10 s.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let settled = rss_kib(daemon.child.id());
    drop(daemon);
    println!("bench/authz: {clients} connections, {seconds} s per flow, SQLite, loopback");
    for (name, r, target) in [
        ("public/ping", &ping, None),
        ("cookie flow", &cookie, Some(0.5)),
        ("users/me", &me, Some(0.5)),
        ("API-key flow", &apikey, Some(0.4)),
        ("denied (no session)", &denied, None),
    ] {
        let ratio = r.rate / ping.rate.max(1.0);
        let target = target.map(|t| format!("target >= {t}")).unwrap_or_default();
        println!(
            "  {name:<20} {:>9.0}/s  x{ratio:.2} of ping {target:<12}  p50 {:.2} ms  p99 {:.2} ms  ({} ok, {} unexpected)",
            r.rate,
            percentile(&r.latencies, 0.5),
            percentile(&r.latencies, 0.99),
            r.ok,
            r.unexpected
        );
    }
    let mib = |k: u64| k as f64 / 1024.0;
    let mb = |k: u64| k as f64 * 1024.0 / 1e6;
    println!("  RSS before / after   {:.1} / {:.1} MiB", mib(idle), mib(after));
    println!(
        "  fresh daemon, {n} sessions ({passed} passed the gateway, {took:.0} s of sign-ins): RSS {:.1} MB at \
         once, {:.1} MB 12 s later (target < 64 MB)",
        mb(with_sessions),
        mb(settled)
    );
}
