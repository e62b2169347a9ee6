use super::*;

both!(register_creates_a_pending_member_with_a_session, |srv: TestServer| async move {
    let c = srv.client();
    let r = c
        .post(srv.url("identity/users"))
        .json(&json!({"email": "Alice@Example.com", "password": PASSWORD, "username": "Alice01", "data": "{\"a\":1}"}))
        .send()
        .await
        .expect("req");
    assert_eq!(r.status(), 201);
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(cookie.starts_with("_barong_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let (_, u) = read(r).await;
    assert_eq!(u["email"], "Alice@Example.com");
    assert!(u["uid"].as_str().is_some_and(|s| s.len() == 12 && s.starts_with("ID")), "{u}");
    assert_eq!(
        (u["role"].as_str(), u["level"].as_i64(), u["state"].as_str()),
        (Some("member"), Some(0), Some("pending"))
    );
    assert_eq!(u["otp"], false);
    assert_eq!(u["username"], "alice01");
    assert_eq!(u["data"], "{\"a\":1}");
    assert!(u["referral_uid"].is_null());
    assert_eq!(u["csrf_token"].as_str().map(str::len), Some(20));
    for k in ["labels", "phones", "profiles", "data_storages"] {
        assert_eq!(u[k], json!([]), "{k}");
    }
    assert!(u["created_at"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20));
    // The registration session sees the pending user.
    let (s, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!((s, me["uid"].clone()), (200, u["uid"].clone()));
    assert!(me.get("csrf_token").is_none());
    // A signup activity was recorded.
    let topics = srv.sql_texts("SELECT action FROM activities WHERE topic = 'account'").await;
    assert_eq!(topics, vec!["signup"]);
});

both!(register_parameter_errors, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users");
    assert_err(
        &post(&c, &url, json!({})).await,
        422,
        &[
            "identity.user.missing_email",
            "identity.user.empty_email",
            "identity.user.missing_password",
            "identity.user.empty_password",
        ],
    );
    assert_err(&post(&c, &url, json!({"email": " ", "password": PASSWORD})).await, 422, &["identity.user.empty_email"]);
    assert_err(&post(&c, &url, json!({"email": ["a@b.io"], "password": PASSWORD})).await, 422, &["invalid"]);
    assert_err(
        &post(&c, &url, json!({"email": "a@b.io", "password": PASSWORD, "captcha_response": 5})).await,
        422,
        &["invalid"],
    );
});

both!(register_model_errors, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users");
    register(&srv, &c, "taken@example.com").await;
    let cases: Vec<(Value, Vec<&str>)> = vec![
        (json!({"email": "not-an-email", "password": PASSWORD}), vec!["email.invalid"]),
        (json!({"email": "TAKEN@example.com", "password": PASSWORD}), vec!["email.taken"]),
        (json!({"email": "x1@example.com", "password": "Password1"}), vec!["password.weak"]),
        (json!({"email": "x2@example.com", "password": "short"}), vec!["password.requirements"]),
        (
            json!({"email": "x3@example.com", "password": PASSWORD, "username": ""}),
            vec!["username.too_short", "username.invalid"],
        ),
        (json!({"email": "x4@example.com", "password": PASSWORD, "username": "abc"}), vec!["username.too_short"]),
        (
            json!({"email": "x5@example.com", "password": PASSWORD, "username": "abcdefghijklm"}),
            vec!["username.too_long"],
        ),
        (json!({"email": "x6@example.com", "password": PASSWORD, "username": "ab_cd"}), vec!["username.invalid"]),
        (json!({"email": "x7@example.com", "password": PASSWORD, "data": "{not json"}), vec!["data.invalid_format"]),
        (
            json!({"email": "x8@example.com", "password": PASSWORD, "data": format!("\"{}\"", "a".repeat(1100))}),
            vec!["data.too_long"],
        ),
        (json!({"email": "bad", "password": "weak"}), vec!["email.invalid", "password.requirements"]),
    ];
    for (body, keys) in cases {
        let got = post(&c, &url, body.clone()).await;
        assert_err(&got, 422, &keys);
    }
    let (s, _) = post(&c, &url, json!({"email": "u1@example.com", "password": PASSWORD, "username": "bobby"})).await;
    assert_eq!(s, 201);
    assert_err(
        &post(&c, &url, json!({"email": "u2@example.com", "password": PASSWORD, "username": "BOBBY"})).await,
        422,
        &["username.taken"],
    );
});

both!(register_with_referral, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users");
    let referrer = register(&srv, &c, "ref@example.com").await;
    let uid = referrer["uid"].as_str().expect("uid").to_string();
    assert_err(
        &post(&c, &url, json!({"email": "r1@example.com", "password": PASSWORD, "refid": "XX123"})).await,
        422,
        &["identity.user.invalid_referral_format"],
    );
    assert_err(
        &post(&c, &url, json!({"email": "r1@example.com", "password": PASSWORD, "refid": "ID0000000000"})).await,
        422,
        &["identity.user.referral_doesnt_exist"],
    );
    let (s, u) = post(&c, &url, json!({"email": "r1@example.com", "password": PASSWORD, "refid": uid})).await;
    assert_eq!((s, u["referral_uid"].as_str()), (201, Some(uid.as_str())));
});

#[tokio::test]
async fn first_registration_superadmin_when_enabled() {
    let opts = Options { config: "first_registration_superadmin: true".into(), ..Default::default() };
    let srv = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("sqlite");
    let c = srv.client();
    let first = register(&srv, &c, "boss@example.com").await;
    assert_eq!(
        (first["role"].as_str(), first["state"].as_str(), first["level"].as_i64()),
        (Some("superadmin"), Some("active"), Some(1))
    );
    let second = register(&srv, &srv.client(), "second@example.com").await;
    assert_eq!((second["role"].as_str(), second["state"].as_str()), (Some("member"), Some("pending")));
    // Only the second one is sent a confirmation.
    let mails = srv.wait_mail(1, Duration::from_secs(5)).await;
    assert_eq!(mails.len(), 1);
    assert!(mails[0].contains("To: second@example.com"));
}

both!(an_address_no_mail_can_reach_is_refused_before_anything_is_stored, |srv: TestServer| async move {
    let c = srv.client();
    // Barong's validator accepts both; neither can be a mail's recipient (a DNS label is at most
    // 63 characters, a bare '"' needs quoting), so the confirmation mail could never be sent.
    let long_label = format!("a@{}", "b".repeat(253));
    for email in [long_label.as_str(), r#"a"b@example.com"#] {
        let r = c.post(srv.url("identity/users")).json(&json!({"email": email, "password": PASSWORD})).send().await;
        let r = read(r.expect("req")).await;
        assert_err(&r, 422, &["email.invalid"]);
    }
    assert_eq!(srv.sql_texts("SELECT email FROM users").await, Vec::<String>::new(), "nothing stored");
    let ok = format!("a@{}.com", "b".repeat(63));
    let r = c.post(srv.url("identity/users")).json(&json!({"email": ok, "password": PASSWORD})).send().await;
    assert_eq!(r.expect("req").status(), 201, "a 63-character label is fine");
});
