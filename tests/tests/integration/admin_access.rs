//! Who may use the Admin API and with which rules: service accounts refused, the abilities file
//! configured or refused at start-up, and the paging headers a cross-origin UI needs.

use reqwest::Method;

use super::admin_api::{admin_url, call2, staff};
use super::*;

both!(admin_refuses_service_accounts_and_exposes_paging_headers, |srv: TestServer| async move {
    // A service account, even with an admin role, is not an admin: Barong's 404 record.not_found.
    let (c, csrf, totp) = two_factor_user(&srv, "owner@example.com").await;
    let args = ["--json", "service-account", "create", "--owner", "owner@example.com", "--role", "superadmin"];
    let (code, out, err) = srv.ctl(&args, None);
    assert_eq!(code, 0, "{err}");
    let sa_uid = serde_json::from_str::<Value>(&out).expect("json")["uid"].as_str().expect("uid").to_string();
    let body = json!({"service_account_uid": sa_uid, "algorithm": "HS256", "totp_code": fresh_code(&srv, &totp).await});
    let (s, key) =
        send_json(&c, Method::POST, &srv.url("resource/service_accounts/api_keys"), Some(&csrf), Some(body)).await;
    assert_eq!(s, 201, "{key}");
    let (kid, secret) = (key["kid"].as_str().expect("kid"), key["secret"].as_str().expect("secret"));
    let mut r = reqwest::Client::new().get(admin_url(&srv, "levels"));
    for (k, v) in signed_headers(kid, secret, now_ms()) {
        r = r.header(k, v);
    }
    assert_err(&read(r.send().await.expect("get")).await, 404, &["record.not_found"]);

    // A cross-origin admin UI can read the paging headers.
    let (sa, _) = staff(&srv, "root@example.com", "superadmin").await;
    let r = sa.get(admin_url(&srv, "permissions?limit=1")).header("Origin", "https://tower.example").send().await;
    let r = r.expect("get");
    assert_eq!(r.status().as_u16(), 200);
    let exposed = r.headers()["access-control-expose-headers"].to_str().expect("ascii").to_string();
    for h in ["Total", "Page", "Per-Page", "Link"] {
        assert!(exposed.split(", ").any(|e| e == h), "{h} in {exposed}");
    }
});

/// An abilities file of our own: `ops` may read levels and nothing else.
fn ops_abilities() -> String {
    let path = std::env::temp_dir().join(format!("barong-abilities-{}.yml", std::process::id()));
    std::fs::write(&path, "roles: [ops]\nadmin_permissions:\n  ops:\n    read: [Level]\n").expect("write");
    format!("abilities_file: {}\n", path.display())
}

both!(admin_abilities_come_from_the_configured_file, config = ops_abilities(), |srv: TestServer| async move {
    ctl_json(
        &srv,
        &["permission", "add", "--role", "ops", "--verb", "get", "--path", "api/v2/barong", "--action", "accept"],
    );
    let (ops, csrf) = staff(&srv, "ops@example.com", "ops").await;
    assert_eq!(call2(&ops, &srv, Method::GET, "abilities", &csrf, None).await, (200, json!({"read": ["Level"]})));
    assert_eq!(call2(&ops, &srv, Method::GET, "levels", &csrf, None).await.0, 200);
    assert_err(
        &call2(&ops, &srv, Method::GET, "restrictions", &csrf, None).await,
        401,
        &["admin.ability.not_permitted"],
    );
    // Barong's default entries are gone with the file.
    let (sa, sa_csrf) = staff(&srv, "root@example.com", "superadmin").await;
    assert_eq!(call2(&sa, &srv, Method::GET, "abilities", &sa_csrf, None).await, (200, json!({})));
});

#[test]
fn a_bad_abilities_file_stops_start_up_naming_the_entry() {
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("abilities.yml");
    std::fs::write(&file, "admin_permissions:\n  ops:\n    manage: [User, Wallet]\n").expect("write");
    let out = std::process::Command::new(binary("barongd"))
        .args(["config", "check"])
        .env("BARONG_ABILITIES_FILE", &file)
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("admin_permissions.ops.manage: unknown model `Wallet`"), "{err}");
}
