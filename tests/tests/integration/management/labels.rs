//! `/labels/list`, `/labels` (POST, PUT), `/labels/delete`.

use super::*;

async fn labels(srv: TestServer, keys: Keys) {
    let both_signers = [("applogic", "RS256", "rsa.pem"), ("backoffice", "ES256", "ec.pem")];
    let uid = register(&srv, &srv.client(), "mgmt-labels@example.com").await["uid"].as_str().expect("uid").to_string();
    let write = |data: Value| keys.sign(&claims(data), &both_signers);
    let state_sql = format!("SELECT state FROM users WHERE uid = '{uid}'");
    let state = || srv.sql_texts(&state_sql);
    assert_eq!(state().await, ["pending"]);

    let signed = write(json!({"user_uid": uid, "key": "email", "value": "verified", "description": "by applogic"}));
    let r = reqwest::Client::new().post(mgmt(&srv, "labels")).json(&signed).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    assert!(keys_in_order(&raw, &["key", "value", "scope", "created_at", "updated_at"]), "{raw}");
    let label: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!(
        (label["key"].as_str(), label["value"].as_str(), label["scope"].as_str()),
        (Some("email"), Some("verified"), Some("private"))
    );
    assert_eq!(state().await, ["active"], "the level/state engine ran");

    let again = write(json!({"user_uid": uid, "key": "email", "value": "verified"}));
    assert_eq!(post_signed(&srv, "labels", &again).await, (422, json!({"key": ["Key has already been taken"]})));
    let bad = write(json!({"user_uid": uid, "key": "a!", "value": "ok-value"}));
    let (s, b) = post_signed(&srv, "labels", &bad).await;
    assert_eq!((s, b), (422, json!({"key": ["Key is too short (minimum is 3 characters)", "Key is invalid"]})));
    let missing = write(json!({"key": ""}));
    assert_eq!(
        post_signed(&srv, "labels", &missing).await,
        (422, error("user_uid is missing, user_uid is empty, key is empty, value is missing, value is empty"))
    );
    let nobody = write(json!({"user_uid": "ID0000000000", "key": "email", "value": "verified"}));
    assert_eq!(post_signed(&srv, "labels", &nobody).await, (404, error("Record is not found")));
    // Only applogic: write_labels needs both signers.
    let one = keys.sign(&claims(json!({"user_uid": uid, "key": "ban", "value": "yes"})), &both_signers[..1]);
    assert_eq!(post_signed(&srv, "labels", &one).await, (401, error(NOT_ENOUGH)));

    let put = |data: Value| {
        let signed = write(data);
        let srv = &srv;
        async move { send(srv, reqwest::Method::PUT, "labels", &signed).await }
    };
    let (s, b) = put(json!({"user_uid": uid, "key": "email", "value": "rejected"})).await;
    assert_eq!((s, b["value"].as_str()), (200, Some("rejected")), "{b}");
    assert_eq!(state().await, ["pending"], "recomputed again");
    let absent = json!({"user_uid": uid, "key": "document", "value": "pending", "replace": false});
    assert_eq!(put(absent).await, (404, error("label doesnt exist")));
    let (s, b) = put(json!({"user_uid": uid, "key": "document", "value": "pending", "scope": "public"})).await;
    assert_eq!((s, b["scope"].as_str()), (200, Some("private")), "created, always private: {b}");

    let list = keys.sign(&claims(json!({"user_uid": uid})), &both_signers[..1]);
    let (s, b) = post_signed(&srv, "labels/list", &list).await;
    assert_eq!(s, 201, "{b}");
    let keys_listed: Vec<&str> = b.as_array().expect("list").iter().filter_map(|l| l["key"].as_str()).collect();
    assert!(keys_listed.contains(&"email") && keys_listed.contains(&"document"), "{b}");
    let email = b.as_array().expect("list").iter().find(|l| l["key"] == "email").expect("email label");
    assert_eq!(email["description"], "by applogic", "AdminLabelView: {b}");
    let list = keys.sign(&claims(json!({"user_uid": "ID0000000000"})), &both_signers[..1]);
    assert_eq!(post_signed(&srv, "labels/list", &list).await, (404, error("Record is not found")));

    let del = write(json!({"user_uid": uid, "key": "document"}));
    let r = reqwest::Client::new().post(mgmt(&srv, "labels/delete")).json(&del).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 204);
    assert_eq!(r.text().await.expect("body"), "");
    let del = write(json!({"user_uid": uid, "key": "document"}));
    assert_eq!(post_signed(&srv, "labels/delete", &del).await, (404, error("Record is not found")));
    assert_eq!(
        srv.sql_texts(&format!(
            "SELECT key FROM labels WHERE user_id = (SELECT id FROM users WHERE uid = '{uid}') ORDER BY key"
        ))
        .await,
        ["email"]
    );
}

both!(label_endpoints, per_backend = |b| with_management(b, SCOPES, "", labels));
