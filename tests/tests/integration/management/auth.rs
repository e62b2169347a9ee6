//! Transport checks, signatures, claims, replay, networks and start-up checks of the file.

use super::*;

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
    // The keychain's `algorithm: RS256` narrows applogic's RSA key to RS256: PS256 is refused.
    let pss = keys.sign(&claims(json!({})), &[("applogic", "PS256", "rsa.pem")]);
    assert_eq!(post_signed(&srv, "timestamp", &pss).await, (401, error(FAILED)), "PS256 outside the narrowed set");
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
