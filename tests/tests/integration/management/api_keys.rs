//! `/api_keys` and `/api_keys/update`, with `mgn_api_keys_sa` on and `mgn_api_keys_user` off.

use super::*;

async fn keys_of_service_accounts(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    operator_user(&srv, "key-owner@example.com");
    let sa = ctl_json(&srv, &["service-account", "create", "--owner", "key-owner@example.com", "--role", "member"]);
    let sa_uid = sa["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);

    let new = ask(json!({"algorithm": "HS256", "uid": sa_uid, "scopes": " trade, ,withdraw "}));
    let (s, key) = post_signed(&srv, "api_keys", &new).await;
    assert_eq!(s, 201, "{key}");
    assert_eq!((key["scope"].clone(), key["state"].as_str()), (json!(["trade", "withdraw"]), Some("active")));
    let secret = key["secret"].as_str().expect("secret shown once");
    assert!(secret.len() == 32 && secret.chars().all(|c| c.is_ascii_hexdigit()), "{key}");
    let kid = key["kid"].as_str().expect("kid").to_string();

    let off = ask(json!({"kid": kid, "uid": sa_uid, "state": "disabled"}));
    let (s, b) = post_signed(&srv, "api_keys/update", &off).await;
    assert_eq!(
        (s, b["state"].as_str(), b["scope"].clone()),
        (201, Some("disabled"), json!(["trade", "withdraw"])),
        "{b}"
    );
    assert!(b.get("secret").is_none_or(Value::is_null), "no secret on update: {b}");
    let on = ask(json!({"kid": kid, "uid": sa_uid, "state": "active"}));
    assert_eq!(post_signed(&srv, "api_keys/update", &on).await.1["state"].as_str(), Some("active"));
    let inactive = ask(json!({"kid": kid, "uid": sa_uid, "state": "inactive"}));
    assert_eq!(post_signed(&srv, "api_keys/update", &inactive).await.1["state"].as_str(), Some("disabled"));
    let bogus = ask(json!({"kid": kid, "uid": sa_uid, "state": "bogus"}));
    assert_eq!(post_signed(&srv, "api_keys/update", &bogus).await, (422, json!({"errors": ["state.inclusion"]})));
    let unknown = ask(json!({"kid": "0000000000000000", "uid": sa_uid}));
    assert_eq!(post_signed(&srv, "api_keys/update", &unknown).await, (422, error("api_key_doesnt_exist")));

    let user_uid = ctl_json(&srv, &["user", "show", "key-owner@example.com"])["uid"].as_str().expect("uid").to_string();
    for (uid, message) in [
        (user_uid.as_str(), "disabled_management_endpoint"),
        ("SI0000000000", "service_account_doesnt_exist"),
        ("XX0000000000", "uid_prefix_doesnt_exist"),
    ] {
        let signed = ask(json!({"algorithm": "HS256", "uid": uid}));
        assert_eq!(post_signed(&srv, "api_keys", &signed).await, (422, error(message)), "{uid}");
    }
    let rsa = ask(json!({"algorithm": "RS256", "uid": sa_uid}));
    assert_eq!(
        post_signed(&srv, "api_keys", &rsa).await,
        (422, json!({"errors": ["kid.blank", "algorithm.inclusion"]}))
    );
}

both!(
    api_keys_of_service_accounts,
    per_backend = |b| with_management(b, SCOPES, "mgn_api_keys_sa: true\n", keys_of_service_accounts)
);

/// A key imported from Barong without its secret (migration spec §2.8.5) stays disabled: the
/// Management API refuses to activate it with the resource API's key.
async fn key_without_secret(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    operator_user(&srv, "lost-owner@example.com");
    let sa = ctl_json(&srv, &["service-account", "create", "--owner", "lost-owner@example.com", "--role", "member"]);
    let sa_uid = sa["uid"].as_str().expect("uid").to_string();
    let ask = |data: Value| keys.sign(&claims(data), &app);
    let (s, key) = post_signed(&srv, "api_keys", &ask(json!({"algorithm": "HS256", "uid": sa_uid}))).await;
    assert_eq!(s, 201, "{key}");
    let kid = key["kid"].as_str().expect("kid").to_string();
    srv.sql(&format!(
        "UPDATE api_keys SET state = 'disabled', secret_sealed = '', secret_unavailable = TRUE WHERE kid = '{kid}'"
    ))
    .await;
    let on = ask(json!({"kid": kid, "uid": sa_uid, "state": "active"}));
    assert_eq!(
        post_signed(&srv, "api_keys/update", &on).await,
        (422, json!({"errors": ["resource.api_key.secret_unavailable"]}))
    );
    // Its scope may still change; it stays disabled and says why.
    let scoped = ask(json!({"kid": kid, "uid": sa_uid, "scopes": "read"}));
    let (s, b) = post_signed(&srv, "api_keys/update", &scoped).await;
    assert_eq!((s, b["state"].as_str(), b["secret_unavailable"].as_bool()), (201, Some("disabled"), Some(true)), "{b}");
}

both!(
    api_key_without_secret,
    per_backend = |b| with_management(b, SCOPES, "mgn_api_keys_sa: true\n", key_without_secret)
);
