//! `/phones` and `/phones/delete`.

use super::*;

async fn phone_writes(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let c = srv.client();
    let a = register(&srv, &c, "phone-a@example.com").await["uid"].as_str().expect("uid").to_string();
    let b = register(&srv, &c, "phone-b@example.com").await["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);

    let r =
        reqwest::Client::new().post(mgmt(&srv, "phones")).json(&ask(json!({"uid": a, "number": "+44 7418 084106"})));
    let r = r.send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    assert!(keys_in_order(&raw, &["country", "number", "validated_at"]), "{raw}");
    let phone: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!((phone["country"].as_str(), phone["number"].as_str()), (Some("GB"), Some("447418084106")));
    assert!(phone["validated_at"].as_str().is_some_and(|t| t.ends_with(".000Z")), "{phone}");
    let taken = (400, error("management.phone.number_exist"));
    assert_eq!(post_signed(&srv, "phones", &ask(json!({"uid": a, "number": "447418084106"}))).await, taken);
    assert_eq!(post_signed(&srv, "phones", &ask(json!({"uid": b, "number": "447418084106"}))).await, taken);
    let bad = ask(json!({"uid": a, "number": "123"}));
    assert_eq!(post_signed(&srv, "phones", &bad).await, (400, error("management.phone.invalid_num")));
    let nobody = ask(json!({"uid": "ID0000000000", "number": "447418084106"}));
    assert_eq!(post_signed(&srv, "phones", &nobody).await, (422, error("user.doesnt_exist")));
    assert_eq!(post_signed(&srv, "phones/get", &ask(json!({"uid": a}))).await, (201, json!([phone.clone()])));
    assert_eq!(srv.sql_texts("SELECT key FROM labels WHERE key = 'phone'").await, Vec::<String>::new(), "no label");

    let del = ask(json!({"uid": a, "number": "+447418084106"}));
    assert_eq!(post_signed(&srv, "phones/delete", &del).await, (201, phone));
    let del = ask(json!({"uid": a, "number": "447418084106"}));
    assert_eq!(post_signed(&srv, "phones/delete", &del).await, (422, error("management.phone.doesnt_exists")));
    assert_eq!(post_signed(&srv, "phones/get", &ask(json!({"uid": a}))).await, (201, json!([])));
    let (s, got) = post_signed(&srv, "phones", &ask(json!({"uid": b, "number": "447418084106"}))).await;
    assert_eq!((s, got["number"].as_str()), (201, Some("447418084106")), "free again: {got}");
}

both!(phone_writes_are_validated, per_backend = |b| with_management(b, SCOPES, "", phone_writes));
