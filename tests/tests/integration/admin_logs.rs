//! The Admin API's logs and dashboard: `GET admin/activities`, `GET admin/activities/admin`,
//! `GET admin/metrics`, and `POST admin/restrictions/whitelink`.

use reqwest::Method;

use super::admin_api::{admin_url, call, call2, staff};
use super::*;

both!(admin_activity_logs, |srv: TestServer| async move {
    let (sa, csrf) = staff(&srv, "root@example.com", "superadmin").await;
    let (user_c, _) = active_user(&srv, "user@example.com").await;
    drop(user_c);
    let (s, _) =
        post(&srv.client(), &srv.url("identity/sessions"), json!({"email": "user@example.com", "password": "x"})).await;
    assert_eq!(s, 401);
    let uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'user@example.com'").await.remove(0);

    // Users' log: newest first, filtered by the user, with the user entity.
    let (s, h, v) = call(&sa, &srv, Method::GET, &format!("activities?uid={uid}&limit=2"), &csrf, None).await;
    assert_eq!(s, 200, "{v}");
    let rows = v.as_array().expect("array");
    assert_eq!(rows.len(), 2);
    assert_eq!(h["total"].to_str().expect("total"), "3", "signup, login, failed login");
    assert_eq!((rows[0]["action"].as_str(), rows[0]["result"].as_str()), (Some("login"), Some("failed")));
    assert_eq!(rows[0]["user"]["uid"].as_str(), Some(uid.as_str()));
    assert!(rows[0].get("id").is_none());
    let raw = sa
        .get(admin_url(&srv, &format!("activities?uid={uid}&limit=1")))
        .send()
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    let fields =
        ["user_ip", "user_ip_country", "user_agent", "topic", "action", "result", "data", "user", "created_at"];
    assert!(keys_in_order(&raw, &fields), "{raw}");
    let (_, v) = call2(&sa, &srv, Method::GET, "activities?topic=account&action=signup", &csrf, None).await;
    assert_eq!(v.as_array().map(Vec::len), Some(1), "{v}");
    let (_, v) = call2(&sa, &srv, Method::GET, "activities?email=nobody@example.com", &csrf, None).await;
    assert_eq!(v, json!([]));
    let far = 4_000_000_000i64;
    let (_, v) = call2(&sa, &srv, Method::GET, &format!("activities?from={far}"), &csrf, None).await;
    assert_eq!(v, json!([]));
    assert_err(
        &call2(&sa, &srv, Method::GET, "activities?topic[a]=1&from=x", &csrf, None).await,
        422,
        &["admin.activity.non_string_topic", "invalid"],
    );

    // The admin log: a write naming the user as its target, then the filters.
    let (s, _) = call2(&sa, &srv, Method::DELETE, &format!("permissions?uid={uid}"), &csrf, None).await;
    assert_eq!(s, 422);
    let (s, h, v) = call(&sa, &srv, Method::GET, &format!("activities/admin?target_uid={uid}"), &csrf, None).await;
    assert_eq!((s, h["total"].to_str().expect("total")), (200, "1"), "{v}");
    let row = &v[0];
    assert_eq!(
        (row["admin"]["email"].as_str(), row["target"]["uid"].as_str()),
        (Some("root@example.com"), Some(uid.as_str()))
    );
    assert_eq!(
        (row["topic"].as_str(), row["action"].as_str(), row["result"].as_str()),
        (Some("permissions"), Some("delete"), Some("failed"))
    );
    let data: Value = serde_json::from_str(row["data"].as_str().expect("data is JSON text")).expect("json");
    assert_eq!(data["uid"].as_str(), Some(uid.as_str()));
    // This client's user agent is a browser's; Barong notes one its detector does not know.
    assert_eq!(data.get("note"), None, "{data}");
    // Sessions are bound to their user agent, so the script signs in itself.
    let script = reqwest::Client::builder().user_agent("curl/8.0").cookie_store(true).build().expect("client");
    let (s, me) =
        post(&script, &srv.url("identity/sessions"), json!({"email": "root@example.com", "password": PASSWORD})).await;
    assert_eq!(s, 200, "{me}");
    let script_csrf = me["csrf_token"].as_str().expect("csrf");
    let (s, _) = call2(&script, &srv, Method::DELETE, &format!("permissions?uid={uid}&id=0"), script_csrf, None).await;
    assert_eq!(s, 404);
    let (_, v) =
        call2(&sa, &srv, Method::GET, &format!("activities/admin?target_uid={uid}&limit=1"), &csrf, None).await;
    let data: Value = serde_json::from_str(v[0]["data"].as_str().expect("data")).expect("json");
    assert_eq!(v[0]["user_agent"].as_str(), Some("curl/8.0"));
    assert_eq!(data["note"].as_str(), Some("Detected suspicious browser"), "{data}");
    let (_, v) = call2(&sa, &srv, Method::GET, "activities/admin?email=user@example.com", &csrf, None).await;
    assert_eq!(v, json!([]), "uid/email name the actor");
    assert_err(
        &call2(&sa, &srv, Method::GET, "activities/admin?range=updated", &csrf, None).await,
        422,
        &["admin.activity.invalid_range"],
    );
    // Seeds DROP the admin log for admins; technical reads the users' log.
    let (ad, ad_csrf) = staff(&srv, "admin@example.com", "admin").await;
    assert_err(
        &call2(&ad, &srv, Method::GET, "activities/admin", &ad_csrf, None).await,
        401,
        &["authz.invalid_permission"],
    );
    let (tech, t_csrf) = staff(&srv, "tech@example.com", "technical").await;
    assert_eq!(call2(&tech, &srv, Method::GET, "activities?limit=1", &t_csrf, None).await.0, 200);
});

both!(admin_metrics_and_whitelinks, |srv: TestServer| async move {
    let (sa, csrf) = staff(&srv, "root@example.com", "superadmin").await;
    active_user(&srv, "user@example.com").await;
    let (s, _) =
        post(&srv.client(), &srv.url("identity/sessions"), json!({"email": "user@example.com", "password": "x"})).await;
    assert_eq!(s, 401);
    let uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'user@example.com'").await.remove(0);
    ctl_json(&srv, &["label", "set", &uid, "document", "pending"]);

    let today = chrono_today();
    let raw = sa.get(admin_url(&srv, "metrics")).send().await.expect("get").text().await.expect("text");
    assert!(keys_in_order(&raw, &["signups", "sucessful_logins", "failed_logins", "pending_applications"]), "{raw}");
    let m: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(m["signups"][&today], 1, "{m}");
    assert_eq!(m["failed_logins"][&today], 1, "{m}");
    assert!(m["sucessful_logins"][&today].as_i64().is_some_and(|n| n >= 2), "the user and root: {m}");
    assert_eq!(m["pending_applications"], 1);
    // The window is honoured (Barong ignored it): a past window counts nothing.
    let (s, m) =
        call2(&sa, &srv, Method::GET, "metrics?created_from=2000-01-01&created_to=2000-01-31", &csrf, None).await;
    assert_eq!((s, &m["signups"], &m["failed_logins"]), (200, &json!({}), &json!({})));
    let (_, m) =
        call2(&sa, &srv, Method::GET, &format!("metrics?created_from={today}&created_to={today}"), &csrf, None).await;
    assert_eq!(m["signups"][&today], 1);
    assert_err(
        &call2(&sa, &srv, Method::GET, "metrics?created_from=yesterday&created_to=2021-13-01", &csrf, None).await,
        422,
        &["admin.metric.invalid_created_from", "admin.metric.invalid_created_to"],
    );
    // Accountants read User, so they see the dashboard; members are stopped by RBAC.
    let (acc, a_csrf) = staff(&srv, "acc@example.com", "accountant").await;
    assert_eq!(call2(&acc, &srv, Method::GET, "metrics", &a_csrf, None).await.0, 200);

    // Whitelinks: Barong's bare keys, a 64-hex token that works once.
    let url = "restrictions/whitelink";
    assert_err(
        &call2(&sa, &srv, Method::POST, url, &csrf, Some(json!({"expire_time": 31, "range": "week"}))).await,
        422,
        &["invalid_expire", "invalid_range"],
    );
    let (s, v) = call2(&sa, &srv, Method::POST, url, &csrf, Some(json!({"expire_time": 2, "range": "hour"}))).await;
    assert_eq!(s, 201, "{v}");
    let token = v["whitelink_token"].as_str().expect("token").to_string();
    assert!(token.len() == 64 && token.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    let expires = srv.sql_texts("SELECT CAST(expires_at - created_at AS TEXT) FROM whitelinks").await;
    assert_eq!(expires, ["7200"]);
    let (anon, access) = (srv.client(), srv.url("identity/users/access"));
    let body = json!({ "whitelink_token": token });
    assert_eq!(post(&anon, &access, body.clone()).await, (201, json!(201)));
    assert_err(&post(&anon, &access, body).await, 422, &["identity.user.access.invalid_token"]);
    // Technical manages restrictions; accountants only read them.
    assert_err(
        &call2(&acc, &srv, Method::POST, url, &a_csrf, Some(json!({}))).await,
        401,
        &["authz.invalid_permission"],
    );
});

/// Today's UTC date as `YYYY-MM-DD`.
fn chrono_today() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let days = secs / 86_400;
    // Civil-from-days (Howard Hinnant's algorithm), to avoid a date dependency in the tests.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}
