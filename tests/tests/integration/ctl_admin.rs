//! barongctl's mirror of the Admin API (spec §9): `user role|state|otp-reset`, `user comment`,
//! `activity list`, `metrics` and the abilities in `status`, run as the real CLI against a real
//! daemon. The operator's changes go through the Admin API's services: same refusal keys, same
//! effects, an operator admin-activity row for each write, and what one side changes the other
//! sees identically.

use reqwest::Method;

use super::admin_api::{admin_rows, call2, staff};
use super::events::{Consumer, amqp_url, events_config};
use super::*;

/// `barongctl --json ARGS` that the daemon refuses: exit 1 and the refusal's code.
#[track_caller]
fn ctl_refused(srv: &TestServer, args: &[&str]) -> String {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = srv.ctl(&all, None);
    assert_eq!(code, 1, "barongctl {args:?} should be refused: {out} {err}");
    let v: Value = serde_json::from_str(&out).expect("json refusal");
    assert_eq!(v["ok"], false, "{v}");
    v["error"]["code"].as_str().expect("code").to_string()
}

/// The uid of a user the operator made.
fn uid_of(srv: &TestServer, email: &str) -> String {
    ctl_json(srv, &["user", "show", email])["uid"].as_str().expect("uid").to_string()
}

/// The operator's admin rows: `user_id IS NULL|user_ip|user_agent|data`.
async fn operator_rows(srv: &TestServer) -> Vec<String> {
    srv.sql_texts(
        "SELECT CASE WHEN user_id IS NULL THEN 'null' ELSE 'actor' END || '|' || user_ip || '|' || \
         COALESCE(user_agent, '') || '|' || COALESCE(data, '') FROM activities WHERE category = 'admin' \
         AND user_ip = 'local' ORDER BY id",
    )
    .await
}

/// The Admin API's view of one user, as the `User` fields barongctl prints.
async fn http_user(c: &reqwest::Client, srv: &TestServer, csrf: &str, uid: &str) -> Value {
    let (s, v) = call2(c, srv, Method::GET, &format!("users/{uid}"), csrf, None).await;
    assert_eq!(s, 200, "{v}");
    let keys = ["email", "uid", "role", "level", "otp", "state", "referral_uid", "data", "username"];
    Value::Object(keys.iter().map(|k| (k.to_string(), v[*k].clone())).collect())
}

both!(ctl_role_and_state_mirror_the_admin_api, |srv: TestServer| async move {
    let (root, root_csrf) = staff(&srv, "root@example.com", "superadmin").await;
    let root_uid = uid_of(&srv, "root@example.com");
    operator_user(&srv, "m@example.com");
    let uid = uid_of(&srv, "m@example.com");
    ctl_json(
        &srv,
        &["permission", "add", "--role", "trader", "--verb", "get", "--path", "api/v2/peatio", "--action", "accept"],
    );

    // Refusals carry the Admin API's keys.
    assert_eq!(ctl_refused(&srv, &["user", "role", &uid, "nope"]), "role.doesnt_exist");
    assert_eq!(ctl_refused(&srv, &["user", "role", &uid, "member"]), "admin.user.role_no_change");
    assert_eq!(ctl_refused(&srv, &["user", "role", "ID0000NOBODY", "trader"]), "admin.user.doesnt_exist");
    assert_eq!(ctl_refused(&srv, &["user", "state", &uid, "frozen"]), "admin.user.invalid_state");
    assert_eq!(ctl_refused(&srv, &["user", "state", &uid, "active"]), "admin.user.state_no_change");
    assert_eq!(ctl_refused(&srv, &["user", "otp-reset", &uid, "--reason", "verified"]), "admin.user.otp_no_change");
    let (code, _, err) = srv.ctl(&["user", "role", &uid], None);
    assert_eq!(code, 2, "usage error: {err}");

    // A plain role change; the reply is the Admin API's User, identical to what it serves.
    let u = ctl_json(&srv, &["user", "role", &uid, "trader"]);
    assert_eq!(u["role"], "trader");
    assert_eq!(u, http_user(&root, &srv, &root_csrf, &uid).await);

    // Granting or removing an admin role, or touching a superadmin, needs --yes (no TTY here,
    // so no prompt: the refusal stands).
    assert_eq!(ctl_refused(&srv, &["user", "role", &uid, "accountant"]), "operator.confirmation_required");
    assert_eq!(ctl_refused(&srv, &["user", "state", &root_uid, "banned"]), "operator.confirmation_required");
    assert_eq!(http_user(&root, &srv, &root_csrf, &uid).await["role"], "trader", "nothing changed");
    let u = ctl_json(&srv, &["user", "role", &uid, "accountant", "--yes"]);
    assert_eq!(u["role"], "accountant");
    assert_eq!(ctl_refused(&srv, &["user", "role", &uid, "member"]), "operator.confirmation_required");
    assert_eq!(ctl_json(&srv, &["user", "role", &uid, "member", "--yes"])["role"], "member");

    // Parity the other way: an Admin API change is what barongctl shows.
    let (s, v) =
        call2(&root, &srv, Method::POST, "users/role", &root_csrf, Some(json!({"uid": uid, "role": "trader"}))).await;
    assert_eq!((s, v), (200, json!(200)));
    assert_eq!(ctl_json(&srv, &["user", "show", &uid])["role"], "trader");

    // A restrictive state is pinned by a private trigger label with value `operator`; the
    // Admin API's next state change lifts it (W13), and the other way round.
    let u = ctl_json(&srv, &["user", "state", &uid, "banned"]);
    assert_eq!(u["state"], "banned");
    assert_eq!(u, http_user(&root, &srv, &root_csrf, &uid).await);
    let labels = ctl_json(&srv, &["label", "list", &uid]);
    assert!(
        labels.as_array().expect("labels").iter().any(|l| l["key"] == "ban" && l["value"] == "operator"),
        "{labels}"
    );
    let (s, _) =
        call2(&root, &srv, Method::POST, "users/update", &root_csrf, Some(json!({"uid": uid, "state": "active"})))
            .await;
    assert_eq!(s, 200);
    let labels = ctl_json(&srv, &["label", "list", &uid]);
    assert!(!labels.as_array().expect("labels").iter().any(|l| l["key"] == "ban"), "operator pin lifted: {labels}");
    assert_eq!(ctl_json(&srv, &["user", "show", &uid])["state"], "active");
    let (s, _) =
        call2(&root, &srv, Method::POST, "users/update", &root_csrf, Some(json!({"uid": uid, "state": "locked"})))
            .await;
    assert_eq!(s, 200);
    assert_eq!(ctl_json(&srv, &["user", "state", &uid, "active"])["state"], "active", "admin pin lifted");
    let labels = ctl_json(&srv, &["label", "list", &uid]);
    assert!(!labels.as_array().expect("labels").iter().any(|l| l["value"] == "admin"), "{labels}");

    // W1 on the HTTP side: an undeclared `role` in the query string is never written.
    let (s, _) = call2(
        &root,
        &srv,
        Method::POST,
        "users/update?role=superadmin",
        &root_csrf,
        Some(json!({"uid": uid, "state": "banned"})),
    )
    .await;
    assert_eq!(s, 200);
    let seen = http_user(&root, &srv, &root_csrf, &uid).await;
    assert_eq!((seen["role"].as_str(), seen["state"].as_str()), (Some("trader"), Some("banned")));

    // Each operator write left an operator row: no actor, `local`, barongctl's agent, and the
    // operator's OS uid in `data`; the target is the changed user.
    let rows = operator_rows(&srv).await;
    assert!(!rows.is_empty());
    for r in &rows {
        assert!(r.starts_with("null|local|barongctl/"), "{r}");
        assert!(r.contains(r#""via":"barongctl""#) && r.contains(r#""os_uid":"#), "{r}");
    }
    let admin = admin_rows(&srv).await;
    assert!(admin.contains(&format!("users/create/succeed/{uid}")), "{admin:?}");
    assert!(admin.contains(&format!("users/create/failed/{uid}")), "refusals are logged too: {admin:?}");

    // The admin log through barongctl: the Admin API's entities, operator rows with admin null.
    let log = ctl_json(&srv, &["activity", "list", "--admin", "--target-uid", &uid, "--limit", "100"]);
    let items = log["items"].as_array().expect("items");
    assert_eq!(log["total"].as_i64(), Some(items.len() as i64), "{log}");
    assert!(items.iter().any(|a| a["admin"].is_null() && a["target"]["uid"] == uid.as_str()), "{log}");
    assert!(items.iter().any(|a| a["admin"]["email"] == "root@example.com"), "the admin's rows too: {log}");
    let (s, v) = call2(&root, &srv, Method::GET, &format!("activities/admin?target_uid={uid}"), &root_csrf, None).await;
    assert_eq!(s, 200);
    assert_eq!(&v, &log["items"], "the same entities as the Admin API");
});

both!(ctl_comments, |srv: TestServer| async move {
    let (root, root_csrf) = staff(&srv, "root@example.com", "superadmin").await;
    operator_user(&srv, "noted@example.com");
    let uid = uid_of(&srv, "noted@example.com");

    let notes = ctl_json(&srv, &["user", "comment", "add", &uid, "--title", "KYC", "--data", "called the user"]);
    let first = &notes[0];
    assert_eq!((first["author_uid"].as_str(), first["title"].as_str()), (Some("barongctl"), Some("KYC")), "{notes}");
    let id = first["id"].as_i64().expect("id").to_string();
    let long = "t".repeat(65);
    assert_eq!(
        ctl_refused(&srv, &["user", "comment", "add", &uid, "--title", &long, "--data", "x"]),
        "admin.comments.title_too_long"
    );
    assert_eq!(
        ctl_refused(&srv, &["user", "comment", "add", &uid, "--title", " ", "--data", "x"]),
        "admin.user.empty_title"
    );
    assert_eq!(
        ctl_refused(&srv, &["user", "comment", "add", "ID0000NOBODY", "--title", "a", "--data", "b"]),
        "admin.user.doesnt_exist"
    );
    assert_eq!(ctl_refused(&srv, &["user", "comment", "edit", "999999", "--data", "x"]), "record.not_found");
    assert_eq!(ctl_refused(&srv, &["user", "comment", "rm", "999999"]), "record.not_found");

    // An admin's note: the operator may edit it (the operator is not bound by authorship).
    let (s, v) = call2(
        &root,
        &srv,
        Method::POST,
        "users/comments",
        &root_csrf,
        Some(json!({"uid": uid, "title": "Call", "data": "asked for documents"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let admin_note = v["comments"][1]["id"].as_i64().expect("id").to_string();
    let notes = ctl_json(&srv, &["user", "comment", "edit", &admin_note, "--data", "documents received"]);
    assert_eq!(notes[1]["data"], "documents received");
    assert_eq!(notes[1]["title"], "Call", "an omitted title is kept");
    let notes = ctl_json(&srv, &["user", "comment", "edit", &id, "--title", "KYC call"]);
    assert_eq!((notes[0]["title"].as_str(), notes[0]["data"].as_str()), (Some("KYC call"), Some("called the user")));

    // Parity: the Admin API shows the same notes as `comment list`.
    let listed = ctl_json(&srv, &["user", "comment", "list", &uid]);
    let (s, v) = call2(&root, &srv, Method::GET, &format!("users/{uid}"), &root_csrf, None).await;
    assert_eq!(s, 200);
    assert_eq!(v["comments"], listed);

    let notes = ctl_json(&srv, &["user", "comment", "rm", &id]);
    assert_eq!(notes.as_array().map(Vec::len), Some(1));
    assert_eq!(notes[0]["author_uid"], uid_of(&srv, "root@example.com").as_str(), "the admin's note is left");
    let (code, out, _) = srv.ctl(&["user", "comment", "list", &uid], None);
    assert_eq!(code, 0);
    assert!(out.contains("documents received") && out.contains("1 note(s)"), "{out}");

    // Writes leave operator rows (create, update, delete of `users` notes), reads none.
    let admin = admin_rows(&srv).await;
    for action in ["users/create/succeed/", "users/update/succeed/", "users/delete/succeed/", "users/create/failed/"] {
        assert!(admin.iter().any(|r| r.starts_with(action)), "{action} in {admin:?}");
    }
    // Nine operator writes above (four adds, three edits, two deletes; refusals included).
    assert_eq!(operator_rows(&srv).await.len(), 9, "{admin:?}");
});

both!(ctl_activity_metrics_and_status, |srv: TestServer| async move {
    operator_user(&srv, "active@example.com");
    let uid = uid_of(&srv, "active@example.com");
    let c = srv.client();
    let (s, _) =
        post(&c, &srv.url("identity/sessions"), json!({"email": "active@example.com", "password": PASSWORD})).await;
    assert_eq!(s, 200);
    let (s, _) =
        post(&c, &srv.url("identity/sessions"), json!({"email": "active@example.com", "password": "wrong"})).await;
    assert_eq!(s, 401);

    let log = ctl_json(&srv, &["activity", "list", "--uid", &uid]);
    assert_eq!(log["total"], 2, "{log}");
    let items = log["items"].as_array().expect("items");
    assert_eq!(items[0]["result"], "failed", "newest first: {log}");
    assert_eq!((items[1]["topic"].as_str(), items[1]["user"]["uid"].as_str()), (Some("session"), Some(uid.as_str())));
    let log = ctl_json(&srv, &["activity", "list", "--uid", &uid, "--action", "login", "--limit", "1", "--page", "2"]);
    assert_eq!((log["total"].as_i64(), log["items"].as_array().map(Vec::len)), (Some(2), Some(1)));
    let log = ctl_json(
        &srv,
        &["activity", "list", "--email", "active@example.com", "--from", "2000-01-01", "--to", "2000-01-02"],
    );
    assert_eq!(log, json!({"total": 0, "items": []}));
    assert_eq!(ctl_refused(&srv, &["activity", "list", "--limit", "101"]), "invalid_limit");
    assert_eq!(ctl_refused(&srv, &["activity", "list", "--page", "0"]), "non_positive_page");
    assert_eq!(ctl_refused(&srv, &["activity", "list", "--from", "yesterday"]), "invalid");
    let (code, _, _) = srv.ctl(&["activity", "list", "--target-uid", &uid], None);
    assert_eq!(code, 2, "--target-uid belongs to --admin");
    let (code, out, _) = srv.ctl(&["activity", "list", "--uid", &uid], None);
    assert_eq!(code, 0);
    assert!(out.contains("session") && out.contains("2 of 2 rows"), "{out}");

    // Metrics: today's logins counted, Barong's key names, bad dates refused with its keys.
    let m = ctl_json(&srv, &["metrics"]);
    let today = m["sucessful_logins"].as_object().expect("logins");
    assert_eq!(today.values().map(|v| v.as_i64().unwrap_or(0)).sum::<i64>(), 1, "{m}");
    assert_eq!(m["failed_logins"].as_object().map(|o| o.values().filter_map(Value::as_i64).sum::<i64>()), Some(1));
    assert_eq!(m["pending_applications"], 0);
    let old = ctl_json(&srv, &["metrics", "--from", "2001-01-01", "--to", "2001-01-31"]);
    assert_eq!(old["sucessful_logins"], json!({}));
    assert_eq!(ctl_refused(&srv, &["metrics", "--from", "2021-13-01"]), "admin.metric.invalid_created_from");
    assert_eq!(ctl_refused(&srv, &["metrics", "--to", "soon"]), "admin.metric.invalid_created_to");

    // The loaded abilities in `status`.
    let st = ctl_json(&srv, &["status"]);
    let admin = st["abilities"].as_array().expect("abilities").iter().find(|r| r["role"] == "admin").cloned();
    assert_eq!(
        admin.expect("admin entry")["rules"],
        json!([
            ["read", ["Activity", "Permission"]],
            ["manage", ["Ability", "User", "Level", "Label", "Profile", "APIKey", "Restriction", "Document"]]
        ])
    );
    let (code, out, _) = srv.ctl(&["status"], None);
    assert_eq!(code, 0);
    assert!(out.contains("manage: Ability, User"), "{out}");

    // No Management API file: the daemon says so, which is no error.
    let r = ctl_json(&srv, &["management", "check"]);
    assert!(r["file"].is_null(), "{r}");
    assert!(r["problems"][0]["text"].as_str().expect("text").contains("not set"), "{r}");
    assert_eq!(r["settings"]["require_exp"], true);
});

/// `smtp_url` of the test SMTP listener.
fn smtp_config(port: u16) -> String {
    format!(
        "mailer: {{transport: smtp, smtp_url: \"smtp://127.0.0.1:{port}\", from: \"Barong <noreply@example.com>\"}}\n"
    )
}

both!(ctl_otp_reset, per_backend = ctl_otp_reset);
/// W11: 2FA off, the seed discarded, the `otp` label gone with a recompute, the user's keys
/// disabled, and a mail to the user through the real SMTP path.
async fn ctl_otp_reset(backend: Backend) {
    let (port, messages) = smtp_sink(0).await;
    let opts = Options { config: smtp_config(port), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        operator_user(&srv, "lost@example.com");
        let uid = uid_of(&srv, "lost@example.com");
        let (c, csrf) = fixed_cookie_client(&srv, "lost@example.com").await;
        let (totp, _) = setup_totp(&srv, &c, &csrf).await;
        let code = fresh_code(&srv, &totp).await;
        let (s, _) = send_json(&c, Method::POST, &srv.url("resource/otp/enable"), Some(&csrf), Some(json!({"code": code})))
            .await;
        assert_eq!(s, 201);
        let (kid, _) = create_api_key(&srv, &c, &csrf, &totp).await;
        let user = ctl_json(&srv, &["user", "show", &uid]);
        assert!(user["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "otp"), "{user}");

        let u = ctl_json(&srv, &["user", "otp-reset", &uid, "--reason", "verified"]);
        assert_eq!(u["otp"], false);
        assert_eq!(ctl_refused(&srv, &["user", "otp-reset", &uid, "--reason", "verified"]), "admin.user.otp_no_change");
        let user = ctl_json(&srv, &["user", "show", &uid]);
        assert!(!user["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "otp"), "{user}");
        let key = user["api_keys"].as_array().expect("keys").iter().find(|k| k["kid"] == kid.as_str()).cloned();
        assert_ne!(key.expect("the key")["state"], "active");
        let seed = srv.sql_texts("SELECT CASE WHEN otp_secret_sealed IS NULL THEN 'gone' ELSE 'kept' END FROM users WHERE email = 'lost@example.com'").await;
        assert_eq!(seed, ["gone"]);

        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mail = loop {
            let got = messages.lock().expect("lock").clone();
            if let Some(m) = got.into_iter().find(|m| m.contains("To: lost@example.com") && m.contains("Two-factor")) {
                break m;
            }
            assert!(std::time::Instant::now() < deadline, "no 2FA reset mail");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        assert!(mail.contains("lost@example.com") && mail.contains("turned off"), "{mail}");
    })
    .await;
}

/// The next `model.user.updated` of `uid` whose `changes` name `field`.
async fn next_change(consumer: &mut Consumer, uid: &str, field: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let claims = consumer.next_claims(left).await.unwrap_or_else(|| panic!("no change of {field}"));
        let event = &claims["event"];
        if event["name"] == "model.user.updated"
            && event["record"]["uid"] == uid
            && event["changes"].get(field).is_some()
        {
            return event.clone();
        }
    }
}

both!(ctl_changes_are_published, per_backend = ctl_changes_are_published);
/// `model.user.updated` with the previous value in `changes` for role, state, 2FA and (through
/// the Admin API) e-mail changes.
async fn ctl_changes_are_published(backend: Backend) {
    let Some(mut consumer) = Consumer::connect(&[("barong.events.model", "user.updated")]).await else { return };
    let opts = Options { config: events_config(&amqp_url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        let email = format!("ev-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        operator_user(&srv, &email);
        let uid = uid_of(&srv, &email);
        let (root, root_csrf) = staff(&srv, &format!("root-{email}"), "superadmin").await;
        ctl_json(
            &srv,
            &[
                "permission",
                "add",
                "--role",
                "trader",
                "--verb",
                "get",
                "--path",
                "api/v2/peatio",
                "--action",
                "accept",
            ],
        );
        ctl_json(&srv, &["user", "role", &uid, "trader"]);
        let e = next_change(&mut consumer, &uid, "role").await;
        assert_eq!((e["record"]["role"].as_str(), e["changes"]["role"].as_str()), (Some("trader"), Some("member")));
        ctl_json(&srv, &["user", "state", &uid, "banned"]);
        let e = next_change(&mut consumer, &uid, "state").await;
        assert_eq!((e["record"]["state"].as_str(), e["changes"]["state"].as_str()), (Some("banned"), Some("active")));
        ctl_json(&srv, &["user", "state", &uid, "active"]);
        next_change(&mut consumer, &uid, "state").await;
        // 2FA on, then the operator's reset.
        let (c, csrf) = fixed_cookie_client(&srv, &email).await;
        let (totp, _) = setup_totp(&srv, &c, &csrf).await;
        let code = fresh_code(&srv, &totp).await;
        let (s, _) =
            send_json(&c, Method::POST, &srv.url("resource/otp/enable"), Some(&csrf), Some(json!({"code": code})))
                .await;
        assert_eq!(s, 201);
        next_change(&mut consumer, &uid, "otp").await;
        ctl_json(&srv, &["user", "otp-reset", &uid, "--reason", "verified"]);
        let e = next_change(&mut consumer, &uid, "otp").await;
        assert_eq!((e["record"]["otp"].as_bool(), e["changes"]["otp"].as_bool()), (Some(false), Some(true)));
        // The e-mail (a superadmin's change, Admin API only).
        let new_email = format!("new-{email}");
        let (s, v) =
            call2(&root, &srv, Method::PUT, "users", &root_csrf, Some(json!({"uid": uid, "email": new_email}))).await;
        assert_eq!((s, v), (200, json!(200)));
        let e = next_change(&mut consumer, &uid, "email").await;
        assert_eq!(
            (e["record"]["email"].as_str(), e["changes"]["email"].as_str()),
            (Some(new_email.as_str()), Some(email.as_str()))
        );
        assert_eq!(ctl_json(&srv, &["user", "show", &uid])["email"], new_email.as_str());
    })
    .await;
}
