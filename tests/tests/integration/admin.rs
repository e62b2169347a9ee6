use super::*;

both!(barongctl_users_status_and_migrations, |srv: TestServer| async move {
    let (code, out, err) = srv.ctl(
        &[
            "--json",
            "user",
            "create",
            "--email",
            "Op@Example.com",
            "--role",
            "member",
            "--level",
            "1",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    assert_eq!(code, 0, "{err}");
    let u: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (u["email"].as_str(), u["level"].as_i64(), u["state"].as_str()),
        (Some("Op@Example.com"), Some(1), Some("active"))
    );
    assert!(!out.contains(PASSWORD) && !err.contains(PASSWORD));
    let uid = u["uid"].as_str().expect("uid").to_string();
    // The operator-made user can log in.
    let (s, _) =
        post(&srv.client(), &srv.url("identity/sessions"), json!({"email": "op@example.com", "password": PASSWORD}))
            .await;
    assert_eq!(s, 200);

    let (code, out, _) = srv.ctl(&["--json", "user", "list"], None);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(list["total"], 1);
    assert_eq!(list["users"][0]["uid"].as_str(), Some(uid.as_str()));
    let (code, out, _) = srv.ctl(&["user", "list"], None);
    assert_eq!(code, 0);
    assert!(
        out.contains(&uid) && out.contains("op@example.com".to_ascii_lowercase().as_str())
            || out.contains("Op@Example.com"),
        "{out}"
    );

    let (code, out, _) = srv.ctl(&["--json", "user", "show", &uid], None);
    assert_eq!(code, 0);
    assert_eq!(serde_json::from_str::<Value>(&out).expect("json")["labels"][0]["key"], "email");
    let (code, _, err) = srv.ctl(&["user", "show", "nobody@example.com"], None);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("record.not_found"));

    let (code, out, _) = srv.ctl(&["--json", "status"], None);
    assert_eq!(code, 0);
    let st: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(st["users"], 1);
    assert_eq!(st["listen"].as_str(), Some(srv.addr.as_str()));

    let (code, out, _) = srv.ctl(&["--json", "migrate", "status"], None);
    assert_eq!(code, 0);
    let m: Value = serde_json::from_str(&out).expect("json");
    assert!(m.as_array().expect("array").iter().all(|x| x["applied"] == true));
    let (code, _, _) = srv.ctl(&["migrate", "run"], None);
    assert_eq!(code, 0);

    // Refusals and input errors.
    let (code, _, err) =
        srv.ctl(&["user", "create", "--email", "weak@example.com", "--password-stdin"], Some("Password1"));
    assert_eq!(code, 1);
    assert!(err.contains("password.weak"), "{err}");
    let (code, _, err) = srv.ctl(&["user", "create", "--email", "x@example.com"], None);
    assert_eq!(code, 2, "no TTY and no --password-stdin: {err}");
    let (code, _, err) =
        srv.ctl(&["user", "create", "--email", "r@example.com", "--role", "nope", "--password-stdin"], Some(PASSWORD));
    assert_eq!(code, 1);
    assert!(err.contains("role.doesnt_exist"), "{err}");
    let (code, _, _) = srv.ctl(&["--output", "yaml", "status"], None);
    assert_eq!(code, 2);
    assert!(!srv.logs().contains(PASSWORD));
});

#[test]
fn barongctl_without_a_daemon_says_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(binary("barongctl"))
        .args(["--data-dir", &dir.path().display().to_string(), "status"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("is barongd running"), "{err}");
}

#[tokio::test]
async fn the_admin_socket_survives_garbage() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let srv = TestServer::spawn(Backend::Sqlite).await.expect("sqlite");
    let mut s = tokio::net::UnixStream::connect(srv.data_dir.join("barongd.sock")).await.expect("connect");
    s.write_all(b"this is not json\n{\"v\":99,\"op\":\"status\"}\n").await.expect("write");
    let mut lines = BufReader::new(s).lines();
    let first: Value = serde_json::from_str(&lines.next_line().await.expect("read").expect("line")).expect("json");
    assert_eq!(first["error"]["code"], "admin.bad_request");
    let second: Value = serde_json::from_str(&lines.next_line().await.expect("read").expect("line")).expect("json");
    assert_eq!(second["error"]["code"], "admin.version_mismatch");
    let (code, _, _) = srv.ctl(&["status"], None);
    assert_eq!(code, 0);
}

both!(operator_labels_drive_level_and_state, |srv: TestServer| async move {
    let email = "labelled@example.com";
    let (c, _) = active_user(&srv, email).await;
    let me = srv.url("resource/users/me");
    let labels = ctl_json(&srv, &["label", "list", email]);
    assert_eq!(labels.as_array().map(Vec::len), Some(1), "email=verified only: {labels}");

    // Level labels raise the level; users cannot write them, the operator can.
    let u = ctl_json(&srv, &["label", "set", email, "phone", "verified"]);
    assert_eq!((u["level"].as_i64(), u["state"].as_str()), (Some(2), Some("active")), "{u}");
    let u = ctl_json(&srv, &["label", "set", email, "Nickname", "Blue", "--scope", "public"]);
    assert!(u["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "nickname" && l["scope"] == "public"));

    // A private `ban` label bans: the session is refused at once; removing it restores the account.
    let u = ctl_json(&srv, &["label", "set", email, "ban", "fraud-report"]);
    assert_eq!(u["state"], "banned");
    assert_eq!(get(&c, &me).await.0, 401);
    let u = ctl_json(&srv, &["label", "remove", email, "ban"]);
    assert_eq!(u["state"], "active");
    let u = ctl_json(&srv, &["label", "remove", email, "phone"]);
    assert_eq!(u["level"], 1);

    // Refusals: unknown label, bad key, unknown user, bad scope (a usage error).
    let (code, _, err) = srv.ctl(&["label", "remove", email, "ban"], None);
    assert!(code == 1 && err.contains("label.not_found"), "{err}");
    let (code, _, err) = srv.ctl(&["label", "set", email, "a!", "x"], None);
    assert!(
        code == 1 && err.contains("key.too_short") && err.contains("key.invalid") && err.contains("value.too_short"),
        "{err}"
    );
    let (code, _, _) = srv.ctl(&["label", "list", "nobody@example.com"], None);
    assert_eq!(code, 1);
    let (code, _, _) = srv.ctl(&["label", "set", email, "kyc", "done", "--scope", "secret"], None);
    assert_eq!(code, 2);
});

both!(barongctl_seed_applies_a_seeds_file_once, |srv: TestServer| async move {
    let file = srv.data_dir.with_extension("seeds.yml");
    std::fs::write(
        &file,
        format!(
            "levels:\n  - {{key: email, value: verified}}\n  - {{key: phone, value: verified}}\n\
             permissions:\n  - {{role: trader, verb: get, path: api/v2/peatio, action: accept}}\n\
             users:\n  - {{email: trader@example.com, level: 2, role: trader, password: \"{PASSWORD}\"}}\n\
             \x20 - {{email: quiet@example.com, level: 0}}\n\
             restrictions:\n  - {{category: blacklist, scope: ip, value: 192.0.2.7, state: disabled}}\n"
        ),
    )
    .expect("seeds file");
    let path = file.to_str().expect("utf-8 path");
    let added = ctl_json(&srv, &["seed", path]);
    assert_eq!(added, json!({"levels": 0, "permissions": 1, "users": 2, "restrictions": 1}), "levels existed");
    // Idempotent: the second run adds nothing.
    let again = ctl_json(&srv, &["seed", path]);
    assert_eq!(again, json!({"levels": 0, "permissions": 0, "users": 0, "restrictions": 0}));

    // The seeded trader signs in with its password, at level 2; the other has a password nobody knows.
    let (s, me) = post(
        &srv.client(),
        &srv.url("identity/sessions"),
        json!({"email": "trader@example.com", "password": PASSWORD}),
    )
    .await;
    assert_eq!((s, me["level"].as_i64(), me["role"].as_str()), (200, Some(2), Some("trader")), "{me}");
    let quiet = ctl_json(&srv, &["user", "show", "quiet@example.com"]);
    assert_eq!((quiet["level"].as_i64(), quiet["state"].as_str()), (Some(0), Some("pending")));
    let restrictions = ctl_json(&srv, &["restriction", "list"]);
    assert!(
        restrictions.as_array().expect("list").iter().any(|r| r["value"] == "192.0.2.7" && r["state"] == "disabled")
    );
    assert!(!srv.logs().contains(PASSWORD), "seeded passwords stay out of the log");

    // A bad file is refused with one clear line; the daemon keeps running.
    std::fs::write(&file, "users:\n  - {email: x@example.com}\n").expect("bad file");
    let (code, _, err) = srv.ctl(&["seed", path], None);
    assert!(code == 1 && err.contains("seeds.invalid") && err.contains("level"), "{err}");
    let (code, _, err) = srv.ctl(&["seed", "/nonexistent/seeds.yml"], None);
    assert!(code == 2 && err.contains("/nonexistent/seeds.yml"), "{err}");
});

// A state the operator sets sticks: the user cannot confirm their email (or have any label
// recomputed) back to active. Barong's ban by `user create --state banned` was undone by the
// user's own email confirmation.
both!(an_operators_ban_sticks, |srv: TestServer| async move {
    let email = "banned@example.com";
    let args = ["--json", "user", "create", "--email", email, "--state", "banned", "--password-stdin"];
    let (code, out, err) = srv.ctl(&args, Some(PASSWORD));
    assert_eq!(code, 0, "{err}");
    let created: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(created["state"], "banned");
    let uid = created["uid"].as_str().expect("uid").to_string();
    let c = srv.client();
    // No confirmation mail for a user who is not pending confirmation (the reply is the same 201).
    let r = post(&c, &srv.url("identity/users/email/generate_code"), json!({"email": email})).await;
    assert_eq!(r.0, 201, "{:?}", r.1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(srv.outbox().iter().all(|m| !m.contains(&format!("To: {email}"))), "a mail was sent to a banned user");
    // A verified email (what a confirmation records) does not lift the ban.
    let shown = ctl_json(&srv, &["label", "set", &uid, "email", "verified"]);
    assert_eq!(shown["state"], "banned", "{shown}");
    let login = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_err(&login, 401, &["identity.session.banned"]);
});
