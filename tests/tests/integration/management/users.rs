//! `/users/get`, `/users/list`, `/labels/filter/users`, `/phones/get`.

use super::*;

async fn users(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let (c, csrf) = active_user(&srv, "mgmt-users@example.com").await;
    let url = srv.url("resource/phones");
    let (s, b) =
        send_json(&c, reqwest::Method::POST, &url, Some(&csrf), Some(json!({"phone_number": "+44 7418 084106"}))).await;
    assert_eq!(s, 201, "{b}");
    let uid = get(&c, &srv.url("resource/users/me")).await.1["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);

    let r = reqwest::Client::new().post(mgmt(&srv, "users/get")).json(&ask(json!({"uid": uid}))).send().await;
    let r = r.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    let order = [
        "email",
        "uid",
        "role",
        "level",
        "otp",
        "state",
        "referral_uid",
        "data",
        "username",
        "profiles",
        "labels",
        "phones",
        "documents",
        "data_storages",
        "comments",
    ];
    assert!(keys_in_order(&raw, &order), "{raw}");
    // The user's own timestamps come last (labels have theirs too, earlier).
    assert!(raw.rfind("\"created_at\":") > raw.find("\"comments\":") && raw.ends_with("Z\"}"), "{raw}");
    let user: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(user["phones"], json!([{"country": "GB", "number": "447418084106", "validated_at": null}]), "clear");
    assert!(user["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "email" && l["scope"] == "private"));
    for data in [
        json!({"email": "MGMT-users@example.com"}),
        json!({"phone_num": "447418084106"}),
        json!({"phone_num": "+44 7418 084106"}),
    ] {
        let (s, b) = post_signed(&srv, "users/get", &ask(data.clone())).await;
        assert_eq!((s, b["uid"].as_str()), (201, Some(uid.as_str())), "{data}: {b}");
    }
    for data in
        [json!({"phone_num": "447418084107"}), json!({"uid": "ID0000000000"}), json!({"email": "nobody@example.com"})]
    {
        assert_eq!(post_signed(&srv, "users/get", &ask(data)).await, (404, error("Record is not found")));
    }
    assert_eq!(
        post_signed(&srv, "users/get", &ask(json!({}))).await,
        (422, error("uid, email, phone_num are missing, exactly one parameter must be provided"))
    );
    assert_eq!(
        post_signed(&srv, "users/get", &ask(json!({"uid": uid, "email": "a@b.io"}))).await,
        (422, error("uid, email, phone_num are mutually exclusive"))
    );

    let (s, b) = post_signed(&srv, "phones/get", &ask(json!({"uid": uid}))).await;
    assert_eq!((s, b), (201, json!([{"country": "GB", "number": "447418084106", "validated_at": null}])));
    assert_eq!(
        post_signed(&srv, "phones/get", &ask(json!({"uid": "ID0000000000"}))).await,
        (422, error("user.doesnt_exist"))
    );
    assert_eq!(post_signed(&srv, "phones/get", &ask(json!({}))).await, (422, error("uid is missing, uid is empty")));
}

both!(user_and_phone_reads, per_backend = |b| with_management(b, SCOPES, "", users));

async fn user_list(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let c = srv.client();
    let mut uids = Vec::new();
    for e in ["list-a@example.com", "list-b@example.com", "list-c@example.com"] {
        uids.push(register(&srv, &c, e).await["uid"].as_str().expect("uid").to_string());
    }
    let list = |data: Value| {
        let signed = keys.sign(&claims(data), &app);
        let url = mgmt(&srv, "users/list");
        async move {
            let r = reqwest::Client::new().post(url).json(&signed).send().await.expect("post");
            let header = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let paging = (header("total"), header("page"), header("per-page"));
            let (s, b) = read(r).await;
            (s, b, paging)
        }
    };
    let uids_of = |b: &Value| -> Vec<String> {
        b.as_array().expect("list").iter().map(|u| u["uid"].as_str().expect("uid").to_string()).collect()
    };
    let (s, b, paging) = list(json!({})).await;
    assert_eq!((s, uids_of(&b)), (200, uids.clone()), "{b}");
    assert_eq!(paging, ("3".into(), "1".into(), "100".into()));
    assert!(!b[0].as_object().expect("user").contains_key("created_at"), "User has no timestamps: {b}");
    let (_, b, paging) = list(json!({"limit": 2, "page": "2"})).await;
    assert_eq!((uids_of(&b), paging.0), (vec![uids[2].clone()], "3".to_string()));
    // `Link` (spec §1.7): built from the path; the parameters travel signed, so only `page`.
    let links = |data: Value| {
        let signed = keys.sign(&claims(data), &app);
        let url = mgmt(&srv, "users/list");
        async move {
            let r = reqwest::Client::new().post(url).json(&signed).send().await.expect("post");
            r.headers().get("link").map(|v| v.to_str().expect("ascii").to_string())
        }
    };
    let p = "/api/v2/management/users/list";
    assert_eq!(
        links(json!({"limit": 1, "page": 2})).await.as_deref(),
        Some(format!("<{p}?page=1>; rel=\"first\", <{p}?page=1>; rel=\"prev\", <{p}?page=3>; rel=\"last\", <{p}?page=3>; rel=\"next\"").as_str())
    );
    assert_eq!(
        links(json!({"limit": 2})).await.as_deref(),
        Some(format!("<{p}?page=2>; rel=\"last\", <{p}?page=2>; rel=\"next\"").as_str())
    );
    assert_eq!(links(json!({})).await, None, "one page only");
    let (_, b, _) = list(json!({"email": "LIST-B@example.com"})).await;
    assert_eq!(uids_of(&b), [uids[1].clone()]);
    let (_, b, _) = list(json!({"uid": uids[0], "state": "pending", "role": "member", "level": 0})).await;
    assert_eq!(uids_of(&b), [uids[0].clone()]);
    let (_, b, _) = list(json!({"state": "active"})).await;
    assert_eq!(b, json!([]));
    let (_, b, paging) = list(json!({"from": now() + 1000})).await;
    assert_eq!((b, paging.0), (json!([]), "0".to_string()));
    let (_, b, _) = list(json!({"extended": true, "limit": 1})).await;
    assert_eq!(b[0]["profiles"], json!([]));
    assert!(b[0]["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{b}");
    for (data, message) in [
        (json!({"extended": "maybe"}), "extended Non boolean extended value"),
        (json!({"range": "deleted"}), "range Non positive page"),
        (json!({"page": 0}), "page non_positive_page"),
        (json!({"limit": 101}), "limit invalid_limit"),
        (json!({"page": "x"}), "page non_integer_page"),
    ] {
        let (s, b, _) = list(data).await;
        assert_eq!((s, b), (422, error(message)));
    }
    // /labels/filter/users: the holders of a label, each once.
    let both_signers = [("applogic", "RS256", "rsa.pem"), ("backoffice", "ES256", "ec.pem")];
    for (uid, value) in [(&uids[0], "gold"), (&uids[1], "silver"), (&uids[2], "gold")] {
        let signed = keys.sign(&claims(json!({"user_uid": uid, "key": "tier", "value": value})), &both_signers);
        assert_eq!(post_signed(&srv, "labels", &signed).await.0, 201);
    }
    let by_label = |data: Value| {
        let signed = keys.sign(&claims(data), &app);
        let url = mgmt(&srv, "labels/filter/users");
        async move {
            let r = reqwest::Client::new().post(url).json(&signed).send().await.expect("post");
            let total = r.headers().get("total").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
            let (s, b) = read(r).await;
            (s, b, total)
        }
    };
    let (s, b, total) = by_label(json!({"key": "tier"})).await;
    assert_eq!((s, uids_of(&b), total), (200, uids.clone(), "3".to_string()));
    let (_, b, total) = by_label(json!({"key": "tier", "value": "gold", "scope": "private"})).await;
    assert_eq!((uids_of(&b), total), (vec![uids[0].clone(), uids[2].clone()], "2".to_string()));
    assert_eq!(by_label(json!({"key": "tier", "scope": "public"})).await.1, json!([]));
    assert_eq!(by_label(json!({"key": "tier", "from": now() + 1000})).await.1, json!([]));
    let (_, b, _) = by_label(json!({"key": "tier", "value": "silver", "extended": true})).await;
    assert_eq!((uids_of(&b), b[0]["profiles"].clone()), (vec![uids[1].clone()], json!([])));
    assert_eq!(by_label(json!({})).await.1, error("key is missing, key is empty"));
    assert_eq!(by_label(json!({"key": "tier", "range": "x"})).await.1, error("range Invalid range"));
}

async fn user_update(srv: TestServer, keys: Keys) {
    let both_signers = [("applogic", "RS256", "rsa.pem"), ("backoffice", "ES256", "ec.pem")];
    let uid = register(&srv, &srv.client(), "upd@example.com").await["uid"].as_str().expect("uid").to_string();
    let roles = srv.sql_texts("SELECT DISTINCT role FROM permissions WHERE role <> 'member' ORDER BY role").await;
    let role = roles.first().expect("a seeded role besides member").clone();
    let update = |data: Value| keys.sign(&claims(data), &both_signers);

    let r = reqwest::Client::new().post(mgmt(&srv, "users/update")).json(&update(json!({"uid": uid, "role": role})));
    let r = r.send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    let order = ["email", "uid", "role", "level", "otp", "state", "referral_uid", "data", "username", "profiles"];
    assert!(keys_in_order(&raw, &order) && raw.contains("\"updated_at\":"), "{raw}");
    let got: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(got["role"].as_str(), Some(role.as_str()));
    assert_eq!(
        srv.sql_texts(&format!("SELECT role FROM users WHERE uid = '{uid}'")).await,
        std::slice::from_ref(&role)
    );
    let (s, b) = post_signed(&srv, "users/update", &update(json!({"uid": uid, "data": "{\"tier\":1}"}))).await;
    assert_eq!((s, b["data"].as_str(), b["role"].as_str()), (201, Some("{\"tier\":1}"), Some(role.as_str())), "{b}");
    let bad = update(json!({"uid": uid, "role": "no-such-role", "data": "not json"}));
    assert_eq!(
        post_signed(&srv, "users/update", &bad).await,
        (422, json!({"error": ["Role doesnt_exist", "Data is invalid"]}))
    );
    let long = update(json!({"uid": uid, "data": format!("\"{}\"", "x".repeat(1100))}));
    assert_eq!(
        post_signed(&srv, "users/update", &long).await,
        (422, json!({"error": ["Data is too long (maximum is 1024 characters)"]}))
    );
    assert_eq!(
        post_signed(&srv, "users/update", &update(json!({"uid": uid}))).await,
        (422, error("role, data are missing, at least one parameter must be provided"))
    );
    let nobody = update(json!({"uid": "ID0000000000", "role": role}));
    assert_eq!(post_signed(&srv, "users/update", &nobody).await, (422, error("user.doesnt_exist")));
    let one = keys.sign(&claims(json!({"uid": uid, "role": "member"})), &both_signers[..1]);
    assert_eq!(post_signed(&srv, "users/update", &one).await, (401, error("Not enough signatures for the action.")));
    assert_eq!(srv.sql_texts(&format!("SELECT role FROM users WHERE uid = '{uid}'")).await, [role]);
}

async fn user_create(srv: TestServer, keys: Keys) {
    let both_signers = [("applogic", "RS256", "rsa.pem"), ("backoffice", "ES256", "ec.pem")];
    let create = |data: Value| keys.sign(&claims(data), &both_signers);
    let (s, b) = post_signed(&srv, "users", &create(json!({"email": "made@example.com", "password": PASSWORD}))).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(
        (b["email"].as_str(), b["role"].as_str(), b["state"].as_str(), b["level"].as_i64(), b["profiles"].clone()),
        (Some("made@example.com"), Some("member"), Some("pending"), Some(0), json!([]))
    );
    let uid = b["uid"].as_str().expect("uid").to_string();
    let login = json!({"email": "made@example.com", "password": PASSWORD});
    // The password was stored as a usable hash: the new (pending) user can log in with it.
    let (s, b) = post(&srv.client(), &srv.url("identity/sessions"), login).await;
    assert_eq!((s, b["uid"].as_str()), (200, Some(uid.as_str())), "{b}");
    let again = create(json!({"email": "MADE@example.com", "password": PASSWORD}));
    assert_eq!(post_signed(&srv, "users", &again).await, (422, json!({"error": ["Email has already been taken"]})));
    let (s, b) = post_signed(&srv, "users", &create(json!({"email": "nope", "password": "abc"}))).await;
    assert_eq!(
        (s, b["error"][0].as_str(), b["error"].as_array().map(Vec::len)),
        (422, Some("Email is invalid"), Some(2)),
        "{b}"
    );
    let referred = create(json!({"email": "ref@example.com", "password": PASSWORD, "referral_uid": "ID0000000000"}));
    assert_eq!(post_signed(&srv, "users", &referred).await, (422, json!({"error": ["Referral doesnt_exist"]})));
    let referred = create(json!({"email": "ref@example.com", "password": PASSWORD, "referral_uid": uid}));
    let (s, b) = post_signed(&srv, "users", &referred).await;
    assert_eq!((s, b["referral_uid"].as_str()), (201, Some(uid.as_str())), "{b}");
    assert_eq!(
        post_signed(&srv, "users", &create(json!({}))).await.1,
        error("email is missing, email is empty, password is missing, password is empty")
    );
}

both!(users_are_created, per_backend = |b| with_management(b, SCOPES, "", user_create));

both!(users_are_updated, per_backend = |b| with_management(b, SCOPES, "", user_update));

both!(user_listing, per_backend = |b| with_management(b, SCOPES, "", user_list));
