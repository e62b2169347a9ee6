//! The Admin API's KYC and key views: `GET admin/api_keys`, `GET admin/profiles` (masked per
//! role, PII reads logged) and `PUT admin/profiles` (review, with its guards).

use reqwest::Method;

use super::admin_api::{admin_rows, admin_url, call, call2, staff};
use super::*;

/// A user with a submitted profile; returns its uid.
async fn applicant(srv: &TestServer, email: &str) -> String {
    let (c, csrf) = active_user(srv, email).await;
    let body =
        json!({"first_name": "Jean", "last_name": "Dupont", "dob": "1990-05-17", "city": "Lyon", "confirm": true});
    let (s, p) = send_json(&c, Method::POST, &srv.url("resource/profiles"), Some(&csrf), Some(body)).await;
    assert_eq!(s, 201, "{p}");
    let (s, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!(s, 200);
    me["uid"].as_str().expect("uid").to_string()
}

both!(admin_profiles_masking_and_review, |srv: TestServer| async move {
    let uid = applicant(&srv, "kyc@example.com").await;
    let (co, co_csrf) = staff(&srv, "co@example.com", "compliance").await;
    let (sup, sup_csrf) = staff(&srv, "support@example.com", "support").await;

    // Compliance (unmasked by default) sees clear PII, and the read is logged.
    let (s, h, v) = call(&co, &srv, Method::GET, "profiles", &co_csrf, None).await;
    assert_eq!((s, h["total"].to_str().expect("total")), (200, "1"), "{v}");
    assert_eq!((v[0]["last_name"].as_str(), v[0]["dob"].as_str()), (Some("Dupont"), Some("1990-05-17")));
    assert_eq!(v[0]["state"], "submitted");
    assert!(v[0].get("uid").is_none());
    assert_eq!(admin_rows(&srv).await, ["profiles/read/succeed/"]);
    // Support reads profiles masked, and a masked read is not a PII read.
    let (s, v) = call2(&sup, &srv, Method::GET, "profiles", &sup_csrf, None).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!((v[0]["last_name"].as_str(), v[0]["dob"].as_str()), (Some("D*****"), Some("1990-05-**")));
    assert_eq!(admin_rows(&srv).await.len(), 1);

    // Review. The seeds let support GET and POST users/update only, so its PUT stops at RBAC.
    assert_err(
        &call2(&sup, &srv, Method::PUT, "profiles", &sup_csrf, Some(json!({"uid": uid, "state": "verified"}))).await,
        401,
        &["authz.invalid_permission"],
    );
    let put = |b: Value| call2(&co, &srv, Method::PUT, "profiles", &co_csrf, Some(b));
    assert_err(&put(json!({})).await, 422, &["admin.profile.missing_uid", "admin.profile.missing_state"]);
    assert_err(
        &put(json!({"uid": "ID0000000000", "state": "verified"})).await,
        404,
        &["admin.profiles.doesnt_exist_or_not_editable"],
    );
    assert_err(&put(json!({"uid": uid, "state": "approved"})).await, 422, &["state.inclusion"]);
    let co_uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'co@example.com'").await.remove(0);
    assert_err(&put(json!({"uid": co_uid, "state": "verified"})).await, 422, &["admin.profiles.update_himself"]);
    let (sa_c, _) = staff(&srv, "root@example.com", "superadmin").await;
    drop(sa_c);
    let root = srv.sql_texts("SELECT uid FROM users WHERE email = 'root@example.com'").await.remove(0);
    assert_err(&put(json!({"uid": root, "state": "verified"})).await, 422, &["admin.profiles.superadmin_change"]);
    let (s, p) = put(json!({"uid": uid, "state": "verified"})).await;
    assert_eq!((s, p["state"].as_str(), p["last_name"].as_str()), (200, Some("verified"), Some("Dupont")), "{p}");
    // The profile label follows, and the profile is no longer reviewable.
    let labels = srv.sql_texts("SELECT value FROM labels WHERE key = 'profile' AND scope = 'private'").await;
    assert_eq!(labels, ["verified"]);
    assert_err(
        &put(json!({"uid": uid, "state": "rejected"})).await,
        404,
        &["admin.profiles.doesnt_exist_or_not_editable"],
    );
    let rows = admin_rows(&srv).await;
    assert_eq!(rows.iter().filter(|r| r.starts_with("profiles/update/succeed/")).count(), 1, "{rows:?}");
    assert!(rows.contains(&format!("profiles/update/succeed/{uid}")), "{rows:?}");
});

both!(admin_api_keys_of_a_user, |srv: TestServer| async move {
    let (c, k_csrf, totp) = two_factor_user(&srv, "keys@example.com").await;
    create_api_key(&srv, &c, &k_csrf, &totp).await;
    create_api_key(&srv, &c, &k_csrf, &totp).await;
    let uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'keys@example.com'").await.remove(0);
    let (sa, csrf) = staff(&srv, "root@example.com", "superadmin").await;

    let (s, h, v) =
        call(&sa, &srv, Method::GET, &format!("api_keys?uid={uid}&limit=1&ordering=desc"), &csrf, None).await;
    assert_eq!((s, h["total"].to_str().expect("total")), (200, "2"), "{v}");
    assert_eq!(v.as_array().map(Vec::len), Some(1));
    assert!(v[0].get("secret").is_none() && v[0]["kid"].is_string(), "{v}");
    let raw =
        sa.get(admin_url(&srv, &format!("api_keys?uid={uid}"))).send().await.expect("get").text().await.expect("t");
    assert!(!raw.contains("secret"), "{raw}");
    assert!(keys_in_order(&raw, &["kid", "algorithm", "scope", "state", "created_at", "updated_at"]), "{raw}");
    assert_err(
        &call2(&sa, &srv, Method::GET, "api_keys", &csrf, None).await,
        422,
        &["admin.apikey.missing_uid", "admin.apikey.empty_uid"],
    );
    assert_err(
        &call2(
            &sa,
            &srv,
            Method::GET,
            &format!("api_keys?uid={uid}&ordering=up&order_by=secret_encrypted"),
            &csrf,
            None,
        )
        .await,
        422,
        &["api_keys.ordering.invalid_ordering", "api_keys.ordering.invalid_attribute"],
    );
    assert_err(
        &call2(&sa, &srv, Method::GET, "api_keys?uid=ID0000000000", &csrf, None).await,
        404,
        &["admin.user.doesnt_exist"],
    );
    // Accountants do not read APIKey.
    let (acc, a_csrf) = staff(&srv, "acc@example.com", "accountant").await;
    assert_err(
        &call2(&acc, &srv, Method::GET, &format!("api_keys?uid={uid}"), &a_csrf, None).await,
        401,
        &["admin.ability.not_permitted"],
    );
});

both!(admin_creates_submitted_profiles, |srv: TestServer| async move {
    active_user(&srv, "new@example.com").await;
    let uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'new@example.com'").await.remove(0);
    let (co, csrf) = staff(&srv, "co@example.com", "compliance").await;
    let post = |b: Value| call2(&co, &srv, Method::POST, "profiles", &csrf, Some(b));
    assert_err(&post(json!({"first_name": "Ann"})).await, 422, &["admin.profile.missing_uid"]);
    assert_err(&post(json!({"uid": "ID0000000000", "first_name": "Ann"})).await, 404, &["admin.user.doesnt_exist"]);
    let body =
        json!({"uid": uid, "first_name": "Ann", "last_name": "Lee", "dob": "1991-02-03", "metadata": {"src": "desk"}});
    let (s, p) = post(body).await;
    assert_eq!((s, p["state"].as_str(), p["last_name"].as_str()), (201, Some("submitted"), Some("Lee")), "{p}");
    // `metadata` is the stored JSON text, as a string (Barong's admin entity).
    let meta: Value = serde_json::from_str(p["metadata"].as_str().expect("a string")).expect("JSON text");
    assert_eq!(meta, json!({"src": "desk"}));
    let co_uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'co@example.com'").await.remove(0);
    assert_eq!(srv.sql_texts("SELECT author FROM profiles").await, [co_uid]);
    assert_eq!(srv.sql_texts("SELECT value FROM labels WHERE key = 'profile'").await, ["submitted"]);
    assert_err(&post(json!({"uid": uid, "first_name": "Ann"})).await, 422, &["state.exists"]);
    // Barong checked no ability here (W6): a role the permissions let through but whose
    // abilities lack `create Profile` is refused.
    ctl_json(
        &srv,
        &["permission", "add", "--role", "clerk", "--verb", "all", "--path", "api/v2/barong", "--action", "accept"],
    );
    let (clerk, c_csrf) = staff(&srv, "clerk@example.com", "clerk").await;
    assert_err(
        &call2(&clerk, &srv, Method::POST, "profiles", &c_csrf, Some(json!({"uid": uid}))).await,
        401,
        &["admin.ability.not_permitted"],
    );
});

both!(admin_double_verification, config = "profile_double_verification: true\n", |srv: TestServer| async move {
    active_user(&srv, "new@example.com").await;
    let uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'new@example.com'").await.remove(0);
    let (co, csrf) = staff(&srv, "co@example.com", "compliance").await;
    let (s, p) =
        call2(&co, &srv, Method::POST, "profiles", &csrf, Some(json!({"uid": uid, "first_name": "Ann"}))).await;
    assert_eq!(s, 201, "{p}");
    // The author may not approve it alone; another reviewer may.
    let review = json!({"uid": uid, "state": "verified"});
    assert_err(
        &call2(&co, &srv, Method::PUT, "profiles", &csrf, Some(review.clone())).await,
        422,
        &["admin.profiles.second_admin_approval"],
    );
    let (co2, csrf2) = staff(&srv, "co2@example.com", "compliance").await;
    let (s, p) = call2(&co2, &srv, Method::PUT, "profiles", &csrf2, Some(review)).await;
    assert_eq!((s, p["state"].as_str()), (200, Some("verified")), "{p}");
});
