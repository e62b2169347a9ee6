//! Crash safety: barongd killed with SIGKILL during sign-ups, password changes and API-key
//! creations keeps every acknowledged write and the event of every write it kept; a PostgreSQL
//! restart under load fails requests only while it lasts and loses nothing acknowledged.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::events::{Consumer, amqp_url, events_config};
use super::*;

const ROUNDS: usize = 3;
const SIGNUPS: usize = 30;
const PASSWORD_USERS: usize = 8;
const KEY_USERS: usize = 6;

/// One request of a round and whether the client got a 2xx.
enum Write {
    Signup { email: String, acked: bool },
    Password { user: usize, new: String, acked: bool },
    ApiKey { kid: Option<String> },
}

fn ok(s: u16) -> bool {
    (200..300).contains(&s)
}

async fn digests(srv: &TestServer) -> HashMap<String, String> {
    let rows = srv.sql_texts("SELECT email || ' ' || password_digest FROM users").await;
    rows.iter().filter_map(|r| r.split_once(' ')).map(|(e, d)| (e.to_string(), d.to_string())).collect()
}

/// Fires the round's writes at once and kills the daemon once `kill_at` of them were answered,
/// so some are acknowledged and others are in flight.
async fn round(
    srv: &mut TestServer,
    r: usize,
    kill_at: usize,
    pw_users: &[(reqwest::Client, String, String)],
    passwords: &[String],
    key_users: &[(reqwest::Client, String, totp_rs::TOTP)],
) -> Vec<Write> {
    srv.sql("UPDATE users SET otp_last_step = NULL").await;
    let answered = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..SIGNUPS {
        let (c, url, answered) = (srv.client(), srv.url("identity/users"), answered.clone());
        let email = format!("crash-{r}-{i}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..6]);
        tasks.spawn(async move {
            let s = c.post(&url).json(&json!({"email": email, "password": PASSWORD})).send().await;
            answered.fetch_add(1, Ordering::SeqCst);
            Write::Signup { email, acked: s.is_ok_and(|s| ok(s.status().as_u16())) }
        });
    }
    for (user, (c, csrf, _)) in pw_users.iter().enumerate() {
        let (c, csrf, url) = (c.clone(), csrf.clone(), srv.url("resource/users/password"));
        let (old, new) = (passwords[user].clone(), format!("Vei4ahch-Ohth-{r}"));
        let answered = answered.clone();
        tasks.spawn(async move {
            let body = json!({"old_password": old, "new_password": new, "confirm_password": new});
            let s = c.put(&url).header("X-CSRF-Token", csrf).json(&body).send().await;
            answered.fetch_add(1, Ordering::SeqCst);
            Write::Password { user, new, acked: s.is_ok_and(|s| ok(s.status().as_u16())) }
        });
    }
    for (c, csrf, totp) in key_users {
        let (c, csrf, url) = (c.clone(), csrf.clone(), srv.url("resource/api_keys"));
        let code = totp.generate_current().expect("clock");
        let answered = answered.clone();
        tasks.spawn(async move {
            let body = json!({"algorithm": "HS256", "totp_code": code});
            let kid = match c.post(&url).header("X-CSRF-Token", csrf).json(&body).send().await {
                Ok(resp) if ok(resp.status().as_u16()) => {
                    resp.json::<Value>().await.ok().and_then(|v| v["kid"].as_str().map(str::to_string))
                }
                _ => None,
            };
            answered.fetch_add(1, Ordering::SeqCst);
            Write::ApiKey { kid }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered.load(Ordering::SeqCst) < kill_at && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    srv.kill();
    let mut writes = Vec::new();
    while let Some(w) = tasks.join_next().await {
        writes.push(w.expect("request task"));
    }
    srv.restart();
    writes
}

async fn crash_and_restart(backend: Backend) {
    let bindings = [
        ("barong.events.model", "user.created"),
        ("barong.events.system", "user.email.confirmation.token"),
        ("barong.events.system", "user.password.change"),
    ];
    let Some(mut consumer) = Consumer::connect(&bindings).await else { return };
    let opts = Options { config: events_config(&amqp_url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |mut srv: TestServer| async move {
        let mut pw_users = Vec::new();
        for i in 0..PASSWORD_USERS {
            let email = format!("pw{i}@example.com");
            let (c, csrf) = active_user(&srv, &email).await;
            pw_users.push((c, csrf, email));
        }
        let mut key_users = Vec::new();
        for i in 0..KEY_USERS {
            key_users.push(two_factor_user(&srv, &format!("key{i}@example.com")).await);
        }
        let mut passwords = vec![PASSWORD.to_string(); PASSWORD_USERS];
        // How many events of (name, email) the kept writes must have produced.
        let mut expected: HashMap<(String, String), usize> = HashMap::new();
        let mut expect =
            |name: &str, email: &str| *expected.entry((name.to_string(), email.to_string())).or_default() += 1;
        let (mut acked, mut kept_unacked) = (0usize, 0usize);
        for r in 0..ROUNDS {
            let before = digests(&srv).await;
            // A third, then half, then two thirds of the writes answered.
            let kill_at = (SIGNUPS + PASSWORD_USERS + KEY_USERS) * (2 + r) / 6;
            let writes = round(&mut srv, r, kill_at, &pw_users, &passwords, &key_users).await;
            let after = digests(&srv).await;
            for w in writes {
                match w {
                    Write::Signup { email, acked: a } => {
                        let kept = after.contains_key(&email);
                        assert!(kept || !a, "acknowledged sign-up {email} lost");
                        if kept {
                            // Whether acknowledged or not: a user that exists was announced.
                            expect("model.user.created", &email);
                        }
                        if a {
                            expect("system.user.email.confirmation.token", &email);
                        }
                        acked += usize::from(a);
                        kept_unacked += usize::from(kept && !a);
                    }
                    Write::Password { user, new, acked: a } => {
                        let email = &pw_users[user].2;
                        let changed = before.get(email) != after.get(email);
                        assert!(changed || !a, "acknowledged password change of {email} lost");
                        if changed {
                            expect("system.user.password.change", email);
                            passwords[user] = new;
                        }
                        acked += usize::from(a);
                        kept_unacked += usize::from(changed && !a);
                    }
                    Write::ApiKey { kid: Some(kid) } => {
                        let found = srv.sql_texts(&format!("SELECT kid FROM api_keys WHERE kid = '{kid}'")).await;
                        assert_eq!(found, vec![kid], "acknowledged API key lost");
                        acked += 1;
                    }
                    Write::ApiKey { kid: None } => {}
                }
            }
        }
        // Distinct events (by jti: a redelivery is not a second event) per (name, email).
        let mut seen: HashMap<(String, String), HashSet<String>> = HashMap::new();
        let missing = |seen: &HashMap<(String, String), HashSet<String>>| -> Vec<(String, String)> {
            expected
                .iter()
                .filter(|(k, n)| seen.get(*k).map_or(0, HashSet::len) < **n)
                .map(|(k, _)| k.clone())
                .collect()
        };
        let (mut received, mut jtis) = (0usize, HashSet::new());
        let deadline = Instant::now() + Duration::from_secs(120);
        while !missing(&seen).is_empty() && Instant::now() < deadline {
            let Some(claims) = consumer.next_claims(Duration::from_secs(5)).await else { continue };
            received += 1;
            let jti = claims["jti"].as_str().unwrap_or_default().to_string();
            jtis.insert(jti.clone());
            let record = &claims["event"]["record"];
            let email = record["email"].as_str().or_else(|| record["user"]["email"].as_str()).unwrap_or_default();
            let name = claims["event"]["name"].as_str().unwrap_or_default().to_string();
            seen.entry((name, email.to_string())).or_default().insert(jti);
        }
        let missing = missing(&seen);
        let wanted: usize = expected.values().sum();
        eprintln!(
            "crash test ({backend:?}): {ROUNDS} SIGKILLs, {acked} acknowledged writes, {kept_unacked} writes kept \
             without an acknowledgement, {wanted} events expected, {received} received ({} distinct), {} missing",
            jtis.len(),
            missing.len()
        );
        assert!(missing.is_empty(), "kept writes whose events never came: {missing:?}");
    })
    .await;
}

both!(sigkill_keeps_every_acknowledged_write_and_its_event, per_backend = crash_and_restart);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_restart_under_load_loses_nothing_acknowledged() {
    let Some(pg) = PrivatePg::start() else { return };
    let pg = Arc::new(pg);
    let opts = Options { database_url: Some(pg.url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(Backend::Postgres, opts).await else { return };
    within_limit(srv, |srv: TestServer| async move {
        let stop = Arc::new(AtomicBool::new(false));
        let start = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for w in 0..4 {
            let (c, url, stop) = (srv.client(), srv.url("identity/users"), stop.clone());
            tasks.spawn(async move {
                let mut replies = Vec::new();
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    i += 1;
                    let email = format!("pgr-{w}-{i}@example.com");
                    let r = c.post(&url).json(&json!({"email": email, "password": PASSWORD})).send().await;
                    replies.push((email, r.map(|r| r.status().as_u16()).unwrap_or(0), start.elapsed()));
                }
                replies
            });
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        let outage_from = start.elapsed();
        let p = pg.clone();
        tokio::task::spawn_blocking(move || p.stop()).await.expect("stop");
        tokio::time::sleep(Duration::from_secs(3)).await;
        let p = pg.clone();
        tokio::task::spawn_blocking(move || p.start_again()).await.expect("start");
        let outage_to = start.elapsed();
        tokio::time::sleep(Duration::from_secs(4)).await;
        stop.store(true, Ordering::SeqCst);
        let mut replies = Vec::new();
        while let Some(r) = tasks.join_next().await {
            replies.extend(r.expect("worker"));
        }
        let margin = Duration::from_secs(2);
        let failed: Vec<_> = replies.iter().filter(|(_, s, _)| *s != 201).collect();
        let outside: Vec<_> =
            failed.iter().filter(|(_, _, at)| *at < outage_from || *at > outage_to + margin).collect();
        let last_failure = failed.iter().map(|(_, _, at)| *at).max();
        eprintln!(
            "PostgreSQL restart: outage {:?}..{:?}; {} sign-ups, {} failed (statuses {:?}), last failure at {:?}",
            outage_from,
            outage_to,
            replies.len(),
            failed.len(),
            failed.iter().map(|(_, s, _)| *s).collect::<HashSet<_>>(),
            last_failure
        );
        assert!(outside.is_empty(), "failures outside the outage: {outside:?}");
        assert!(replies.iter().any(|(_, s, at)| *s == 201 && *at > outage_to), "no sign-up succeeded after it");
        let kept: HashSet<String> = srv.sql_texts("SELECT email FROM users").await.into_iter().collect();
        let lost: Vec<_> = replies.iter().filter(|(e, s, _)| *s == 201 && !kept.contains(e)).collect();
        assert!(lost.is_empty(), "acknowledged sign-ups lost: {lost:?}");
    })
    .await;
}
