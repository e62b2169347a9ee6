use super::*;

async fn with_recaptcha(verdict: &'static str) -> (TestServer, Arc<std::sync::Mutex<Vec<String>>>) {
    let (url, seen) = fake_http(200, verdict).await;
    let config = format!(
        "captcha: recaptcha\nrecaptcha_site_key: site-key\nrecaptcha_secret_key: rc-secret\nrecaptcha_verify_url: {url}/siteverify\n"
    );
    let srv = TestServer::spawn_with(Backend::Sqlite, Options { config, ..Default::default() }).await.expect("sqlite");
    (srv, seen)
}

#[tokio::test]
async fn recaptcha_required_failed_and_passed() {
    let (srv, _) = with_recaptcha(r#"{"success": false}"#).await;
    let c = srv.client();
    let url = srv.url("identity/users");
    assert_err(
        &post(&c, &url, json!({"email": "c@example.com", "password": PASSWORD})).await,
        400,
        &["identity.captcha.required"],
    );
    assert_err(
        &post(&c, &url, json!({"email": "c@example.com", "password": PASSWORD, "captcha_response": ""})).await,
        400,
        &["identity.captcha.required"],
    );
    assert_err(
        &post(&c, &url, json!({"email": "c@example.com", "password": PASSWORD, "captcha_response": "tok"})).await,
        422,
        &["identity.captcha.verification_failed"],
    );
    let (s, cfg) = get(&c, &srv.url("identity/configs")).await;
    assert_eq!(
        (s, cfg["captcha_type"].as_str(), cfg["captcha_id"].as_str()),
        (200, Some("recaptcha"), Some("site-key"))
    );

    let (ok, seen) = with_recaptcha(r#"{"success": true}"#).await;
    let c = ok.client();
    let (s, _) = post(
        &c,
        &ok.url("identity/users"),
        json!({"email": "c@example.com", "password": PASSWORD, "captcha_response": "tok"}),
    )
    .await;
    assert_eq!(s, 201);
    let sent = seen.lock().expect("lock").join("\n");
    assert!(sent.contains("secret=rc-secret") && sent.contains("response=tok"), "{sent}");
    // Every protected endpoint checks it.
    for (path, body) in [
        ("identity/sessions", json!({"email": "c@example.com", "password": PASSWORD})),
        ("identity/users/password/generate_code", json!({"email": "c@example.com"})),
        ("identity/users/email/generate_code", json!({"email": "c@example.com"})),
    ] {
        assert_err(&post(&c, &ok.url(path), body).await, 400, &["identity.captcha.required"]);
    }
    assert!(!ok.logs().contains("rc-secret"));
}

#[tokio::test]
async fn unreachable_verifier_fails_fast() {
    let config = "captcha: recaptcha\nrecaptcha_verify_url: http://127.0.0.1:9/siteverify\ncaptcha_timeout_ms: 1000\n"
        .to_string();
    let srv = TestServer::spawn_with(Backend::Sqlite, Options { config, ..Default::default() }).await.expect("sqlite");
    let started = std::time::Instant::now();
    let got = post(
        &srv.client(),
        &srv.url("identity/users"),
        json!({"email": "c@example.com", "password": PASSWORD, "captcha_response": "x"}),
    )
    .await;
    assert_err(&got, 422, &["identity.captcha.verification_failed"]);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn geetest_needs_its_three_fields() {
    let (url, _) = fake_http(200, "0").await;
    let config = format!("captcha: geetest\ngeetest_id: gid\ngeetest_key: gkey\ngeetest_api_url: {url}\n");
    let srv = TestServer::spawn_with(Backend::Sqlite, Options { config, ..Default::default() }).await.expect("sqlite");
    let c = srv.client();
    let url = srv.url("identity/users");
    assert_err(
        &post(
            &c,
            &url,
            json!({"email": "g@example.com", "password": PASSWORD, "captcha_response": {"geetest_challenge": "x"}}),
        )
        .await,
        400,
        &["identity.captcha.mandatory_fields"],
    );
    let answer = json!({"geetest_challenge": "c", "geetest_validate": "wrong", "geetest_seccode": "s"});
    assert_err(
        &post(&c, &url, json!({"email": "g@example.com", "password": PASSWORD, "captcha_response": answer})).await,
        422,
        &["identity.captcha.verification_failed"],
    );
    // Form-encoded nested fields are understood too.
    let r = c
        .post(&url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("email=g%40example.com&password=Zahsh8ei-Quoo&captcha_response[geetest_challenge]=c")
        .send()
        .await
        .expect("req");
    assert_err(&read(r).await, 400, &["identity.captcha.mandatory_fields"]);
}
