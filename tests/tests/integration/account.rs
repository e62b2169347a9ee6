//! The account endpoints of the resource API: users/password, users/me PUT/DELETE,
//! users/activity, labels and data_storage.

use reqwest::Method;

use super::*;

/// A request with a JSON body and, when given, the CSRF header.
async fn call(c: &reqwest::Client, method: Method, url: &str, csrf: Option<&str>, body: Value) -> (u16, Value) {
    let mut r = c.request(method, url).json(&body);
    if let Some(t) = csrf {
        r = r.header("X-CSRF-Token", t);
    }
    read(r.send().await.expect("request")).await
}

/// Logs `email` in with `password` on a fresh client; returns it and its CSRF token.
async fn login(srv: &TestServer, email: &str, password: &str) -> (reqwest::Client, String) {
    let c = srv.client();
    let (s, b) = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": password})).await;
    assert_eq!(s, 200, "login: {b}");
    (c, b["csrf_token"].as_str().expect("csrf").to_string())
}

async fn user_id(srv: &TestServer, email: &str) -> String {
    srv.sql_texts(&format!("SELECT CAST(id AS TEXT) FROM users WHERE email = '{email}'")).await.remove(0)
}

/// The body of `PUT users/password`.
fn change(old: &str, new: &str, confirm: &str) -> Value {
    json!({"old_password": old, "new_password": new, "confirm_password": confirm})
}

both!(password_change, |srv: TestServer| async move {
    let email = "pat@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let (other, _) = login(&srv, email, PASSWORD).await;
    let url = srv.url("resource/users/password");
    let put = |csrf: Option<String>, body: Value| {
        let (c, url) = (c.clone(), url.clone());
        async move { call(&c, Method::PUT, &url, csrf.as_deref(), body).await }
    };
    let ok = Some(csrf.clone());
    let new = "Vei4ahch-Ohth";

    assert_err(&put(None, change(PASSWORD, new, new)).await, 401, &["authz.missing_csrf_token"]);
    assert_err(&put(Some("nope".into()), change(PASSWORD, new, new)).await, 401, &["authz.csrf_token_mismatch"]);
    assert_err(
        &put(ok.clone(), json!({})).await,
        422,
        &[
            "resource.user.missing_old_password",
            "resource.user.empty_old_password",
            "resource.user.missing_new_password",
            "resource.user.empty_new_password",
            "resource.user.missing_confirm_password",
            "resource.user.empty_confirm_password",
        ],
    );
    // Barong's order: confirmation, then the old password, then "no change", then the policy.
    assert_err(&put(ok.clone(), change("wrong", new, "other")).await, 422, &["resource.password.doesnt_match"]);
    assert_err(&put(ok.clone(), change("wrong", new, new)).await, 400, &["resource.password.prev_pass_not_correct"]);
    assert_err(
        &put(ok.clone(), change(PASSWORD, PASSWORD, PASSWORD)).await,
        400,
        &["resource.password.no_change_provided"],
    );
    assert_err(&put(ok.clone(), change(PASSWORD, "short", "short")).await, 422, &["password.requirements"]);
    assert_err(&put(ok.clone(), change(PASSWORD, "Password1", "Password1")).await, 422, &["password.weak"]);

    let (s, b) = put(ok.clone(), change(PASSWORD, new, new)).await;
    assert_eq!((s, b), (201, json!(201)));
    // This session goes on; every other session of the user ended (Barong revoked none).
    assert_eq!(get(&c, &srv.url("resource/users/me")).await.0, 200);
    assert_err(&get(&other, &srv.url("resource/users/me")).await, 401, &["authz.invalid_session"]);
    assert_err(
        &post(&srv.client(), &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await,
        401,
        &["identity.session.invalid_params"],
    );
    login(&srv, email, new).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !srv.outbox().iter().any(|m| m.contains(&format!("To: {email}")) && m.contains("has been changed")) {
        assert!(std::time::Instant::now() < deadline, "a password-changed notice is mailed");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }

    let acts = srv
        .sql_texts("SELECT result || ':' || COALESCE(data, '') FROM activities WHERE topic = 'password' ORDER BY id")
        .await;
    assert_eq!(acts.len(), 6, "{acts:?}");
    assert!(acts[0].starts_with("failed:") && acts[0].contains("New passwords don't match"), "{acts:?}");
    assert!(acts[1].contains("Previous password is not correct"), "{acts:?}");
    assert!(acts[2].contains("New password cant be the same, as old one"), "{acts:?}");
    assert!(acts[3].contains("password.requirements") && acts[4].contains("password.weak"), "{acts:?}");
    assert!(acts[5].starts_with("succeed:"), "{acts:?}");
    // No password ever reaches the activity trail or the logs.
    assert!(!acts.iter().any(|a| a.contains(new) || a.contains(PASSWORD)));
    assert!(!srv.logs().contains(new) && !srv.logs().contains(PASSWORD));
});

both!(update_me_data, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "dana@example.com").await;
    let url = srv.url("resource/users/me");
    let put = |body: Value| {
        let (c, url, csrf) = (c.clone(), url.clone(), csrf.clone());
        async move { call(&c, Method::PUT, &url, Some(&csrf), body).await }
    };
    assert_err(&call(&c, Method::PUT, &url, None, json!({"data": "{}"})).await, 401, &["authz.missing_csrf_token"]);
    assert_err(&put(json!({})).await, 422, &["resource.user.missing_data", "resource.user.empty_data"]);
    assert_err(&put(json!({"data": "  "})).await, 422, &["resource.user.empty_data"]);
    assert_err(&put(json!({"data": {"a": 1}})).await, 422, &["invalid"]);
    assert_err(&put(json!({"data": "{nope"})).await, 422, &["data.invalid_format"]);
    assert_err(&put(json!({"data": "x".repeat(1025)})).await, 422, &["data.too_long", "data.invalid_format"]);
    assert_err(&put(json!({"data": format!("\"{}\"", "x".repeat(1023))})).await, 422, &["data.too_long"]);
    // Huge values inside the body limit are validation errors; beyond it, the body is refused.
    assert_err(&put(json!({"data": "{".repeat(60_000)})).await, 422, &["data.too_long", "data.invalid_format"]);
    assert_err(&put(json!({"data": "x".repeat(100_000)})).await, 413, &["request.body_too_large"]);
    let (s, b) = put(json!({"data": r#"{"language":"fr"}"#})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["data"], r#"{"language":"fr"}"#);
    assert_eq!(b["email"], "dana@example.com");
    assert!(b["labels"].is_array() && b["data_storages"].is_array());
    let (_, me) = get(&c, &url).await;
    assert_eq!(me["data"], r#"{"language":"fr"}"#);
});

both!(delete_me, |srv: TestServer| async move {
    let email = "del@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let (other, _) = login(&srv, email, PASSWORD).await;
    let id = user_id(&srv, email).await;
    srv.sql(&format!(
        "INSERT INTO api_keys (key_holder_account_id, key_holder_account_type, kid, algorithm, scope, \
         secret_sealed, state, created_at, updated_at) VALUES ({id}, 'User', 'a1b2c3d4e5f60718', 'HS256', '[]', \
         'v1:x', 'active', 0, 0)"
    ))
    .await;
    let url = srv.url("resource/users/me");
    let delete = |body: Value| {
        let (c, url, csrf) = (c.clone(), url.clone(), csrf.clone());
        async move { call(&c, Method::DELETE, &url, Some(&csrf), body).await }
    };
    assert_err(
        &call(&c, Method::DELETE, &url, Some("bad"), json!({"password": PASSWORD})).await,
        401,
        &["authz.csrf_token_mismatch"],
    );
    assert_err(&delete(json!({})).await, 422, &["resource.user.missing_password", "resource.user.empty_password"]);
    assert_err(&delete(json!({"password": PASSWORD, "otp_code": ""})).await, 422, &["resource.user.empty_otp_code"]);
    assert_err(&delete(json!({"password": "wrong"})).await, 422, &["resource.user.invalid_password"]);
    // 2FA off: a stray code is ignored. The password may also come in the query string, as
    // Barong's API allows.
    let r =
        c.delete(format!("{url}?password={}", PASSWORD)).header("X-CSRF-Token", &csrf).send().await.expect("request");
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(read(r).await, (200, json!(200)));
    assert!(cookie.contains("Max-Age=0"), "the cookie is cleared: {cookie}");

    let state = srv.sql_texts(&format!("SELECT state FROM users WHERE id = {id}")).await;
    assert_eq!(state, vec!["deleted"]);
    let label = srv
        .sql_texts(&format!("SELECT value || ':' || scope FROM labels WHERE user_id = {id} AND key = 'delete'"))
        .await;
    assert_eq!(label, vec!["by_user:private"]);
    let keys = srv.sql_texts(&format!("SELECT state FROM api_keys WHERE key_holder_account_id = {id}")).await;
    assert_eq!(keys, vec!["disabled"]);
    let sessions = srv.sql_texts(&format!("SELECT id_hash FROM sessions WHERE user_id = {id}")).await;
    assert!(sessions.is_empty(), "every session ended: {sessions:?}");
    assert_err(&get(&other, &url).await, 401, &["authz.invalid_session"]);
    assert_err(
        &post(&srv.client(), &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await,
        401,
        &["identity.session.deleted"],
    );
    let acts = srv
        .sql_texts(&format!(
            "SELECT action || ':' || result FROM activities WHERE user_id = {id} AND topic = 'account' ORDER BY id"
        ))
        .await;
    assert_eq!(acts, vec!["signup:succeed", "account delete:failed", "account delete:succeed"]);
});

both!(delete_me_with_2fa_on, |srv: TestServer| async move {
    let email = "otp-del@example.com";
    let (c, csrf, totp) = two_factor_user(&srv, email).await;
    let url = srv.url("resource/users/me");
    let delete = |body: Value| {
        let (c, url, csrf) = (c.clone(), url.clone(), csrf.clone());
        async move { call(&c, Method::DELETE, &url, Some(&csrf), body).await }
    };
    // The password is checked before the code.
    let code = fresh_code(&srv, &totp).await;
    assert_err(&delete(json!({"password": "wrong", "otp_code": code})).await, 422, &["resource.user.invalid_password"]);
    assert_err(&delete(json!({"password": PASSWORD})).await, 422, &["resource.user.missing_otp_code"]);
    assert_err(&delete(json!({"password": PASSWORD, "otp_code": ""})).await, 422, &["resource.user.empty_otp_code"]);
    let wrong = wrong_code(&totp);
    assert_err(&delete(json!({"password": PASSWORD, "otp_code": wrong})).await, 422, &["resource.user.invalid_otp"]);
    assert_err(&delete(json!({"password": PASSWORD, "otp_code": "12ab56"})).await, 422, &["resource.user.invalid_otp"]);
    let (_, me) = get(&c, &url).await;
    assert_eq!(me["state"], "active");
    let code = fresh_code(&srv, &totp).await;
    assert_eq!(delete(json!({"password": PASSWORD, "otp_code": code})).await, (200, json!(200)));
    let state = srv.sql_texts(&format!("SELECT state FROM users WHERE email = '{email}'")).await;
    assert_eq!(state, vec!["deleted"]);
});

both!(activity_listing, |srv: TestServer| async move {
    let email = "act@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    active_user(&srv, "someone-else@example.com").await;
    let id = user_id(&srv, email).await;
    // A wrong password change adds a failed row; an admin-category row the user owns is listed too.
    let body = json!({"old_password": "wrong", "new_password": "Vei4ahch-Ohth", "confirm_password": "Vei4ahch-Ohth"});
    call(&c, Method::PUT, &srv.url("resource/users/password"), Some(&csrf), body).await;
    srv.sql(&format!(
        "INSERT INTO activities (user_id, category, user_ip, topic, action, result, created_at) \
         VALUES ({id}, 'admin', '10.0.0.1', 'users', 'update', 'succeed', 1000)"
    ))
    .await;
    let list = |query: &str| {
        let (c, url) = (c.clone(), srv.url(&format!("resource/users/activity/{query}")));
        async move {
            let r = c.get(&url).send().await.expect("request");
            let h = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let headers = (h("total"), h("per-page"), h("page"));
            (read(r).await, headers)
        }
    };

    let ((s, all), headers) = list("all").await;
    assert_eq!(s, 200, "{all}");
    let rows = all.as_array().expect("array");
    // signup, login, the failed password change, the admin row; nothing of the other user.
    assert_eq!(rows.len(), 4, "{all}");
    assert_eq!(headers, ("4".to_string(), "100".to_string(), "1".to_string()));
    let ids: Vec<i64> = rows.iter().map(|r| r["id"].as_i64().expect("id")).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let first = rows.iter().find(|r| r["topic"] == "password").expect("password row");
    for field in ["id", "user_ip", "user_ip_country", "user_agent", "topic", "action", "result", "data", "created_at"] {
        assert!(first.get(field).is_some(), "{field} in {first}");
    }
    assert_eq!(first["result"], "failed");
    assert!(first["data"].as_str().unwrap_or_default().contains("Previous password is not correct"));
    assert!(first["created_at"].as_str().unwrap_or_default().ends_with('Z'));
    assert!(rows.iter().any(|r| r["topic"] == "users" && r["created_at"] == "1970-01-01T00:16:40Z"));

    let ((s, sessions), _) = list("session").await;
    assert_eq!(s, 200);
    assert!(sessions.as_array().expect("array").iter().all(|r| r["topic"] == "session"));
    // One topic: its rows only, and the Total header counts those alone.
    let ((s, password), headers) = list("password").await;
    assert_eq!((s, password.as_array().map(Vec::len), headers.0), (200, Some(1), "1".to_string()), "{password}");
    assert_eq!(
        (password[0]["action"].as_str(), password[0]["result"].as_str()),
        (Some("password change"), Some("failed"))
    );
    assert_eq!(list("password?result=failed").await.1.0, "1");
    assert_err(&list("password?result=succeed").await.0, 422, &["resource.user.no_activity"]);
    let ((_, failed), _) = list("all?result=failed").await;
    assert_eq!(failed.as_array().map(Vec::len), Some(1));
    let ((_, old), _) = list("all?time_to=1001").await;
    assert_eq!(old.as_array().map(Vec::len), Some(1), "created_at < time_to");
    let ((_, recent), _) = list("all?time_from=1001").await;
    assert_eq!(recent.as_array().map(Vec::len), Some(3), "created_at >= time_from");
    let ((s, page), headers) = list("all?limit=2&page=2").await;
    assert_eq!((s, page.as_array().map(Vec::len)), (200, Some(2)));
    assert_eq!(headers, ("4".to_string(), "2".to_string(), "2".to_string()));
    assert_eq!(page[0]["id"], all[2]["id"]);
    let ((s, past_end), _) = list("all?page=9").await;
    assert_eq!((s, past_end), (200, json!([])));

    // Kept quirk: nothing matches → 422, not an empty list.
    assert_err(&list("otp").await.0, 422, &["resource.user.no_activity"]);
    assert_err(&list("all?time_from=99999999999").await.0, 422, &["resource.user.no_activity"]);
    assert_err(&list("all?result=denied").await.0, 422, &["resource.user.no_activity"]);
    assert_err(&list("everything").await.0, 422, &["resource.user.wrong_topic"]);
    assert_err(&list("all?page=0").await.0, 422, &["non_positive_page"]);
    assert_err(&list("all?page=-3").await.0, 422, &["non_positive_page"]);
    assert_err(&list("all?page=x").await.0, 422, &["non_integer_page"]);
    assert_err(&list("all?page[a]=1").await.0, 422, &["non_integer_page"]);
    assert_err(&list("all?limit=101").await.0, 422, &["invalid_limit"]);
    assert_err(&list("all?limit=0").await.0, 422, &["invalid_limit"]);
    assert_err(&list("all?limit=1.5").await.0, 422, &["non_integer_limit"]);
    assert_err(&list("all?time_from=").await.0, 422, &["resource.user.empty_time_from"]);
    assert_err(&list("all?time_to=yesterday").await.0, 422, &["resource.user.non_integer_time_to"]);
    assert_err(
        &list("all?time_from=x&time_to=").await.0,
        422,
        &["resource.user.non_integer_time_from", "resource.user.empty_time_to"],
    );
    assert_err(&list("all?result=").await.0, 422, &["resource.user.empty_result"]);
    assert_err(&list("all?result[x]=1").await.0, 422, &["resource.user.non_string_result"]);
    // Parameters are validated before the topic, as Grape does.
    assert_err(&list("nope?page=0").await.0, 422, &["non_positive_page"]);
    assert_err(&get(&srv.client(), &srv.url("resource/users/activity/all")).await, 401, &["authz.invalid_session"]);
});

both!(labels_crud, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "lab@example.com").await;
    let id = user_id(&srv, "lab@example.com").await;
    let url = srv.url("resource/labels");
    let key_url = |k: &str| srv.url(&format!("resource/labels/{k}"));
    let send = |method: Method, url: String, body: Value| {
        let (c, csrf) = (c.clone(), csrf.clone());
        async move { call(&c, method, &url, Some(&csrf), body).await }
    };

    assert_err(
        &call(&c, Method::POST, &url, None, json!({"key": "abc", "value": "def"})).await,
        401,
        &["authz.missing_csrf_token"],
    );
    assert_err(
        &send(Method::POST, url.clone(), json!({})).await,
        422,
        &[
            "resource.label.missing_key",
            "resource.label.empty_key",
            "resource.label.missing_value",
            "resource.label.empty_value",
        ],
    );
    assert_err(&send(Method::POST, url.clone(), json!({"key": ["a"], "value": "abc"})).await, 422, &["invalid"]);
    let (s, b) = send(Method::POST, url.clone(), json!({"key": " Trading_Bot ", "value": "Yes-Please"})).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        (b["key"].as_str(), b["value"].as_str(), b["scope"].as_str()),
        (Some("trading_bot"), Some("yes-please"), Some("public"))
    );
    assert!(b["created_at"].is_string() && b["updated_at"].is_string());
    assert_err(
        &send(Method::POST, url.clone(), json!({"key": "trading_bot", "value": "again"})).await,
        422,
        &["key.taken"],
    );
    assert_err(
        &send(Method::POST, url.clone(), json!({"key": "trading_bot", "value": "a b"})).await,
        422,
        &["key.taken", "value.invalid"],
    );
    assert_err(
        &send(Method::POST, url.clone(), json!({"key": "ab", "value": "x!"})).await,
        422,
        &["key.too_short", "value.too_short", "value.invalid"],
    );
    assert_err(
        &send(Method::POST, url.clone(), json!({"key": "k".repeat(256), "value": "abc"})).await,
        422,
        &["key.too_long"],
    );
    // Keys the level/state engine and KYC use are not the user's to take
    // (docs/barong-weaknesses-fixed.md#w-label-reserved).
    for reserved in ["email", "phone", "document", "profile", "otp", "delete", "ban", "fraud", "lock", "Suspicious"] {
        assert_err(
            &send(Method::POST, url.clone(), json!({"key": reserved, "value": "verified"})).await,
            422,
            &["key.reserved"],
        );
    }

    // Reads see every scope; lookups ignore the key's case.
    let (s, labels) = get(&c, &url).await;
    assert_eq!(s, 200);
    let keys: Vec<&str> = labels.as_array().expect("array").iter().filter_map(|l| l["key"].as_str()).collect();
    assert!(keys.contains(&"email") && keys.contains(&"trading_bot"), "{labels}");
    let (_, asc) = get(&c, &format!("{url}?ordering=asc")).await;
    let (_, desc) = get(&c, &format!("{url}?ordering=desc")).await;
    assert_eq!(asc.as_array().map(Vec::len), Some(2));
    assert_eq!(asc[0]["key"], "email");
    assert_eq!(desc[0], asc[1]);
    assert_err(&get(&c, &format!("{url}?ordering=up")).await, 422, &["value"]);
    let (s, l) = get(&c, &key_url("TRADING_BOT")).await;
    assert_eq!((s, l["value"].as_str()), (200, Some("yes-please")));
    let (s, l) = get(&c, &key_url("email")).await;
    assert_eq!((s, l["scope"].as_str()), (200, Some("private")));
    assert_err(&get(&c, &key_url("nothing")).await, 404, &["record.not_found"]);

    // PATCH validates before saving and never echoes what it did not save (Barong echoed it).
    assert_err(
        &send(Method::PATCH, key_url("trading_bot"), json!({})).await,
        422,
        &["resource.label.missing_value", "resource.label.empty_value"],
    );
    assert_err(
        &send(Method::PATCH, key_url("trading_bot"), json!({"value": "bad value!"})).await,
        422,
        &["value.invalid"],
    );
    assert_eq!(get(&c, &key_url("trading_bot")).await.1["value"], "yes-please");
    let (s, l) = send(Method::PATCH, key_url("trading_bot"), json!({"value": "Not-Now"})).await;
    assert_eq!((s, l["value"].as_str(), l["scope"].as_str()), (200, Some("not-now"), Some("public")));
    assert_err(
        &send(Method::PATCH, key_url("email"), json!({"value": "rejected"})).await,
        400,
        &["resource.labels.private"],
    );
    assert_err(&send(Method::PATCH, key_url("nothing"), json!({"value": "abc"})).await, 404, &["record.not_found"]);

    // A private label sharing a public label's key is never touched by the user's writes.
    send(Method::POST, url.clone(), json!({"key": "vip_tier", "value": "gold"})).await;
    srv.sql(&format!(
        "INSERT INTO labels (user_id, key, value, scope, created_at, updated_at) \
         VALUES ({id}, 'vip_tier', 'bronze', 'private', 0, 0)"
    ))
    .await;
    let (s, l) = send(Method::PATCH, key_url("vip_tier"), json!({"value": "platinum"})).await;
    assert_eq!((s, l["scope"].as_str()), (200, Some("public")));
    let r = c.delete(key_url("vip_tier")).header("X-CSRF-Token", &csrf).send().await.expect("request");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.text().await.expect("body"), "");
    let private = srv
        .sql_texts(&format!("SELECT value || ':' || scope FROM labels WHERE user_id = {id} AND key = 'vip_tier'"))
        .await;
    assert_eq!(private, vec!["bronze:private"]);
    assert_err(&send(Method::DELETE, key_url("vip_tier"), json!({})).await, 400, &["resource.labels.private"]);

    assert_err(
        &call(&c, Method::DELETE, &key_url("trading_bot"), None, json!({})).await,
        401,
        &["authz.missing_csrf_token"],
    );
    assert_err(
        &call(&c, Method::DELETE, &key_url("trading_bot"), Some("x"), json!({})).await,
        401,
        &["authz.csrf_token_mismatch"],
    );
    assert_eq!(send(Method::DELETE, key_url("trading_bot"), json!({})).await.0, 204);
    assert_err(&send(Method::DELETE, key_url("trading_bot"), json!({})).await, 404, &["record.not_found"]);
    assert_err(&send(Method::DELETE, key_url("email"), json!({})).await, 400, &["resource.labels.private"]);

    // Public labels never change the user's state or level.
    send(Method::POST, url.clone(), json!({"key": "locked", "value": "yes"})).await;
    let (_, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!((me["state"].as_str(), me["level"].as_i64()), (Some("active"), Some(1)));
});

both!(data_storage_refused_without_configured_titles, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "ds0@example.com").await;
    let url = srv.url("resource/data_storage");
    assert_err(
        &call(&c, Method::POST, &url, Some(&csrf), json!({"title": "personal", "data": "{}"})).await,
        422,
        &["title.inclusion"],
    );
});

async fn data_storage(srv: TestServer) {
    let (c, csrf) = active_user(&srv, "ds@example.com").await;
    let url = srv.url("resource/data_storage");
    let create = |title: &str, data: &str| {
        let (c, url, csrf) = (c.clone(), url.clone(), csrf.clone());
        let body = json!({"title": title, "data": data});
        async move { call(&c, Method::POST, &url, Some(&csrf), body).await }
    };
    assert_err(
        &call(&c, Method::POST, &url, None, json!({"title": "personal", "data": "{}"})).await,
        401,
        &["authz.missing_csrf_token"],
    );
    assert_err(
        &call(&c, Method::POST, &url, Some(&csrf), json!({})).await,
        422,
        &[
            "resource.datastorage.missing_title",
            "resource.datastorage.empty_title",
            "resource.datastorage.missing_data",
            "resource.datastorage.empty_data",
        ],
    );
    assert_err(&create("other", "{}").await, 422, &["title.inclusion"]);
    assert_err(&create("document", "{}").await, 422, &["title.exclusion"]);
    assert_err(&create("personal", "{nope").await, 422, &["data.invalid_format"]);
    assert_err(&create("personal", &format!("\"{}\"", "x".repeat(5119))).await, 422, &["data.too_long"]);
    assert_eq!(create("personal", r#"{"job":"pilot"}"#).await, (201, json!(201)));
    assert_err(&create("personal", "{}").await, 422, &["title.taken"]);
    assert_err(&create("Personal", "{}").await, 422, &["title.taken"]);
    assert_err(&create("personal", "{nope").await, 422, &["data.invalid_format", "title.taken"]);

    let (_, me) = get(&c, &srv.url("resource/users/me")).await;
    let storages = me["data_storages"].as_array().expect("array");
    assert_eq!(storages.len(), 1);
    assert_eq!(
        (storages[0]["title"].as_str(), storages[0]["data"].as_str()),
        (Some("personal"), Some(r#"{"job":"pilot"}"#))
    );
    let recorded = me["labels"]
        .as_array()
        .expect("labels")
        .iter()
        .any(|l| l["key"] == "personal" && l["value"] == "recorded" && l["scope"] == "private");
    assert!(recorded, "{me}");
    // The title's label belongs to the system: the user cannot take it as a public label.
    assert_err(
        &call(&c, Method::POST, &srv.url("resource/labels"), Some(&csrf), json!({"key": "personal", "value": "mine"}))
            .await,
        422,
        &["key.reserved"],
    );
}

// Runs the data-storage test on both backends with titles configured.
both!(data_storage_with_titles, config = "user_storage_titles: [personal, Personal, document]", data_storage);
