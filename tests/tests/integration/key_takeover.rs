//! `jwt_key_activation_delay`: a rotated key is published in the JWKS first and signs only after
//! the delay, so consumers that cache the JWKS know it before they see its tokens; `--now` for
//! emergencies. With two daemons on PostgreSQL, both switch, whichever activates it.

use reqwest::Method;

use super::*;

const PEATIO: &str = "api/v2/peatio/account/balances";
const DELAY: i64 = 3;

fn kid_of(token: &str) -> String {
    use base64::Engine as _;
    let head = token.split('.').next().expect("header");
    let header: Value =
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(head).expect("b64"))
            .expect("json");
    header["kid"].as_str().expect("kid").to_string()
}

/// The kid of the upstream JWT the gateway makes for a fresh login on `srv`.
async fn signing_kid(srv: &TestServer, email: &str) -> String {
    let c = srv.client();
    let (s, b) = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(s, 200, "{b}");
    let r = authz_call(&c, Method::GET, &auth_url(srv, PEATIO), &[]).await;
    assert_eq!(r.0, 200, "{:?}", r.2);
    kid_of(r.1.expect("Authorization").strip_prefix("Bearer ").expect("Bearer"))
}

async fn jwks_kids(srv: &TestServer) -> Vec<String> {
    let (_, jwks) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
    jwks["keys"].as_array().expect("keys").iter().map(|k| k["kid"].as_str().expect("kid").to_string()).collect()
}

fn ctl(srv: &TestServer, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = srv.ctl(&all, None);
    assert_eq!(code, 0, "{args:?}: {err}");
    serde_json::from_str(&out).expect("json")
}

both!(a_rotated_key_is_published_before_it_signs, per_backend = a_rotated_key_is_published_before_it_signs);
async fn a_rotated_key_is_published_before_it_signs(backend: Backend) {
    let config = format!("jwt_key_activation_delay: {DELAY}\n");
    let opts = Options { config: config.clone(), ..Options::unpinned() };
    let Some(a) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(a, |a| async move {
        let email = "takeover@example.com";
        drop(active_user(&a, email).await);
        // On PostgreSQL a second daemon on the same database must switch too (started after the
        // registration: the mail queue is shared).
        let b = match backend {
            Backend::Postgres => Some(a.sibling(&config).await),
            Backend::Sqlite => None,
        };
        let old = signing_kid(&a, email).await;

        let rotated = ctl(&a, &["keys", "rotate"]);
        let new = rotated["kid"].as_str().expect("kid").to_string();
        assert_eq!(
            (rotated["state"].as_str(), rotated["takes_over_at"].is_string()),
            (Some("next"), true),
            "{rotated}"
        );
        // Published at once (after the active key), on every daemon; the old key still signs.
        assert_eq!(jwks_kids(&a).await, [old.clone(), new.clone()]);
        if let Some(b) = &b {
            eventually(Duration::from_secs(2), || async { jwks_kids(b).await.contains(&new) }).await;
            assert_eq!(signing_kid(b, email).await, old);
        }
        assert_eq!(signing_kid(&a, email).await, old, "the new key does not sign before its time");
        let listed = ctl(&a, &["keys", "list"]);
        assert_eq!((listed[1]["kid"].as_str(), listed[1]["state"].as_str()), (Some(new.as_str()), Some("next")));

        // After the delay it signs, on both daemons; the old one still verifies.
        let waited =
            eventually(Duration::from_secs(DELAY as u64 + 5), || async { signing_kid(&a, email).await == new }).await;
        assert!(waited >= Duration::from_secs(1), "switched after {waited:?}, before the delay");
        if let Some(b) = &b {
            eventually(Duration::from_secs(3), || async { signing_kid(b, email).await == new }).await;
        }
        assert_eq!(jwks_kids(&a).await, [new.clone(), old.clone()]);
        let listed = ctl(&a, &["keys", "list"]);
        assert_eq!((listed[0]["state"].as_str(), listed[1]["state"].as_str()), (Some("active"), Some("previous")));

        // A second plan replaces the first (Ed25519 keys: made at once, well within the delay);
        // `--now` signs at once.
        let plan = ["keys", "rotate", "--algorithm", "EdDSA"];
        let first_plan = ctl(&a, &plan)["kid"].as_str().expect("kid").to_string();
        let second_plan = ctl(&a, &plan)["kid"].as_str().expect("kid").to_string();
        let kids = jwks_kids(&a).await;
        assert!(kids.contains(&second_plan) && !kids.contains(&first_plan), "one next key: {kids:?}");
        let urgent = ctl(&a, &["keys", "rotate", "--now"])["kid"].as_str().expect("kid").to_string();
        assert_eq!(signing_kid(&a, email).await, urgent);
        assert!(!jwks_kids(&a).await.contains(&second_plan), "the pending plan is dropped");

        // `export-public --pem` is the PEM of the active key.
        let (code, pem, err) = a.ctl(&["keys", "export-public", "--pem"], None);
        assert_eq!(code, 0, "{err}");
        let (_, by_format, _) = a.ctl(&["keys", "export-public", "--format", "pem"], None);
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----") && pem == by_format, "{pem}");
        drop(b);
    })
    .await;
}
