//! KYC profiles (resource/profiles and the KYC profile step) and the `public/kyc` callback.

use reqwest::Method;

use super::*;

fn full_profile() -> Value {
    json!({
        "first_name": "  Jean-Luc  ",
        "last_name": "Müller",
        "dob": "1990-05-17",
        "address": "12 Rue de l'Église, apt. 3",
        "postcode": "75001",
        "city": "Paris",
        "country": "FR",
        "metadata": "{\"nationality\":\"FR\"}",
    })
}

async fn label(srv: &TestServer, email: &str, key: &str) -> Vec<String> {
    srv.sql_texts(&format!(
        "SELECT l.value || ':' || l.scope FROM labels l JOIN users u ON u.id = l.user_id \
         WHERE u.email = '{email}' AND l.key = '{key}'"
    ))
    .await
}

both!(profile_lifecycle, |srv: TestServer| async move {
    let email = "kyc@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let url = srv.url("resource/profiles");
    let me_url = srv.url("resource/profiles/me");
    assert_eq!(get(&c, &me_url).await, (200, json!([])));

    // Drafted: masked PII in the answer, sealed at rest, label profile=drafted.
    let (s, p) = send_json(&c, Method::POST, &url, Some(&csrf), Some(full_profile())).await;
    assert_eq!(s, 201, "{p}");
    assert_eq!(p["first_name"], "Jean-Luc", "squished");
    assert_eq!(p["last_name"], "M*****");
    assert_eq!(p["dob"], "1990-05-**");
    assert_eq!(p["address"], "12 Rue de l'Église, apt. 3");
    assert_eq!(
        (p["postcode"].as_str(), p["city"].as_str(), p["country"].as_str()),
        (Some("75001"), Some("Paris"), Some("FR"))
    );
    assert_eq!(p["state"], "drafted");
    assert_eq!(p["metadata"], json!({"nationality": "FR"}));
    assert!(p["created_at"].as_str().is_some_and(|t| t.ends_with('Z')), "{p}");
    assert_eq!(label(&srv, email, "profile").await, ["drafted:private"]);
    let stored = srv
        .sql_texts(
            "SELECT COALESCE(first_name_sealed, '') || COALESCE(last_name_sealed, '') || COALESCE(dob_sealed, '') \
             || COALESCE(address_sealed, '') FROM profiles",
        )
        .await
        .join(" ");
    for clear in ["Jean", "Müller", "1990", "Église"] {
        assert!(!stored.contains(clear), "{clear} stored in clear: {stored}");
    }

    // A second open profile is refused; the drafted one is editable field by field.
    assert_err(&send_json(&c, Method::POST, &url, Some(&csrf), Some(json!({}))).await, 422, &["state.exists"]);
    let (s, p) = send_json(&c, Method::PUT, &url, Some(&csrf), Some(json!({"city": "Lyon"}))).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (p["city"].as_str(), p["first_name"].as_str(), p["state"].as_str()),
        (Some("Lyon"), Some("Jean-Luc"), Some("drafted"))
    );

    // Submitting ends the editing.
    let (s, p) = send_json(&c, Method::PUT, &url, Some(&csrf), Some(json!({"confirm": true}))).await;
    assert_eq!((s, p["state"].as_str()), (200, Some("submitted")), "{p}");
    assert_eq!(label(&srv, email, "profile").await, ["submitted:private"]);
    assert_err(
        &send_json(&c, Method::PUT, &url, Some(&csrf), Some(json!({"city": "Nice"}))).await,
        404,
        &["resource.profile.doesnt_exist_or_not_editable"],
    );
    assert_err(&send_json(&c, Method::POST, &url, Some(&csrf), Some(json!({}))).await, 422, &["state.exists"]);

    // The operator verifies it; users/me and profiles/me agree.
    let (code, out, err) = srv.ctl(&["--json", "kyc", "profile", "verify", email], None);
    assert_eq!(code, 0, "{err}");
    let reviewed: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(reviewed["state"], "verified");
    assert_eq!(reviewed["last_name"], "Müller", "the operator sees clear values");
    assert_eq!(label(&srv, email, "profile").await, ["verified:private"]);
    let (_, list) = get(&c, &me_url).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    assert_eq!(list[0]["state"], "verified");
    let (_, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!(me["profiles"][0]["state"], "verified");
    assert_eq!(me["profiles"][0]["last_name"], "M*****");
    let (code, _, err) = srv.ctl(&["kyc", "profile", "reject", email], None);
    assert_eq!(code, 1, "nothing submitted any more: {err}");
    assert!(err.contains("doesnt_exist_or_not_editable"), "{err}");

    // After a verified profile, a new one may be drafted (a correction).
    let (s, p) =
        send_json(&c, Method::POST, &url, Some(&csrf), Some(json!({"first_name": "Jean", "confirm": "1"}))).await;
    assert_eq!((s, p["state"].as_str()), (201, Some("submitted")), "{p}");
    let (code, out, err) = srv.ctl(&["--json", "kyc", "profile", "reject", email], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(serde_json::from_str::<Value>(&out).expect("json")["state"], "rejected");
    assert_eq!(get(&c, &me_url).await.1.as_array().map(Vec::len), Some(2));
});

both!(profile_validation_keys, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "val@example.com").await;
    let url = srv.url("resource/profiles");
    let post = |body: Value| {
        let (c, url, csrf) = (c.clone(), url.clone(), csrf.clone());
        async move { send_json(&c, Method::POST, &url, Some(&csrf), Some(body)).await }
    };
    assert_err(
        &post(json!({
            "first_name": "Bob<script>",
            "last_name": "x".repeat(256),
            "city": "Paris!",
            "postcode": "1",
            "address": "me@example.com",
            "country": "Atlantis",
            "dob": "2999-01-01",
            "metadata": "{nope",
        }))
        .await,
        422,
        &[
            "first_name.invalid",
            "last_name.too_long",
            "city.invalid",
            "postcode.too_short",
            "address.invalid",
            "country.must have alpha2 or alpha3 format",
            "dob.invalid",
            "metadata.invalid_format",
        ],
    );
    // Grape's coercion failures collapse to `invalid`.
    assert_err(&post(json!({"dob": "yesterday"})).await, 422, &["invalid"]);
    assert_err(&post(json!({"confirm": "maybe"})).await, 422, &["invalid"]);
    assert_err(&post(json!({"first_name": ["a"]})).await, 422, &["invalid"]);
    // Nothing was stored by the refusals; alpha-3 countries and blank fields are fine.
    assert_eq!(srv.sql_texts("SELECT CAST(COUNT(*) AS TEXT) FROM profiles").await, ["0"]);
    let (s, p) = post(json!({"country": "deu", "first_name": ""})).await;
    assert_eq!((s, p["country"].as_str(), &p["first_name"]), (201, Some("deu"), &Value::Null), "{p}");
    // Undeclared parameters are ignored, not mass-assigned.
    let (s, p) = send_json(&c, Method::PUT, &url, Some(&csrf), Some(json!({"state": "verified", "user_id": 1}))).await;
    assert_eq!((s, p["state"].as_str()), (200, Some("drafted")), "{p}");
});

both!(profiles_need_authentication_and_csrf, |srv: TestServer| async move {
    let anon = srv.client();
    assert_err(&get(&anon, &srv.url("resource/profiles/me")).await, 401, &["authz.invalid_session"]);
    assert_eq!(post(&anon, &srv.url("resource/profiles"), json!({})).await.0, 401);
    let (c, _) = active_user(&srv, "csrf@example.com").await;
    assert_err(&post(&c, &srv.url("resource/profiles"), json!({})).await, 401, &["authz.missing_csrf_token"]);
    // Without masking (an operator's choice), the resource API shows clear values.
    let srv2 = TestServer::spawn_with(
        srv.backend,
        Options { config: "api_data_masking_enabled: false".into(), ..Default::default() },
    )
    .await
    .expect("second server");
    let (c, csrf) = active_user(&srv2, "clear@example.com").await;
    let (s, p) = send_json(&c, Method::POST, &srv2.url("resource/profiles"), Some(&csrf), Some(full_profile())).await;
    assert_eq!((s, p["last_name"].as_str(), p["dob"].as_str()), (201, Some("Müller"), Some("1990-05-17")), "{p}");
});

both!(the_kyc_callback_is_refused_with_the_local_provider, |srv: TestServer| async move {
    let c = srv.client();
    let (s, body) = post(&c, &srv.url("public/kyc"), json!({"verification_id": "x", "applicant_id": "y"})).await;
    assert_eq!((s, body), (422, json!(422)));
});

both!(the_operator_reviews_the_kyc_queue, |srv: TestServer| async move {
    let email = "queue@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    let (code, out, _) = srv.ctl(&["--json", "kyc", "pending"], None);
    assert_eq!((code, serde_json::from_str::<Value>(&out).expect("json")), (0, json!([])));
    let (s, _) =
        send_json(&c, Method::POST, &srv.url("resource/profiles"), Some(&csrf), Some(json!({"confirm": true}))).await;
    assert_eq!(s, 201);
    // A pending identity check, as a document upload leaves it.
    srv.sql(&format!(
        "INSERT INTO labels (user_id, key, value, scope, created_at, updated_at) \
         SELECT id, 'document', 'pending', 'private', 1, 1 FROM users WHERE email = '{email}'"
    ))
    .await;
    let (code, out, err) = srv.ctl(&["--json", "kyc", "pending"], None);
    assert_eq!(code, 0, "{err}");
    let queue: Value = serde_json::from_str(&out).expect("json");
    let checks: Vec<&str> = queue.as_array().expect("list").iter().filter_map(|i| i["check"].as_str()).collect();
    assert_eq!(checks, ["document", "profile"], "oldest first: {queue}");
    assert!(queue.as_array().expect("list").iter().all(|i| i["email"] == email));
    let (code, table, _) = srv.ctl(&["kyc", "pending"], None);
    assert!(code == 0 && table.contains(email) && table.contains("profile"), "{table}");

    // Verifying the document raises the level (3 needs phone too: it stays 1 without one).
    let (code, out, err) = srv.ctl(&["--json", "kyc", "document", "verify", email], None);
    assert_eq!(code, 0, "{err}");
    let user: Value = serde_json::from_str(&out).expect("json");
    assert!(
        user["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "document" && l["value"] == "verified")
    );
    let (code, _, err) = srv.ctl(&["kyc", "document", "reject", email], None);
    assert_eq!(code, 1, "decided already");
    assert!(err.contains("admin.kyc.not_pending"), "{err}");
    let (code, _, err) = srv.ctl(&["kyc", "address", "verify", email], None);
    assert!(code == 1 && err.contains("admin.kyc.not_pending"), "{err}");
    let (code, _, err) = srv.ctl(&["kyc", "profile", "verify", "nobody@example.com"], None);
    assert_eq!(code, 1, "{err}");

    let (code, out, _) = srv.ctl(&["--json", "kyc", "pending"], None);
    assert_eq!(code, 0);
    let left: Vec<Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["check"], "profile");
});
