use super::*;

// Two links in a row to one address: more than the default mail limit allows.
both!(password_reset_flow, config = "mail_throttle: {max_per_address_per_minute: 5}", |srv: TestServer| async move {
    let (old_session, _) = active_user(&srv, "rita@example.com").await;
    let c = srv.client();
    let generate = srv.url("identity/users/password/generate_code");
    let confirm = srv.url("identity/users/password/confirm_code");
    let (s, b) = post(&c, &generate, json!({"email": "nobody@example.com"})).await;
    assert_eq!((s, b), (201, json!(201)));
    let (s, _) = post(&c, &generate, json!({"email": "rita@example.com"})).await;
    assert_eq!(s, 201);
    let first = mailed_token(&srv, "rita@example.com", "reset_token").await;
    // A second request makes the first token useless.
    let (s, _) = post(&c, &generate, json!({"email": "rita@example.com"})).await;
    assert_eq!(s, 201);
    // Waits for the second link itself: counting mails could count a late confirmation mail.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let token = loop {
        let latest = mailed_token(&srv, "rita@example.com", "reset_token").await;
        if latest != first {
            break latest;
        }
        assert!(std::time::Instant::now() < deadline, "no second reset link");
        tokio::time::sleep(Duration::from_millis(25)).await;
    };
    let new = "Vei4ahch-Ohth";
    let body = |t: &str, p: &str, cp: &str| json!({"reset_password_token": t, "password": p, "confirm_password": cp});
    assert_err(&post(&c, &confirm, body(&first, new, new)).await, 422, &["identity.user.utilized_token"]);
    assert_err(&post(&c, &confirm, body(&token, new, "other")).await, 422, &["identity.user.passwords_doesnt_match"]);
    assert_err(&post(&c, &confirm, body(&token, "Password1", "Password1")).await, 422, &["password.weak"]);
    let (s, b) = post(&c, &confirm, body(&token, new, new)).await;
    assert_eq!((s, b), (201, json!(201)));
    assert_err(&post(&c, &confirm, body(&token, new, new)).await, 422, &["identity.user.utilized_token"]);
    // Every session of the user ended.
    let (s, _) = get(&old_session, &srv.url("resource/users/me")).await;
    assert_eq!(s, 401);
    let login = srv.url("identity/sessions");
    assert_err(
        &post(&srv.client(), &login, json!({"email": "rita@example.com", "password": PASSWORD})).await,
        401,
        &["identity.session.invalid_params"],
    );
    let (s, _) = post(&srv.client(), &login, json!({"email": "rita@example.com", "password": new})).await;
    assert_eq!(s, 200);
    let acts =
        srv.sql_texts("SELECT action || ':' || result FROM activities WHERE topic = 'password' ORDER BY id").await;
    assert!(
        acts.contains(&"password reset:failed".to_string()) && acts.contains(&"password reset:succeed".to_string()),
        "{acts:?}"
    );
});

both!(password_confirm_parameter_errors, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users/password/confirm_code");
    assert_err(
        &post(&c, &url, json!({})).await,
        422,
        &[
            "identity.user.missing_pass_token",
            "identity.user.empty_reset_password_token",
            "identity.user.missing_password",
            "identity.user.empty_password",
            "identity.user.missing_confirm_password",
            "identity.user.empty_confirm_password",
        ],
    );
    assert_err(
        &post(&c, &url, json!({"reset_password_token": "", "password": "x", "confirm_password": "x"})).await,
        422,
        &["identity.user.empty_reset_password_token"],
    );
    assert_err(
        &post(
            &c,
            &url,
            json!({"reset_password_token": "abc", "password": "Vei4ahch-Ohth", "confirm_password": "Vei4ahch-Ohth"}),
        )
        .await,
        422,
        &["jwt.decode_and_verify.segments"],
    );
    register(&srv, &c, "conf@example.com").await;
    let confirmation = mailed_token(&srv, "conf@example.com", "confirmation_token").await;
    assert_err(
        &post(&c, &url, json!({"reset_password_token": confirmation, "password": "Vei4ahch-Ohth", "confirm_password": "Vei4ahch-Ohth"})).await,
        422,
        &["jwt.decode_and_verify.confirmation"],
    );
    let generate = srv.url("identity/users/password/generate_code");
    assert_err(&post(&c, &generate, json!({"email": ""})).await, 422, &["identity.user.empty_email"]);
});
