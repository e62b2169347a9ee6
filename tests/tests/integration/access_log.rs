//! The access log an SRE reads: one line per request, with the client IP after trusted proxies,
//! the caller's uid once known, the status, Barong's error key, the latency and the request id
//! (an incoming `X-Request-Id` kept from a trusted proxy only). JSON logs, so fields are checked
//! by name.

use reqwest::Method;

use super::*;

/// The access lines of the daemon's log so far, as JSON: `fields` and the request `span` merged.
fn access_lines(srv: &TestServer) -> Vec<Value> {
    srv.logs()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "access")
        .map(|l| {
            let mut merged = l["span"].as_object().cloned().unwrap_or_default();
            merged.extend(l["fields"].as_object().cloned().unwrap_or_default());
            Value::Object(merged)
        })
        .collect()
}

/// The one access line of the request `id`, waiting for it to reach the log.
async fn line_of(srv: &TestServer, id: &str) -> Value {
    eventually(Duration::from_secs(5), || async { access_lines(srv).iter().any(|l| l["request_id"] == id) }).await;
    let mut lines: Vec<Value> = access_lines(srv).into_iter().filter(|l| l["request_id"] == id).collect();
    assert_eq!(lines.len(), 1, "one access line per request: {lines:?}");
    lines.remove(0)
}

fn new_id() -> String {
    format!("edge-{}", uuid::Uuid::new_v4().simple())
}

/// Sends `r` with a fresh `X-Request-Id` (and the given X-Forwarded-For); (status, request id
/// the daemon answered with).
async fn send(r: reqwest::RequestBuilder, forwarded_for: Option<&str>) -> (u16, String) {
    let id = new_id();
    let mut r = r.header("X-Request-Id", &id);
    if let Some(xff) = forwarded_for {
        r = r.header("X-Forwarded-For", xff);
    }
    let resp = r.send().await.expect("request");
    let answered = resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (resp.status().as_u16(), answered)
}

both!(every_request_leaves_one_useful_access_line, config = "log_format: json\n", |srv: TestServer| async move {
    let email = "access@example.com";
    drop(active_user(&srv, email).await);
    let uid = srv.sql_texts(&format!("SELECT uid FROM users WHERE email = '{email}'")).await.remove(0);
    let c = srv.client();
    let client = "203.0.113.7";

    // A login through a trusted proxy (the test's loopback): the client's address, the uid, the
    // proxy's request id, the status and a latency.
    let login = c.post(srv.url("identity/sessions")).json(&json!({"email": email, "password": PASSWORD}));
    let (s, id) = send(login, Some(client)).await;
    assert_eq!(s, 200);
    assert!(id.starts_with("edge-"), "the trusted proxy's id is kept: {id}");
    let line = line_of(&srv, &id).await;
    assert_eq!(
        (&line["ip"], &line["uid"], &line["status"], &line["method"]),
        (&json!(client), &json!(uid), &json!(200), &json!("POST")),
        "{line}"
    );
    assert_eq!(line["route"], "/api/v2/barong/identity/sessions", "{line}");
    assert!(line["micros"].as_u64().is_some_and(|m| m > 0), "{line}");
    assert!(line.get("error").is_none(), "{line}");

    // A refused login: the error key, no uid, and never the password.
    let wrong = c.post(srv.url("identity/sessions")).json(&json!({"email": email, "password": "Wrong-Pa55word"}));
    let (s, id) = send(wrong, Some(client)).await;
    assert_eq!(s, 401);
    let line = line_of(&srv, &id).await;
    assert_eq!((&line["error"], &line["status"]), (&json!("identity.session.invalid_params"), &json!(401)), "{line}");
    assert!(line.get("uid").is_none(), "{line}");
    assert!(!srv.logs().contains("Wrong-Pa55word") && !srv.logs().contains(PASSWORD), "a password in the log");

    // The gateway: allowed (uid) and refused (error key), one line each.
    let balances = auth_url(&srv, "api/v2/peatio/account/balances");
    // (The session belongs to the client's address: the same proxy header on every call.)
    let (s, id) = send(c.request(Method::GET, &balances), Some(client)).await;
    assert_eq!(s, 200);
    let line = line_of(&srv, &id).await;
    assert_eq!(
        (&line["uid"], &line["route"], &line["ip"]),
        (&json!(uid), &json!("/api/v2/barong/auth/*"), &json!(client))
    );
    let (s, id) = send(reqwest::Client::new().request(Method::GET, &balances), None).await;
    assert_eq!(s, 401);
    let line = line_of(&srv, &id).await;
    assert_eq!((&line["error"], &line["status"]), (&json!("authz.invalid_session"), &json!(401)), "{line}");

    // A resource call names its caller; a query string never reaches the log.
    let (s, id) = send(c.get(format!("{}?secret=hunter2-token", srv.url("resource/users/me"))), Some(client)).await;
    assert_eq!(s, 200);
    let line = line_of(&srv, &id).await;
    assert_eq!((&line["uid"], &line["path"]), (&json!(uid), &json!("/api/v2/barong/resource/users/me")), "{line}");
    assert!(!srv.logs().contains("hunter2-token"), "a query string in the log");

    // No endpoint: an unknown route and the JWKS still get their line.
    let (s, id) = send(c.get(format!("{}/api/v2/barong/nowhere", srv.base)), Some(client)).await;
    assert_eq!(s, 404);
    let line = line_of(&srv, &id).await;
    assert_eq!(
        (&line["path"], &line["ip"], &line["status"]),
        (&json!("/api/v2/barong/nowhere"), &json!(client), &json!(404))
    );
    let (s, id) = send(c.get(format!("{}/.well-known/jwks.json", srv.base)), None).await;
    assert_eq!(s, 200);
    assert_eq!(line_of(&srv, &id).await["path"], "/.well-known/jwks.json");
});

// Nobody is trusted: the peer's address and a fresh request id, whatever the headers say.
both!(
    an_untrusted_peer_sets_neither_ip_nor_request_id,
    config = "log_format: json\ntrusted_proxies: []\n",
    |srv: TestServer| async move {
        let (s, id) = send(srv.client().get(srv.url("identity/ping")), Some("203.0.113.7")).await;
        assert_eq!(s, 200);
        assert_eq!(id.len(), 32, "a fresh id, not the sender's: {id}");
        let line = line_of(&srv, &id).await;
        assert_eq!(line["ip"], "127.0.0.1", "{line}");
    }
);
