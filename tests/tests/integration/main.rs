//! Black-box integration tests: each test starts the real barongd (port 0, fresh database) and
//! drives it over HTTP, through its outbox, its database and barongctl. Every test in a
//! `both!` block runs on SQLite and on PostgreSQL.

mod access_log;
mod account;
mod admin;
mod admin_access;
mod admin_api;
mod admin_kyc;
mod admin_labels;
mod admin_logs;
mod admin_tower_kyc;
mod admin_users;
mod api_keys;
mod auth0;
mod authz;
mod backup;
mod bad_input;
mod barong_config;
mod captcha;
mod config_errors;
mod config_paths;
mod contract;
mod crash;
mod ctl_admin;
mod ctl_management;
mod ctl_output;
mod denied_audit;
mod documents;
mod email;
mod events;
mod events_tls;
mod gateway_proxies;
mod general;
mod import_barong;
mod import_vault;
mod jose;
mod jwt_algorithms;
mod key_takeover;
mod keys_import;
mod kyc_review;
mod kycaid;
mod legacy_passwords;
mod login_origin;
mod mail_throttle;
mod management;
mod master_key;
mod master_key_fingerprint;
mod object_storage;
mod operability;
mod otp;
mod outbox;
mod password;
mod phones;
mod production_mode;
mod profiles;
mod read_your_writes;
mod register;
mod restrictions;
mod safe_state;
mod sessions;
mod slow_uploads;
mod smtp;
mod startup;
mod throttle;
mod users_me;
mod webauthn;
mod webauthn_browser;

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

/// Runs `barongctl --json ARGS`, which must succeed, and returns its JSON document.
#[track_caller]
pub fn ctl_json(srv: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = srv.ctl(&all, None);
    assert_eq!(code, 0, "barongctl {args:?}: {err}");
    serde_json::from_str(&out).expect("json output")
}

/// An active level-1 user made by the operator: no login, no mail, no throttle bucket touched.
#[track_caller]
pub fn operator_user(srv: &TestServer, email: &str) {
    let (code, _, err) =
        srv.ctl(&["user", "create", "--email", email, "--level", "1", "--password-stdin"], Some(PASSWORD));
    assert_eq!(code, 0, "user create: {err}");
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

// --- authz helpers ---

/// `<base>/api/v2/auth/<path>`: where a gateway asks.
pub fn auth_url(srv: &TestServer, path: &str) -> String {
    format!("{}/api/v2/auth/{path}", srv.base)
}

/// A gateway call: (status, the `Authorization` header, the body as JSON or text, content type).
pub async fn authz_call(
    c: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(&str, String)],
) -> (u16, Option<String>, Value, Option<String>) {
    let mut r = c.request(method, url);
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    let resp = r.send().await.expect("request");
    let auth = resp.headers().get("authorization").and_then(|v| v.to_str().ok()).map(str::to_string);
    let ctype = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    let (status, body) = read(resp).await;
    (status, auth, body, ctype)
}

/// The clock in ms, strictly increasing across calls: a nonce is accepted once per key, and two
/// calls in the same millisecond must not look like a replay.
pub fn now_ms() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_millis() as i64;
    let prev = LAST.fetch_max(clock, Ordering::SeqCst);
    if prev >= clock { LAST.fetch_add(1, Ordering::SeqCst) + 1 } else { clock }
}

/// Barong's API-key headers for `kid`/`secret` and a nonce.
pub fn signed_headers(kid: &str, secret: &str, nonce: i64) -> Vec<(&'static str, String)> {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("hmac key");
    mac.update(format!("{nonce}{kid}").as_bytes());
    vec![
        ("X-Auth-Apikey", kid.to_string()),
        ("X-Auth-Nonce", nonce.to_string()),
        ("X-Auth-Signature", hex::encode(mac.finalize().into_bytes())),
    ]
}

/// Creates an HS256 API key for a 2FA user; returns (kid, secret).
pub async fn create_api_key(
    srv: &TestServer,
    c: &reqwest::Client,
    csrf: &str,
    totp: &totp_rs::TOTP,
) -> (String, String) {
    let code = fresh_code(srv, totp).await;
    let body = json!({"algorithm": "HS256", "totp_code": code});
    let (s, key) = send_json(c, reqwest::Method::POST, &srv.url("resource/api_keys"), Some(csrf), Some(body)).await;
    assert_eq!(s, 201, "api key: {key}");
    (key["kid"].as_str().expect("kid").to_string(), key["secret"].as_str().expect("secret").to_string())
}

/// Retries `check` until it returns true, for at most `within`; returns how long it took.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = std::time::Instant::now();
    loop {
        if check().await {
            return start.elapsed();
        }
        assert!(start.elapsed() < within, "not seen within {within:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Verifies an upstream JWT with the daemon's JWKS, independently of barongd's code: jwt-simple
/// (not barongd's jsonwebtoken) checks the signature with the public key built from the JWK alone.
/// The header's `kid` must be published, its `alg` must be that JWK's `alg`, and the claims must
/// have a future `exp`, `iss` barong, `peatio` among `aud`, and a `sub`. Returns the claims.
pub async fn verify_with_jwks(srv: &TestServer, token: &str) -> Value {
    verify_with_jwks_for(srv, token, Some("peatio")).await
}

/// As [`verify_with_jwks`], with the audience to require (`None`: Event API messages carry none,
/// as Barong's did).
pub async fn verify_with_jwks_for(srv: &TestServer, token: &str, audience: Option<&str>) -> Value {
    use jwt_simple::prelude::ECDSAP256PublicKeyLike;
    use jwt_simple::prelude::{
        Base64UrlSafeNoPadding, ES256PublicKey, Ed25519PublicKey, EdDSAPublicKeyLike, JWTClaims, RS256PublicKey,
        RSAPublicKeyLike, Token, VerificationOptions,
    };
    use jwt_simple::reexports::ct_codecs::Decoder as _;
    let (s, jwks) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
    assert_eq!(s, 200, "jwks: {jwks}");
    let meta = Token::decode_metadata(token).expect("JWT header");
    // A jwt-multisig signature (events) names its key `jwks_kid`, its signer being the `kid` of
    // the unprotected header.
    let header_part = token.split('.').next().expect("header");
    let header: Value =
        serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(header_part, None).expect("b64")).expect("JSON");
    let kid = match (meta.key_id(), header["jwks_kid"].as_str()) {
        (Some(kid), None) => kid.to_string(),
        (None, Some(kid)) => kid.to_string(),
        _ => panic!("exactly one of kid and jwks_kid in the header: {header}"),
    };
    let keys = jwks["keys"].as_array().expect("keys");
    let jwk = keys.iter().find(|k| k["kid"] == kid.as_str()).unwrap_or_else(|| panic!("kid {kid} not in {jwks}"));
    assert_eq!(Some(meta.algorithm()), jwk["alg"].as_str(), "the header's alg is the JWK's: {jwk}");
    assert_eq!(jwk["use"], "sig", "{jwk}");
    let part = |f: &str| {
        let text = jwk[f].as_str().unwrap_or_else(|| panic!("{f} in {jwk}"));
        Base64UrlSafeNoPadding::decode_to_vec(text, None).unwrap_or_else(|e| panic!("{f} is not base64url: {e}"))
    };
    let options = VerificationOptions {
        required_key_id: meta.key_id().map(str::to_string),
        allowed_issuers: Some(["barong".to_string()].into()),
        allowed_audiences: audience.map(|a| [a.to_string()].into()),
        time_tolerance: Some(jwt_simple::prelude::Duration::from_secs(5)),
        ..Default::default()
    };
    type Custom = serde_json::Map<String, Value>;
    let verified: Result<JWTClaims<Custom>, _> = match (jwk["kty"].as_str(), jwk["crv"].as_str()) {
        (Some("RSA"), None) => {
            RS256PublicKey::from_components(&part("n"), &part("e")).expect("RSA JWK").verify_token(token, Some(options))
        }
        (Some("EC"), Some("P-256")) => {
            let (x, y) = (part("x"), part("y"));
            assert_eq!((x.len(), y.len()), (32, 32), "P-256 coordinates: {jwk}");
            let point = [&[4u8][..], &x, &y].concat();
            ES256PublicKey::from_bytes(&point).expect("EC JWK").verify_token(token, Some(options))
        }
        (Some("OKP"), Some("Ed25519")) => {
            Ed25519PublicKey::from_bytes(&part("x")).expect("OKP JWK").verify_token(token, Some(options))
        }
        _ => panic!("unexpected JWK {jwk}"),
    };
    let claims = verified.unwrap_or_else(|e| panic!("JWT does not verify with {jwk}: {e}"));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    assert!(claims.expires_at.is_some_and(|exp| exp.as_secs() > now), "exp in the future");
    assert!(claims.subject.as_deref().is_some_and(|s| !s.is_empty()), "sub");
    // The payload as sent (jwt-simple's typed claims drop the JSON types of iat/exp).
    let payload = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(payload, None).expect("base64url")).expect("JSON")
}

/// Logs in on `srv` and returns a client that always sends that session cookie (whatever later
/// replies set, as a thief replaying it would), plus the CSRF token.
pub async fn fixed_cookie_client(srv: &TestServer, email: &str) -> (reqwest::Client, String) {
    let (cookie, csrf) = login_cookie(srv, email).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, cookie.parse().expect("cookie header"));
    let c = reqwest::Client::builder().user_agent(TEST_UA).default_headers(headers).build().expect("client");
    (c, csrf)
}

/// Logs in on `srv` and returns the session's `name=value` cookie pair and its CSRF token.
pub async fn login_cookie(srv: &TestServer, email: &str) -> (String, String) {
    let login = reqwest::Client::builder().user_agent(TEST_UA).build().expect("client");
    let resp = login
        .post(srv.url("identity/sessions"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    let cookie = resp.headers()["set-cookie"].to_str().expect("cookie").split(';').next().expect("pair").to_string();
    let (s, body) = read(resp).await;
    assert_eq!(s, 200, "login: {body}");
    (cookie, body["csrf_token"].as_str().expect("csrf").to_string())
}
