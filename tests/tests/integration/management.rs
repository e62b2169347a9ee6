//! Management API (spec admin-and-management §4): requests signed by an independent signer
//! (tests/tools/mgmt_sign.py, jwcrypto) with keys made by the openssl CLI, sent to a real daemon.
//! The signer needs `BARONG_TEST_PYTHON` (a python with jwcrypto); without it these tests say
//! SKIPPED, and under `CI=true` they fail.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

fn python() -> Option<String> {
    match std::env::var("BARONG_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "BARONG_TEST_PYTHON is not set, and CI=true requires the Management API tests"
            );
            eprintln!("SKIPPED (Management API): BARONG_TEST_PYTHON (a python with jwcrypto) is not set");
            None
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

/// Signers' keys in a directory of their own: `rsa` (2048) and `ec` (P-256), `.pem` private and
/// `.pub` public.
struct Keys {
    dir: tempfile::TempDir,
    py: String,
}

impl Keys {
    fn new(py: String) -> Keys {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = Keys { dir, py };
        for (name, opt) in [("rsa", "rsa_keygen_bits:2048"), ("ec", "ec_paramgen_curve:P-256")] {
            let alg = if name == "rsa" { "RSA" } else { "EC" };
            let pem = keys.path(&format!("{name}.pem"));
            run(Command::new("openssl").args(["genpkey", "-algorithm", alg, "-pkeyopt", opt, "-out"]).arg(&pem));
            let public = keys.path(&format!("{name}.pub"));
            run(Command::new("openssl").arg("pkey").arg("-in").arg(&pem).arg("-pubout").arg("-out").arg(&public));
        }
        keys
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A keychain value: URL-safe base64 of the public key's PEM, as Barong's docs make it.
    fn value(&self, name: &str) -> String {
        use base64::Engine;
        let pem = std::fs::read(self.path(&format!("{name}.pub"))).expect("pub");
        base64::engine::general_purpose::URL_SAFE.encode(pem)
    }

    /// The general JSON JWS of `claims`, signed by each `(kid, alg, key file)`.
    fn sign(&self, claims: &Value, signers: &[(&str, &str, &str)]) -> Value {
        let mut cmd = Command::new(&self.py);
        cmd.arg(workspace_root().join("tests/tools/mgmt_sign.py")).arg(claims.to_string());
        for (kid, alg, file) in signers {
            cmd.arg(format!("{kid}:{alg}:{}", self.path(file).display()));
        }
        serde_json::from_str(&run(&mut cmd)).expect("the signer prints JSON")
    }

    /// A `management_api.yml` with both signers and `scopes` (YAML lines under `scopes:`).
    fn yml(&self, scopes: &str) -> PathBuf {
        let text = format!(
            "keychain:\n  applogic:\n    algorithm: RS256\n    value: {}\n  backoffice:\n    algorithm: ES256\n    value: {}\njwt:\n  verify_iss: true\n  iss: applogic\nscopes:\n{scopes}",
            self.value("rsa"),
            self.value("ec")
        );
        let path = self.path(&format!("management_api_{}.yml", JTI.fetch_add(1, Ordering::SeqCst)));
        std::fs::write(&path, text).expect("write");
        path
    }
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

const SCOPES: &str = "  tools: {permitted_signers: [applogic, backoffice], mandatory_signers: [applogic]}\n  read_labels: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  write_labels: {permitted_signers: [applogic, backoffice], mandatory_signers: [applogic, backoffice]}\n  read_users: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  read_phones: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  write_phones: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  read_service_accounts: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n";

static JTI: AtomicU64 = AtomicU64::new(1);

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Claims as Applogic sends them: `iat`, `exp = iat + 60`, a fresh `jti`, `iss`.
fn claims(data: Value) -> Value {
    let jti = format!("{:x}{:08x}", now(), JTI.fetch_add(1, Ordering::SeqCst));
    json!({"data": data, "iat": now(), "exp": now() + 60, "jti": jti, "iss": "applogic"})
}

fn mgmt(srv: &TestServer, path: &str) -> String {
    format!("{}/api/v2/management/{path}", srv.base)
}

async fn send(srv: &TestServer, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new().request(method, mgmt(srv, path)).json(body).send().await.expect("request");
    read(r).await
}

async fn post_signed(srv: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    send(srv, reqwest::Method::POST, path, body).await
}

fn error(text: &str) -> Value {
    json!({ "error": text })
}

/// Starts a daemon whose `management_api` section is `file: <yml with scopes>` plus `extra`
/// lines, then runs `body` with it and the keys; returns at once when skipped.
async fn with_management<F, Fut>(backend: Backend, scopes: &str, extra: &str, body: F)
where
    F: FnOnce(TestServer, Keys) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(py) = python() else { return };
    let keys = Keys::new(py);
    let yml = keys.yml(scopes);
    let config = format!("management_api:\n  file: {}\n{extra}", yml.display());
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    within_limit(srv, |srv| body(srv, keys)).await;
}

const FAILED: &str = "Failed to verify JWT.";
const NOT_ENOUGH: &str = "Not enough signatures for the action.";

async fn signatures(srv: TestServer, keys: Keys) {
    let app = ("applogic", "RS256", "rsa.pem");
    let back = ("backoffice", "ES256", "ec.pem");
    let signed = keys.sign(&claims(json!({})), &[app]);
    let (s, b) = post_signed(&srv, "timestamp", &signed).await;
    assert_eq!(s, 200, "{b}");
    assert!((b["timestamp"].as_i64().expect("timestamp") - now()).abs() <= 5, "{b}");
    assert_eq!(post_signed(&srv, "timestamp", &signed).await, (401, error(FAILED)), "a jti is good once");
    // The external path form, two signers, a permitted but not mandatory one alone, a stranger.
    let url = format!("{}/api/v2/barong/management/timestamp", srv.base);
    let both = keys.sign(&claims(json!({})), &[back, app]);
    assert_eq!(read(reqwest::Client::new().post(url).json(&both).send().await.expect("post")).await.0, 200);
    let only_back = keys.sign(&claims(json!({})), &[back]);
    assert_eq!(post_signed(&srv, "timestamp", &only_back).await, (401, error(NOT_ENOUGH)));
    let stranger = keys.sign(&claims(json!({})), &[("peatio", "RS256", "rsa.pem")]);
    assert_eq!(post_signed(&srv, "timestamp", &stranger).await, (401, error(NOT_ENOUGH)));
    // A key under another signer's name.
    let wrong_key = keys.sign(&claims(json!({})), &[("applogic", "ES256", "ec.pem")]);
    assert_eq!(post_signed(&srv, "timestamp", &wrong_key).await, (401, error(FAILED)));
    // Claims: expired, too long a lifetime, iss of the jwt options, no jti.
    let mut c = claims(json!({}));
    c["iat"] = json!(now() - 120);
    c["exp"] = json!(now() - 60);
    assert_eq!(post_signed(&srv, "timestamp", &keys.sign(&c, &[app])).await, (401, error(FAILED)), "expired");
    let mut c = claims(json!({}));
    c["exp"] = json!(now() + 3600);
    assert_eq!(post_signed(&srv, "timestamp", &keys.sign(&c, &[app])).await, (401, error(FAILED)), "lifetime");
    let mut c = claims(json!({}));
    c["iss"] = json!("peatio");
    assert_eq!(post_signed(&srv, "timestamp", &keys.sign(&c, &[app])).await, (401, error(FAILED)), "iss");
    let mut c = claims(json!({}));
    c.as_object_mut().expect("object").remove("jti");
    assert_eq!(post_signed(&srv, "timestamp", &keys.sign(&c, &[app])).await, (401, error(FAILED)), "jti");
    // Tampering: another payload under applogic's signature.
    let mut tampered = keys.sign(&claims(json!({})), &[app]);
    tampered["payload"] = keys.sign(&claims(json!({"x": 1})), &[app])["payload"].clone();
    assert_eq!(post_signed(&srv, "timestamp", &tampered).await, (401, error(FAILED)), "tampered");
    // W2: HS256 keyed with applogic's public PEM, which Barong counted as applogic's signature.
    let forged = keys.sign(&claims(json!({})), &[("applogic", "HS256", "rsa.pub")]);
    assert_eq!(post_signed(&srv, "timestamp", &forged).await, (401, error(FAILED)), "HS256 forgery");
    assert!(!srv.logs().contains(&forged["signatures"][0]["signature"].as_str().expect("sig")[..20]));
}

both!(signatures_are_verified, per_backend = |b| with_management(b, SCOPES, "", signatures));

async fn transport(srv: TestServer, keys: Keys) {
    let app = ("applogic", "RS256", "rsa.pem");
    let c = reqwest::Client::new();
    let fresh = || keys.sign(&claims(json!({})), &[app]);
    let url = mgmt(&srv, "timestamp");
    let r = c.post(format!("{url}?a=1")).json(&fresh()).send().await.expect("post");
    assert_eq!(read(r).await, (400, error("Query parameters are not allowed.")));
    let r = c.post(format!("{url}?")).json(&fresh()).send().await.expect("post");
    assert_eq!(read(r).await.0, 200, "a lone ? is no parameter");
    let r = c.post(&url).header("content-type", "text/plain").body(fresh().to_string()).send().await.expect("post");
    assert_eq!(read(r).await, (400, error("Only JSON body is accepted.")));
    let r = c.post(&url).body(fresh().to_string()).send().await.expect("post");
    assert_eq!(read(r).await, (400, error("Only JSON body is accepted.")), "no content type");
    let r = c
        .post(&url)
        .header("content-type", "application/json; charset=utf-8")
        .body(fresh().to_string())
        .send()
        .await
        .expect("post");
    assert_eq!(read(r).await.0, 200, "charset is fine");
    let r = c.post(&url).header("content-type", "application/json").body("{not json").send().await.expect("post");
    assert_eq!(read(r).await, (400, error("Couldn't parse JWT.")));
    let big = "x".repeat(16 * 1024 * 1024 + 10);
    let r = c.post(&url).header("content-type", "application/json").body(big).send().await.expect("post");
    assert_eq!(read(r).await, (413, error("Request body is too large.")));
    // Unknown routes and wrong verbs.
    let (s, b) = read(c.get(&url).send().await.expect("get")).await;
    assert_eq!((s, b), (404, error("Route is not found")));
    assert_eq!(post_signed(&srv, "nothing/here", &fresh()).await, (404, error("Route is not found")));
    assert_eq!(send(&srv, reqwest::Method::PUT, "timestamp", &fresh()).await, (404, error("Route is not found")));
}

both!(transport_checks_come_first, per_backend = |b| with_management(b, SCOPES, "", transport));

async fn networks(srv: TestServer, keys: Keys) {
    let signed = keys.sign(&claims(json!({})), &[("applogic", "RS256", "rsa.pem")]);
    let denied = (403, error("Access is not allowed from this network."));
    assert_eq!(post_signed(&srv, "timestamp", &signed).await, denied);
    assert_eq!(post_signed(&srv, "no/such/route", &signed).await, denied, "before the route");
    let url = format!("{}/api/v2/barong/management/timestamp?x=1", srv.base);
    assert_eq!(read(reqwest::Client::new().post(url).json(&signed).send().await.expect("post")).await, denied);
    // The user API is not behind this boundary.
    assert_eq!(get(&srv.client(), &srv.url("identity/ping")).await.0, 200);
}

both!(
    allowed_networks_are_checked_first,
    per_backend = |b| with_management(b, SCOPES, "  allowed_networks: [10.0.0.0/8, 192.168.0.0/16]\n", networks)
);

async fn unconfigured(srv: TestServer, keys: Keys) {
    let app = ("applogic", "RS256", "rsa.pem");
    let (s, b) = post_signed(&srv, "timestamp", &keys.sign(&claims(json!({})), &[app])).await;
    assert_eq!(s, 200, "{b}");
    let list = keys.sign(&claims(json!({"user_uid": "ID0000000000"})), &[app]);
    assert_eq!(post_signed(&srv, "labels/list", &list).await, (401, error(FAILED)), "scope not in the file");
    // A daemon without management_api.file refuses everything after the transport checks.
    let bare = srv.sibling("").await;
    let signed = keys.sign(&claims(json!({})), &[app]);
    assert_eq!(post_signed(&bare, "timestamp", &signed).await, (401, error(FAILED)));
    let r = reqwest::Client::new().post(format!("{}?a", mgmt(&bare, "timestamp"))).json(&signed).send().await;
    assert_eq!(read(r.expect("post")).await.0, 400);
}

both!(
    scopes_missing_from_the_file_fail,
    per_backend = |b| with_management(
        b,
        "  tools: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n",
        "",
        unconfigured
    )
);

async fn labels(srv: TestServer, keys: Keys) {
    let both_signers = [("applogic", "RS256", "rsa.pem"), ("backoffice", "ES256", "ec.pem")];
    let uid = register(&srv, &srv.client(), "mgmt-labels@example.com").await["uid"].as_str().expect("uid").to_string();
    let write = |data: Value| keys.sign(&claims(data), &both_signers);
    let state_sql = format!("SELECT state FROM users WHERE uid = '{uid}'");
    let state = || srv.sql_texts(&state_sql);
    assert_eq!(state().await, ["pending"]);

    let signed = write(json!({"user_uid": uid, "key": "email", "value": "verified", "description": "by applogic"}));
    let r = reqwest::Client::new().post(mgmt(&srv, "labels")).json(&signed).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    assert!(keys_in_order(&raw, &["key", "value", "scope", "created_at", "updated_at"]), "{raw}");
    let label: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(
        (label["key"].as_str(), label["value"].as_str(), label["scope"].as_str()),
        (Some("email"), Some("verified"), Some("private"))
    );
    assert_eq!(state().await, ["active"], "the level/state engine ran");

    let again = write(json!({"user_uid": uid, "key": "email", "value": "verified"}));
    assert_eq!(post_signed(&srv, "labels", &again).await, (422, json!({"key": ["Key has already been taken"]})));
    let bad = write(json!({"user_uid": uid, "key": "a!", "value": "ok-value"}));
    let (s, b) = post_signed(&srv, "labels", &bad).await;
    assert_eq!((s, b), (422, json!({"key": ["Key is too short (minimum is 3 characters)", "Key is invalid"]})));
    let missing = write(json!({"key": ""}));
    assert_eq!(
        post_signed(&srv, "labels", &missing).await,
        (422, error("user_uid is missing, user_uid is empty, key is empty, value is missing, value is empty"))
    );
    let nobody = write(json!({"user_uid": "ID0000000000", "key": "email", "value": "verified"}));
    assert_eq!(post_signed(&srv, "labels", &nobody).await, (404, error("Record is not found")));
    // Only applogic: write_labels needs both signers.
    let one = keys.sign(&claims(json!({"user_uid": uid, "key": "ban", "value": "yes"})), &both_signers[..1]);
    assert_eq!(post_signed(&srv, "labels", &one).await, (401, error(NOT_ENOUGH)));

    let put = |data: Value| {
        let signed = write(data);
        let srv = &srv;
        async move { send(srv, reqwest::Method::PUT, "labels", &signed).await }
    };
    let (s, b) = put(json!({"user_uid": uid, "key": "email", "value": "rejected"})).await;
    assert_eq!((s, b["value"].as_str()), (200, Some("rejected")), "{b}");
    assert_eq!(state().await, ["pending"], "recomputed again");
    let absent = json!({"user_uid": uid, "key": "document", "value": "pending", "replace": false});
    assert_eq!(put(absent).await, (404, error("label doesnt exist")));
    let (s, b) = put(json!({"user_uid": uid, "key": "document", "value": "pending", "scope": "public"})).await;
    assert_eq!((s, b["scope"].as_str()), (200, Some("private")), "created, always private: {b}");

    let list = keys.sign(&claims(json!({"user_uid": uid})), &both_signers[..1]);
    let (s, b) = post_signed(&srv, "labels/list", &list).await;
    assert_eq!(s, 201, "{b}");
    let keys_listed: Vec<&str> = b.as_array().expect("list").iter().filter_map(|l| l["key"].as_str()).collect();
    assert!(keys_listed.contains(&"email") && keys_listed.contains(&"document"), "{b}");
    let email = b.as_array().expect("list").iter().find(|l| l["key"] == "email").expect("email label");
    assert_eq!(email["description"], "by applogic", "AdminLabelView: {b}");
    let list = keys.sign(&claims(json!({"user_uid": "ID0000000000"})), &both_signers[..1]);
    assert_eq!(post_signed(&srv, "labels/list", &list).await, (404, error("Record is not found")));

    let del = write(json!({"user_uid": uid, "key": "document"}));
    let r = reqwest::Client::new().post(mgmt(&srv, "labels/delete")).json(&del).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.text().await.expect("body"), "");
    let del = write(json!({"user_uid": uid, "key": "document"}));
    assert_eq!(post_signed(&srv, "labels/delete", &del).await, (404, error("Record is not found")));
    assert_eq!(
        srv.sql_texts(&format!(
            "SELECT key FROM labels WHERE user_id = (SELECT id FROM users WHERE uid = '{uid}') ORDER BY key"
        ))
        .await,
        ["email"]
    );
}

both!(label_endpoints, per_backend = |b| with_management(b, SCOPES, "", labels));

async fn users(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let (c, csrf) = active_user(&srv, "mgmt-users@example.com").await;
    let url = srv.url("resource/phones");
    let (s, b) =
        send_json(&c, reqwest::Method::POST, &url, Some(&csrf), Some(json!({"phone_number": "+44 7418 084106"}))).await;
    assert_eq!(s, 201, "{b}");
    let uid = get(&c, &srv.url("resource/users/me")).await.1["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);

    let r = reqwest::Client::new().post(mgmt(&srv, "users/get")).json(&ask(json!({"uid": uid}))).send().await;
    let r = r.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    let order = [
        "email",
        "uid",
        "role",
        "level",
        "otp",
        "state",
        "referral_uid",
        "data",
        "username",
        "profiles",
        "labels",
        "phones",
        "documents",
        "data_storages",
        "comments",
    ];
    assert!(keys_in_order(&raw, &order), "{raw}");
    // The user's own timestamps come last (labels have theirs too, earlier).
    assert!(raw.rfind("\"created_at\":") > raw.find("\"comments\":") && raw.ends_with("Z\"}"), "{raw}");
    let user: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(user["phones"], json!([{"country": "GB", "number": "447418084106", "validated_at": null}]), "clear");
    assert!(user["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "email" && l["scope"] == "private"));
    for data in [
        json!({"email": "MGMT-users@example.com"}),
        json!({"phone_num": "447418084106"}),
        json!({"phone_num": "+44 7418 084106"}),
    ] {
        let (s, b) = post_signed(&srv, "users/get", &ask(data.clone())).await;
        assert_eq!((s, b["uid"].as_str()), (201, Some(uid.as_str())), "{data}: {b}");
    }
    for data in
        [json!({"phone_num": "447418084107"}), json!({"uid": "ID0000000000"}), json!({"email": "nobody@example.com"})]
    {
        assert_eq!(post_signed(&srv, "users/get", &ask(data)).await, (404, error("Record is not found")));
    }
    assert_eq!(
        post_signed(&srv, "users/get", &ask(json!({}))).await,
        (422, error("uid, email, phone_num are missing, exactly one parameter must be provided"))
    );
    assert_eq!(
        post_signed(&srv, "users/get", &ask(json!({"uid": uid, "email": "a@b.io"}))).await,
        (422, error("uid, email, phone_num are mutually exclusive"))
    );

    let (s, b) = post_signed(&srv, "phones/get", &ask(json!({"uid": uid}))).await;
    assert_eq!((s, b), (201, json!([{"country": "GB", "number": "447418084106", "validated_at": null}])));
    assert_eq!(
        post_signed(&srv, "phones/get", &ask(json!({"uid": "ID0000000000"}))).await,
        (422, error("user.doesnt_exist"))
    );
    assert_eq!(post_signed(&srv, "phones/get", &ask(json!({}))).await, (422, error("uid is missing, uid is empty")));
}

both!(user_and_phone_reads, per_backend = |b| with_management(b, SCOPES, "", users));

async fn user_list(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let c = srv.client();
    let mut uids = Vec::new();
    for e in ["list-a@example.com", "list-b@example.com", "list-c@example.com"] {
        uids.push(register(&srv, &c, e).await["uid"].as_str().expect("uid").to_string());
    }
    let list = |data: Value| {
        let signed = keys.sign(&claims(data), &app);
        let url = mgmt(&srv, "users/list");
        async move {
            let r = reqwest::Client::new().post(url).json(&signed).send().await.expect("post");
            let header = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let paging = (header("total"), header("page"), header("per-page"));
            let (s, b) = read(r).await;
            (s, b, paging)
        }
    };
    let uids_of = |b: &Value| -> Vec<String> {
        b.as_array().expect("list").iter().map(|u| u["uid"].as_str().expect("uid").to_string()).collect()
    };
    let (s, b, paging) = list(json!({})).await;
    assert_eq!((s, uids_of(&b)), (200, uids.clone()), "{b}");
    assert_eq!(paging, ("3".into(), "1".into(), "100".into()));
    assert!(!b[0].as_object().expect("user").contains_key("created_at"), "User has no timestamps: {b}");
    let (_, b, paging) = list(json!({"limit": 2, "page": "2"})).await;
    assert_eq!((uids_of(&b), paging.0), (vec![uids[2].clone()], "3".to_string()));
    let (_, b, _) = list(json!({"email": "LIST-B@example.com"})).await;
    assert_eq!(uids_of(&b), [uids[1].clone()]);
    let (_, b, _) = list(json!({"uid": uids[0], "state": "pending", "role": "member", "level": 0})).await;
    assert_eq!(uids_of(&b), [uids[0].clone()]);
    let (_, b, _) = list(json!({"state": "active"})).await;
    assert_eq!(b, json!([]));
    let (_, b, paging) = list(json!({"from": now() + 1000})).await;
    assert_eq!((b, paging.0), (json!([]), "0".to_string()));
    let (_, b, _) = list(json!({"extended": true, "limit": 1})).await;
    assert_eq!(b[0]["profiles"], json!([]));
    assert!(b[0]["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{b}");
    for (data, message) in [
        (json!({"extended": "maybe"}), "extended Non boolean extended value"),
        (json!({"range": "deleted"}), "range Non positive page"),
        (json!({"page": 0}), "page non_positive_page"),
        (json!({"limit": 101}), "limit invalid_limit"),
        (json!({"page": "x"}), "page non_integer_page"),
    ] {
        let (s, b, _) = list(data).await;
        assert_eq!((s, b), (422, error(message)));
    }
    // /labels/filter/users: the holders of a label, each once.
    let both_signers = [("applogic", "RS256", "rsa.pem"), ("backoffice", "ES256", "ec.pem")];
    for (uid, value) in [(&uids[0], "gold"), (&uids[1], "silver"), (&uids[2], "gold")] {
        let signed = keys.sign(&claims(json!({"user_uid": uid, "key": "tier", "value": value})), &both_signers);
        assert_eq!(post_signed(&srv, "labels", &signed).await.0, 201);
    }
    let by_label = |data: Value| {
        let signed = keys.sign(&claims(data), &app);
        let url = mgmt(&srv, "labels/filter/users");
        async move {
            let r = reqwest::Client::new().post(url).json(&signed).send().await.expect("post");
            let total = r.headers().get("total").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let (s, b) = read(r).await;
            (s, b, total)
        }
    };
    let (s, b, total) = by_label(json!({"key": "tier"})).await;
    assert_eq!((s, uids_of(&b), total), (200, uids.clone(), "3".to_string()));
    let (_, b, total) = by_label(json!({"key": "tier", "value": "gold", "scope": "private"})).await;
    assert_eq!((uids_of(&b), total), (vec![uids[0].clone(), uids[2].clone()], "2".to_string()));
    assert_eq!(by_label(json!({"key": "tier", "scope": "public"})).await.1, json!([]));
    assert_eq!(by_label(json!({"key": "tier", "from": now() + 1000})).await.1, json!([]));
    let (_, b, _) = by_label(json!({"key": "tier", "value": "silver", "extended": true})).await;
    assert_eq!((uids_of(&b), b[0]["profiles"].clone()), (vec![uids[1].clone()], json!([])));
    assert_eq!(by_label(json!({})).await.1, error("key is missing, key is empty"));
    assert_eq!(by_label(json!({"key": "tier", "range": "x"})).await.1, error("range Invalid range"));
}

both!(user_listing, per_backend = |b| with_management(b, SCOPES, "", user_list));

async fn phone_writes(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let c = srv.client();
    let a = register(&srv, &c, "phone-a@example.com").await["uid"].as_str().expect("uid").to_string();
    let b = register(&srv, &c, "phone-b@example.com").await["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);

    let r =
        reqwest::Client::new().post(mgmt(&srv, "phones")).json(&ask(json!({"uid": a, "number": "+44 7418 084106"})));
    let r = r.send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    assert!(keys_in_order(&raw, &["country", "number", "validated_at"]), "{raw}");
    let phone: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!((phone["country"].as_str(), phone["number"].as_str()), (Some("GB"), Some("447418084106")));
    assert!(phone["validated_at"].as_str().is_some_and(|t| t.ends_with(".000Z")), "{phone}");
    let taken = (400, error("management.phone.number_exist"));
    assert_eq!(post_signed(&srv, "phones", &ask(json!({"uid": a, "number": "447418084106"}))).await, taken);
    assert_eq!(post_signed(&srv, "phones", &ask(json!({"uid": b, "number": "447418084106"}))).await, taken);
    let bad = ask(json!({"uid": a, "number": "123"}));
    assert_eq!(post_signed(&srv, "phones", &bad).await, (400, error("management.phone.invalid_num")));
    let nobody = ask(json!({"uid": "ID0000000000", "number": "447418084106"}));
    assert_eq!(post_signed(&srv, "phones", &nobody).await, (422, error("user.doesnt_exist")));
    assert_eq!(post_signed(&srv, "phones/get", &ask(json!({"uid": a}))).await, (201, json!([phone.clone()])));
    assert_eq!(srv.sql_texts("SELECT key FROM labels WHERE key = 'phone'").await, Vec::<String>::new(), "no label");

    let del = ask(json!({"uid": a, "number": "+447418084106"}));
    assert_eq!(post_signed(&srv, "phones/delete", &del).await, (201, phone));
    let del = ask(json!({"uid": a, "number": "447418084106"}));
    assert_eq!(post_signed(&srv, "phones/delete", &del).await, (422, error("management.phone.doesnt_exists")));
    assert_eq!(post_signed(&srv, "phones/get", &ask(json!({"uid": a}))).await, (201, json!([])));
    let (s, got) = post_signed(&srv, "phones", &ask(json!({"uid": b, "number": "447418084106"}))).await;
    assert_eq!((s, got["number"].as_str()), (201, Some("447418084106")), "free again: {got}");
}

both!(phone_writes_are_validated, per_backend = |b| with_management(b, SCOPES, "", phone_writes));

async fn service_account_reads(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let owner = register(&srv, &srv.client(), "sa-owner@example.com").await["uid"].as_str().expect("uid").to_string();
    let sa: Vec<Value> =
        (0..2).map(|_| ctl_json(&srv, &["service-account", "create", "--owner", &owner, "--role", "member"])).collect();
    let sa_uid = |i: usize| sa[i]["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);

    let r = reqwest::Client::new().post(mgmt(&srv, "service_accounts/get")).json(&ask(json!({"uid": sa_uid(0)})));
    let r = r.send().await.expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let raw = r.text().await.expect("body");
    let order = ["email", "uid", "role", "level", "state", "user"];
    assert!(keys_in_order(&raw, &order) && raw.ends_with("Z\"}"), "{raw}");
    let got: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!((got["uid"].as_str(), got["user"]["uid"].as_str()), (Some(sa_uid(0).as_str()), Some(owner.as_str())));
    let (s, b) = post_signed(&srv, "service_accounts/get", &ask(json!({"email": sa[1]["email"]}))).await;
    assert_eq!((s, b["uid"].as_str()), (200, Some(sa_uid(1).as_str())));
    let nobody = ask(json!({"uid": "SI0000000000"}));
    assert_eq!(post_signed(&srv, "service_accounts/get", &nobody).await, (404, error("Record is not found")));
    assert_eq!(
        post_signed(&srv, "service_accounts/get", &ask(json!({}))).await,
        (422, error("uid, email are missing, exactly one parameter must be provided"))
    );

    let uids = |b: &Value| -> Vec<String> {
        b.as_array().expect("list").iter().map(|x| x["uid"].as_str().expect("uid").to_string()).collect()
    };
    let all = vec![sa_uid(0), sa_uid(1)];
    for data in [json!({}), json!({"owner_uid": owner}), json!({"owner_email": "SA-owner@example.com"})] {
        let (s, b) = post_signed(&srv, "service_accounts/list", &ask(data.clone())).await;
        assert_eq!((s, uids(&b)), (200, all.clone()), "{data}");
    }
    let (_, b) = post_signed(&srv, "service_accounts/list", &ask(json!({"owner_uid": "ID0000000000"}))).await;
    assert_eq!(b, json!([]), "an unknown owner has none");
    let (_, b) = post_signed(&srv, "service_accounts/list", &ask(json!({"limit": 1, "page": 2}))).await;
    assert_eq!(uids(&b), [sa_uid(1)]);
}

both!(service_accounts_are_read, per_backend = |b| with_management(b, SCOPES, "", service_account_reads));

/// Problems of the file stop start-up with exit code 2 and a line naming them.
#[test]
fn a_bad_management_file_stops_start_up() {
    use base64::Engine;
    let dir = tempfile::tempdir().expect("tmp");
    let pem = dir.path().join("k.pem");
    run(Command::new("openssl")
        .args(["genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out"])
        .arg(&pem));
    let private = base64::engine::general_purpose::STANDARD.encode(std::fs::read(&pem).expect("pem"));
    let cases = [
        (format!("keychain:\n  k:\n    algorithm: ES256\n    value: {private}\n"), "private key"),
        (
            "keychain:\n  k:\n    algorithm: RS256\n    value: bm9wZQ\n".to_string(),
            "Invalid public key format for key k",
        ),
        ("scopes:\n  tools: {permitted_signers: [k]}\n".to_string(), "mandatory_signers"),
        ("jwt:\n  verify_expiry: true\n".to_string(), "verify_expiry"),
        ("keychain:\n  k:\n    value: <%= `id` %>\n".to_string(), "unsupported ERB"),
    ];
    for (text, needle) in cases {
        let file = dir.path().join("management_api.yml");
        std::fs::write(&file, &text).expect("write");
        let out = Command::new(binary("barongd"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path().join("data"))
            .env("BARONG_MANAGEMENT_API_FILE", &file)
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text}: {err}");
        assert!(err.contains(needle) && err.contains("management_api.file"), "{needle} not in {err}");
        assert!(!err.contains(&private[40..80]), "the private key is not echoed");
        let out = Command::new(binary("barongd"))
            .args(["config", "check"])
            .env("BARONG_MANAGEMENT_API_FILE", &file)
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "config check: {err}");
        assert!(err.contains(needle), "config check: {needle} not in {err}");
    }
}
