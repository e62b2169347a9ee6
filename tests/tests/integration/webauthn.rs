//! WebAuthn as a second factor, driven by a software authenticator independent of the daemon's
//! webauthn-rs (tests/tools/webauthn_authenticator.py: python-fido2 and cryptography): enrolment,
//! login, API keys, replays, origins, counters, two daemons, management and barongctl.

use std::path::PathBuf;

use reqwest::Method;

use super::*;

const ORIGIN: &str = "http://localhost:8080";
const CONFIG: &str = "webauthn_rp_id: localhost\nwebauthn_origins: [\"http://localhost:8080\"]\n";
const PEATIO: &str = "api/v2/peatio/account/balances";

/// One authenticator: its key and counter live in a state file; a copy of the file is a clone.
struct Authenticator {
    python: String,
    state: PathBuf,
    _dir: Arc<tempfile::TempDir>,
}

impl Authenticator {
    /// `None` (the test skipped, loudly) without `BARONG_TEST_WEBAUTHN_PYTHON`; a failure under CI.
    fn new() -> Option<Self> {
        let Ok(python) = std::env::var("BARONG_TEST_WEBAUTHN_PYTHON") else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "BARONG_TEST_WEBAUTHN_PYTHON is not set (CI must run the WebAuthn tests)"
            );
            eprintln!("SKIPPED: BARONG_TEST_WEBAUTHN_PYTHON is not set (a venv with fido2==2.2.1)");
            return None;
        };
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        Some(Authenticator { python, state: dir.path().join("authenticator.json"), _dir: dir })
    }

    /// A copy of this authenticator as it is now (same key, same counter).
    fn clone_now(&self) -> Authenticator {
        let n = std::fs::read_dir(self._dir.path()).map(|d| d.count()).unwrap_or(0);
        let state = self._dir.path().join(format!("clone-{n}.json"));
        std::fs::copy(&self.state, &state).expect("copy state");
        Authenticator { python: self.python.clone(), state, _dir: self._dir.clone() }
    }

    fn run(&self, command: &str, options: &Value, origin: &str) -> Value {
        use std::io::Write;
        let script = workspace_root().join("tests/tools/webauthn_authenticator.py");
        let mut child = std::process::Command::new(&self.python)
            .arg(script)
            .args([command, "--state"])
            .arg(&self.state)
            .args(["--origin", origin])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("authenticator starts");
        child.stdin.take().expect("stdin").write_all(options.to_string().as_bytes()).expect("options");
        let out = child.wait_with_output().expect("authenticator runs");
        assert!(out.status.success(), "authenticator {command}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("credential JSON")
    }

    fn create(&self, options: &Value) -> Value {
        self.run("create", options, ORIGIN)
    }

    fn get(&self, options: &Value) -> Value {
        self.run("get", options, ORIGIN)
    }
}

fn res(srv: &TestServer, p: &str) -> String {
    srv.url(&format!("resource/webauthn/{p}"))
}

/// Enrols `auth` for the signed-in client; returns the finish call's answer.
async fn enrol(srv: &TestServer, c: &reqwest::Client, csrf: &str, auth: &Authenticator, name: &str) -> (u16, Value) {
    let (s, begun) = send_json(c, Method::POST, &res(srv, "registrations"), Some(csrf), Some(json!({}))).await;
    assert_eq!(s, 200, "registrations: {begun}");
    let credential = auth.create(&begun["publicKey"]);
    let body = json!({"challenge_id": begun["challenge_id"], "name": name, "credential": credential});
    send_json(c, Method::POST, &res(srv, "registrations/finish"), Some(csrf), Some(body)).await
}

/// An assertion for an action: a challenge from `resource/webauthn/assertions`, signed.
async fn proof(srv: &TestServer, c: &reqwest::Client, csrf: &str, auth: &Authenticator) -> Value {
    let (s, begun) = send_json(c, Method::POST, &res(srv, "assertions"), Some(csrf), None).await;
    assert_eq!(s, 200, "assertions: {begun}");
    json!({"challenge_id": begun["challenge_id"], "credential": auth.get(&begun["publicKey"])})
}

/// `POST identity/sessions` with the password only: the 401 and its WebAuthn challenge.
async fn login_challenge(srv: &TestServer, c: &reqwest::Client, email: &str) -> Value {
    let got = post(c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_err(&got, 401, &["identity.session.missing_otp"]);
    got.1["webauthn"].clone()
}

/// A full WebAuthn login: a fresh client, its session's CSRF token.
async fn login(srv: &TestServer, email: &str, auth: &Authenticator) -> (reqwest::Client, String) {
    let c = srv.client();
    let challenge = login_challenge(srv, &c, email).await;
    let assertion = json!({"challenge_id": challenge["challenge_id"], "credential": auth.get(&challenge["publicKey"])});
    let body = json!({"email": email, "password": PASSWORD, "webauthn": assertion});
    let (s, me) = post(&c, &srv.url("identity/sessions"), body).await;
    assert_eq!(s, 200, "webauthn login: {me}");
    (c, me["csrf_token"].as_str().expect("csrf").to_string())
}

async fn activities(srv: &TestServer, action: &str) -> Vec<String> {
    srv.sql_texts(&format!(
        "SELECT result || ':' || COALESCE(data, '') FROM activities WHERE action = '{action}' ORDER BY id"
    ))
    .await
}

both!(enrol_login_and_create_an_api_key, config = CONFIG, |srv: TestServer| async move {
    let Some(auth) = Authenticator::new() else { return };
    let email = "pia@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    assert_eq!(get(&c, &res(&srv, "credentials")).await, (200, json!([])));

    // Options a browser's parseCreationOptionsFromJSON() takes: the relying party, a user handle
    // that is not the email, a base64url challenge.
    let (s, begun) = send_json(&c, Method::POST, &res(&srv, "registrations"), Some(&csrf), None).await;
    assert_eq!(s, 200, "{begun}");
    let pk = &begun["publicKey"];
    assert_eq!(pk["rp"]["id"], "localhost");
    assert_eq!(pk["user"]["name"], email);
    assert!(pk["challenge"].as_str().is_some_and(|c| c.len() >= 43 && !c.contains('=')), "{pk}");
    assert!(begun["challenge_id"].as_str().is_some_and(|id| id.len() == 32), "{begun}");
    let credential = auth.create(pk);
    let finish = |name: &str| json!({"challenge_id": begun["challenge_id"], "name": name, "credential": credential});
    let (s, entity) =
        send_json(&c, Method::POST, &res(&srv, "registrations/finish"), Some(&csrf), Some(finish(" Yubi "))).await;
    assert_eq!(s, 201, "{entity}");
    assert_eq!(entity["name"], "Yubi");
    assert!(entity["created_at"].as_str().is_some_and(|t| t.ends_with('Z')) && entity["last_used_at"].is_null());
    assert_eq!(entity.as_object().map(|o| o.len()), Some(4), "id, name, created_at, last_used_at only: {entity}");
    // The registration's challenge is good once.
    let again = send_json(&c, Method::POST, &res(&srv, "registrations/finish"), Some(&csrf), Some(finish("b"))).await;
    assert_err(&again, 422, &["resource.webauthn.invalid_challenge"]);
    // The credential is sealed at rest: no public key nor credential JSON in the clear.
    let stored = srv.sql_texts("SELECT credential_sealed FROM webauthn_credentials").await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains("cred_id") && !stored[0].contains("EC_EC2"), "{}", stored[0]);

    // The otp flag stays Barong's: TOTP is off.
    assert_eq!(get(&c, &srv.url("resource/users/me")).await.1["otp"], false);

    // Logging in now needs the second factor: Barong's missing_otp, plus a challenge.
    let anon = srv.client();
    let challenge = login_challenge(&srv, &anon, email).await;
    let allowed = challenge["publicKey"]["allowCredentials"].as_array().expect("allowCredentials").clone();
    assert_eq!(allowed.len(), 1);
    assert_eq!(allowed[0]["id"], credential["id"]);
    // A TOTP code is no way in for a user without TOTP.
    let with_code = json!({"email": email, "password": PASSWORD, "otp_code": "123456"});
    assert_err(&post(&anon, &srv.url("identity/sessions"), with_code).await, 401, &["identity.session.missing_otp"]);
    let (c, csrf) = login(&srv, email, &auth).await;
    let logins = srv.sql_texts("SELECT action FROM activities WHERE topic = 'session' AND result = 'succeed'").await;
    assert!(logins.contains(&"login::webauthn".to_string()), "{logins:?}");

    // Upstreams see how the login was proven.
    let r = authz_call(&c, Method::GET, &auth_url(&srv, PEATIO), &[]).await;
    assert_eq!(r.0, 200, "{:?}", r.2);
    let token = r.1.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string();
    let claims = verify_with_jwks(&srv, &token).await;
    assert_eq!(claims["amr"], json!(["pwd", "webauthn"]));

    // An API key with an assertion in place of totp_code (the user has no TOTP at all).
    let keys = srv.url("resource/api_keys");
    let assertion = proof(&srv, &c, &csrf, &auth).await;
    let body = json!({"algorithm": "HS256", "webauthn": assertion});
    let (s, key) = send_json(&c, Method::POST, &keys, Some(&csrf), Some(body.clone())).await;
    assert_eq!(s, 201, "{key}");
    assert!(key["secret"].as_str().is_some());
    // The same assertion again: its challenge is gone.
    let replay = send_json(&c, Method::POST, &keys, Some(&csrf), Some(body)).await;
    assert_err(&replay, 422, &["resource.api_key.invalid_totp"]);
    // Neither factor: Barong's missing-code key.
    let none = send_json(&c, Method::POST, &keys, Some(&csrf), Some(json!({"algorithm": "HS256"}))).await;
    assert_err(&none, 422, &["resource.api_key.missing_totp", "resource.apikey.empty_totp_code"]);
    // Key changes take an assertion too.
    let kid = key["kid"].as_str().expect("kid");
    let body = json!({"state": "disabled", "webauthn": proof(&srv, &c, &csrf, &auth).await});
    let (s, k) = send_json(&c, Method::PATCH, &format!("{keys}/{kid}"), Some(&csrf), Some(body)).await;
    assert_eq!((s, k["state"].as_str()), (200, Some("disabled")), "{k}");

    let (_, list) = get(&c, &res(&srv, "credentials")).await;
    assert!(list[0]["last_used_at"].as_str().is_some(), "{list}");
    let enrolled = activities(&srv, "webauthn::enrol").await;
    assert!(enrolled.iter().any(|a| a.starts_with("succeed")), "{enrolled:?}");
});

both!(replays_origins_and_counters_are_refused, config = CONFIG, |srv: TestServer| async move {
    let Some(auth) = Authenticator::new() else { return };
    let email = "rex@example.com";
    let (c, csrf) = active_user(&srv, email).await;

    // A registration answered from another origin (a phishing page relaying the ceremony).
    let (_, begun) = send_json(&c, Method::POST, &res(&srv, "registrations"), Some(&csrf), None).await;
    let phished = auth.run("create", &begun["publicKey"], "http://localhost.evil.example");
    let body = json!({"challenge_id": begun["challenge_id"], "name": "k", "credential": phished});
    let got = send_json(&c, Method::POST, &res(&srv, "registrations/finish"), Some(&csrf), Some(body)).await;
    assert_err(&got, 422, &["resource.webauthn.invalid_credential"]);
    assert_eq!(enrol(&srv, &c, &csrf, &auth, "key").await.0, 201);

    // Login: another origin, then a replay of a good assertion.
    let anon = srv.client();
    let url = srv.url("identity/sessions");
    let challenge = login_challenge(&srv, &anon, email).await;
    let phished = auth.run("get", &challenge["publicKey"], "https://exchange.evil.example");
    let body = json!({"email": email, "password": PASSWORD,
        "webauthn": {"challenge_id": challenge["challenge_id"], "credential": phished}});
    assert_err(&post(&anon, &url, body).await, 403, &["identity.session.invalid_webauthn"]);
    let challenge = login_challenge(&srv, &anon, email).await;
    let good = json!({"email": email, "password": PASSWORD,
        "webauthn": {"challenge_id": challenge["challenge_id"], "credential": auth.get(&challenge["publicKey"])}});
    assert_eq!(post(&anon, &url, good.clone()).await.0, 200);
    assert_err(&post(&srv.client(), &url, good).await, 403, &["identity.session.invalid_webauthn"]);
    // A challenge of another purpose (an action's) does not log in.
    let action = proof(&srv, &c, &csrf, &auth).await;
    let body = json!({"email": email, "password": PASSWORD, "webauthn": action});
    assert_err(&post(&srv.client(), &url, body).await, 403, &["identity.session.invalid_webauthn"]);
    // Malformed: refused before anything is checked.
    let body = json!({"email": email, "password": PASSWORD, "webauthn": "nope"});
    assert_err(&post(&srv.client(), &url, body).await, 422, &["identity.session.invalid_webauthn"]);

    // A cloned authenticator: the copy signs with a counter the server has seen already.
    let clone = auth.clone_now();
    let (c, csrf) = login(&srv, email, &auth).await;
    let challenge = login_challenge(&srv, &srv.client(), email).await;
    let body = json!({"email": email, "password": PASSWORD,
        "webauthn": {"challenge_id": challenge["challenge_id"], "credential": clone.get(&challenge["publicKey"])}});
    assert_err(&post(&srv.client(), &url, body).await, 403, &["identity.session.invalid_webauthn"]);
    let suspected = activities(&srv, "webauthn::clone_suspected").await;
    assert_eq!(suspected.len(), 1, "{suspected:?}");
    assert!(suspected[0].starts_with("failed:") && suspected[0].contains("cloned"), "{suspected:?}");
    assert!(srv.logs().contains("possibly a cloned authenticator"));
    // The genuine one goes on working.
    let keys = srv.url("resource/api_keys");
    let body = json!({"algorithm": "HS256", "webauthn": proof(&srv, &c, &csrf, &auth).await});
    assert_eq!(send_json(&c, Method::POST, &keys, Some(&csrf), Some(body)).await.0, 201);
});

// Wrong assertions count in the account's bucket with wrong TOTP codes and passwords.
both!(
    wrong_assertions_are_throttled_with_totp_codes,
    config = format!("{CONFIG}login_throttle: {{max_failures_per_account: 3}}\n"),
    |srv: TestServer| async move {
        let Some(auth) = Authenticator::new() else { return };
        let (c, csrf) = active_user(&srv, "tim@example.com").await;
        assert_eq!(enrol(&srv, &c, &csrf, &auth, "key").await.0, 201);
        let keys = srv.url("resource/api_keys");
        let bad = json!({"algorithm": "HS256", "webauthn": {"challenge_id": "0".repeat(32), "credential": {}}});
        for _ in 0..3 {
            let got = send_json(&c, Method::POST, &keys, Some(&csrf), Some(bad.clone())).await;
            assert_err(&got, 422, &["resource.api_key.invalid_totp"]);
        }
        let got = send_json(&c, Method::POST, &keys, Some(&csrf), Some(bad)).await;
        assert_err(&got, 429, &["totp.too_many_attempts"]);
    }
);

both!(
    list_rename_delete_and_the_limit,
    config = format!("{CONFIG}webauthn_max_credentials: 2\n"),
    |srv: TestServer| async move {
        let Some(first) = Authenticator::new() else { return };
        let Some(second) = Authenticator::new() else { return };
        let email = "lea@example.com";
        let (c, csrf) = active_user(&srv, email).await;
        let (s, a) = enrol(&srv, &c, &csrf, &first, "Phone").await;
        assert_eq!(s, 201, "{a}");
        let (s, b) = enrol(&srv, &c, &csrf, &second, "Yubikey").await;
        assert_eq!(s, 201, "{b}");
        let (s, list) = get(&c, &res(&srv, "credentials")).await;
        assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(2)));
        assert_eq!((list[0]["name"].as_str(), list[1]["name"].as_str()), (Some("Phone"), Some("Yubikey")));
        // The limit.
        let got = send_json(&c, Method::POST, &res(&srv, "registrations"), Some(&csrf), None).await;
        assert_err(&got, 400, &["resource.webauthn.limit_reached"]);

        // Rename; names are checked; another user's or no credential is a 404.
        let url = |id: &Value| res(&srv, &format!("credentials/{id}"));
        let (s, renamed) =
            send_json(&c, Method::PATCH, &url(&a["id"]), Some(&csrf), Some(json!({"name": "Pixel"}))).await;
        assert_eq!((s, renamed["name"].as_str()), (200, Some("Pixel")), "{renamed}");
        let got = send_json(&c, Method::PATCH, &url(&a["id"]), Some(&csrf), Some(json!({"name": " "}))).await;
        assert_err(&got, 422, &["resource.webauthn.empty_name"]);
        let got = send_json(&c, Method::PATCH, &url(&json!(999_999)), Some(&csrf), Some(json!({"name": "x"}))).await;
        assert_err(&got, 404, &["record.not_found"]);
        let (other, other_csrf) = active_user(&srv, "oli@example.com").await;
        let got = send_json(&other, Method::PATCH, &url(&a["id"]), Some(&other_csrf), Some(json!({"name": "x"}))).await;
        assert_err(&got, 404, &["record.not_found"]);
        let got = send_json(&other, Method::DELETE, &url(&a["id"]), Some(&other_csrf), None).await;
        assert_err(&got, 404, &["record.not_found"]);

        // Not the last factor: no password needed.
        assert_eq!(send_json(&c, Method::DELETE, &url(&b["id"]), Some(&csrf), None).await.0, 204);
        // The last one needs the password, and the deletion is recorded.
        let a_url = url(&a["id"]);
        let del = |body: Value| send_json(&c, Method::DELETE, &a_url, Some(&csrf), Some(body));
        assert_err(&del(json!({})).await, 422, &["resource.webauthn.missing_password"]);
        assert_err(&del(json!({"password": "wrong-Pa55"})).await, 422, &["resource.webauthn.invalid_password"]);
        assert_eq!(del(json!({"password": PASSWORD})).await.0, 204);
        assert_eq!(get(&c, &res(&srv, "credentials")).await, (200, json!([])));
        let deleted = activities(&srv, "webauthn::delete").await;
        assert!(deleted.iter().any(|d| d.starts_with("succeed:") && d.contains("Last second factor")), "{deleted:?}");
        assert!(deleted.iter().any(|d| d.starts_with("failed:") && d.contains("Invalid password")), "{deleted:?}");
        // The password alone signs in again.
        let (s, _) =
            post(&srv.client(), &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(s, 200);
    }
);

both!(enrolment_needs_a_recent_login_and_the_totp_code, config = CONFIG, |srv: TestServer| async move {
    let Some(auth) = Authenticator::new() else { return };
    let (c, csrf, totp) = two_factor_user(&srv, "ned@example.com").await;
    let registrations = res(&srv, "registrations");
    let begin = |body: Value| send_json(&c, Method::POST, &registrations, Some(&csrf), Some(body));
    assert_err(&begin(json!({})).await, 422, &["resource.webauthn.missing_otp_code"]);
    assert_err(&begin(json!({"otp_code": wrong_code(&totp)})).await, 422, &["resource.webauthn.invalid_otp"]);
    let (s, begun) = begin(json!({"otp_code": fresh_code(&srv, &totp).await})).await;
    assert_eq!(s, 200, "{begun}");

    // The session is an hour old: too old to add a factor, begun or not.
    srv.sql("UPDATE sessions SET created_at = created_at - 3600").await;
    assert_err(
        &begin(json!({"otp_code": fresh_code(&srv, &totp).await})).await,
        401,
        &["resource.webauthn.reauth_required"],
    );
    let body =
        json!({"challenge_id": begun["challenge_id"], "name": "k", "credential": auth.create(&begun["publicKey"])});
    let got = send_json(&c, Method::POST, &res(&srv, "registrations/finish"), Some(&csrf), Some(body)).await;
    assert_err(&got, 401, &["resource.webauthn.reauth_required"]);
});

both!(off_unless_configured, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "off@example.com").await;
    let got = send_json(&c, Method::POST, &res(&srv, "registrations"), Some(&csrf), None).await;
    assert_err(&got, 422, &["resource.webauthn.disabled"]);
    assert_err(&get(&c, &res(&srv, "credentials")).await, 422, &["resource.webauthn.disabled"]);
    // Unauthenticated callers learn nothing.
    assert_eq!(get(&srv.client(), &res(&srv, "credentials")).await.0, 401);
});

/// A ceremony begun on one daemon is finished on another sharing the database; the state is
/// used once, whichever daemon sees the replay.
async fn across_daemons(backend: Backend) {
    let opts = Options { config: CONFIG.into(), ..Options::unpinned() };
    let Some(a) = TestServer::spawn_with(backend, opts).await else { return };
    let Some(auth) = Authenticator::new() else { return };
    let email = "two@example.com";
    let (c, csrf) = active_user(&a, email).await;
    within_limit(a, |a| async move {
        let b = a.sibling(CONFIG).await;
        let (s, begun) = send_json(&c, Method::POST, &res(&a, "registrations"), Some(&csrf), None).await;
        assert_eq!(s, 200, "{begun}");
        let body =
            json!({"challenge_id": begun["challenge_id"], "name": "k", "credential": auth.create(&begun["publicKey"])});
        let (s, entity) = send_json(&c, Method::POST, &res(&b, "registrations/finish"), Some(&csrf), Some(body)).await;
        assert_eq!(s, 201, "{entity}");

        let anon = a.client();
        let challenge = login_challenge(&a, &anon, email).await;
        let body = json!({"email": email, "password": PASSWORD,
            "webauthn": {"challenge_id": challenge["challenge_id"], "credential": auth.get(&challenge["publicKey"])}});
        let (s, me) = post(&b.client(), &b.url("identity/sessions"), body.clone()).await;
        assert_eq!(s, 200, "{me}");
        assert_err(
            &post(&a.client(), &a.url("identity/sessions"), body).await,
            403,
            &["identity.session.invalid_webauthn"],
        );
    })
    .await;
}
both!(a_ceremony_begun_on_one_daemon_finishes_on_another, per_backend = across_daemons);

both!(barongctl_lists_and_removes_a_lost_key, config = CONFIG, |srv: TestServer| async move {
    let Some(auth) = Authenticator::new() else { return };
    let email = "kim@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let (_, entity) = enrol(&srv, &c, &csrf, &auth, "Lost key").await;
    let uid = get(&c, &srv.url("resource/users/me")).await.1["uid"].as_str().expect("uid").to_string();

    let list = ctl_json(&srv, &["user", "webauthn", "list", &uid]);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!((list[0]["name"].as_str(), list[0]["id"].clone()), (Some("Lost key"), entity["id"].clone()));
    let (code, table, _) = srv.ctl(&["user", "webauthn", "list", email], None);
    assert!(code == 0 && table.contains("Lost key") && table.contains("never"), "{table}");

    let id = entity["id"].to_string();
    let (code, _, err) = srv.ctl(&["user", "webauthn", "remove", &uid, &id, "--reason", " "], None);
    assert!(code != 0 && err.contains("--reason"), "{err}");
    let left = ctl_json(&srv, &["user", "webauthn", "remove", &uid, &id, "--reason", "verified by video call"]);
    assert_eq!(left, json!([]));
    let (code, _, err) = srv.ctl(&["user", "webauthn", "remove", &uid, &id, "--reason", "again"], None);
    assert!(code != 0 && err.contains("record.not_found"), "{err}");
    // The admin log has the operator's row; the user's log says why.
    let admin = srv.sql_texts("SELECT data FROM activities WHERE category = 'admin' AND data LIKE '%webauthn%'").await;
    assert!(admin.iter().any(|d| d.contains("verified by video call") && d.contains("barongctl")), "{admin:?}");
    let removed = activities(&srv, "webauthn::delete").await;
    assert!(removed.iter().any(|d| d.contains("Removed by the operator")), "{removed:?}");
    // The password alone signs in again.
    let (s, _) =
        post(&srv.client(), &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(s, 200);
});

both!(an_assertion_stands_in_for_the_code_elsewhere, config = CONFIG, |srv: TestServer| async move {
    let Some(auth) = Authenticator::new() else { return };
    let (c, csrf, totp) = two_factor_user(&srv, "eve@example.com").await;
    let (s, begun) = send_json(
        &c,
        Method::POST,
        &res(&srv, "registrations"),
        Some(&csrf),
        Some(json!({"otp_code": fresh_code(&srv, &totp).await})),
    )
    .await;
    assert_eq!(s, 200, "{begun}");
    let body =
        json!({"challenge_id": begun["challenge_id"], "name": "k", "credential": auth.create(&begun["publicKey"])});
    assert_eq!(send_json(&c, Method::POST, &res(&srv, "registrations/finish"), Some(&csrf), Some(body)).await.0, 201);

    // Both factors: either logs in, and the claim says which.
    let (wc, _) = login(&srv, "eve@example.com", &auth).await;
    let r = authz_call(&wc, Method::GET, &auth_url(&srv, PEATIO), &[]).await;
    let claims = verify_with_jwks(&srv, r.1.expect("Authorization").trim_start_matches("Bearer ")).await;
    assert_eq!(claims["amr"], json!(["pwd", "webauthn"]));
    let tc = srv.client();
    let body = json!({"email": "eve@example.com", "password": PASSWORD, "otp_code": fresh_code(&srv, &totp).await});
    assert_eq!(post(&tc, &srv.url("identity/sessions"), body).await.0, 200);
    let r = authz_call(&tc, Method::GET, &auth_url(&srv, PEATIO), &[]).await;
    let claims = verify_with_jwks(&srv, r.1.expect("Authorization").trim_start_matches("Bearer ")).await;
    assert_eq!(claims["amr"], json!(["pwd", "otp"]));

    // otp/disable with an assertion; a wrong one is refused with the code's key.
    let disable = srv.url("resource/otp/disable");
    let bad = json!({"webauthn": {"challenge_id": "x", "credential": {}}});
    assert_err(&send_json(&c, Method::POST, &disable, Some(&csrf), Some(bad)).await, 422, &["resource.otp.invalid"]);
    let body = json!({"webauthn": proof(&srv, &c, &csrf, &auth).await});
    assert_eq!(send_json(&c, Method::POST, &disable, Some(&csrf), Some(body)).await, (200, json!(200)));

    // Deleting the account with an assertion in place of otp_code.
    let me = srv.url("resource/users/me");
    let body = json!({"password": PASSWORD, "webauthn": proof(&srv, &c, &csrf, &auth).await});
    let (s, b) = send_json(&c, Method::DELETE, &me, Some(&csrf), Some(body)).await;
    assert_eq!(s, 200, "{b}");
});
