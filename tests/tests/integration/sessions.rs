use super::*;

both!(login_me_logout, |srv: TestServer| async move {
    active_user(&srv, "li@example.com").await;
    let c = srv.client();
    let url = srv.url("identity/sessions");
    let r = c.post(&url).json(&json!({"email": "LI@example.com", "password": PASSWORD})).send().await.expect("req");
    assert_eq!(r.status(), 200);
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let sid = cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_string()).expect("sid");
    let (_, u) = read(r).await;
    assert_eq!((u["email"].as_str(), u["state"].as_str()), (Some("li@example.com"), Some("active")));
    assert_eq!(u["csrf_token"].as_str().map(str::len), Some(20));
    // Session ids are stored hashed.
    let stored = srv.sql_texts("SELECT id_hash FROM sessions").await;
    assert!(!stored.iter().any(|h| h == &sid), "raw session id stored");
    let (s, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!((s, me["email"].as_str()), (200, Some("li@example.com")));
    let (s, b) = read(c.delete(&url).send().await.expect("req")).await;
    assert_eq!((s, b), (200, json!(200)));
    let (s, b) = get(&c, &srv.url("resource/users/me")).await;
    assert_err(&(s, b), 401, &["authz.invalid_session"]);
    assert_err(&read(c.delete(&url).send().await.expect("req")).await, 404, &["identity.session.not_found"]);
    let acts =
        srv.sql_texts("SELECT action || ':' || result FROM activities WHERE topic = 'session' ORDER BY id").await;
    assert!(acts.ends_with(&["login:succeed".to_string(), "logout:succeed".to_string()]), "{acts:?}");
});

both!(login_failures, |srv: TestServer| async move {
    active_user(&srv, "bad@example.com").await;
    let c = srv.client();
    let url = srv.url("identity/sessions");
    assert_err(
        &post(&c, &url, json!({})).await,
        422,
        &["identity.session.missing_email", "identity.session.missing_password"],
    );
    assert_err(
        &post(&c, &url, json!({"email": "bad@example.com", "password": "nope"})).await,
        401,
        &["identity.session.invalid_params"],
    );
    assert_err(
        &post(&c, &url, json!({"email": "ghost@example.com", "password": PASSWORD})).await,
        401,
        &["identity.session.invalid_params"],
    );
    assert_err(&post(&c, &url, json!({"email": "", "password": ""})).await, 401, &["identity.session.invalid_params"]);
    assert_err(
        &post(&c, &url, json!({"email": "bad@example.com", "password": PASSWORD, "captcha_response": [1]})).await,
        422,
        &["identity.session.invalid_captcha_format"],
    );
    let acts = srv.sql_texts("SELECT data FROM activities WHERE action = 'login' AND result = 'failed'").await;
    assert!(acts.iter().any(|d| d.contains("Invalid Email or Password")), "{acts:?}");
});

both!(account_states_after_the_password, |srv: TestServer| async move {
    for (email, state) in
        [("ban@example.com", "banned"), ("del@example.com", "deleted"), ("lock@example.com", "locked")]
    {
        let (code, out, err) = srv
            .ctl(&["--json", "user", "create", "--email", email, "--state", state, "--password-stdin"], Some(PASSWORD));
        assert_eq!(code, 0, "{out}{err}");
    }
    let c = srv.client();
    let url = srv.url("identity/sessions");
    // Without the password nothing about the state leaks (Barong told anyone).
    for email in ["ban@example.com", "del@example.com", "lock@example.com"] {
        assert_err(
            &post(&c, &url, json!({"email": email, "password": "wrong"})).await,
            401,
            &["identity.session.invalid_params"],
        );
    }
    assert_err(
        &post(&c, &url, json!({"email": "ban@example.com", "password": PASSWORD})).await,
        401,
        &["identity.session.banned"],
    );
    assert_err(
        &post(&c, &url, json!({"email": "del@example.com", "password": PASSWORD})).await,
        401,
        &["identity.session.deleted"],
    );
    assert_err(
        &post(&c, &url, json!({"email": "lock@example.com", "password": PASSWORD})).await,
        401,
        &["identity.session.not_active"],
    );
    let reasons =
        srv.sql_texts("SELECT data FROM activities WHERE action = 'login' AND result = 'failed' ORDER BY id").await;
    assert!(reasons.iter().any(|r| r.contains("Your account is banned")), "{reasons:?}");
    // Pending users may log in.
    register(&srv, &c, "pending@example.com").await;
    let (s, u) = post(&srv.client(), &url, json!({"email": "pending@example.com", "password": PASSWORD})).await;
    assert_eq!((s, u["state"].as_str()), (200, Some("pending")));
});

both!(login_rotates_the_session_id, |srv: TestServer| async move {
    active_user(&srv, "rot@example.com").await;
    let url = srv.url("identity/sessions");
    let c = reqwest::Client::builder().user_agent(TEST_UA).build().expect("client");
    let login = |cookie: Option<String>| {
        let c = c.clone();
        let url = url.clone();
        async move {
            let mut req = c.post(&url).json(&json!({"email": "rot@example.com", "password": PASSWORD}));
            if let Some(ck) = cookie {
                req = req.header("cookie", ck);
            }
            let r = req.send().await.expect("req");
            assert_eq!(r.status(), 200);
            r.headers()
                .get("set-cookie")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .split(';')
                .next()
                .unwrap_or_default()
                .to_string()
        }
    };
    let first = login(None).await;
    let second = login(Some(first.clone())).await;
    assert_ne!(first, second);
    let me = |ck: String| {
        let c = c.clone();
        let url = srv.url("resource/users/me");
        async move { c.get(url).header("cookie", ck).send().await.expect("req").status().as_u16() }
    };
    assert_eq!(me(second).await, 200);
    assert_eq!(me(first).await, 401, "the pre-login session must be gone");
    // An invented session id is never adopted.
    assert_eq!(me("_barong_session=deadbeef".into()).await, 401);
});

both!(sessions_are_bound_to_the_user_agent, |srv: TestServer| async move {
    let (c, _) = active_user(&srv, "ua@example.com").await;
    let (s, _) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!(s, 200);
    let cookie = format!("_barong_session={}", {
        // Recover the cookie by logging in with a plain client.
        let plain = reqwest::Client::builder().user_agent(TEST_UA).build().expect("client");
        let r = plain
            .post(srv.url("identity/sessions"))
            .json(&json!({"email": "ua@example.com", "password": PASSWORD}))
            .send()
            .await
            .expect("req");
        let ck = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        ck.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_string()).unwrap_or_default()
    });
    let other = reqwest::Client::builder().user_agent("curl/8.0").build().expect("client");
    let r = other.get(srv.url("resource/users/me")).header("cookie", &cookie).send().await.expect("req");
    assert_err(&read(r).await, 401, &["authz.client_session_mismatch"]);
});

both!(expired_sessions_are_refused, |srv: TestServer| async move {
    let (c, _) = active_user(&srv, "old@example.com").await;
    let count = || async { srv.sql_texts("SELECT CAST(COUNT(*) AS TEXT) FROM sessions").await };
    // One session from the registration, one from the login.
    assert_eq!(count().await, vec!["2"]);
    srv.sql("UPDATE sessions SET expires_at = 1").await;
    let (s, b) = get(&c, &srv.url("resource/users/me")).await;
    assert_err(&(s, b), 401, &["authz.client_session_mismatch"]);
    assert_eq!(count().await, vec!["1"], "the expired session that was presented is destroyed");
});

#[tokio::test]
async fn repeated_failures_are_throttled() {
    let opts = Options {
        config: "login_throttle: {max_failures_per_account: 3, max_failures_per_ip: 100, window_seconds: 600}".into(),
        ..Default::default()
    };
    let srv = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("sqlite");
    active_user(&srv, "brute@example.com").await;
    let c = srv.client();
    let url = srv.url("identity/sessions");
    for _ in 0..3 {
        assert_err(
            &post(&c, &url, json!({"email": "brute@example.com", "password": "guess"})).await,
            401,
            &["identity.session.invalid_params"],
        );
    }
    assert_err(
        &post(&c, &url, json!({"email": "brute@example.com", "password": PASSWORD})).await,
        429,
        &["identity.session.too_many_attempts"],
    );
    // Other accounts are unaffected.
    active_user(&srv, "fine@example.com").await;
}
