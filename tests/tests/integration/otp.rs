//! TOTP 2FA (resource/otp and the login's second factor): a real authenticator flow,
//! every refusal with Barong's key, replays, and seeds sealed at rest.

use reqwest::Method;

use super::*;

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

both!(totp_client_flow_end_to_end, |srv: TestServer| async move {
    let email = "otto@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let res = |p: &str| srv.url(&format!("resource/{p}"));

    // A new seed, in Vault's shape: a PNG QR code and the otpauth URL.
    let (totp, body) = setup_totp(&srv, &c, &csrf).await;
    let url = body["data"]["url"].as_str().expect("url");
    let prefix = "otpauth://totp/Barong:otto@example.com?algorithm=SHA1&digits=6&issuer=Barong&period=30&secret=";
    assert!(url.starts_with(prefix), "{url}");
    assert_eq!(url[prefix.len()..].len(), 32, "160-bit seed in base32: {url}");
    assert!(body["data"]["barcode"].as_str().expect("barcode").starts_with("iVBORw0KGgo"), "base64 PNG");

    // Enable: 201 with Barong's body `200`, the otp flag and the private label.
    let code = fresh_code(&srv, &totp).await;
    let got = send_json(&c, Method::POST, &res("otp/enable"), Some(&csrf), Some(json!({"code": code}))).await;
    assert_eq!(got, (201, json!(200)));
    let (_, me) = get(&c, &res("users/me")).await;
    assert_eq!(me["otp"], true);
    assert!(
        me["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .any(|l| l["key"] == "otp" && l["value"] == "enabled" && l["scope"] == "private")
    );
    // The code just used cannot log anyone in again (Vault's "code already used").
    let used = code;

    // Log out; logging in now needs the second factor.
    let (s, _) = send_json(&c, Method::DELETE, &srv.url("identity/sessions"), None, None).await;
    assert_eq!(s, 200);
    let login = |otp: Option<String>| {
        let c = srv.client();
        let url = srv.url("identity/sessions");
        async move {
            let mut body = json!({"email": email, "password": PASSWORD});
            if let Some(o) = otp {
                body["otp_code"] = json!(o);
            }
            let got = post(&c, &url, body).await;
            (c, got)
        }
    };
    assert_err(&login(None).await.1, 401, &["identity.session.missing_otp"]);
    assert_err(&login(Some(String::new())).await.1, 401, &["identity.session.missing_otp"]);
    assert_err(&login(Some(wrong_code(&totp))).await.1, 403, &["identity.session.invalid_otp"]);
    assert_err(&login(Some("12ab56".into())).await.1, 403, &["identity.session.invalid_otp"]);
    assert_err(&login(Some(used)).await.1, 422, &["totp.error"]);
    let (c, (s, me)) = login(Some(fresh_code(&srv, &totp).await)).await;
    assert_eq!(s, 200, "{me}");
    let csrf = me["csrf_token"].as_str().expect("csrf").to_string();
    let actions = srv.sql_texts("SELECT action FROM activities WHERE topic = 'session' ORDER BY id").await;
    assert!(actions.contains(&"login::2fa".to_string()), "{actions:?}");

    // An API key: the secret is shown once, in this reply.
    let body = json!({"algorithm": "HS256", "scope": "read,trade", "totp_code": fresh_code(&srv, &totp).await});
    let (s, key) = send_json(&c, Method::POST, &res("api_keys"), Some(&csrf), Some(body)).await;
    assert_eq!(s, 201, "{key}");
    let kid = key["kid"].as_str().expect("kid").to_string();
    assert!(is_hex(&kid, 16), "{kid}");
    assert!(is_hex(key["secret"].as_str().expect("secret"), 32), "{key}");
    assert_eq!((key["algorithm"].as_str(), key["state"].as_str()), (Some("HS256"), Some("active")));
    assert_eq!(key["scope"], json!(["read", "trade"]));

    let r = c.get(res("api_keys")).send().await.expect("request");
    let header = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).map(str::to_string);
    assert_eq!(
        (header("total"), header("per-page"), header("page")),
        (Some("1".into()), Some("100".into()), Some("1".into()))
    );
    let raw = r.text().await.expect("body");
    assert!(keys_in_order(&raw, &["kid", "algorithm", "scope", "state", "created_at", "updated_at"]), "{raw}");
    let list: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["kid"], kid.as_str());
    assert!(list[0].get("secret").is_none(), "{list}");

    // PATCH: the state only; the omitted scope is kept (Barong reset it to empty).
    let key_url = res(&format!("api_keys/{kid}"));
    let body = json!({"state": "disabled", "totp_code": fresh_code(&srv, &totp).await});
    let (s, k) = send_json(&c, Method::PATCH, &key_url, Some(&csrf), Some(body)).await;
    assert_eq!(s, 200, "{k}");
    assert_eq!((k["state"].as_str(), k["scope"].clone()), (Some("disabled"), json!(["read", "trade"])));
    assert!(k.get("secret").is_none());
    let body = json!({"scope": "read", "state": "active", "totp_code": fresh_code(&srv, &totp).await});
    let (s, k) = send_json(&c, Method::PATCH, &key_url, Some(&csrf), Some(body)).await;
    assert_eq!(s, 200, "{k}");
    assert_eq!((k["state"].as_str(), k["scope"].clone()), (Some("active"), json!(["read"])));

    // Disabling 2FA (200, body `200`) disables the key and removes the label.
    let body = json!({"code": fresh_code(&srv, &totp).await});
    assert_eq!(send_json(&c, Method::POST, &res("otp/disable"), Some(&csrf), Some(body)).await, (200, json!(200)));
    let (_, me) = get(&c, &res("users/me")).await;
    assert_eq!(me["otp"], false);
    assert!(!me["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "otp"), "{me}");
    let (_, list) = get(&c, &res("api_keys")).await;
    assert_eq!(list[0]["state"], "disabled");

    // Deleting needs 2FA again; with a new seed it works (204, no body) and the key is gone.
    let del = |code: String| {
        let (c, csrf, url) = (c.clone(), csrf.clone(), format!("{key_url}?totp_code={code}"));
        async move { send_json(&c, Method::DELETE, &url, Some(&csrf), None).await }
    };
    assert_err(&del("123456".into()).await, 400, &["resource.api_key.2fa_disabled"]);
    let (totp, _) = setup_totp(&srv, &c, &csrf).await;
    let body = json!({"code": fresh_code(&srv, &totp).await});
    assert_eq!(send_json(&c, Method::POST, &res("otp/enable"), Some(&csrf), Some(body)).await.0, 201);
    assert_eq!(del(fresh_code(&srv, &totp).await).await, (204, json!("")));
    assert_eq!(get(&c, &res("api_keys")).await, (200, json!([])));

    let otp_actions = srv.sql_texts("SELECT action FROM activities WHERE topic = 'otp' AND result = 'succeed'").await;
    for a in ["request QR code for 2FA", "enable 2FA", "disable 2FA"] {
        assert!(otp_actions.iter().any(|x| x == a), "{a} in {otp_actions:?}");
    }
});

// More than the default 10 wrong or replayed codes in a row: a success gives back only its own
// reservation, so the default limit would lock this user out before the end.
both!(
    otp_refusals_keep_barongs_keys,
    config = "login_throttle: {max_failures_per_account: 100}",
    |srv: TestServer| async move {
        let (c, csrf) = active_user(&srv, "rita@example.com").await;
        let res = |p: &str| srv.url(&format!("resource/otp/{p}"));
        let call = |p: &str, body: Value| {
            let (c, csrf, url) = (c.clone(), csrf.clone(), res(p));
            async move { send_json(&c, Method::POST, &url, Some(&csrf), Some(body)).await }
        };

        // Parameter checks come first, on every code endpoint.
        for p in ["enable", "disable", "verify"] {
            assert_err(&call(p, json!({})).await, 422, &["resource.otp.missing_code", "resource.otp.empty_code"]);
            assert_err(&call(p, json!({"code": " "})).await, 422, &["resource.otp.empty_code"]);
        }
        // 2FA is off.
        assert_err(&call("disable", json!({"code": "123456"})).await, 400, &["resource.otp.not_enabled"]);
        // Barong said `already_enabled` here; `not_enabled` names the real condition.
        assert_err(&call("verify", json!({"code": "123456"})).await, 400, &["resource.otp.not_enabled"]);
        // No seed generated yet: any code is wrong.
        assert_err(&call("enable", json!({"code": "123456"})).await, 422, &["resource.otp.invalid"]);

        let (totp, _) = setup_totp(&srv, &c, &csrf).await;
        for bad in ["abcdef", "12345", "1234567", "12 456"] {
            assert_err(&call("enable", json!({"code": bad})).await, 422, &["resource.otp.invalid"]);
        }
        assert_err(&call("enable", json!({"code": ["123456"]})).await, 422, &["invalid"]);
        assert_err(&call("enable", json!({"code": wrong_code(&totp)})).await, 422, &["resource.otp.invalid"]);

        // Enabling ends the user's other sessions, not this one.
        let other = srv.client();
        let creds = json!({"email": "rita@example.com", "password": PASSWORD});
        assert_eq!(post(&other, &srv.url("identity/sessions"), creds).await.0, 200);
        assert_eq!(get(&other, &srv.url("resource/users/me")).await.0, 200);
        let code = fresh_code(&srv, &totp).await;
        assert_eq!(call("enable", json!({"code": code})).await, (201, json!(200)));
        assert_err(&get(&other, &srv.url("resource/users/me")).await, 401, &["authz.invalid_session"]);
        assert_eq!(get(&c, &srv.url("resource/users/me")).await.0, 200);

        // 2FA is on.
        assert_err(&call("generate_qrcode", json!({})).await, 400, &["resource.otp.already_enabled"]);
        assert_err(&call("enable", json!({"code": "123456"})).await, 400, &["resource.otp.already_enabled"]);

        // verify: 201 with `null`; the same code again is Vault's replay error.
        let code = fresh_code(&srv, &totp).await;
        assert_eq!(call("verify", json!({"code": code})).await, (201, Value::Null));
        assert_err(&call("verify", json!({"code": code})).await, 422, &["totp.error"]);
        assert_err(&call("disable", json!({"code": code})).await, 422, &["totp.error"]);
        assert_err(&call("verify", json!({"code": wrong_code(&totp)})).await, 422, &["resource.otp.invalid"]);
        assert_err(&call("disable", json!({"code": wrong_code(&totp)})).await, 422, &["resource.otp.invalid"]);
        // A form body works as well as JSON, and a code sent as a number is read as text.
        let code = fresh_code(&srv, &totp).await;
        let r = c.post(res("verify")).header("X-CSRF-Token", &csrf).form(&[("code", code.as_str())]).send().await;
        assert_eq!(read(r.expect("request")).await.0, 201);
        let code = fresh_code(&srv, &totp).await;
        // A leading zero cannot survive as a JSON number; such a code is skipped.
        if !code.starts_with('0') {
            let n: u64 = code.parse().expect("digits");
            assert_eq!(call("verify", json!({"code": n})).await.0, 201);
        }

        // The session and CSRF checks of the resource API.
        let url = res("verify");
        assert_err(&send_json(&c, Method::POST, &url, None, None).await, 401, &["authz.missing_csrf_token"]);
        assert_err(&send_json(&c, Method::POST, &url, Some("nope"), None).await, 401, &["authz.csrf_token_mismatch"]);
        let stranger = srv.client();
        assert_err(
            &send_json(&stranger, Method::POST, &url, Some("x"), None).await,
            401,
            &["authz.csrf_token_mismatch"],
        );

        // Each refusal left an otp activity with its reason.
        let failed = srv
            .sql_texts("SELECT action || ' ' || data FROM activities WHERE topic = 'otp' AND result = 'failed'")
            .await;
        let has = |needle: &str| failed.iter().any(|f| f.contains(needle));
        assert!(has("disable 2FA {\"reason\":\"2FA has not been enabled for this account\""), "{failed:?}");
        assert!(has("verify 2FA code {\"reason\":\"2FA has not been enabled"), "{failed:?}");
        assert!(has("enable 2FA {\"reason\":\"OTP code is invalid\""), "{failed:?}");
        assert!(has("request QR code for 2FA {\"reason\":\"2FA has been already enabled"), "{failed:?}");
        assert!(has("verify 2FA code {\"reason\":\"OTP code has already been used\""), "{failed:?}");
    }
);

both!(totp_seeds_and_key_secrets_are_sealed_at_rest, |srv: TestServer| async move {
    let (c, csrf, totp) = two_factor_user(&srv, "sam@example.com").await;
    let seed_b32 = totp.get_secret_base32();
    let seed_hex: String = totp.secret.iter().map(|b| format!("{b:02x}")).collect();
    let body = json!({"algorithm": "HS256", "totp_code": fresh_code(&srv, &totp).await});
    let (s, key) = send_json(&c, Method::POST, &srv.url("resource/api_keys"), Some(&csrf), Some(body)).await;
    assert_eq!(s, 201);
    let secret = key["secret"].as_str().expect("secret").to_string();
    let needles = [seed_b32.as_str(), seed_hex.as_str(), secret.as_str()];

    let stored = srv.sql_texts("SELECT otp_secret_sealed FROM users WHERE otp_secret_sealed IS NOT NULL").await;
    assert_eq!(stored.len(), 1);
    assert!(stored[0].starts_with("v1:"), "sealed form");
    let stored_secret = srv.sql_texts("SELECT secret_sealed FROM api_keys").await;
    assert!(stored_secret[0].starts_with("v1:"), "sealed form");
    for text in stored.iter().chain(&stored_secret) {
        assert!(needles.iter().all(|n| !text.contains(n)), "a secret in clear: {text}");
    }

    match srv.backend {
        Backend::Sqlite => {
            // Every byte SQLite wrote: the database file and its write-ahead log.
            let mut bytes = std::fs::read(srv.data_dir.join("barong.db")).expect("db file");
            bytes.extend(std::fs::read(srv.data_dir.join("barong.db-wal")).unwrap_or_default());
            let raw = String::from_utf8_lossy(&bytes);
            for n in needles {
                assert!(!raw.contains(n), "{n} found in the SQLite files");
            }
        }
        Backend::Postgres => {
            let tables = srv
                .sql_texts(
                    "SELECT CAST(table_name AS TEXT) FROM information_schema.tables WHERE table_schema = 'public'",
                )
                .await;
            assert!(tables.contains(&"api_keys".to_string()));
            for t in tables {
                for row in srv.sql_texts(&format!("SELECT CAST(row_to_json(t) AS TEXT) FROM {t} t")).await {
                    assert!(needles.iter().all(|n| !row.contains(n)), "a secret in clear in {t}: {row}");
                }
            }
        }
    }
    let logs = srv.logs();
    assert!(needles.iter().all(|n| !logs.contains(n)), "a secret in the log");
});

both!(wrong_codes_are_throttled_per_user, |srv: TestServer| async move {
    let (c, csrf, totp) = two_factor_user(&srv, "tom@example.com").await;
    let verify = |code: String| {
        let (c, csrf, url) = (c.clone(), csrf.clone(), srv.url("resource/otp/verify"));
        async move { send_json(&c, Method::POST, &url, Some(&csrf), Some(json!({"code": code}))).await }
    };
    // The default limit: 10 wrong codes per user in 15 minutes.
    for _ in 0..10 {
        assert_err(&verify(wrong_code(&totp)).await, 422, &["resource.otp.invalid"]);
    }
    // Then even the right code is refused, everywhere a code is checked.
    assert_err(&verify(fresh_code(&srv, &totp).await).await, 429, &["totp.too_many_attempts"]);
    let body = json!({"algorithm": "HS256", "totp_code": fresh_code(&srv, &totp).await});
    let got = send_json(&c, Method::POST, &srv.url("resource/api_keys"), Some(&csrf), Some(body)).await;
    assert_err(&got, 429, &["totp.too_many_attempts"]);
    // Wrong codes count in the account's one guessing bucket, which login reserves first.
    let creds = json!({"email": "tom@example.com", "password": PASSWORD, "otp_code": fresh_code(&srv, &totp).await});
    let login = post(&srv.client(), &srv.url("identity/sessions"), creds).await;
    assert_err(&login, 429, &["identity.session.too_many_attempts"]);
    let failed = srv.sql_texts("SELECT data FROM activities WHERE topic = 'otp' AND result = 'failed'").await;
    assert!(failed.iter().any(|d| d.contains("Too many invalid OTP codes")), "{failed:?}");

    // Another user is not affected.
    let (c2, csrf2, totp2) = two_factor_user(&srv, "una@example.com").await;
    let body = json!({"code": fresh_code(&srv, &totp2).await});
    let got = send_json(&c2, Method::POST, &srv.url("resource/otp/verify"), Some(&csrf2), Some(body)).await;
    assert_eq!(got, (201, Value::Null));
});
