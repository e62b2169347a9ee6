use super::*;

both!(ping_time_version_configs_on_both_prefixes, |srv: TestServer| async move {
    let c = srv.client();
    for family in ["identity", "public"] {
        for base in [srv.url(family), format!("{}/api/v2/{family}", srv.base)] {
            assert_eq!(get(&c, &format!("{base}/ping")).await, (200, json!({"ping": "pong"})));
            let (s, t) = get(&c, &format!("{base}/time")).await;
            assert_eq!(s, 200);
            let now =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
            assert!((t["time"].as_i64().expect("integer time") - now).abs() < 5);
            let (s, v) = get(&c, &format!("{base}/version")).await;
            assert_eq!(s, 200);
            for k in ["git_tag", "git_sha", "build_date", "version"] {
                assert!(v[k].is_string(), "{k} in {v}");
            }
            let (s, cfg) = get(&c, &format!("{base}/configs")).await;
            assert_eq!(s, 200);
            assert_eq!(cfg["session_expire_time"], 1800);
            assert_eq!(cfg["captcha_type"], "none");
            assert_eq!(cfg["phone_verification_type"], "file");
            assert_eq!(cfg["password_min_entropy"], 14);
            assert!(cfg["password_regexp"].as_str().expect("regexp").starts_with("(?-mix:"));
            assert!(cfg.get("captcha_id").is_none());
        }
    }
    let (s, a) = get(&c, &srv.url("public/configs/auth0")).await;
    assert_eq!((s, a), (200, json!({"auth0_domain": "", "auth0_client_id": ""})));
});

both!(password_validate_gives_entropy_or_missing_keys, |srv: TestServer| async move {
    let c = srv.client();
    for (family, scope) in [("identity", "identity.general"), ("public", "public.general")] {
        let url = srv.url(&format!("{family}/password/validate"));
        let (s, b) = post(&c, &url, json!({"password": "ZahSh8ei"})).await;
        assert_eq!(s, 201);
        assert!((b["entropy"].as_f64().expect("entropy") - 15.5).abs() < 1e-9, "{b}");
        let (s, b) = post(&c, &url, json!({"password": ""})).await;
        assert_eq!((s, b["entropy"].as_f64()), (201, Some(-2.0)));
        let missing = format!("{scope}.missing_password");
        assert_err(&post(&c, &url, json!({})).await, 422, &[missing.as_str()]);
    }
});

both!(unknown_routes_and_wrong_methods_are_grape_404s, |srv: TestServer| async move {
    let c = srv.client();
    for path in ["identity/nope", "public/ping/extra", "nothing/here"] {
        assert_eq!(get(&c, &srv.url(path)).await, (404, json!({"error": "Route is not found"})));
    }
    let (s, b) = read(c.delete(srv.url("identity/ping")).send().await.expect("req")).await;
    assert_eq!((s, b), (404, json!({"error": "Route is not found"})));
    let (s, b) = get(&c, &format!("{}/elsewhere", srv.base)).await;
    assert_eq!((s, b), (404, json!({"error": "Route is not found"})));
});

both!(register_geetest_without_geetest_is_an_empty_string, |srv: TestServer| async move {
    let c = srv.client();
    let (s, b) = get(&c, &srv.url("identity/users/register_geetest")).await;
    assert_eq!((s, b), (200, json!("")));
});

both!(cors_follows_the_configuration, |srv: TestServer| async move {
    let c = srv.client();
    let r = c
        .request(reqwest::Method::OPTIONS, srv.url("identity/sessions"))
        .header("origin", "https://exchange.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type, x-csrf-token")
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 200);
    let h = r.headers();
    assert_eq!(h.get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    assert!(h.get("access-control-allow-methods").and_then(|v| v.to_str().ok()).is_some_and(|m| m.contains("POST")));
    assert_eq!(h.get("access-control-max-age").and_then(|v| v.to_str().ok()), Some("3600"));
    let r = c.get(srv.url("identity/ping")).header("origin", "https://exchange.example").send().await.expect("req");
    assert_eq!(r.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("*"));
    let r = c.get(srv.url("identity/ping")).send().await.expect("req");
    assert!(r.headers().get("access-control-allow-origin").is_none(), "no Origin, no CORS headers");
});

// `*` with credentials on (the combination the review found): any origin gets `*` and no
// credentials, so no site can read a signed-in user's answers; an origin listed by name still
// gets its echo and credentials.
both!(
    cors_never_gives_credentials_to_any_origin,
    config = "api_cors_origins: 'https://exchange.example, *'\napi_cors_allow_credentials: true\n",
    |srv: TestServer| async move {
        let c = srv.client();
        let header =
            |r: &reqwest::Response, name: &str| r.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
        let r = c.get(srv.url("identity/ping")).header("origin", "https://evil.example").send().await.expect("req");
        assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(header(&r, "access-control-allow-credentials"), None);
        let r = c
            .request(reqwest::Method::OPTIONS, srv.url("identity/sessions"))
            .header("origin", "https://evil.example")
            .header("access-control-request-method", "POST")
            .send()
            .await
            .expect("req");
        assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("*"));
        assert_eq!(header(&r, "access-control-allow-credentials"), None);
        let r = c.get(srv.url("identity/ping")).header("origin", "https://exchange.example").send().await.expect("req");
        assert_eq!(header(&r, "access-control-allow-origin").as_deref(), Some("https://exchange.example"));
        assert_eq!(header(&r, "access-control-allow-credentials").as_deref(), Some("true"));
    }
);
