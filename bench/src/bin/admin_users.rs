//! `GET /admin/users` over 100,000 users: the page latencies Tower sees, on SQLite and on
//! PostgreSQL. See bench/README.md.

use std::time::{Duration, Instant};

use barong_bench::{Daemon, ScratchPg, arg, create_user_with_role, percentile, start_daemon, text_arg};
use sqlx::Connection;

const PASSWORD: &str = "Zahsh8ei-Quoo";
const ADMIN: &str = "admin@bench.example";
const COUNTRIES: [&str; 8] = ["FR", "DE", "GB", "US", "UA", "JP", "BR", "NG"];

/// Every user gets a unique uid and e-mail; one in two has a profile (a country of
/// `COUNTRIES`), states cycle active/pending/banned 8:1:1, levels 0..3, created one a minute.
/// One statement per table, so the seed takes seconds, not the hours of 100,000 sign-ups.
fn seed_sql(postgres: bool, users: u64) -> [String; 2] {
    let states = "CASE WHEN i % 10 = 0 THEN 'banned' WHEN i % 10 = 1 THEN 'pending' ELSE 'active' END";
    let countries = COUNTRIES.iter().map(|c| format!("'{c}'")).collect::<Vec<_>>().join(", ");
    if postgres {
        [
            format!(
                "INSERT INTO users (uid, email, email_key, password_digest, role, level, otp, state, created_at, updated_at) \
                 SELECT 'IDB' || lpad(i::text, 7, '0'), 'user' || i || '@bench.example', 'user' || i || '@bench.example', \
                 'x', 'member', i % 4, false, {states}, 1700000000 + i * 60, 1700000000 + i * 60 \
                 FROM generate_series(1, {users}) AS s(i)"
            ),
            format!(
                "INSERT INTO profiles (user_id, city, country, state, created_at, updated_at) \
                 SELECT id, 'Town', (ARRAY[{countries}])[1 + (id / 2) % 8], 1, created_at, created_at \
                 FROM users WHERE email LIKE '%@bench.example' AND id % 2 = 0"
            ),
        ]
    } else {
        let country_case =
            COUNTRIES.iter().enumerate().map(|(n, c)| format!("WHEN {n} THEN '{c}'")).collect::<Vec<_>>().join(" ");
        [
            format!(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {users}) \
                 INSERT INTO users (uid, email, email_key, password_digest, role, level, otp, state, created_at, updated_at) \
                 SELECT 'IDB' || printf('%07d', i), 'user' || i || '@bench.example', 'user' || i || '@bench.example', \
                 'x', 'member', i % 4, 0, {states}, 1700000000 + i * 60, 1700000000 + i * 60 FROM s"
            ),
            format!(
                "INSERT INTO profiles (user_id, city, country, state, created_at, updated_at) \
                 SELECT id, 'Town', CASE (id / 2) % 8 {country_case} END, 1, created_at, created_at \
                 FROM users WHERE email LIKE '%@bench.example' AND id % 2 = 0"
            ),
        ]
    }
}

async fn seed(url: &str, postgres: bool, users: u64) -> Duration {
    let t = Instant::now();
    let [users_sql, profiles_sql] = seed_sql(postgres, users);
    if postgres {
        let mut c = sqlx::PgConnection::connect(url).await.expect("connect to PostgreSQL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(users_sql)).execute(&mut c).await.expect("seed users");
        sqlx::raw_sql(sqlx::AssertSqlSafe(profiles_sql)).execute(&mut c).await.expect("seed profiles");
        // What autovacuum does to a table this size in production: statistics, visibility map.
        sqlx::raw_sql("VACUUM ANALYZE").execute(&mut c).await.expect("vacuum analyze");
    } else {
        let mut c = sqlx::SqliteConnection::connect(url).await.expect("open the SQLite file");
        sqlx::raw_sql(sqlx::AssertSqlSafe(users_sql)).execute(&mut c).await.expect("seed users");
        sqlx::raw_sql(sqlx::AssertSqlSafe(profiles_sql)).execute(&mut c).await.expect("seed profiles");
        sqlx::raw_sql("ANALYZE").execute(&mut c).await.expect("analyze");
    }
    t.elapsed()
}

/// A small deterministic generator, so both backends are asked the same pages.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// The queries Tower's user list makes: `{page}` is replaced by a random page of the result.
fn queries(users: u64) -> Vec<(&'static str, String, u64)> {
    let pages = users.div_ceil(100);
    vec![
        ("page of 100", "limit=100&page={page}".into(), pages),
        ("page of 100, extended", "limit=100&extended=true&page={page}".into(), pages),
        ("country filter, extended", "limit=100&extended=true&country=FR&page={page}".into(), pages / 16),
        ("state filter", "limit=100&state=banned&page={page}".into(), pages / 10),
        ("e-mail search", "limit=100&email=user{n}@bench.example".into(), 1),
        ("uid search, extended", "limit=100&extended=true&uid=IDB{n7}".into(), 1),
        ("ordered by created_at desc", "limit=100&order_by=created_at&ordering=desc&page={page}".into(), pages),
    ]
}

async fn run_backend(name: &str, daemon: &Daemon, url: &str, postgres: bool, users: u64, requests: usize) {
    create_user_with_role(daemon, ADMIN, PASSWORD, "superadmin");
    let took = seed(url, postgres, users).await;
    println!("{name}: seeded {users} users and {} profiles in {:.1} s", users / 2, took.as_secs_f64());
    let base = format!("http://{}/api/v2/barong", daemon.addr);
    let c = reqwest::Client::builder().cookie_store(true).build().expect("client");
    let r = c
        .post(format!("{base}/identity/sessions"))
        .json(&serde_json::json!({"email": ADMIN, "password": PASSWORD}))
        .send()
        .await
        .expect("sign in");
    assert_eq!(r.status().as_u16(), 200, "admin sign-in");
    let mut rng = Lcg(7);
    for (label, template, pages) in queries(users) {
        let mut times = Vec::with_capacity(requests);
        for i in 0..requests + 20 {
            let n = 1 + rng.below(users);
            let query = template
                .replace("{page}", &(1 + rng.below(pages.max(1))).to_string())
                .replace("{n7}", &format!("{n:07}"))
                .replace("{n}", &n.to_string());
            let t = Instant::now();
            let r = c.get(format!("{base}/admin/users?{query}")).send().await.expect("GET admin/users");
            let status = r.status().as_u16();
            let total = r.headers().get("total").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let body = r.bytes().await.expect("body");
            let elapsed = t.elapsed();
            assert_eq!(status, 200, "{query}: {}", String::from_utf8_lossy(&body));
            assert!(total.parse::<u64>().is_ok_and(|t| t >= 1), "{query}: Total {total:?}");
            // The first 20 of each kind warm the caches and are not timed.
            if i >= 20 {
                times.push(elapsed);
            }
        }
        times.sort();
        println!(
            "  {label:<28} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms   (target p99 < 20 ms)",
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            percentile(&times, 1.0)
        );
    }
}

#[tokio::main]
async fn main() {
    let users = arg("--users", 100_000);
    let requests = arg("--requests", 300) as usize;
    let backend = text_arg("--backend", "both");
    let pg_url = text_arg("--pg-url", "postgres://postgres@127.0.0.1:5432/postgres");
    println!("bench/admin_users: {users} users, {requests} timed requests per query, one client, loopback");
    if backend == "both" || backend == "sqlite" {
        let daemon = start_daemon("");
        let url = format!("sqlite://{}/barong.db", daemon.data.display());
        run_backend("SQLite", &daemon, &url, false, users, requests).await;
    }
    if backend == "both" || backend == "postgres" {
        let pg = ScratchPg::create(&pg_url, "barong_bench_users").await;
        {
            let daemon = start_daemon(&format!("database_url: \"{}\"", pg.url));
            run_backend("PostgreSQL", &daemon, &pg.url, true, users, requests).await;
        }
        pg.drop_db().await;
    }
}
