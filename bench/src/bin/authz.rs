//! Gateway decisions per second with 64 connections on loopback: the cookie flow, the API-key
//! flow and a denied request, next to the same daemon's `public/ping`; on SQLite, or on
//! PostgreSQL with one or two daemons. See bench/README.md.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hmac::Mac;
use serde_json::{Value, json};

use barong_bench::{ScratchPg, arg, create_user, percentile, rss_kib, start_daemon, text_arg};

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

async fn run(bases: &[String], flow: Flow, clients: usize, seconds: u64) -> Run {
    let ok = Arc::new(AtomicU64::new(0));
    let bad = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let (ok, bad, stop, flow) = (ok.clone(), bad.clone(), stop.clone(), flow.clone());
        let base = bases[i % bases.len()].clone();
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
                    let taken = counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |c| Some(c.max(floor) + 1));
                    let nonce = taken.unwrap_or_else(|c| c).max(floor);
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

/// What the database did during a flow (PostgreSQL): commits and rows written per second.
struct Writes {
    commits: f64,
    rows: f64,
}

/// Runs one flow over every daemon (connection `i` goes to daemon `i % n`) and, on PostgreSQL,
/// reads the database's write counters around it.
async fn measure(
    bases: &[String],
    pg: &mut Option<ScratchPg>,
    flow: Flow,
    clients: usize,
    seconds: u64,
) -> (Run, Option<Writes>) {
    // The statistics collector publishes a backend's counters at most once a second.
    let settle = Duration::from_millis(1500);
    let before = match pg {
        Some(pg) => {
            tokio::time::sleep(settle).await;
            Some(pg.writes().await)
        }
        None => None,
    };
    let started = Instant::now();
    let r = run(bases, flow, clients, seconds).await;
    let elapsed = started.elapsed().as_secs_f64();
    let writes = match (pg, before) {
        (Some(pg), Some((c0, r0))) => {
            tokio::time::sleep(settle).await;
            let (c1, r1) = pg.writes().await;
            Some(Writes { commits: (c1 - c0) as f64 / elapsed, rows: (r1 - r0) as f64 / elapsed })
        }
        _ => None,
    };
    (r, writes)
}

#[tokio::main]
async fn main() {
    let seconds = arg("--seconds", 5);
    let clients = arg("--clients", 64) as usize;
    let daemons = arg("--daemons", 1).max(1) as usize;
    let database_url = text_arg("--database-url", "");
    let mut pg = if database_url.starts_with("postgres") {
        Some(ScratchPg::create(&database_url, "barong_bench_authz").await)
    } else {
        assert!(daemons == 1, "--daemons 2 needs --database-url postgres://… (a SQLite file has one daemon)");
        None
    };
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let db_config = pg.as_ref().map(|p| format!("database_url: \"{}\"", p.url)).unwrap_or_default();
    let first = start_daemon(&db_config);
    let mut running = vec![first];
    for _ in 1..daemons {
        running.push(running[0].sibling(&db_config));
    }
    let bases: Vec<String> = running.iter().map(|d| format!("http://{}", d.addr)).collect();
    // Separate users for sessions and keys: enabling 2FA ends the user's other sessions.
    let emails: Vec<String> = (0..USERS).map(|i| format!("bench{i}@example.com")).collect();
    let key_emails: Vec<String> = (0..KEY_USERS).map(|i| format!("keys{i}@example.com")).collect();
    for e in emails.iter().chain(&key_emails) {
        create_user(&running[0], e, PASSWORD);
    }
    let mut sessions = Vec::new();
    for i in 0..clients {
        sessions.push(login(&bases[i % bases.len()], &emails[i % USERS]).await.0);
    }
    let mut keys = Vec::new();
    for e in &key_emails {
        let (kid, secret) = api_key(&bases[0], e).await;
        keys.push((kid, secret, AtomicI64::new(now_ms() - 4000)));
    }
    let keys = Arc::new(keys);
    let idle = rss_kib(running[0].child.id());
    let mut results = Vec::new();
    for (name, flow, target) in [
        ("public/ping", Flow::Ping, None),
        ("cookie flow", Flow::Cookie(sessions.clone()), Some(0.5)),
        ("users/me", Flow::Me(sessions), Some(0.5)),
        ("API-key flow", Flow::ApiKey(keys), Some(0.4)),
        ("denied (no session)", Flow::Denied, None),
    ] {
        let (r, writes) = measure(&bases, &mut pg, flow, clients, seconds).await;
        results.push((name, r, writes, target));
    }
    let after = rss_kib(running[0].child.id());
    drop(running);

    let n = arg("--sessions", 100_000) as usize;
    let sessions_line = if n > 0 { Some(session_memory(&db_config, &mut pg, &emails, n).await) } else { None };
    if let Some(pg) = pg {
        pg.drop_db().await;
    }

    println!("bench/authz: {clients} connections, {seconds} s per flow, {backend}, {daemons} daemon(s), loopback");
    let ping = results[0].1.rate;
    for (name, r, writes, target) in &results {
        let ratio = r.rate / ping.max(1.0);
        let target = target.map(|t| format!("target >= {t}")).unwrap_or_default();
        let db = writes
            .as_ref()
            .map(|w| format!("  db {:.0} commits/s, {:.0} rows written/s", w.commits, w.rows))
            .unwrap_or_default();
        println!(
            "  {name:<20} {:>9.0}/s  x{ratio:.2} of ping {target:<12}  p50 {:.2} ms  p99 {:.2} ms  ({} ok, {} unexpected){db}",
            r.rate,
            percentile(&r.latencies, 0.5),
            percentile(&r.latencies, 0.99),
            r.ok,
            r.unexpected
        );
    }
    let mib = |k: u64| k as f64 / 1024.0;
    println!("  RSS of the first daemon before / after   {:.1} / {:.1} MiB", mib(idle), mib(after));
    if let Some(line) = sessions_line {
        println!("{line}");
    }
}

/// RSS of a fresh daemon after `n` distinct sessions went through its gateway.
///
/// Fresh, so the figure is what the sessions cost and not what the flood above left in the
/// allocator. The 32 concurrent sign-ins come from one IP and share 8 accounts: the limits on
/// password checks in flight per IP and per account are lifted. Passwords are hashed at a small
/// argon2 cost, since this measures sessions: at the production cost 100,000 sign-ins take 15
/// minutes here, and the two argon2 workers' 19 MiB blocks are given back after 5 idle seconds.
async fn session_memory(db_config: &str, pg: &mut Option<ScratchPg>, emails: &[String], n: usize) -> String {
    if let Some(old) = pg.take() {
        let url = old.url.clone();
        old.drop_db().await;
        let server = url.rsplit_once('/').map(|(s, _)| format!("{s}/postgres")).unwrap_or(url);
        *pg = Some(ScratchPg::create(&server, "barong_bench_sessions").await);
    }
    let db_config = match pg {
        Some(p) => format!("database_url: \"{}\"", p.url),
        None => db_config.to_string(),
    };
    let daemon = start_daemon(&format!(
        "{db_config}\nlogin_throttle: {{max_hashing_per_ip: 1000, max_hashing_per_account: 1000}}\n\
         argon2: {{memory_kib: 1024, iterations: 1, parallelism: 1}}"
    ));
    for e in emails {
        create_user(&daemon, e, PASSWORD);
    }
    let base = format!("http://{}", daemon.addr);
    let idle = rss_kib(daemon.child.id());
    let started = Instant::now();
    let passed = distinct_sessions(&base, emails, n).await;
    let took = started.elapsed().as_secs_f64();
    let with_sessions = rss_kib(daemon.child.id());
    // The cache sweeper runs every 10 s.
    tokio::time::sleep(Duration::from_secs(12)).await;
    let settled = rss_kib(daemon.child.id());
    let mb = |k: u64| k as f64 * 1024.0 / 1e6;
    format!(
        "  fresh daemon, {n} sessions ({passed} passed the gateway, {took:.0} s of sign-ins): RSS {:.1} MB idle, \
         {:.1} MB at once, {:.1} MB 12 s later (target < 64 MB)",
        mb(idle),
        mb(with_sessions),
        mb(settled)
    )
}
