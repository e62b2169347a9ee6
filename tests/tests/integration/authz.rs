//! The authz gateway (`ANY /api/v2/auth/*path`): pass/block rules, the cookie flow, the API-key flow,
//! permissions, the upstream JWT checked against the JWKS, key rotation, and the change feed
//! between two daemons.

use reqwest::Method;

use super::*;

const PEATIO: &str = "api/v2/peatio/account/balances";

#[track_caller]
fn assert_denied(got: &(u16, Option<String>, Value, Option<String>), status: u16, key: &str) {
    assert_eq!((got.0, errors(&got.2)), (status, vec![key.to_string()]), "{:?}", got.2);
    assert_eq!(got.1, None, "no token on a denial");
    assert_eq!(got.3.as_deref(), Some("application/json"), "error bodies are JSON (Barong sent none)");
}

both!(rules_and_the_cookie_flow, |srv: TestServer| async move {
    let anon = srv.client();
    // Pass: 200, no token, no session needed.
    let r = authz_call(&anon, Method::GET, &auth_url(&srv, "api/v2/barong/public/ping"), &[]).await;
    assert_eq!((r.0, r.1.as_deref(), r.2.clone()), (200, None, json!("")));
    // Whole segments only: `publicX` is not `public` (Barong matched raw string prefixes).
    assert_denied(
        &authz_call(&anon, Method::GET, &auth_url(&srv, "api/v2/barong/publicX"), &[]).await,
        401,
        "authz.invalid_session",
    );
    // Block, and paths that are not canonical.
    for p in ["api/v2/barong/management/users", "api//v2/barong/public", "api/v2/barong/public%2f..%2fmanagement"] {
        assert_denied(&authz_call(&anon, Method::GET, &auth_url(&srv, p), &[]).await, 401, "authz.permission_denied");
    }
    // Traefik's forwardAuth: a fixed address, the original request in X-Forwarded-*.
    let traefik = |uri: &str| vec![("X-Forwarded-Uri", uri.to_string()), ("X-Forwarded-Method", "GET".to_string())];
    let at = format!("{}/api/v2/auth", srv.base);
    let r = authz_call(&anon, Method::GET, &at, &traefik("/api/v2/barong/public/ping?x=1")).await;
    assert_eq!(r.0, 200, "{:?}", r.2);
    let r = authz_call(&anon, Method::GET, &at, &traefik("/api/v2/peatio/management/x")).await;
    assert_denied(&r, 401, "authz.permission_denied");
    // Cookie flow without a session: CSRF first on state-changing methods, then the session.
    let url = auth_url(&srv, PEATIO);
    assert_denied(&authz_call(&anon, Method::GET, &url, &[]).await, 401, "authz.invalid_session");
    assert_denied(&authz_call(&anon, Method::POST, &url, &[]).await, 401, "authz.missing_csrf_token");
    let wrong = [("X-CSRF-Token", "0123456789abcdef0123".to_string())];
    assert_denied(&authz_call(&anon, Method::DELETE, &url, &wrong).await, 401, "authz.csrf_token_mismatch");

    let (c, csrf) = active_user(&srv, "gate@example.com").await;
    assert_denied(&authz_call(&c, Method::PUT, &url, &wrong).await, 401, "authz.csrf_token_mismatch");
    let r = authz_call(&c, Method::GET, &url, &[]).await;
    assert_eq!(r.0, 200, "{:?}", r.2);
    let token = r.1.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string();
    let claims = verify_with_jwks(&srv, &token).await;
    assert_eq!(claims["email"], "gate@example.com");
    assert_eq!(
        (claims["role"].as_str(), claims["level"].as_i64(), claims["state"].as_str()),
        (Some("member"), Some(1), Some("active"))
    );
    assert_eq!((claims["sub"].as_str(), claims["iss"].as_str()), (Some("session"), Some("barong")));
    assert_eq!(claims["aud"], json!(["peatio", "barong"]));
    assert_eq!(claims["jti"].as_str().map(str::len), Some(20));
    assert!(claims["uid"].as_str().is_some_and(|u| u.starts_with("ID")));
    assert!(claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat") == 3600);
    // Reused for the same session, within the reuse window (once the change feed has caught up
    // with the confirmation and login that just happened, which drop the user's cached tokens).
    eventually(Duration::from_secs(2), || async {
        let a = authz_call(&c, Method::GET, &url, &[]).await.1;
        a.is_some() && a == authz_call(&c, Method::GET, &url, &[]).await.1
    })
    .await;
    // A state-changing request with the right CSRF token.
    assert_eq!(authz_call(&c, Method::POST, &url, &[("X-CSRF-Token", csrf.clone())]).await.0, 200);
    // The upstream token is good on our own resource API too, and nothing else is.
    let bare = reqwest::Client::new();
    let me = |t: String| bare.get(srv.url("resource/users/me")).header("Authorization", t).send();
    let (s, body) = read(me(format!("Bearer {token}")).await.expect("me")).await;
    assert_eq!((s, body["email"].as_str()), (200, Some("gate@example.com")));
    assert_err(&read(me("Bearer x.y.z".into()).await.expect("me")).await, 401, &["jwt.decode_and_verify"]);

    // Permissions: members may not reach the admin API; the denial is an admin activity.
    let admin = auth_url(&srv, "api/v2/barong/admin/users");
    assert_denied(&authz_call(&c, Method::GET, &admin, &[]).await, 401, "authz.invalid_permission");
    eventually(Duration::from_secs(5), || async {
        srv.sql_texts("SELECT result FROM activities WHERE category = 'admin'").await == vec!["denied".to_string()]
    })
    .await;
    // An unknown verb for the role: no matching row.
    srv.sql("UPDATE users SET role = 'nobody' WHERE email = 'gate@example.com'").await;
    eventually(Duration::from_secs(1), || async { authz_call(&c, Method::GET, &url, &[]).await.0 == 401 }).await;
    assert_denied(&authz_call(&c, Method::GET, &url, &[]).await, 401, "authz.invalid_permission");
    srv.sql("UPDATE users SET role = 'member' WHERE email = 'gate@example.com'").await;

    // A ban is seen within a second; the token cache is dropped with it.
    srv.sql("UPDATE users SET state = 'banned' WHERE email = 'gate@example.com'").await;
    eventually(Duration::from_secs(1), || async {
        errors(&authz_call(&c, Method::GET, &url, &[]).await.2) == ["authz.user_not_active"]
    })
    .await;
    assert_denied(&authz_call(&c, Method::GET, &url, &[]).await, 401, "authz.user_not_active");
    srv.sql("UPDATE users SET state = 'active' WHERE email = 'gate@example.com'").await;
    eventually(Duration::from_secs(1), || async { authz_call(&c, Method::GET, &url, &[]).await.0 == 200 }).await;

    // Another User-Agent: the session is destroyed.
    let ua = [("User-Agent", "curl/8.0".to_string())];
    assert_denied(&authz_call(&c, Method::GET, &url, &ua).await, 401, "authz.client_session_mismatch");
    assert_denied(&authz_call(&c, Method::GET, &url, &[]).await, 401, "authz.invalid_session");

    // Logout is refused at once on this daemon's next check (within a second at worst), even
    // when the old cookie is replayed.
    let (c, _) = fixed_cookie_client(&srv, "gate@example.com").await;
    assert_eq!(authz_call(&c, Method::GET, &url, &[]).await.0, 200);
    let (s, _) = read(c.delete(srv.url("identity/sessions")).send().await.expect("logout")).await;
    assert_eq!(s, 200);
    eventually(Duration::from_secs(1), || async {
        errors(&authz_call(&c, Method::GET, &url, &[]).await.2) == ["authz.invalid_session"]
    })
    .await;
});

both!(the_api_key_flow, |srv: TestServer| async move {
    let (c, csrf, totp) = two_factor_user(&srv, "keys@example.com").await;
    let (kid, secret) = create_api_key(&srv, &c, &csrf, &totp).await;
    let bare = reqwest::Client::new();
    let url = auth_url(&srv, PEATIO);
    let call = |h: Vec<(&'static str, String)>| {
        let (bare, url) = (bare.clone(), url.clone());
        async move { authz_call(&bare, Method::POST, &url, &h).await }
    };

    // Any X-Auth header selects the API-key flow; a blank one is 422.
    assert_denied(&call(vec![("X-Auth-Apikey", kid.clone())]).await, 422, "authz.invalid_api_key_headers");
    let mut h = signed_headers(&kid, &secret, now_ms());
    h[2].1 = " ".into();
    assert_denied(&call(h).await, 422, "authz.invalid_api_key_headers");
    assert_denied(&call(signed_headers("0123456789abcdef", &secret, now_ms())).await, 401, "authz.unexistent_apikey");
    let mut h = signed_headers(&kid, &secret, now_ms());
    h[1].1 = "soon".into();
    assert_denied(&call(h).await, 401, "authz.nonce_not_valid_timestamp");
    // An old nonce: the reply says what time the server has.
    let mut r = bare.post(&url);
    for (k, v) in signed_headers(&kid, &secret, now_ms() - 60_000) {
        r = r.header(k, v);
    }
    let resp = r.send().await.expect("request");
    let server_ms: i64 = resp.headers()["x-server-time"].to_str().expect("hv").parse().expect("ms");
    assert!((server_ms - now_ms()).abs() < 5_000);
    assert_err(&read(resp).await, 401, &["authz.nonce_expired"]);
    assert_denied(&call(signed_headers(&kid, "0".repeat(32).as_str(), now_ms())).await, 401, "authz.invalid_signature");

    // A good request: a token with the holder's claims, no CSRF needed.
    let h = signed_headers(&kid, &secret, now_ms());
    let r = call(h.clone()).await;
    assert_eq!(r.0, 200, "{:?}", r.2);
    let token = r.1.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string();
    assert_eq!(verify_with_jwks(&srv, &token).await["email"], "keys@example.com");
    // The same nonce again is a replay (Barong accepted it again).
    assert_denied(&call(h).await, 401, "authz.nonce_reused");
    // The resource API takes the headers directly.
    let mut r = bare.get(srv.url("resource/users/me"));
    for (k, v) in signed_headers(&kid, &secret, now_ms()) {
        r = r.header(k, v);
    }
    let (s, me) = read(r.send().await.expect("me")).await;
    assert_eq!((s, me["email"].as_str()), (200, Some("keys@example.com")));

    // Key state, holder state and 2FA, each seen within a second.
    let expect = |key: &'static str| {
        let (kid, secret, call) = (kid.clone(), secret.clone(), &call);
        async move {
            eventually(Duration::from_secs(1), || async {
                errors(&call(signed_headers(&kid, &secret, now_ms())).await.2) == [key]
            })
            .await
        }
    };
    srv.sql(&format!("UPDATE api_keys SET state = 'disabled' WHERE kid = '{kid}'")).await;
    expect("authz.apikey_not_active").await;
    srv.sql(&format!("UPDATE api_keys SET state = 'active' WHERE kid = '{kid}'")).await;
    srv.sql("UPDATE users SET otp = false WHERE email = 'keys@example.com'").await;
    expect("authz.disabled_2fa").await;
    srv.sql("UPDATE users SET otp = true, state = 'locked' WHERE email = 'keys@example.com'").await;
    expect("authz.invalid_session").await;
    srv.sql("UPDATE users SET state = 'active' WHERE email = 'keys@example.com'").await;
    eventually(Duration::from_secs(1), || async { call(signed_headers(&kid, &secret, now_ms())).await.0 == 200 }).await;
    // A permission edit reaches the gateway too.
    srv.sql("DELETE FROM permissions WHERE role = 'member' AND path = 'api/v2/peatio'").await;
    expect("authz.invalid_permission").await;
});

both!(the_jwks_and_key_rotation, options = Options::unpinned(), |srv: TestServer| async move {
    let (c, _) = active_user(&srv, "rot@example.com").await;
    let url = auth_url(&srv, PEATIO);
    let first = authz_call(&c, Method::GET, &url, &[]).await.1.expect("token");
    let first = first.strip_prefix("Bearer ").expect("Bearer").to_string();
    let (code, out, err) = srv.ctl(&["--json", "keys", "rotate", "--now"], None);
    assert_eq!(code, 0, "keys rotate: {err}");
    let rotated: Value = serde_json::from_str(&out).expect("json");
    let new_kid = rotated["kid"].as_str().expect("kid").to_string();
    // Consumers pinning the public key itself must be told; JWKS users need nothing.
    let warning = rotated["warnings"][0].as_str().unwrap_or_default();
    assert!(warning.contains("JWT_PUBLIC_KEY") && warning.contains("jwks.json"), "{rotated}");
    // The old token still verifies (its key is still published) until it expires.
    verify_with_jwks(&srv, &first).await;
    let (_, jwks) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    assert_eq!(jwks["keys"][0]["kid"], new_kid.as_str());
    // New tokens are signed by the new key (the reuse cache was dropped).
    let second = authz_call(&c, Method::GET, &url, &[]).await.1.expect("token");
    let second = second.strip_prefix("Bearer ").expect("Bearer").to_string();
    assert_eq!(jsonwebtoken::decode_header(&second).expect("header").kid.as_deref(), Some(new_kid.as_str()));
    verify_with_jwks(&srv, &second).await;
    // And barongd itself still takes the old one.
    let me =
        reqwest::Client::new().get(srv.url("resource/users/me")).header("Authorization", format!("Bearer {first}"));
    assert_eq!(me.send().await.expect("me").status().as_u16(), 200);
    let (code, out, _) = srv.ctl(&["keys", "list"], None);
    assert_eq!(code, 0);
    assert!(out.contains(&new_kid), "{out}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_on_one_postgres_see_each_other_within_a_second() {
    let Some(a) = TestServer::spawn_with(Backend::Postgres, Options::unpinned()).await else { return };
    // The mail queue is shared through the database, so a sibling started first may deliver the
    // confirmation mail into its own outbox; registration is done before it exists.
    active_user(&a, "twin@example.com").await;
    let b = a.sibling("").await;
    let url_a = auth_url(&a, PEATIO);
    let url_b = auth_url(&b, PEATIO);
    // One session cookie, sent to both daemons.
    let (ca, _) = fixed_cookie_client(&a, "twin@example.com").await;
    let cb = ca.clone();
    assert_eq!(authz_call(&ca, Method::GET, &url_a, &[]).await.0, 200);
    assert_eq!(authz_call(&cb, Method::GET, &url_b, &[]).await.0, 200);
    // Ban on A (the operator's CLI), refused on B within a second.
    a.sql("UPDATE users SET state = 'banned' WHERE email = 'twin@example.com'").await;
    let took = eventually(Duration::from_secs(1), || async {
        errors(&authz_call(&cb, Method::GET, &url_b, &[]).await.2) == ["authz.user_not_active"]
    })
    .await;
    eprintln!("ban seen on the sibling after {took:?}");
    a.sql("UPDATE users SET state = 'active' WHERE email = 'twin@example.com'").await;
    eventually(Duration::from_secs(1), || async { authz_call(&cb, Method::GET, &url_b, &[]).await.0 == 200 }).await;
    // Logout on A, refused on B within a second.
    let (s, _) = read(ca.delete(a.url("identity/sessions")).send().await.expect("logout")).await;
    assert_eq!(s, 200);
    eventually(Duration::from_secs(1), || async {
        errors(&authz_call(&cb, Method::GET, &url_b, &[]).await.2) == ["authz.invalid_session"]
    })
    .await;
    // A key rotated through A is published by B within a second.
    let (code, out, err) = a.ctl(&["--json", "keys", "rotate", "--now"], None);
    assert_eq!(code, 0, "{err}");
    let kid = serde_json::from_str::<Value>(&out).expect("json")["kid"].as_str().expect("kid").to_string();
    eventually(Duration::from_secs(1), || async {
        let (_, jwks) = get(&reqwest::Client::new(), &format!("{}/.well-known/jwks.json", b.base)).await;
        jwks["keys"][0]["kid"] == kid.as_str()
    })
    .await;
}

both!(a_service_account_key_through_the_barong_prefixed_gateway, |srv: TestServer| async move {
    let (c, csrf, totp) = two_factor_user(&srv, "owner@example.com").await;
    let (code, out, err) =
        srv.ctl(&["--json", "service-account", "create", "--owner", "owner@example.com", "--role", "member"], None);
    assert_eq!(code, 0, "{err}");
    let sa: Value = serde_json::from_str(&out).expect("json");
    let sa_uid = sa["uid"].as_str().expect("uid").to_string();
    let body = json!({"service_account_uid": sa_uid, "algorithm": "HS256", "totp_code": fresh_code(&srv, &totp).await});
    let sa_keys = srv.url("resource/service_accounts/api_keys");
    let (s, key) = send_json(&c, Method::POST, &sa_keys, Some(&csrf), Some(body)).await;
    assert_eq!(s, 201, "{key}");
    let (kid, secret) =
        (key["kid"].as_str().expect("kid").to_string(), key["secret"].as_str().expect("secret").to_string());

    // The gateway also answers under /api/v2/barong/auth/ (Barong's own mount point).
    let bare = reqwest::Client::new();
    let url = format!("{}/api/v2/barong/auth/{PEATIO}", srv.base);
    let call = |path: String| {
        let (bare, kid, secret) = (bare.clone(), kid.clone(), secret.clone());
        async move { authz_call(&bare, Method::GET, &path, &signed_headers(&kid, &secret, now_ms())).await }
    };
    let r = call(url.clone()).await;
    assert_eq!(r.0, 200, "{:?}", r.2);
    let token = r.1.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string();
    let claims = verify_with_jwks(&srv, &token).await;
    // The token is the service account's, not its owner's, with exactly Barong's claims: no
    // `username`, no `referral_id`.
    assert_eq!((claims["uid"].as_str(), claims["role"].as_str()), (Some(sa_uid.as_str()), Some("member")));
    let mut keys: Vec<&str> = claims.as_object().expect("claims").keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["aud", "email", "exp", "iat", "iss", "jti", "level", "role", "state", "sub", "uid"], "{claims}");
    assert_eq!(claims["email"].as_str(), sa["email"].as_str());
    assert_eq!(claims["sub"], "session");
    // A service account has no 2FA of its own: its owner turning 2FA off does not stop it.
    srv.sql("UPDATE users SET otp = false WHERE email = 'owner@example.com'").await;
    assert_eq!(call(url.clone()).await.0, 200);
    // A permission the service account's role lacks: denied, and no admin activity for it.
    let admin = format!("{}/api/v2/barong/auth/api/v2/barong/admin/users", srv.base);
    assert_denied(&call(admin).await, 401, "authz.invalid_permission");
    // Its state is checked on every call and seen within a second.
    srv.sql(&format!("UPDATE service_accounts SET state = 'disabled' WHERE uid = '{sa_uid}'")).await;
    eventually(Duration::from_secs(1), || async { errors(&call(url.clone()).await.2) == ["authz.invalid_session"] })
        .await;
    srv.sql(&format!("UPDATE service_accounts SET state = 'active' WHERE uid = '{sa_uid}'")).await;
    eventually(Duration::from_secs(1), || async { call(url.clone()).await.0 == 200 }).await;
    assert!(srv.sql_texts("SELECT topic FROM activities WHERE category = 'admin'").await.is_empty());
});

// Several daemons share the database's record of used nonces (written in batches): the same
// signed request raced to two daemons passes exactly once, however the copies interleave.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_request_raced_to_two_daemons_passes_once() {
    let Some(a) = TestServer::spawn_with(Backend::Postgres, Options::unpinned()).await else { return };
    let (c, csrf, totp) = two_factor_user(&a, "racer@example.com").await;
    let (kid, secret) = create_api_key(&a, &c, &csrf, &totp).await;
    let b = a.sibling("").await;
    let urls = [auth_url(&a, PEATIO), auth_url(&b, PEATIO)];
    let bare = reqwest::Client::new();
    let base = now_ms();
    // 20 nonces, each sent 6 times (3 to each daemon), all at once.
    let calls = (0..120).map(|i| {
        let (bare, url) = (bare.clone(), urls[i % 2].clone());
        let h = signed_headers(&kid, &secret, base + (i as i64 / 6));
        async move { (i / 6, authz_call(&bare, Method::POST, &url, &h).await) }
    });
    let mut passed = [0; 20];
    for (nonce, (status, _, body, _)) in futures::future::join_all(calls).await {
        match status {
            200 => passed[nonce] += 1,
            401 => assert_eq!(errors(&body), ["authz.nonce_reused"], "{body}"),
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(passed, [1; 20], "each signed request passes once across both daemons");
    let recorded = a.sql_texts(&format!("SELECT COUNT(*)::text FROM api_key_nonces WHERE kid = '{kid}'")).await;
    assert_eq!(recorded, ["20"]);
}

// A nonce ahead of the server clock stays acceptable until `nonce + lifetime`; it must be
// remembered that long, or the same signed request passes twice (it was remembered until
// `now + lifetime + 2 s`: 7 s here, while the nonce below is good for 9.5 s).
both!(a_nonce_from_the_future_is_accepted_once, |srv: TestServer| async move {
    let (c, csrf, totp) = two_factor_user(&srv, "future@example.com").await;
    let (kid, secret) = create_api_key(&srv, &c, &csrf, &totp).await;
    let bare = reqwest::Client::new();
    let url = auth_url(&srv, PEATIO);
    let h = signed_headers(&kid, &secret, now_ms() + 4_500);
    let first = authz_call(&bare, Method::POST, &url, &h).await;
    assert_eq!(first.0, 200, "{:?}", first.2);
    tokio::time::sleep(Duration::from_millis(7_600)).await;
    assert_denied(&authz_call(&bare, Method::POST, &url, &h).await, 401, "authz.nonce_reused");
});

// Methods are case-normalised before any check: `post` (and a forwarded `delete`) must not skip
// CSRF, which every method but GET, HEAD and OPTIONS needs.
both!(lower_case_methods_still_need_csrf, |srv: TestServer| async move {
    let (c, _csrf) = active_user(&srv, "lower@example.com").await;
    let url = auth_url(&srv, PEATIO);
    assert_eq!(authz_call(&c, Method::GET, &url, &[]).await.0, 200);
    let post = Method::from_bytes(b"post").expect("method");
    assert_denied(&authz_call(&c, post, &url, &[]).await, 401, "authz.missing_csrf_token");
    let odd = Method::from_bytes(b"PROPFIND").expect("method");
    assert_denied(&authz_call(&c, odd, &url, &[]).await, 401, "authz.missing_csrf_token");
    // Traefik's form: the original method in X-Forwarded-Method.
    let fixed = format!("{}/api/v2/auth", srv.base);
    let forwarded = [("X-Forwarded-Uri", format!("/{PEATIO}")), ("X-Forwarded-Method", "delete".to_string())];
    assert_denied(&authz_call(&c, Method::GET, &fixed, &forwarded).await, 401, "authz.missing_csrf_token");
});

// The authz_path fuzz invariant (no dot segment out) rules this out: dropping the `.json` of
// `...json` left a `..` segment, which matched the `public` pass prefix.
both!(a_format_suffix_never_makes_a_dot_segment, |srv: TestServer| async move {
    let anon = srv.client();
    for p in ["api/v2/barong/public/...json", "api/v2/barong/public/..%2ejson"] {
        assert_denied(&authz_call(&anon, Method::GET, &auth_url(&srv, p), &[]).await, 401, "authz.permission_denied");
    }
});

// Barong's upstream claims of a user: all seven keys, `referral_id` the referrer's numeric id;
// plus `amr` on a session's token (how the login was proven: the password alone here).
both!(upstream_user_claims_carry_the_numeric_referral_id, |srv: TestServer| async move {
    let (referrer, _) = active_user(&srv, "referrer@example.com").await;
    let url = auth_url(&srv, PEATIO);
    let token = authz_call(&referrer, Method::GET, &url, &[]).await.1.expect("token");
    let claims = verify_with_jwks(&srv, token.strip_prefix("Bearer ").expect("Bearer")).await;
    let mut keys: Vec<&str> = claims.as_object().expect("claims").keys().map(String::as_str).collect();
    keys.sort_unstable();
    let seven_and_standard = [
        "amr",
        "aud",
        "email",
        "exp",
        "iat",
        "iss",
        "jti",
        "level",
        "referral_id",
        "role",
        "state",
        "sub",
        "uid",
        "username",
    ];
    assert_eq!(keys, seven_and_standard, "{claims}");
    assert_eq!(claims["amr"], json!(["pwd"]), "{claims}");
    assert!(claims["referral_id"].is_null() && claims["username"].is_null(), "{claims}");
    assert!(claims["level"].is_i64(), "{claims}");
    let referrer_uid = claims["uid"].as_str().expect("uid").to_string();

    // A referred user: its referrer's users.id, a JSON number, never the uid.
    let c = srv.client();
    let body = json!({"email": "referred@example.com", "password": PASSWORD, "refid": referrer_uid});
    let (s, b) = post(&c, &srv.url("identity/users"), body).await;
    assert_eq!(s, 201, "{b}");
    let token = mailed_token(&srv, "referred@example.com", "confirmation_token").await;
    let (s, b) = post(&c, &srv.url("identity/users/email/confirm_code"), json!({"token": token})).await;
    assert_eq!(s, 201, "{b}");
    let c = srv.client();
    let login = json!({"email": "referred@example.com", "password": PASSWORD});
    assert_eq!(post(&c, &srv.url("identity/sessions"), login).await.0, 200);
    let token = authz_call(&c, Method::GET, &url, &[]).await.1.expect("token");
    let claims = verify_with_jwks(&srv, token.strip_prefix("Bearer ").expect("Bearer")).await;
    let id = srv.sql_texts("SELECT CAST(id AS TEXT) FROM users WHERE email = 'referrer@example.com'").await;
    let id: i64 = id[0].parse().expect("numeric id");
    assert_eq!(claims["referral_id"], json!(id), "{claims}");
    assert!(claims.as_object().is_some_and(|m| m.contains_key("username")), "{claims}");
});
