//! Black-box integration tests: each test starts the real barongd (port 0, fresh database) and
//! drives it over HTTP, through its outbox, its database and barongctl. Every test in a
//! `both!` block runs on SQLite and on PostgreSQL.

mod account;
mod admin;
mod api_keys;
mod authz;
mod bad_input;
mod captcha;
mod email;
mod general;
mod otp;
mod password;
mod register;
mod restrictions;
mod sessions;
mod smtp;
mod startup;

pub use std::sync::Arc;
pub use std::time::Duration;

pub use barong_tests::*;

pub const PASSWORD: &str = "Zahsh8ei-Quoo";

/// Posts JSON and returns (status, body as JSON or the raw text as a JSON string).
pub async fn post(c: &reqwest::Client, url: &str, body: Value) -> (u16, Value) {
    let r = c.post(url).json(&body).send().await.expect("request");
    read(r).await
}

pub async fn get(c: &reqwest::Client, url: &str) -> (u16, Value) {
    read(c.get(url).send().await.expect("request")).await
}

pub async fn read(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let text = r.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

pub fn errors(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Asserts a Barong error reply.
#[track_caller]
pub fn assert_err(got: &(u16, Value), status: u16, keys: &[&str]) {
    assert_eq!(got.0, status, "status of {}", got.1);
    assert_eq!(errors(&got.1), keys, "keys of {}", got.1);
}

pub async fn register(srv: &TestServer, c: &reqwest::Client, email: &str) -> Value {
    let (status, body) = post(c, &srv.url("identity/users"), json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(status, 201, "register: {body}");
    body
}

/// The newest confirmation token mailed to `email`.
pub async fn mailed_token(srv: &TestServer, email: &str, param: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let found = srv
            .outbox()
            .into_iter()
            .rev()
            .find(|m| m.contains(&format!("To: {email}")) && m.contains(param))
            .and_then(|m| token_in(&m, param));
        if let Some(t) = found {
            return t;
        }
        assert!(std::time::Instant::now() < deadline, "no mail with {param} for {email}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Registers and confirms `email`; returns a client logged in as that user and its CSRF token.
pub async fn active_user(srv: &TestServer, email: &str) -> (reqwest::Client, String) {
    let c = srv.client();
    register(srv, &c, email).await;
    let token = mailed_token(srv, email, "confirmation_token").await;
    let (s, b) = post(&c, &srv.url("identity/users/email/confirm_code"), json!({"token": token})).await;
    assert_eq!(s, 201, "confirm: {b}");
    let c = srv.client();
    let (s, b) = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(s, 200, "login: {b}");
    let csrf = b["csrf_token"].as_str().expect("csrf").to_string();
    (c, csrf)
}

// --- otp/api-key helpers ---

/// `method url` with the CSRF header (when given) and a JSON body (when given).
pub async fn send_json(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = c.request(method, url);
    if let Some(t) = csrf {
        r = r.header("X-CSRF-Token", t);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    read(r.send().await.expect("request")).await
}

/// `POST otp/generate_qrcode`, then an authenticator built from the reply's otpauth URL, as a
/// phone app would build it from the QR code.
pub async fn setup_totp(srv: &TestServer, c: &reqwest::Client, csrf: &str) -> (totp_rs::TOTP, Value) {
    let url = srv.url("resource/otp/generate_qrcode");
    let (s, body) = send_json(c, reqwest::Method::POST, &url, Some(csrf), None).await;
    assert_eq!(s, 201, "generate_qrcode: {body}");
    let otpauth = body["data"]["url"].as_str().expect("data.url");
    (totp_rs::TOTP::from_url_unchecked(otpauth).expect("otpauth URL parses"), body)
}

/// The authenticator's current code. Each code is accepted once and a used step blocks the
/// earlier ones, so a real client waits up to 30 s between two 2FA operations; the test forgets
/// the used step in the database instead of sleeping.
pub async fn fresh_code(srv: &TestServer, totp: &totp_rs::TOTP) -> String {
    srv.sql("UPDATE users SET otp_last_step = NULL").await;
    totp.generate_current().expect("clock")
}

/// A well-formed code that is valid in none of the accepted steps.
pub fn wrong_code(totp: &totp_rs::TOTP) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let valid: Vec<String> = [now - 30, now, now + 30].iter().map(|t| totp.generate(*t)).collect();
    (0..)
        .map(|n: u32| format!("{:06}", (n * 7919 + 123_457) % 1_000_000))
        .find(|c| !valid.contains(c))
        .expect("a wrong code")
}

/// An active, logged-in user with 2FA enabled: its client, CSRF token and authenticator.
pub async fn two_factor_user(srv: &TestServer, email: &str) -> (reqwest::Client, String, totp_rs::TOTP) {
    let (c, csrf) = active_user(srv, email).await;
    let (totp, _) = setup_totp(srv, &c, &csrf).await;
    let code = fresh_code(srv, &totp).await;
    let url = srv.url("resource/otp/enable");
    let (s, b) = send_json(&c, reqwest::Method::POST, &url, Some(&csrf), Some(json!({"code": code}))).await;
    assert_eq!((s, b), (201, json!(200)), "otp/enable");
    (c, csrf, totp)
}

/// Whether `fields` appear as JSON keys in `raw` in this order (serde_json's `Value` sorts keys,
/// so the wire order is checked on the text).
pub fn keys_in_order(raw: &str, fields: &[&str]) -> bool {
    let at: Vec<Option<usize>> = fields.iter().map(|f| raw.find(&format!("\"{f}\":"))).collect();
    at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1])
}
