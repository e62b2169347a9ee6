//! `/service_accounts/get` and `/service_accounts/list`.

use super::*;

async fn service_account_reads(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let owner = register(&srv, &srv.client(), "sa-owner@example.com").await["uid"].as_str().expect("uid").to_string();
    let sa: Vec<Value> =
        (0..2).map(|_| ctl_json(&srv, &["service-account", "create", "--owner", &owner, "--role", "member"])).collect();
    let sa_uid = |i: usize| sa[i]["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);

    let r = reqwest::Client::new().post(mgmt(&srv, "service_accounts/get")).json(&ask(json!({"uid": sa_uid(0)})));
    let r = r.send().await.expect("post");
    assert_eq!(r.status().as_u16(), 200);
    let raw = r.text().await.expect("body");
    let order = ["email", "uid", "role", "level", "state", "user"];
    assert!(keys_in_order(&raw, &order) && raw.ends_with("Z\"}"), "{raw}");
    let got: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!((got["uid"].as_str(), got["user"]["uid"].as_str()), (Some(sa_uid(0).as_str()), Some(owner.as_str())));
    let (s, b) = post_signed(&srv, "service_accounts/get", &ask(json!({"email": sa[1]["email"]}))).await;
    assert_eq!((s, b["uid"].as_str()), (200, Some(sa_uid(1).as_str())));
    let nobody = ask(json!({"uid": "SI0000000000"}));
    assert_eq!(post_signed(&srv, "service_accounts/get", &nobody).await, (404, error("Record is not found")));
    assert_eq!(
        post_signed(&srv, "service_accounts/get", &ask(json!({}))).await,
        (422, error("uid, email are missing, exactly one parameter must be provided"))
    );

    let uids = |b: &Value| -> Vec<String> {
        b.as_array().expect("list").iter().map(|x| x["uid"].as_str().expect("uid").to_string()).collect()
    };
    let all = vec![sa_uid(0), sa_uid(1)];
    for data in [json!({}), json!({"owner_uid": owner}), json!({"owner_email": "SA-owner@example.com"})] {
        let (s, b) = post_signed(&srv, "service_accounts/list", &ask(data.clone())).await;
        assert_eq!((s, uids(&b)), (200, all.clone()), "{data}");
    }
    let (_, b) = post_signed(&srv, "service_accounts/list", &ask(json!({"owner_uid": "ID0000000000"}))).await;
    assert_eq!(b, json!([]), "an unknown owner has none");
    let (_, b) = post_signed(&srv, "service_accounts/list", &ask(json!({"limit": 1, "page": 2}))).await;
    assert_eq!(uids(&b), [sa_uid(1)]);

    let (s, b) = post_signed(&srv, "service_accounts/delete", &ask(json!({"uid": sa_uid(0)}))).await;
    assert_eq!((s, b["uid"].as_str(), b["state"].as_str()), (200, Some(sa_uid(0).as_str()), Some("disabled")), "{b}");
    assert_eq!(
        srv.sql_texts(&format!("SELECT state FROM service_accounts WHERE uid = '{}'", sa_uid(0))).await,
        ["disabled"]
    );
    assert_eq!(
        srv.sql_texts(&format!("SELECT state FROM service_accounts WHERE uid = '{}'", sa_uid(1))).await,
        ["active"]
    );
    let gone = ask(json!({"uid": "SI0000000000"}));
    assert_eq!(post_signed(&srv, "service_accounts/delete", &gone).await, (404, error("Record is not found")));

    // update: the owner's state and level are copied; a new owner moves the account.
    let summary = |b: &Value| (b["state"].as_str().map(str::to_string), b["level"].as_i64(), b["user"]["uid"].clone());
    let (s, b) = post_signed(&srv, "service_accounts/update", &ask(json!({"uid": sa_uid(1)}))).await;
    assert_eq!((s, summary(&b)), (201, (Some("pending".into()), Some(0), json!(owner))), "{b}");
    operator_user(&srv, "sa-owner2@example.com");
    let owner2 = ctl_json(&srv, &["user", "show", "sa-owner2@example.com"])["uid"].as_str().expect("uid").to_string();
    let moved = ask(json!({"uid": sa_uid(1), "owner_uid": owner2}));
    let (s, b) = post_signed(&srv, "service_accounts/update", &moved).await;
    assert_eq!((s, summary(&b)), (201, (Some("active".into()), Some(1), json!(owner2))), "{b}");
    let unknown_owner = ask(json!({"uid": sa_uid(1), "owner_uid": "ID0000000000"}));
    let (s, b) = post_signed(&srv, "service_accounts/update", &unknown_owner).await;
    assert_eq!((s, summary(&b)), (201, (Some("active".into()), Some(1), json!(owner2))), "unchanged: {b}");
    let nobody = ask(json!({"uid": "SI0000000000"}));
    assert_eq!(
        post_signed(&srv, "service_accounts/update", &nobody).await,
        (422, error("Service account doesnt exist"))
    );
}

both!(service_accounts_are_read, per_backend = |b| with_management(b, SCOPES, "", service_account_reads));

async fn service_account_create(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let ask = |data: Value| keys.sign(&claims(data), &app);
    operator_user(&srv, "sa-maker@example.com");
    let owner = ctl_json(&srv, &["user", "show", "sa-maker@example.com"])["uid"].as_str().expect("uid").to_string();
    let levels = srv.sql_texts("SELECT CAST(level AS TEXT) FROM users WHERE email = 'sa-maker@example.com'").await;
    let owner_level: i64 = levels[0].parse().expect("level");

    // With an owner: SI uid, the owner's e-mail with +uid, the owner's level and always its state.
    let made = ask(json!({"service_account_role": "member", "owner_uid": owner, "service_account_state": "banned"}));
    let r = reqwest::Client::new().post(mgmt(&srv, "service_accounts/create")).json(&made).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    assert!(keys_in_order(&raw, &["email", "uid", "role", "level", "state", "user", "created_at"]), "{raw}");
    let b: Value = serde_json::from_str(&raw).expect("json");
    let uid = b["uid"].as_str().expect("uid").to_string();
    assert!(
        uid.len() == 12
            && uid.starts_with("SI")
            && uid[2..].chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_lowercase()),
        "{uid}"
    );
    assert_eq!(b["email"].as_str(), Some(format!("sa-maker+{uid}@example.com").as_str()));
    assert_eq!(
        (b["role"].as_str(), b["level"].as_i64(), b["state"].as_str(), b["user"]["uid"].as_str()),
        (Some("member"), Some(owner_level), Some("active"), Some(owner.as_str()))
    );

    // Without an owner: the given uid, e-mail, state and level.
    let given = ask(
        json!({"service_account_role": "member", "owner_uid": "ID0000000000", "service_account_uid": "SIAAAAAAAAAA",
                           "service_account_email": "bot@example.com", "service_account_state": "active", "service_account_level": 2}),
    );
    let (s, b) = post_signed(&srv, "service_accounts/create", &given).await;
    assert_eq!(
        (s, b["uid"].as_str(), b["email"].as_str(), b["state"].as_str(), b["level"].as_i64(), b["user"].clone()),
        (201, Some("SIAAAAAAAAAA"), Some("bot@example.com"), Some("active"), Some(2), Value::Null),
        "{b}"
    );
    let (s, b) = post_signed(
        &srv,
        "service_accounts/create",
        &ask(json!({"service_account_role": "member",
        "service_account_email": "bot2@example.com"})),
    )
    .await;
    assert_eq!((s, b["state"].as_str(), b["level"].as_i64()), (201, Some("pending"), Some(0)), "{b}");

    for (data, messages) in [
        (json!({"service_account_role": "member"}), json!(["Email can't be blank"])),
        (
            json!({"service_account_role": "nobody", "service_account_email": "x"}),
            json!(["Email is invalid", "Role doesnt_exist"]),
        ),
        (
            json!({"service_account_role": "member", "service_account_email": "BOT@example.com", "service_account_uid": "SIAAAAAAAAAA"}),
            json!(["Email has already been taken", "Uid has already been taken"]),
        ),
        (
            json!({"service_account_role": "member", "service_account_email": "sa-maker@example.com"}),
            json!(["Email or uid not_uniq"]),
        ),
        (
            json!({"service_account_role": "member", "service_account_email": "bot3@example.com", "service_account_uid": owner}),
            json!(["Email or uid not_uniq"]),
        ),
    ] {
        let (s, b) = post_signed(&srv, "service_accounts/create", &ask(data.clone())).await;
        assert_eq!((s, b), (422, json!({"error": messages})), "{data}");
    }
    assert_eq!(
        post_signed(&srv, "service_accounts/create", &ask(json!({"service_account_level": "x"}))).await,
        (
            422,
            error("service_account_role is missing, service_account_role is empty, service_account_level is invalid")
        )
    );
    let count = srv.sql_texts("SELECT CAST(COUNT(*) AS TEXT) FROM service_accounts").await;
    assert_eq!(count, ["3"]);
}

both!(service_accounts_are_created, per_backend = |b| with_management(b, SCOPES, "", service_account_create));
