use super::*;

both!(confirmation_mail_and_confirm_code, |srv: TestServer| async move {
    let c = srv.client();
    register(&srv, &c, "eve@example.com").await;
    let mails = srv.wait_mail(1, Duration::from_secs(10)).await;
    assert_eq!(mails.len(), 1);
    let mail = &mails[0];
    assert!(mail.contains("To: eve@example.com") && mail.contains("Subject:"), "{mail}");
    assert!(mail.contains("/accounts/confirmation?confirmation_token="), "{mail}");
    let token = token_in(mail, "confirmation_token").expect("token");
    let url = srv.url("identity/users/email/confirm_code");

    let anon = srv.client();
    let r = anon.post(&url).json(&json!({"token": token})).send().await.expect("req");
    assert_eq!(r.status(), 201);
    assert!(r.headers().get("set-cookie").is_none(), "no login on confirmation by default");
    let (_, u) = read(r).await;
    assert_eq!((u["state"].as_str(), u["level"].as_i64()), (Some("active"), Some(1)));
    assert!(u.get("csrf_token").is_none());
    assert_eq!(u["labels"][0]["key"], "email");
    assert_eq!(u["labels"][0]["value"], "verified");
    assert_eq!(u["labels"][0]["scope"], "private");
    let (s, _) = get(&anon, &srv.url("resource/users/me")).await;
    assert_eq!(s, 401);

    // Used again: the user is active now.
    assert_err(&post(&anon, &url, json!({"token": token})).await, 422, &["identity.user.active_or_doesnt_exist"]);
    // A user set back to pending still cannot replay the same token.
    srv.sql("UPDATE users SET state = 'pending' WHERE email_key = 'eve@example.com'").await;
    assert_err(&post(&anon, &url, json!({"token": token})).await, 422, &["identity.user.utilized_token"]);
});

both!(confirm_code_token_errors, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users/email/confirm_code");
    assert_err(&post(&c, &url, json!({})).await, 422, &["identity.user.missing_token", "identity.user.empty_token"]);
    assert_err(&post(&c, &url, json!({"token": "  "})).await, 422, &["identity.user.empty_token"]);
    assert_err(&post(&c, &url, json!({"token": "abc"})).await, 422, &["jwt.decode_and_verify.segments"]);
    assert_err(&post(&c, &url, json!({"token": "a.b.c"})).await, 422, &["jwt.decode_and_verify.encoding"]);
    // A reset token is refused by its `sub`.
    register(&srv, &c, "mallory@example.com").await;
    let (s, _) =
        post(&c, &srv.url("identity/users/password/generate_code"), json!({"email": "mallory@example.com"})).await;
    assert_eq!(s, 201);
    let reset = mailed_token(&srv, "mallory@example.com", "reset_token").await;
    assert_err(&post(&c, &url, json!({"token": reset})).await, 422, &["jwt.decode_and_verify.reset"]);
    // A tampered signature.
    let confirm = mailed_token(&srv, "mallory@example.com", "confirmation_token").await;
    let mut parts: Vec<String> = confirm.split('.').map(str::to_string).collect();
    parts[2] = format!("{}AAAA", &parts[2][..parts[2].len() - 4]);
    assert_err(&post(&c, &url, json!({"token": parts.join(".")})).await, 422, &["jwt.decode_and_verify.raised"]);
});

both!(email_generate_code_is_silent_about_accounts, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users/email/generate_code");
    assert_err(&post(&c, &url, json!({})).await, 422, &["identity.user.missing_email", "identity.user.empty_email"]);
    let (s, b) = post(&c, &url, json!({"email": "nobody@example.com"})).await;
    assert_eq!((s, b), (201, json!(201)));
    register(&srv, &c, "pend@example.com").await;
    srv.wait_mail(1, Duration::from_secs(10)).await;
    let (s, _) = post(&c, &url, json!({"email": "PEND@example.com"})).await;
    assert_eq!(s, 201);
    assert_eq!(srv.wait_mail(2, Duration::from_secs(10)).await.len(), 2);
    // Both tokens are valid; the newest confirms.
    let token = mailed_token(&srv, "pend@example.com", "confirmation_token").await;
    let (s, _) = post(&c, &srv.url("identity/users/email/confirm_code"), json!({"token": token})).await;
    assert_eq!(s, 201);
    let (s, _) = post(&c, &url, json!({"email": "pend@example.com"})).await;
    assert_eq!(s, 201);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(srv.outbox().len(), 2, "no mail for an active account");
});

#[tokio::test]
async fn confirmation_logs_in_when_configured() {
    let opts = Options { config: "login_on_email_confirmation: true".into(), ..Default::default() };
    let srv = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("sqlite");
    register(&srv, &srv.client(), "auto@example.com").await;
    let token = mailed_token(&srv, "auto@example.com", "confirmation_token").await;
    let c = srv.client();
    let (s, u) = post(&c, &srv.url("identity/users/email/confirm_code"), json!({"token": token})).await;
    assert_eq!(s, 201);
    assert_eq!(u["csrf_token"].as_str().map(str::len), Some(20));
    let (s, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!((s, me["state"].as_str()), (200, Some("active")));
}

#[tokio::test]
async fn templates_follow_the_language() {
    let srv = TestServer::spawn(Backend::Sqlite).await.expect("sqlite");
    let c = srv.client();
    let (s, _) =
        post(&c, &srv.url("identity/users"), json!({"email": "ivan@example.com", "password": PASSWORD, "lang": "ru"}))
            .await;
    assert_eq!(s, 201);
    let mail = srv.wait_mail(1, Duration::from_secs(10)).await.remove(0);
    assert!(mail.contains("lang=ru"), "{mail}");
    assert!(!mail.contains("Subject: Confirm"), "Russian subject expected: {mail}");
}
