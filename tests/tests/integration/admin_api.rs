//! The Admin API (`/api/v2/barong/admin/...`): its pipeline (the three credentials, in-process
//! RBAC with the seeded permissions, parameter validation before abilities, the ability check),
//! admin activity rows, pagination headers, and the abilities, levels, permissions and
//! restrictions endpoints.

use reqwest::Method;

use super::*;

/// An active user of `role` made by the operator, and a client holding its session cookie.
pub async fn staff(srv: &TestServer, email: &str, role: &str) -> (reqwest::Client, String) {
    let args = ["user", "create", "--email", email, "--role", role, "--level", "1", "--password-stdin"];
    let (code, _, err) = srv.ctl(&args, Some(PASSWORD));
    assert_eq!(code, 0, "user create {role}: {err}");
    fixed_cookie_client(srv, email).await
}

pub fn admin_url(srv: &TestServer, rest: &str) -> String {
    srv.url(&format!("admin/{rest}"))
}

/// `method admin/<rest>` with the CSRF header and a JSON body: (status, headers, body).
pub async fn call(
    c: &reqwest::Client,
    srv: &TestServer,
    method: Method,
    rest: &str,
    csrf: &str,
    body: Option<Value>,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut r = c.request(method, admin_url(srv, rest)).header("X-CSRF-Token", csrf);
    if let Some(b) = body {
        r = r.json(&b);
    }
    let resp = r.send().await.expect("request");
    let headers = resp.headers().clone();
    let (s, v) = read(resp).await;
    (s, headers, v)
}

/// (status, body) of `call`.
pub async fn call2(
    c: &reqwest::Client,
    srv: &TestServer,
    method: Method,
    rest: &str,
    csrf: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (s, _, v) = call(c, srv, method, rest, csrf, body).await;
    (s, v)
}

/// The admin activity rows as `topic/action/result/target_uid`, oldest first.
pub async fn admin_rows(srv: &TestServer) -> Vec<String> {
    srv.sql_texts(
        "SELECT topic || '/' || action || '/' || result || '/' || COALESCE(target_uid, '') FROM activities \
         WHERE category = 'admin' ORDER BY id",
    )
    .await
}

both!(admin_abilities_levels_and_role_rules, |srv: TestServer| async move {
    let (sa, sa_csrf) = staff(&srv, "root@example.com", "superadmin").await;
    let (ad, ad_csrf) = staff(&srv, "admin@example.com", "admin").await;
    let (tech, tech_csrf) = staff(&srv, "tech@example.com", "technical").await;
    let (acc, acc_csrf) = staff(&srv, "acc@example.com", "accountant").await;
    let (member, m_csrf) = staff(&srv, "member@example.com", "member").await;

    // The caller's own entry, in file order (checked on the wire text).
    let r = ad.get(admin_url(&srv, "abilities")).send().await.expect("abilities");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.text().await.expect("body"),
        r#"{"read":["Activity","Permission"],"manage":["Ability","User","Level","Label","Profile","APIKey","Restriction","Document"]}"#
    );
    let (s, v) = call2(&sa, &srv, Method::GET, "abilities", &sa_csrf, None).await;
    assert_eq!((s, v["manage"].as_array().map(Vec::len)), (200, Some(10)));

    // Levels: the seeded ones, fields id, key, value.
    let (s, h, v) = call(&acc, &srv, Method::GET, "levels", &acc_csrf, None).await;
    assert_eq!(s, 200, "{v}");
    let levels = v.as_array().expect("array");
    assert!(!levels.is_empty());
    assert_eq!(levels[0].as_object().map(|o| o.len()), Some(3), "{v}");
    assert!(levels[0]["id"].is_i64() && levels[0]["key"].is_string());
    assert!(h.get("total").is_none(), "levels are unpaged");

    // A member is stopped by the seeded DROP before anything else.
    assert_err(&call2(&member, &srv, Method::GET, "levels", &m_csrf, None).await, 401, &["authz.invalid_permission"]);
    // Admin is DROPped from admin/permissions by the seeds, though its abilities read Permission.
    assert_err(&call2(&ad, &srv, Method::GET, "permissions", &ad_csrf, None).await, 401, &["authz.invalid_permission"]);
    // The accountant may only GET: a POST is refused by RBAC, and leaves a denied row.
    let body = json!({"role": "member", "verb": "get", "path": "api/v2/x", "action": "accept"});
    assert_err(
        &call2(&acc, &srv, Method::POST, "permissions", &acc_csrf, Some(body.clone())).await,
        401,
        &["authz.invalid_permission"],
    );
    assert!(admin_rows(&srv).await.contains(&"permissions/create/denied/".to_string()), "{:?}", admin_rows(&srv).await);
    // Technical passes RBAC on GETs, but its abilities do not read Permission; bad params
    // still come first (Barong's order).
    assert_err(
        &call2(&tech, &srv, Method::GET, "permissions", &tech_csrf, None).await,
        401,
        &["admin.ability.not_permitted"],
    );
    assert_err(
        &call2(&tech, &srv, Method::GET, "permissions?page=0&limit=x", &tech_csrf, None).await,
        422,
        &["non_positive_page", "non_integer_limit", "invalid_limit"],
    );
    // A role the permissions let in but the abilities file does not name: nothing but `{}`.
    ctl_json(
        &srv,
        &["permission", "add", "--role", "viewer", "--verb", "get", "--path", "api/v2/barong", "--action", "accept"],
    );
    let (viewer, v_csrf) = staff(&srv, "viewer@example.com", "viewer").await;
    assert_eq!(call2(&viewer, &srv, Method::GET, "abilities", &v_csrf, None).await, (200, json!({})));
    assert_err(
        &call2(&viewer, &srv, Method::GET, "levels", &v_csrf, None).await,
        401,
        &["admin.ability.not_permitted"],
    );
    // No credential at all.
    assert_err(&call2(&srv.client(), &srv, Method::GET, "levels", "", None).await, 401, &["authz.invalid_session"]);
});

both!(admin_permissions_crud, |srv: TestServer| async move {
    let (sa, csrf) = staff(&srv, "root@example.com", "superadmin").await;
    let seeded = ctl_json(&srv, &["permission", "list"]).as_array().expect("list").len() as i64;

    // Pagination: headers and links, a page past the end is empty.
    let (s, h, v) = call(&sa, &srv, Method::GET, "permissions?limit=2&page=2", &csrf, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v.as_array().map(Vec::len), Some(2));
    assert_eq!(h["total"].to_str().expect("total"), seeded.to_string());
    assert_eq!((h["per-page"].to_str().expect("pp"), h["page"].to_str().expect("p")), ("2", "2"));
    let link = h["link"].to_str().expect("link");
    assert!(link.contains("page=1>; rel=\"first\"") && link.contains("page=3>; rel=\"next\""), "{link}");
    let first = &v[0];
    let raw = sa.get(admin_url(&srv, "permissions?limit=1")).send().await.expect("get").text().await.expect("text");
    assert!(
        keys_in_order(&raw, &["id", "action", "role", "verb", "path", "topic", "created_at", "updated_at"]),
        "{raw}"
    );
    assert!(first["created_at"].as_str().is_some_and(|t| t.ends_with('Z') && t.len() == 20), "{first}");
    let (s, _, v) = call(&sa, &srv, Method::GET, "permissions?page=999", &csrf, None).await;
    assert_eq!((s, v), (200, json!([])));

    // POST: presence, then Barong's checks in order, then the path (W12).
    assert_err(
        &call2(&sa, &srv, Method::POST, "permissions", &csrf, Some(json!({"verb": " ", "topic": ""}))).await,
        422,
        &[
            "admin.permission.missing_role",
            "admin.permission.empty_role",
            "admin.permission.empty_verb",
            "admin.permission.missing_path",
            "admin.permission.empty_path",
            "admin.permission.missing_action",
            "admin.permission.empty_action",
            "admin.permission.empty_topic",
        ],
    );
    let post = |verb: &str, action: &str, role: &str, path: &str| json!({"role": role, "verb": verb, "path": path, "action": action, "topic": "ops"});
    for (body, key) in [
        (post("fetch", "accept", "member", "api/v2/x"), "admin.permissions.invalid_verb"),
        (post("get", "allow", "member", "api/v2/x"), "admin.permissions.invalid_action"),
        (post("get", "accept", "ghost", "api/v2/x"), "admin.permission.role_doesnt_exist"),
        (post("get", "accept", "member", "api/../admin"), "admin.permissions.invalid_path"),
    ] {
        assert_err(&call2(&sa, &srv, Method::POST, "permissions", &csrf, Some(body)).await, 422, &[key]);
    }
    let (s, v) =
        call2(&sa, &srv, Method::POST, "permissions", &csrf, Some(post("get", "accept", "member", "/api/v2/tool/")))
            .await;
    assert_eq!((s, v), (200, json!(200)));
    let list = ctl_json(&srv, &["permission", "list"]);
    let new = list.as_array().expect("list").iter().find(|p| p["path"] == "api/v2/tool").expect("stored normalised");
    assert_eq!((new["verb"].as_str(), new["action"].as_str()), (Some("GET"), Some("ACCEPT")));
    let id = new["id"].as_i64().expect("id");

    // The gateway applies it at once: a member may now GET api/v2/tool.
    let (mc, _) = staff(&srv, "m@example.com", "member").await;
    let tool = auth_url(&srv, "api/v2/tool/x");
    let gate = |c: reqwest::Client| {
        let tool = tool.clone();
        async move { authz_call(&c, Method::GET, &tool, &[]).await.0 }
    };
    assert_eq!(gate(mc.clone()).await, 200);

    // PUT: the same checks as POST (Barong had none), 404 for an unknown id.
    let put = |extra: Value| {
        let mut b = json!({"id": id});
        b.as_object_mut().expect("obj").extend(extra.as_object().expect("obj").clone());
        b
    };
    assert_err(
        &call2(&sa, &srv, Method::PUT, "permissions", &csrf, Some(put(json!({"action": "acept"})))).await,
        422,
        &["admin.permissions.invalid_action"],
    );
    assert_err(
        &call2(&sa, &srv, Method::PUT, "permissions", &csrf, Some(json!({}))).await,
        422,
        &["admin.permission.missing_id"],
    );
    assert_err(&call2(&sa, &srv, Method::PUT, "permissions", &csrf, Some(json!({"id": "x"}))).await, 422, &["invalid"]);
    assert_err(
        &call2(&sa, &srv, Method::PUT, "permissions", &csrf, Some(json!({"id": 999_999, "verb": "get"}))).await,
        404,
        &["admin.permission.doesnt_exist"],
    );
    let (s, v) = call2(&sa, &srv, Method::PUT, "permissions", &csrf, Some(put(json!({"action": "drop"})))).await;
    assert_eq!((s, v), (200, json!(200)));
    assert_eq!(gate(mc.clone()).await, 401, "the DROP is applied before the answer");

    // DELETE.
    let (s, v) = call2(&sa, &srv, Method::DELETE, &format!("permissions?id={id}"), &csrf, None).await;
    assert_eq!((s, v), (200, json!(200)));
    assert_err(
        &call2(&sa, &srv, Method::DELETE, &format!("permissions?id={id}"), &csrf, None).await,
        404,
        &["admin.permission.doesnt_exist"],
    );

    // Every write left a row, failures included; GETs none; secrets in `data` are filtered.
    let rows = admin_rows(&srv).await;
    assert_eq!(rows.iter().filter(|r| r.starts_with("permissions/create/")).count(), 6, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.starts_with("permissions/update/succeed")).count(), 1, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.starts_with("permissions/delete/")).count(), 2, "{rows:?}");
    // (The one read row is the gateway's: the member's GET after the DROP.)
    assert_eq!(rows.iter().filter(|r| r.contains("/read/")).collect::<Vec<_>>(), ["general/read/denied/"]);
    let body = json!({"id": id, "password": "hunter2-Secret", "uid": "nobody"});
    call2(&sa, &srv, Method::DELETE, "permissions", &csrf, Some(body)).await;
    let data = srv.sql_texts("SELECT data FROM activities WHERE category = 'admin' ORDER BY id DESC LIMIT 1").await;
    let data: Value = serde_json::from_str(&data[0]).expect("json data");
    assert_eq!(
        (data["password"].as_str(), data["uid"].as_str(), data["path"].as_str()),
        (Some("[FILTERED]"), Some("nobody"), Some("api/v2/barong/admin/permissions"))
    );
    assert_eq!(admin_rows(&srv).await.last().map(String::as_str), Some("permissions/delete/failed/"));
});

both!(admin_restrictions_crud, |srv: TestServer| async move {
    let (sa, csrf) = staff(&srv, "root@example.com", "superadmin").await;
    let post = |b: Value| call2(&sa, &srv, Method::POST, "restrictions", &csrf, Some(b));
    assert_err(
        &post(json!({"code": 200})).await,
        422,
        &[
            "admin.restriction.missing_scope",
            "admin.restriction.empty_scope",
            "admin.restriction.missing_value",
            "admin.restriction.empty_value",
            "admin.restriction.missing_category",
            "admin.restriction.invalid_code",
        ],
    );
    assert_err(
        &post(json!({"scope": "planet", "value": "x", "category": "greylist", "state": "on"})).await,
        422,
        &["admin.restriction.invalid_scope", "admin.restriction.invalid_category", "admin.restriction.invalid_state"],
    );
    assert_err(&post(json!({"scope": "ip", "value": "1.2.3", "category": "blacklist"})).await, 422, &["value.invalid"]);
    for (scope, value, category, code) in [
        ("ip", "203.0.113.7", "blacklist", json!(403)),
        ("country", "FR", "maintenance", json!(null)),
        ("ip_subnet", "198.51.100.0/24", "whitelist", json!(451)),
    ] {
        let b = json!({"scope": scope, "value": value, "category": category, "code": code, "state": "disabled"});
        assert_eq!(post(b).await, (200, json!(200)));
    }
    assert_err(
        &post(json!({"scope": "ip", "value": "203.0.113.7", "category": "blacklist"})).await,
        422,
        &["value.taken"],
    );
    let (s, h, v) = call(&sa, &srv, Method::GET, "restrictions?limit=2", &csrf, None).await;
    assert_eq!((s, h["total"].to_str().expect("total")), (200, "3"), "{v}");
    assert_eq!(v[0]["code"], 403);
    assert_eq!(v[1]["code"], 471, "the maintenance default");
    let (_, v) = call2(&sa, &srv, Method::GET, "restrictions?category=whitelist", &csrf, None).await;
    assert_eq!((v.as_array().map(Vec::len), v[0]["code"].as_i64()), (Some(1), Some(403)), "whitelist: default code");
    let id = v[0]["id"].as_i64().expect("id");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs();
    let (_, v) =
        call2(&sa, &srv, Method::GET, &format!("restrictions?from={}&to={}", now + 100, now + 200), &csrf, None).await;
    assert_eq!(v, json!([]));
    assert_err(
        &call2(&sa, &srv, Method::GET, "restrictions?scope=x&range=deleted&from=y", &csrf, None).await,
        422,
        &["admin.restriction.invalid_scope", "admin.restriction.invalid_range", "invalid"],
    );

    // PUT: the same checks; 404 for an unknown id.
    let put = |b: Value| call2(&sa, &srv, Method::PUT, "restrictions", &csrf, Some(b));
    assert_err(&put(json!({"id": id, "code": 200})).await, 422, &["admin.restriction.invalid_code"]);
    assert_err(&put(json!({"id": 424_242, "state": "enabled"})).await, 404, &["admin.restriction.doesnt_exist"]);
    assert_eq!(put(json!({"id": id, "value": "198.51.100.0/25", "state": "enabled"})).await, (200, json!(200)));
    let (_, v) = call2(&sa, &srv, Method::GET, "restrictions?category=whitelist&range=updated", &csrf, None).await;
    assert_eq!((v[0]["value"].as_str(), v[0]["state"].as_str()), (Some("198.51.100.0/25"), Some("enabled")));
    let raw = sa.get(admin_url(&srv, "restrictions")).send().await.expect("get").text().await.expect("text");
    assert!(keys_in_order(&raw, &["id", "category", "scope", "value", "code", "state", "created_at", "updated_at"]));

    // DELETE, and the restriction is gone from the gateway's list too.
    assert_eq!(
        call2(&sa, &srv, Method::DELETE, &format!("restrictions?id={id}"), &csrf, None).await,
        (200, json!(200))
    );
    assert_err(
        &call2(&sa, &srv, Method::DELETE, &format!("restrictions?id={id}"), &csrf, None).await,
        404,
        &["admin.restriction.doesnt_exist"],
    );
    let listed = ctl_json(&srv, &["restriction", "list"]);
    assert_eq!(listed.as_array().map(Vec::len), Some(2), "{listed}");
});

both!(admin_credentials_and_gateway_rows, |srv: TestServer| async move {
    let (ad, csrf) = staff(&srv, "admin@example.com", "admin").await;
    let body = json!({"scope": "ip", "value": "192.0.2.1", "category": "blacklist"});
    // Cookie without the CSRF header on a write: refused before anything is written.
    let r = ad.post(admin_url(&srv, "restrictions")).json(&body).send().await.expect("post");
    let (s, v) = read(r).await;
    assert_eq!(s, 401, "{v}");
    assert!(admin_rows(&srv).await.is_empty());

    // Cookie + CSRF: the seeded AUDIT rule's row (topic `admin`), then the write's own row.
    assert_eq!(call2(&ad, &srv, Method::POST, "restrictions", &csrf, Some(body)).await, (200, json!(200)));
    assert_eq!(admin_rows(&srv).await, ["admin/create/succeed/", "restrictions/create/succeed/"]);

    // Bearer JWT from the gateway: the gateway's authz call wrote its AUDIT row already, so
    // the Admin API writes only the write's row.
    let ext = auth_url(&srv, "api/v2/barong/admin/restrictions");
    let (s, token, _, _) = authz_call(&ad, Method::DELETE, &ext, &[("X-CSRF-Token", csrf.clone())]).await;
    assert_eq!(s, 200);
    let token = token.expect("bearer");
    eventually(Duration::from_secs(5), || async { admin_rows(&srv).await.len() == 3 }).await;
    let bare = reqwest::Client::new();
    let r = bare.get(admin_url(&srv, "restrictions")).header("Authorization", &token).send().await.expect("get");
    let (s, v) = read(r).await;
    assert_eq!(s, 200, "{v}");
    let id = v[0]["id"].as_i64().expect("id");
    let r = bare
        .delete(admin_url(&srv, &format!("restrictions?id={id}")))
        .header("Authorization", &token)
        .send()
        .await
        .expect("delete");
    assert_eq!(read(r).await, (200, json!(200)));
    assert_eq!(admin_rows(&srv).await.len(), 4, "{:?}", admin_rows(&srv).await);
    assert_eq!(admin_rows(&srv).await.last().map(String::as_str), Some("restrictions/delete/succeed/"));
    // Path-bound in-process RBAC: the same token does not open a DROPped path (W5).
    let r = bare.get(admin_url(&srv, "permissions")).header("Authorization", &token).send().await.expect("get");
    assert_err(&read(r).await, 401, &["authz.invalid_permission"]);
    let r = bare.get(admin_url(&srv, "levels")).header("Authorization", "Bearer x.y.z").send().await.expect("get");
    assert_err(&read(r).await, 401, &["jwt.decode_and_verify"]);

    // API key of a 2FA user promoted to superadmin.
    let (c, k_csrf, totp) = two_factor_user(&srv, "keys@example.com").await;
    let (kid, secret) = create_api_key(&srv, &c, &k_csrf, &totp).await;
    srv.sql("UPDATE users SET role = 'superadmin' WHERE email = 'keys@example.com'").await;
    let signed = || {
        let mut r = bare.get(admin_url(&srv, "abilities"));
        for (k, v) in signed_headers(&kid, &secret, now_ms()) {
            r = r.header(k, v);
        }
        r
    };
    eventually(Duration::from_secs(2), || async {
        read(signed().send().await.expect("get")).await.1["manage"].as_array().is_some_and(|a| a.len() == 10)
    })
    .await;
    // The same nonce twice: refused as the gateway refuses it.
    let headers = signed_headers(&kid, &secret, now_ms());
    let once = || {
        let mut r = bare.get(admin_url(&srv, "levels"));
        for (k, v) in &headers {
            r = r.header(*k, v);
        }
        r
    };
    assert_eq!(read(once().send().await.expect("get")).await.0, 200);
    assert_err(&read(once().send().await.expect("get")).await, 401, &["authz.nonce_reused"]);
});
