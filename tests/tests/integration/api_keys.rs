//! API keys and service accounts: Barong's keys for
//! every refusal, pagination, ownership, the 2FA cascades, and the operator's barongctl side.

use reqwest::Method;

use super::*;

async fn uid_of(srv: &TestServer, email: &str) -> String {
    srv.sql_texts(&format!("SELECT uid FROM users WHERE email = '{email}'")).await.remove(0)
}

both!(api_key_refusals_and_pagination, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "kim@example.com").await;
    let keys = srv.url("resource/api_keys");
    let call = |method: Method, url: String, body: Value| {
        let (c, csrf) = (c.clone(), csrf.clone());
        async move { send_json(&c, method, &url, Some(&csrf), Some(body)).await }
    };

    // Listing needs no 2FA.
    assert_eq!(get(&c, &keys).await, (200, json!([])));
    // Grape's checks come before the 2FA check, with Barong's mixed spellings.
    assert_err(
        &call(Method::POST, keys.clone(), json!({})).await,
        422,
        &[
            "resource.apikey.missing_algorithm",
            "resource.apikey.empty_algorithm",
            "resource.api_key.missing_totp",
            "resource.apikey.empty_totp_code",
        ],
    );
    assert_err(
        &call(Method::POST, keys.clone(), json!({"algorithm": "HS256", "scope": "", "totp_code": ""})).await,
        422,
        &["resource.apikey.empty_scope", "resource.apikey.empty_totp_code"],
    );
    let some_kid = format!("{keys}/0123456789abcdef");
    for method in [Method::PATCH, Method::DELETE] {
        assert_err(
            &call(method, some_kid.clone(), json!({})).await,
            422,
            &["resource.apikey.missing_totp_code", "resource.apikey.empty_totp_code"],
        );
    }
    assert_err(
        &call(Method::PATCH, some_kid.clone(), json!({"state": "", "totp_code": "123456"})).await,
        422,
        &["resource.apikey.empty_state"],
    );
    let body = json!({"algorithm": "HS256", "totp_code": "123456"});
    assert_err(&call(Method::POST, keys.clone(), body).await, 400, &["resource.api_key.2fa_disabled"]);
    let body = json!({"totp_code": "123456"});
    assert_err(&call(Method::PATCH, some_kid.clone(), body).await, 400, &["resource.api_key.2fa_disabled"]);

    // With 2FA on.
    let (totp, _) = setup_totp(&srv, &c, &csrf).await;
    let enable = json!({"code": fresh_code(&srv, &totp).await});
    assert_eq!(call(Method::POST, srv.url("resource/otp/enable"), enable).await.0, 201);
    let create = |algorithm: &str, code: String| json!({"algorithm": algorithm, "totp_code": code});
    let bad = create("HS256", wrong_code(&totp));
    assert_err(&call(Method::POST, keys.clone(), bad).await, 422, &["resource.api_key.invalid_totp"]);
    let body = create("kek", fresh_code(&srv, &totp).await);
    assert_err(&call(Method::POST, keys.clone(), body).await, 422, &["kid.blank", "algorithm.inclusion"]);
    let body = create("HS512", fresh_code(&srv, &totp).await);
    assert_err(&call(Method::POST, keys.clone(), body).await, 422, &["algorithm.inclusion"]);

    // A code opens one write; the same code again is Vault's replay error.
    let code = fresh_code(&srv, &totp).await;
    let mut kids = Vec::new();
    let (s, k) = call(Method::POST, keys.clone(), create("HS256", code.clone())).await;
    assert_eq!(s, 201, "{k}");
    assert_eq!(k["scope"], json!([]));
    kids.push(k["kid"].as_str().expect("kid").to_string());
    assert_err(&call(Method::POST, keys.clone(), create("HS256", code)).await, 422, &["totp.error"]);
    for _ in 0..2 {
        let (s, k) = call(Method::POST, keys.clone(), create("HS256", fresh_code(&srv, &totp).await)).await;
        assert_eq!(s, 201);
        kids.push(k["kid"].as_str().expect("kid").to_string());
    }

    // State is `active` or `disabled`, nothing else (Barong stored any text).
    let kid_url = format!("{keys}/{}", kids[0]);
    let body = json!({"state": "paused", "totp_code": fresh_code(&srv, &totp).await});
    assert_err(&call(Method::PATCH, kid_url.clone(), body).await, 422, &["state.inclusion"]);

    // Pages: headers, limits, ordering.
    let page = |query: &str| {
        let (c, url) = (c.clone(), format!("{keys}?{query}"));
        async move {
            let r = c.get(url).send().await.expect("request");
            let h = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
            let headers = (h("total"), h("per-page"), h("page"), h("link"));
            let (s, body) = read(r).await;
            (s, body, headers)
        }
    };
    let kids_of = |v: &Value| -> Vec<String> {
        v.as_array().expect("array").iter().map(|k| k["kid"].as_str().expect("kid").to_string()).collect()
    };
    let (s, body, headers) = page("limit=2").await;
    let path = "/api/v2/barong/resource/api_keys";
    let first_page = (
        "3".to_string(),
        "2".to_string(),
        "1".to_string(),
        format!(r#"<{path}?limit=2&page=2>; rel="last", <{path}?limit=2&page=2>; rel="next""#),
    );
    assert_eq!((s, kids_of(&body), headers), (200, kids[..2].to_vec(), first_page));
    let (_, body, headers) = page("limit=2&page=2").await;
    assert_eq!((kids_of(&body), headers.2), (kids[2..].to_vec(), "2".to_string()));
    assert_eq!(headers.3, format!(r#"<{path}?limit=2&page=1>; rel="first", <{path}?limit=2&page=1>; rel="prev""#));
    let (_, body, _) = page("page=5").await;
    assert_eq!(body, json!([]));
    let (_, body, _) = page("ordering=desc").await;
    assert_eq!(kids_of(&body), kids.iter().rev().cloned().collect::<Vec<_>>());
    let (_, body, _) = page("order_by=kid&ordering=asc").await;
    let mut sorted = kids.clone();
    sorted.sort();
    assert_eq!(kids_of(&body), sorted);
    sorted.reverse();
    assert_eq!(kids_of(&page("order_by=kid&ordering=desc").await.1), sorted);
    // Every other orderable column, both ways: the three keys share their holder, algorithm,
    // scope and state, and their times follow creation, so `id` decides the order each time.
    let newest_first: Vec<String> = kids.iter().rev().cloned().collect();
    for column in [
        "id",
        "key_holder_account_id",
        "key_holder_account_type",
        "algorithm",
        "scope",
        "state",
        "created_at",
        "updated_at",
    ] {
        let (s, body, headers) = page(&format!("order_by={column}")).await;
        assert_eq!((s, kids_of(&body), headers.0), (200, kids.clone(), "3".to_string()), "{column}");
        let (s, body, _) = page(&format!("order_by={column}&ordering=desc")).await;
        assert_eq!((s, kids_of(&body)), (200, newest_first.clone()), "{column} desc");
    }
    for (query, key) in [
        ("page=-1", "non_positive_page"),
        ("page=0", "non_positive_page"),
        ("page=abc", "non_integer_page"),
        ("limit=1.5", "non_integer_limit"),
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("order_by=secret", "resource.api_key.invalid_attribute"),
        ("order_by=id;DROP TABLE users", "resource.api_key.invalid_attribute"),
        ("ordering=up", "resource.api_key.invalid_ordering"),
    ] {
        let (s, body, _) = page(query).await;
        assert_err(&(s, body), 422, &[key]);
    }

    // Someone else's key is as unknown as a missing one.
    let (c2, csrf2, totp2) = two_factor_user(&srv, "lee@example.com").await;
    let body = json!({"totp_code": fresh_code(&srv, &totp2).await, "state": "disabled"});
    assert_err(&send_json(&c2, Method::PATCH, &kid_url, Some(&csrf2), Some(body)).await, 404, &["record.not_found"]);
    let url = format!("{kid_url}?totp_code={}", fresh_code(&srv, &totp2).await);
    assert_err(&send_json(&c2, Method::DELETE, &url, Some(&csrf2), None).await, 404, &["record.not_found"]);
    let body = json!({"totp_code": fresh_code(&srv, &totp).await});
    assert_err(&call(Method::PATCH, some_kid, body).await, 404, &["record.not_found"]);

    // A holder that is not active cannot get or activate keys.
    srv.sql("UPDATE users SET state = 'pending' WHERE email = 'kim@example.com'").await;
    let body = create("HS256", fresh_code(&srv, &totp).await);
    assert_err(&call(Method::POST, keys.clone(), body).await, 422, &["key_holder_account.invalid"]);
    let body = json!({"state": "active", "totp_code": fresh_code(&srv, &totp).await});
    assert_err(&call(Method::PATCH, kid_url, body).await, 422, &["state.invalid"]);
});

both!(service_accounts_and_their_keys, |srv: TestServer| async move {
    let owner_email = "olga@example.com";
    let (c, csrf, totp) = two_factor_user(&srv, owner_email).await;
    let owner_uid = uid_of(&srv, owner_email).await;

    // The operator creates service accounts; they start active.
    let sa = ctl_json(&srv, &["service-account", "create", "--owner", &owner_uid, "--role", "member"]);
    let sa_uid = sa["uid"].as_str().expect("uid").to_string();
    assert!(sa_uid.starts_with("SI") && sa_uid.len() == 12, "{sa}");
    assert_eq!(sa["email"].as_str(), Some(format!("olga+{sa_uid}@example.com").as_str()));
    assert_eq!(
        (sa["state"].as_str(), sa["role"].as_str(), sa["level"].as_i64()),
        (Some("active"), Some("member"), Some(1))
    );
    let (code, _, err) = srv.ctl(&["service-account", "create", "--owner", &owner_uid, "--role", "nope"], None);
    assert!(code == 1 && err.contains("role.doesnt_exist"), "{err}");
    let (code, _, err) =
        srv.ctl(&["service-account", "create", "--owner", "nobody@example.com", "--role", "member"], None);
    assert!(code == 1 && err.contains("record.not_found"), "{err}");
    let args = ["service-account", "create", "--owner", owner_email, "--role", "member", "--email", owner_email];
    let (code, _, err) = srv.ctl(&args, None);
    assert!(code == 1 && err.contains("email_or_uid.not_uniq"), "{err}");

    // The owner lists them as Barong's raw model JSON.
    let r = c.get(srv.url("resource/service_accounts")).send().await.expect("request");
    assert_eq!(r.status(), 200);
    let raw = r.text().await.expect("body");
    let fields = ["id", "uid", "owner_id", "email", "role", "level", "state", "created_at", "updated_at"];
    assert!(keys_in_order(&raw, &fields), "{raw}");
    let list: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(list[0]["uid"].as_str(), Some(sa_uid.as_str()));
    assert!(list[0]["created_at"].as_str().expect("time").ends_with(".000Z"), "{list}");

    let sa_keys = srv.url("resource/service_accounts/api_keys");
    let call = |method: Method, url: String, body: Value| {
        let (c, csrf) = (c.clone(), csrf.clone());
        async move { send_json(&c, method, &url, Some(&csrf), Some(body)).await }
    };
    assert_err(
        &call(Method::POST, sa_keys.clone(), json!({})).await,
        422,
        &[
            "resource.serviceaccount.missing_service_account_uid",
            "resource.serviceaccount.missing_algorithm",
            "resource.serviceaccount.empty_algorithm",
            "resource.service_accounts.missing_totp",
            "resource.serviceaccount.empty_totp_code",
        ],
    );
    let body = json!({"service_account_uid": ["x"], "algorithm": "HS256", "totp_code": "1"});
    assert_err(
        &call(Method::POST, sa_keys.clone(), body).await,
        422,
        &["resource.service_account.non_string_service_account_uid"],
    );
    let body = json!({"service_account_uid": sa_uid, "algorithm": "HS256", "totp_code": wrong_code(&totp)});
    assert_err(&call(Method::POST, sa_keys.clone(), body).await, 422, &["resource.service_accounts.invalid_totp"]);
    let body = json!({"service_account_uid": sa_uid, "algorithm": "HS256", "scope": "trade", "totp_code": fresh_code(&srv, &totp).await});
    let (s, key) = call(Method::POST, sa_keys.clone(), body).await;
    assert_eq!(s, 201, "{key}");
    assert_eq!(key["secret"].as_str().map(str::len), Some(32));
    let kid = key["kid"].as_str().expect("kid").to_string();

    // Listing: paged, no 2FA, the service account's uid required.
    let (s, list) = get(&c, &format!("{sa_keys}?service_account_uid={sa_uid}&limit=10")).await;
    assert_eq!(s, 200);
    assert_eq!((list[0]["kid"].as_str(), list[0].get("secret")), (Some(kid.as_str()), None));
    assert_err(&get(&c, &sa_keys).await, 422, &["resource.serviceaccount.missing_service_account_uid"]);
    assert_err(
        &get(&c, &format!("{sa_keys}?service_account_uid={sa_uid}&ordering=sideways&order_by=nope&limit=500")).await,
        422,
        &["resource.service_accounts.invalid_ordering", "resource.service_accounts.invalid_attribute", "invalid_limit"],
    );
    assert_err(
        &get(&c, &format!("{sa_keys}?service_account_uid=SI0000000000")).await,
        404,
        &["resource.service_account.doesnt_exist"],
    );

    // PUT (not PATCH here) keeps an omitted scope; an unknown kid is a 404.
    let kid_url = format!("{sa_keys}/{kid}");
    let body = json!({"service_account_uid": sa_uid, "state": "disabled", "totp_code": fresh_code(&srv, &totp).await});
    let (s, k) = call(Method::PUT, kid_url.clone(), body).await;
    assert_eq!((s, k["state"].as_str(), k["scope"].clone()), (200, Some("disabled"), json!(["trade"])));
    let body = json!({"service_account_uid": sa_uid, "state": "active", "totp_code": fresh_code(&srv, &totp).await});
    assert_eq!(call(Method::PUT, kid_url.clone(), body).await.1["state"], "active");
    let body = json!({"service_account_uid": sa_uid, "totp_code": fresh_code(&srv, &totp).await});
    assert_err(&call(Method::PUT, format!("{sa_keys}/ffffffffffffffff"), body).await, 404, &["record.not_found"]);
    assert_err(
        &call(Method::PUT, kid_url.clone(), json!({"service_account_uid": sa_uid})).await,
        422,
        &["resource.serviceaccount.missing_totp_code", "resource.serviceaccount.empty_totp_code"],
    );
    // The family's own spellings for blank values, on every write.
    let blank = json!({"service_account_uid": sa_uid, "algorithm": " ", "scope": "", "totp_code": "1"});
    assert_err(
        &call(Method::POST, sa_keys.clone(), blank).await,
        422,
        &["resource.serviceaccount.empty_algorithm", "resource.serviceaccount.empty_scope"],
    );
    let blank = json!({"service_account_uid": sa_uid, "scope": "", "state": "", "totp_code": ""});
    assert_err(
        &call(Method::PUT, kid_url.clone(), blank).await,
        422,
        &[
            "resource.serviceaccount.empty_scope",
            "resource.serviceaccount.empty_state",
            "resource.serviceaccount.empty_totp_code",
        ],
    );
    assert_err(
        &call(Method::DELETE, kid_url.clone(), json!({"service_account_uid": sa_uid})).await,
        422,
        &["resource.serviceaccount.missing_totp_code", "resource.serviceaccount.empty_totp_code"],
    );

    // A stranger: ownership is checked before the second factor, and without 2FA they get no key.
    let (c2, csrf2) = active_user(&srv, "stan@example.com").await;
    let body = json!({"service_account_uid": sa_uid, "algorithm": "HS256", "totp_code": "123456"});
    let got = send_json(&c2, Method::POST, &sa_keys, Some(&csrf2), Some(body)).await;
    assert_err(&got, 404, &["resource.service_account.doesnt_exist"]);
    let url = format!("{kid_url}?service_account_uid={sa_uid}&totp_code=123456");
    assert_err(
        &send_json(&c2, Method::DELETE, &url, Some(&csrf2), None).await,
        404,
        &["resource.service_account.doesnt_exist"],
    );
    assert_eq!(get(&c2, &srv.url("resource/service_accounts")).await, (200, json!([])));
    let stan_uid = uid_of(&srv, "stan@example.com").await;
    let stan_sa = ctl_json(&srv, &["service-account", "create", "--owner", &stan_uid, "--role", "member"]);
    let body = json!({"service_account_uid": stan_sa["uid"], "algorithm": "HS256", "totp_code": "123456"});
    let got = send_json(&c2, Method::POST, &sa_keys, Some(&csrf2), Some(body)).await;
    assert_err(&got, 400, &["resource.service_accounts.2fa_disabled"]);

    // The operator's view: keys without secrets, user show with 2FA state and keys.
    let body = json!({"algorithm": "HS256", "totp_code": fresh_code(&srv, &totp).await});
    let (s, own) = call(Method::POST, srv.url("resource/api_keys"), body).await;
    assert_eq!(s, 201);
    let own_kid = own["kid"].as_str().expect("kid").to_string();
    let listed = ctl_json(&srv, &["apikey", "list", "--user", &owner_uid]);
    let holders: Vec<(String, String)> = listed
        .as_array()
        .expect("array")
        .iter()
        .map(|k| (k["kid"].as_str().unwrap_or("").into(), k["holder_type"].as_str().unwrap_or("").into()))
        .collect();
    assert_eq!(holders, [(own_kid.clone(), "User".to_string()), (kid.clone(), "ServiceAccount".to_string())]);
    let shown = ctl_json(&srv, &["user", "show", owner_email]);
    assert_eq!((shown["otp"].as_bool(), shown["api_keys"].as_array().map(Vec::len)), (Some(true), Some(2)));
    assert_eq!(shown["service_accounts"][0]["uid"].as_str(), Some(sa_uid.as_str()));
    let (_, table, _) = srv.ctl(&["user", "show", &owner_uid], None);
    assert!(table.contains(&own_kid) && table.contains(&sa_uid), "{table}");
    for out in [listed.to_string(), shown.to_string(), table] {
        for secret in [key["secret"].as_str().expect("s"), own["secret"].as_str().expect("s")] {
            assert!(!out.contains(secret), "a secret in barongctl output");
        }
    }

    // Disabling 2FA disables the active keys of the user and of its service accounts.
    let body = json!({"code": fresh_code(&srv, &totp).await});
    assert_eq!(call(Method::POST, srv.url("resource/otp/disable"), body).await.0, 200);
    let states = srv.sql_texts("SELECT state FROM api_keys ORDER BY id").await;
    assert_eq!(states, ["disabled", "disabled"]);

    // The operator disables a key and a service account.
    let k = ctl_json(&srv, &["apikey", "disable", &own_kid]);
    assert_eq!(k["state"], "disabled");
    let (code, _, err) = srv.ctl(&["apikey", "disable", "0000000000000000"], None);
    assert!(code == 1 && err.contains("record.not_found"), "{err}");
    let (totp, _) = setup_totp(&srv, &c, &csrf).await;
    let body = json!({"code": fresh_code(&srv, &totp).await});
    assert_eq!(call(Method::POST, srv.url("resource/otp/enable"), body).await.0, 201);
    let body = json!({"service_account_uid": sa_uid, "state": "active", "totp_code": fresh_code(&srv, &totp).await});
    assert_eq!(call(Method::PUT, kid_url.clone(), body).await.1["state"], "active");
    let disabled = ctl_json(&srv, &["service-account", "disable", &sa_uid]);
    assert_eq!(disabled["state"], "disabled");
    let (_, list) = get(&c, &format!("{sa_keys}?service_account_uid={sa_uid}")).await;
    assert_eq!(list[0]["state"], "disabled");
    let body = json!({"service_account_uid": sa_uid, "state": "active", "totp_code": fresh_code(&srv, &totp).await});
    assert_err(&call(Method::PUT, kid_url.clone(), body).await, 422, &["state.invalid"]);
    let mine = ctl_json(&srv, &["service-account", "list", "--owner", &owner_uid]);
    assert_eq!((mine.as_array().map(Vec::len), mine[0]["state"].as_str()), (Some(1), Some("disabled")));
    assert_eq!(ctl_json(&srv, &["service-account", "list"]).as_array().map(Vec::len), Some(2));
    let (code, table, _) = srv.ctl(&["service-account", "list"], None);
    assert!(code == 0 && table.contains(&sa_uid), "{table}");

    // DELETE: 204, then gone.
    let url = format!("{kid_url}?service_account_uid={sa_uid}&totp_code={}", fresh_code(&srv, &totp).await);
    assert_eq!(send_json(&c, Method::DELETE, &url, Some(&csrf), None).await, (204, json!("")));
    assert_eq!(get(&c, &format!("{sa_keys}?service_account_uid={sa_uid}")).await, (200, json!([])));
});

both!(an_owner_leaving_active_takes_its_service_accounts_along, |srv: TestServer| async move {
    let email = "vera@example.com";
    let (c, csrf, totp) = two_factor_user(&srv, email).await;
    let owner_uid = uid_of(&srv, email).await;
    let sa = ctl_json(&srv, &["service-account", "create", "--owner", &owner_uid, "--role", "member"]);
    let body =
        json!({"service_account_uid": sa["uid"], "algorithm": "HS256", "totp_code": fresh_code(&srv, &totp).await});
    let url = srv.url("resource/service_accounts/api_keys");
    assert_eq!(send_json(&c, Method::POST, &url, Some(&csrf), Some(body)).await.0, 201);

    // Closing the account sets the `delete` label; the state engine's owner cascade follows.
    let body = json!({"password": PASSWORD, "otp_code": fresh_code(&srv, &totp).await});
    let (s, b) = send_json(&c, Method::DELETE, &srv.url("resource/users/me"), Some(&csrf), Some(body)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(srv.sql_texts("SELECT state FROM service_accounts").await, ["deleted"]);
    assert_eq!(srv.sql_texts("SELECT state FROM api_keys").await, ["disabled"]);
});

both!(reseeding_keeps_one_copy_of_each_permission, |srv: TestServer| async move {
    let owner_email = "rhea@example.com";
    active_user(&srv, owner_email).await;
    let owner_uid = uid_of(&srv, owner_email).await;
    let count = |table: &'static str| {
        let srv = &srv;
        async move { srv.sql_texts(&format!("SELECT CAST(COUNT(*) AS TEXT) FROM {table}")).await.remove(0) }
    };
    let permissions = count("permissions").await;
    assert_ne!(permissions, "0");

    // A start that finds no levels seeds again: the levels come back, and every seeded
    // permission is found already there rather than failing the start or being doubled.
    srv.sql("DELETE FROM levels").await;
    let sibling = srv.sibling("").await;
    assert_ne!(count("levels").await, "0");
    assert_eq!(count("permissions").await, permissions);
    let sa = ctl_json(&sibling, &["service-account", "create", "--owner", &owner_uid, "--role", "member"]);
    assert_eq!(sa["role"], "member");
});
