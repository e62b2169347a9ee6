//! `GET users/me` is served from a rendered copy in the gateway's caches (issue 12). Every write
//! it shows must reach the very next call on the daemon that made it (the feed is polled once a
//! minute here, so only read-your-writes can explain a fresh answer), a write on another daemon
//! within the feed's interval, and an ended session must be refused at once.

use reqwest::Method;

use super::admin_api::{call2, staff};
use super::admin_labels::uid_of;
use super::*;

/// Only read-your-writes can refresh the caches within a test; storage titles for data_storage.
const SLOW_FEED: &str = "change_feed_poll_ms: 60000\nuser_storage_titles: [personal]\n";

/// `GET users/me` with `c`, which must answer 200.
async fn me(srv: &TestServer, c: &reqwest::Client) -> Value {
    let (s, body) = get(c, &srv.url("resource/users/me")).await;
    assert_eq!(s, 200, "users/me: {body}");
    body
}

/// `key=value` of every label users/me shows.
fn labels(me: &Value) -> Vec<String> {
    let all = me["labels"].as_array().cloned().unwrap_or_default();
    all.iter().map(|l| format!("{}={}", l["key"].as_str().unwrap_or(""), l["value"].as_str().unwrap_or(""))).collect()
}

fn has_label(me: &Value, pair: &str) -> bool {
    labels(me).iter().any(|l| l == pair)
}

async fn resource(c: &reqwest::Client, srv: &TestServer, csrf: &str, method: Method, path: &str, body: Value) -> Value {
    let (s, b) = send_json(c, method, &srv.url(&format!("resource/{path}")), Some(csrf), Some(body)).await;
    assert!(s == 200 || s == 201, "{path}: {s} {b}");
    b
}

/// Adds and verifies a phone with the code the daemon texted.
async fn verify_phone(srv: &TestServer, c: &reqwest::Client, csrf: &str, number: &str) {
    resource(c, srv, csrf, Method::POST, "phones", json!({"phone_number": number})).await;
    let sms = srv.sms_outbox();
    let code = regex::Regex::new(r"Barong: (\d{5})").expect("re").captures(sms.last().expect("sms")).expect("code")[1]
        .to_string();
    let verify = json!({"phone_number": number, "verification_code": code});
    resource(c, srv, csrf, Method::POST, "phones/verify", verify).await;
}

both!(users_me_shows_the_users_own_writes_at_once, config = SLOW_FEED, |srv: TestServer| async move {
    let email = "fresh@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let first = me(&srv, &c).await;
    assert_eq!(first, me(&srv, &c).await, "the cached copy is the rendered one");

    // Profile: created, then updated.
    let profile = json!({"first_name": "Jean", "last_name": "Martin", "dob": "1990-05-17", "address": "1 Rue",
        "postcode": "75001", "city": "Paris", "country": "FR"});
    resource(&c, &srv, &csrf, Method::POST, "profiles", profile).await;
    let shown = me(&srv, &c).await;
    assert_eq!(shown["profiles"][0]["city"], "Paris", "{shown}");
    resource(&c, &srv, &csrf, Method::PUT, "profiles", json!({"city": "Lyon"})).await;
    assert_eq!(me(&srv, &c).await["profiles"][0]["city"], "Lyon");

    // A verified phone: listed, and the level it raises.
    verify_phone(&srv, &c, &csrf, "+44 07418084106").await;
    let shown = me(&srv, &c).await;
    assert!(shown["phones"][0]["validated_at"].is_string(), "{shown}");
    assert_eq!(shown["level"], 2, "{shown}");

    // Data storage and the user's own data.
    resource(&c, &srv, &csrf, Method::POST, "data_storage", json!({"title": "personal", "data": "{\"job\":1}"})).await;
    assert_eq!(me(&srv, &c).await["data_storages"][0]["title"], "personal");
    resource(&c, &srv, &csrf, Method::PUT, "users/me", json!({"data": "{\"theme\":\"dark\"}"})).await;
    assert_eq!(me(&srv, &c).await["data"], "{\"theme\":\"dark\"}");

    // The user's own public label, added then removed.
    resource(&c, &srv, &csrf, Method::POST, "labels", json!({"key": "nickname", "value": "blue"})).await;
    assert!(has_label(&me(&srv, &c).await, "nickname=blue"));
    let (s, b) = send_json(&c, Method::DELETE, &srv.url("resource/labels/nickname"), Some(&csrf), None).await;
    assert_eq!(s, 204, "{b}");
    assert!(!has_label(&me(&srv, &c).await, "nickname=blue"));

    // 2FA on.
    assert_eq!(me(&srv, &c).await["otp"], false);
    let (totp, _) = setup_totp(&srv, &c, &csrf).await;
    let code = fresh_code(&srv, &totp).await;
    let (s, b) =
        send_json(&c, Method::POST, &srv.url("resource/otp/enable"), Some(&csrf), Some(json!({"code": code}))).await;
    assert_eq!(s, 201, "{b}");
    let shown = me(&srv, &c).await;
    assert_eq!(shown["otp"], true, "{shown}");
    assert!(has_label(&shown, "otp=enabled"), "{shown}");
});

both!(users_me_shows_operators_writes_at_once, config = SLOW_FEED, |srv: TestServer| async move {
    let email = "watched@example.com";
    let (c, _) = active_user(&srv, email).await;
    let uid = uid_of(&srv, email).await;
    let (root, root_csrf) = staff(&srv, "root@example.com", "superadmin").await;
    let admin = |method: Method, rest: String, body: Option<Value>| {
        let (root, csrf, srv) = (root.clone(), root_csrf.clone(), &srv);
        async move { call2(&root, srv, method, &rest, &csrf, body).await }
    };

    // Labels through barongctl.
    me(&srv, &c).await;
    ctl_json(&srv, &["label", "set", email, "tier", "gold", "--scope", "public"]);
    assert!(has_label(&me(&srv, &c).await, "tier=gold"));
    ctl_json(&srv, &["label", "remove", email, "tier", "--scope", "public"]);
    assert!(!has_label(&me(&srv, &c).await, "tier=gold"));

    // Labels through the Admin API.
    let label = json!({"uid": uid, "key": "vip", "value": "yes"});
    assert_eq!(admin(Method::POST, "users/labels".into(), Some(label)).await, (200, json!(200)));
    assert!(has_label(&me(&srv, &c).await, "vip=yes"));
    let query = format!("users/labels?uid={uid}&key=vip&scope=public");
    assert_eq!(admin(Method::DELETE, query, None).await, (200, json!(200)));
    assert!(!has_label(&me(&srv, &c).await, "vip=yes"));

    // Role, then state: a banned user is refused at once, and served again once active.
    let role = json!({"uid": uid, "role": "accountant"});
    assert_eq!(admin(Method::POST, "users/role".into(), Some(role)).await, (200, json!(200)));
    assert_eq!(me(&srv, &c).await["role"], "accountant");
    let ban = json!({"uid": uid, "state": "banned"});
    assert_eq!(admin(Method::POST, "users/update".into(), Some(ban)).await, (200, json!(200)));
    assert_err(&get(&c, &srv.url("resource/users/me")).await, 401, &["authz.user_not_active"]);
    let lift = json!({"uid": uid, "state": "active"});
    assert_eq!(admin(Method::POST, "users/update".into(), Some(lift)).await, (200, json!(200)));
    assert_eq!(me(&srv, &c).await["state"], "active");

    // A level set by a label the operator writes.
    let level = me(&srv, &c).await["level"].as_i64().expect("level");
    ctl_json(&srv, &["label", "set", email, "phone", "verified"]);
    assert_eq!(me(&srv, &c).await["level"].as_i64(), Some(level + 1));
});

both!(users_me_refuses_an_ended_session_at_once, config = SLOW_FEED, |srv: TestServer| async move {
    let email = "leaving@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let url = srv.url("resource/users/me");
    // Logout: the same cookie, sent again, is refused.
    let (kept, _) = fixed_cookie_client(&srv, email).await;
    me(&srv, &kept).await;
    let (s, _) = read(kept.delete(srv.url("identity/sessions")).send().await.expect("logout")).await;
    assert_eq!(s, 200);
    assert_err(&get(&kept, &url).await, 401, &["authz.invalid_session"]);

    // A password change ends every other session.
    let (other, _) = fixed_cookie_client(&srv, email).await;
    me(&srv, &other).await;
    let change =
        json!({"old_password": PASSWORD, "new_password": "Oob3ooph-Xeiz", "confirm_password": "Oob3ooph-Xeiz"});
    let (s, b) = send_json(&c, Method::PUT, &srv.url("resource/users/password"), Some(&csrf), Some(change)).await;
    assert_eq!(s, 201, "{b}");
    assert_err(&get(&other, &url).await, 401, &["authz.invalid_session"]);
    me(&srv, &c).await;

    // The operator's 2FA reset ends them all.
    let (totp, _) = setup_totp(&srv, &c, &csrf).await;
    let code = fresh_code(&srv, &totp).await;
    let (s, _) =
        send_json(&c, Method::POST, &srv.url("resource/otp/enable"), Some(&csrf), Some(json!({"code": code}))).await;
    assert_eq!(s, 201);
    me(&srv, &c).await;
    let uid = uid_of(&srv, email).await;
    let (code, _, err) = srv.ctl(&["user", "reset-2fa", &uid, "--reason", "called support"], None);
    assert_eq!(code, 0, "{err}");
    assert_err(&get(&c, &url).await, 401, &["authz.invalid_session"]);
});

/// Two daemons on one database: a write through B reaches A's copy within A's feed interval, and
/// a logout on B is refused by A as soon.
async fn sibling_writes(backend: Backend) {
    let opts = Options { config: "user_storage_titles: [personal]\n".into(), ..Default::default() };
    let Some(a) = TestServer::spawn_with(backend, opts).await else { return };
    let email = "twin@example.com";
    // Registered before B exists, so A's outbox gets the confirmation mail.
    active_user(&a, email).await;
    let b = a.sibling("user_storage_titles: [personal]\n").await;
    let (c, csrf) = fixed_cookie_client(&a, email).await;
    let on = |srv: &TestServer| srv.url("resource/users/me");
    me(&a, &c).await;

    resource(&c, &b, &csrf, Method::PUT, "users/me", json!({"data": "{\"from\":\"b\"}"})).await;
    let took =
        eventually(Duration::from_secs(1), || async { get(&c, &on(&a)).await.1["data"] == "{\"from\":\"b\"}" }).await;
    eprintln!("data written on B seen on A after {took:?}");
    ctl_json(&b, &["label", "set", email, "tier", "gold", "--scope", "public"]);
    eventually(Duration::from_secs(1), || async { has_label(&get(&c, &on(&a)).await.1, "tier=gold") }).await;
    resource(&c, &b, &csrf, Method::POST, "data_storage", json!({"title": "personal", "data": "{}"})).await;
    eventually(Duration::from_secs(1), || async {
        get(&c, &on(&a)).await.1["data_storages"][0]["title"] == "personal"
    })
    .await;

    let (s, _) = read(c.delete(b.url("identity/sessions")).send().await.expect("logout")).await;
    assert_eq!(s, 200);
    eventually(Duration::from_secs(1), || async { errors(&get(&c, &on(&a)).await.1) == ["authz.invalid_session"] })
        .await;
}

both!(users_me_follows_a_sibling_within_the_feed_interval, per_backend = sibling_writes);

/// A session kept alive through A (its sliding expiry written there) stays alive on B, which
/// cached the session with its first expiry: B asks the database before ending it, as it did
/// when every users/me read the session from there.
async fn expiry_slid_elsewhere(backend: Backend) {
    const SHORT: &str = "session_expire_time: 3\n";
    let Some(a) = TestServer::spawn_with(backend, Options { config: SHORT.into(), ..Default::default() }).await else {
        return;
    };
    let email = "slider@example.com";
    active_user(&a, email).await;
    let b = a.sibling(SHORT).await;
    let (c, _) = fixed_cookie_client(&a, email).await;
    me(&b, &c).await;
    // Past the first expiry, with A sliding it every half second.
    for _ in 0..9 {
        me(&a, &c).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    me(&b, &c).await;
}

both!(users_me_keeps_a_session_another_daemon_slid, per_backend = expiry_slid_elsewhere);
