use super::*;

both!(bad_bodies_get_barong_errors_not_500s, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users");
    let send = |ct: &'static str, body: Vec<u8>| {
        let c = c.clone();
        let url = url.clone();
        async move { read(c.post(&url).header("content-type", ct).body(body).send().await.expect("req")).await }
    };
    assert_err(&send("application/json", b"{not json".to_vec()).await, 400, &["request.malformed_body"]);
    assert_err(&send("application/json", b"[1,2,3]".to_vec()).await, 400, &["request.malformed_body"]);
    assert_err(&send("application/json", vec![0xff, 0xfe, 0x00]).await, 400, &["request.malformed_body"]);
    assert_err(&send("application/json", br#"{"email": 1, "password": {"a": 1}}"#.to_vec()).await, 422, &["invalid"]);
    assert_err(
        &send("multipart/form-data; boundary=x", b"--x--".to_vec()).await,
        415,
        &["request.unsupported_media_type"],
    );
    // Invalid UTF-8 in a form body is decoded lossily, then validated like any other value.
    let (s, _) = send("application/x-www-form-urlencoded", b"email=%FF%FE&password=x".to_vec()).await;
    assert_eq!(s, 422);
    // Huge bodies: refused whole, with or without a Content-Length.
    let huge = vec![b'a'; 2 * 1024 * 1024];
    assert_err(&send("application/json", huge.clone()).await, 413, &["request.body_too_large"]);
    let stream = futures_stream(huge);
    let r = c
        .post(&url)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .expect("req");
    assert_err(&read(r).await, 413, &["request.body_too_large"]);
    // Huge field values inside the limit are validation errors.
    let big = "a".repeat(20_000);
    let (s, _) = post(&c, &url, json!({"email": format!("{big}@example.com"), "password": big})).await;
    assert_eq!(s, 422);
    let (s, _) =
        post(&c, &srv.url("identity/sessions"), json!({"email": "x@example.com", "password": "a".repeat(40_000)}))
            .await;
    assert_eq!(s, 401);
    // Query-string parameters work like body ones.
    let r = c.post(format!("{url}?email=q%40example.com")).send().await.expect("req");
    assert_err(&read(r).await, 422, &["identity.user.missing_password", "identity.user.empty_password"]);
    assert!(!srv.logs().contains("panicked"));
    let (s, _) = get(&c, &srv.url("identity/ping")).await;
    assert_eq!(s, 200, "still serving");
});

/// A chunked body: no Content-Length announces its size.
fn futures_stream(
    data: Vec<u8>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + Sync + 'static {
    let parts: Vec<Result<Vec<u8>, std::io::Error>> = data.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    futures::stream::iter(parts)
}

#[tokio::test]
async fn logs_of_a_login_hold_no_secrets() {
    let srv = TestServer::spawn(Backend::Sqlite).await.expect("sqlite");
    let c = srv.client();
    register(&srv, &c, "quiet@example.com").await;
    let confirm = mailed_token(&srv, "quiet@example.com", "confirmation_token").await;
    let r = c
        .post(srv.url("identity/sessions") + "?password=" + PASSWORD)
        .json(&json!({"email": "quiet@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("req");
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let sid = cookie.split(';').next().and_then(|kv| kv.split_once('=')).map(|(_, v)| v.to_string()).expect("sid");
    let (_, body) = read(r).await;
    let csrf = body["csrf_token"].as_str().expect("csrf").to_string();
    post(&c, &srv.url("identity/sessions"), json!({"email": "quiet@example.com", "password": "Wrong-Pass-123"})).await;
    post(&c, &srv.url("identity/users/email/confirm_code"), json!({"token": confirm})).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let logs = srv.logs();
    assert!(logs.contains("request"), "access log lines exist: {logs}");
    for secret in [PASSWORD, "Wrong-Pass-123", sid.as_str(), csrf.as_str(), confirm.as_str()] {
        assert!(!logs.contains(secret), "secret {secret} in logs:\n{logs}");
    }
}
