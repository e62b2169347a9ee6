//! Black-box integration tests: each test starts the real barongd (port 0, fresh database) and
//! drives it over HTTP, through its outbox, its database and barongctl. Every test in a
//! `both!` block runs on SQLite and on PostgreSQL.

mod account;
mod admin;
mod api_keys;
mod bad_input;
mod captcha;
mod email;
mod general;
mod otp;
mod password;
mod register;
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
