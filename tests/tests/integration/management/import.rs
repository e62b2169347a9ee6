//! `/users/import` (W15) and `/profiles` (W17).

use super::*;

/// A bcrypt digest as bcrypt-ruby writes it (cost 12).
const DIGEST: &str = "$2a$12$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";

const BOTH: [(&str, &str, &str); 2] = [("applogic", "RS256", "rsa.pem"), ("backoffice", "ES256", "ec.pem")];

async fn count(srv: &TestServer, query: &str) -> String {
    srv.sql_texts(&format!("SELECT CAST(COUNT(*) AS TEXT) {query}")).await.remove(0)
}

async fn import(srv: TestServer, keys: Keys) {
    let ask = |data: Value| keys.sign(&claims(data), &BOTH);
    let full = json!({
        "email": "imported@example.com", "password_digest": DIGEST, "phone": "+44 7418 084106",
        "first_name": "Ann", "last_name": "Lee", "dob": "1990-05-17", "country": "GB", "state": "verified",
    });
    let r = reqwest::Client::new().post(mgmt(&srv, "users/import")).json(&ask(full)).send().await.expect("post");
    assert_eq!(r.status().as_u16(), 201);
    let raw = r.text().await.expect("body");
    let order = ["email", "uid", "role", "level", "otp", "state", "referral_uid", "data", "username", "profiles"];
    assert!(keys_in_order(&raw, &order) && raw.contains("\"updated_at\":"), "{raw}");
    let b: Value = serde_json::from_str(&raw).expect("json");
    assert_eq!((b["role"].as_str(), b["state"].as_str()), (Some("member"), Some("pending")), "{b}");
    let profile = &b["profiles"][0];
    assert_eq!(
        (profile["state"].as_str(), profile["last_name"].as_str(), profile["dob"].as_str()),
        (Some("verified"), Some("Lee"), Some("1990-05-17")),
        "clear: {b}"
    );
    let uid = b["uid"].as_str().expect("uid").to_string();
    let of_user = format!("FROM users u WHERE u.uid = '{uid}'");
    assert_eq!(srv.sql_texts(&format!("SELECT u.password_digest {of_user}")).await, [DIGEST]);
    let phones =
        format!("FROM phones p JOIN users u ON u.id = p.user_id WHERE u.uid = '{uid}' AND p.validated_at IS NOT NULL");
    assert_eq!(count(&srv, &phones).await, "1", "the phone is validated");
    let label = format!(
        "SELECT l.value FROM labels l JOIN users u ON u.id = l.user_id WHERE u.uid = '{uid}' AND l.key = 'profile' AND l.scope = 'private'"
    );
    assert_eq!(srv.sql_texts(&label).await, ["verified"]);
    assert_eq!(queued_events(&srv).await, ["model.user.created", "model.profile.created", "model.label.created"]);
    // The admin log keeps the call: no actor, its signers, the digest filtered.
    let admin_rows = "FROM activities WHERE category = 'admin' ORDER BY id";
    let row = srv
        .sql_texts(&format!(
            "SELECT topic || ' ' || action || ' ' || result || ' ' || COALESCE(CAST(user_id AS TEXT), 'none') {admin_rows}"
        ))
        .await;
    assert_eq!(row, ["users create succeed none"]);
    let data: Value =
        serde_json::from_str(&srv.sql_texts(&format!("SELECT data {admin_rows}")).await[0]).expect("json");
    assert_eq!(
        (&data["via"], &data["signers"], &data["password_digest"], &data["email"]),
        (
            &json!("management"),
            &json!(["applogic", "backoffice"]),
            &json!("[FILTERED]"),
            &json!("imported@example.com")
        ),
        "{data}"
    );
    assert!(!data.to_string().contains("$2a$"), "{data}");

    // Without profile fields there is no profile (Barong made an empty one).
    let (s, b) =
        post_signed(&srv, "users/import", &ask(json!({"email": "bare@example.com", "password_digest": DIGEST}))).await;
    assert_eq!((s, b["profiles"].clone()), (201, json!([])), "{b}");
    assert_eq!(
        count(&srv, "FROM profiles p JOIN users u ON u.id = p.user_id WHERE u.email = 'bare@example.com'").await,
        "0"
    );

    // The imported digest is a legacy credential: another password is refused as a wrong one...
    let login = json!({"email": "imported@example.com", "password": PASSWORD});
    assert_err(
        &post(&srv.client(), &srv.url("identity/sessions"), login).await,
        401,
        &["identity.session.invalid_params"],
    );
    // ...and the password of the digest signs in (tests/integration/legacy_passwords.rs has the rest).
    let own = bcrypt::hash(PASSWORD, 4).expect("bcrypt").replacen("$2b$", "$2a$", 1);
    let imported = json!({"email": "own@example.com", "password_digest": own});
    assert_eq!(post_signed(&srv, "users/import", &ask(imported)).await.0, 201);
    let login = json!({"email": "own@example.com", "password": PASSWORD});
    let (s, b) = post(&srv.client(), &srv.url("identity/sessions"), login).await;
    assert_eq!((s, b["email"].as_str()), (200, Some("own@example.com")), "{b}");

    let again = json!({"email": "IMPORTED@example.com", "password_digest": DIGEST});
    assert_eq!(post_signed(&srv, "users/import", &ask(again)).await, (422, error("User already exists by this email")));
    for (data, messages) in [
        (json!({"email": "d1@example.com", "password_digest": "secret"}), json!(["Password digest is invalid"])),
        (
            json!({"email": "nope", "password_digest": "$2a$03$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"}),
            json!(["Email is invalid", "Password digest is invalid"]),
        ),
        (
            json!({"email": "d2@example.com", "password_digest": DIGEST, "referral_uid": "ID0000000000"}),
            json!(["Referral doesnt_exist"]),
        ),
        (json!({"email": "d3@example.com", "password_digest": DIGEST, "phone": "12"}), json!(["Number is invalid"])),
        (
            json!({"email": "d4@example.com", "password_digest": DIGEST, "phone": "+44 7418 084106"}),
            json!(["Number has already been taken"]),
        ),
        (
            json!({"email": "d5@example.com", "password_digest": DIGEST, "phone": "+44 7418 084107", "country": "Atlantis"}),
            json!(["Country must have alpha2 or alpha3 format"]),
        ),
        (
            json!({"email": "d6@example.com", "password_digest": DIGEST, "first_name": "Bo", "state": "approved"}),
            json!(["State is not included in the list"]),
        ),
    ] {
        let (s, b) = post_signed(&srv, "users/import", &ask(data.clone())).await;
        assert_eq!((s, b), (422, json!({"error": messages})), "{data}");
    }
    // One transaction: a refused phone or profile leaves no user (Barong kept it).
    assert_eq!(count(&srv, "FROM users WHERE email LIKE 'd%@example.com' OR email = 'nope'").await, "0");
    assert_eq!(count(&srv, "FROM phones").await, "1");
    assert_eq!(
        post_signed(&srv, "users/import", &ask(json!({"dob": "17/05/1990"}))).await.1,
        error("email is missing, email is empty, password_digest is missing, password_digest is empty, dob is invalid")
    );
}

both!(users_are_imported_in_one_transaction, per_backend = |b| with_management(b, SCOPES, EVENTS_KEPT, import));

async fn profiles(srv: TestServer, keys: Keys) {
    let ask = |data: Value| keys.sign(&claims(data), &BOTH);
    let uid = register(&srv, &srv.client(), "prof@example.com").await["uid"].as_str().expect("uid").to_string();
    let before = queued_events(&srv).await.len();
    let data = json!({"uid": uid, "first_name": "Jean", "last_name": "Dupont", "country": "FR", "state": "submitted",
                      "metadata": "{\"source\":\"kyc\"}"});
    let (s, b) = post_signed(&srv, "profiles", &ask(data)).await;
    assert_eq!((s, b["uid"].as_str()), (201, Some(uid.as_str())), "{b}");
    assert_eq!(
        (b["profiles"][0]["state"].as_str(), b["profiles"][0]["last_name"].as_str()),
        (Some("submitted"), Some("Dupont")),
        "{b}"
    );
    let label = format!(
        "SELECT l.value FROM labels l JOIN users u ON u.id = l.user_id WHERE u.uid = '{uid}' AND l.key = 'profile'"
    );
    assert_eq!(srv.sql_texts(&label).await, ["submitted"]);
    assert_eq!(queued_events(&srv).await[before..], ["model.profile.created", "model.label.created"]);

    let again = ask(json!({"uid": uid, "first_name": "Jean"}));
    assert_eq!(post_signed(&srv, "profiles", &again).await, (422, json!({"error": ["State already exists"]})));
    let other = register(&srv, &srv.client(), "prof2@example.com").await["uid"].as_str().expect("uid").to_string();
    let bad = ask(json!({"uid": other, "first_name": "Jo", "state": "approved"}));
    assert_eq!(
        post_signed(&srv, "profiles", &bad).await,
        (422, json!({"error": ["State is not included in the list"]}))
    );
    let bad = ask(json!({"uid": other, "first_name": "Jo<b>", "postcode": "1"}));
    assert_eq!(
        post_signed(&srv, "profiles", &bad).await,
        (422, json!({"error": ["First name is invalid", "Postcode is too short (minimum is 2 characters)"]}))
    );
    let (s, b) = post_signed(&srv, "profiles", &ask(json!({"uid": other, "city": "Lyon"}))).await;
    assert_eq!(
        (s, b["profiles"][0]["state"].as_str(), b["profiles"][0]["city"].as_str()),
        (201, Some("drafted"), Some("Lyon"))
    );
    let nobody = ask(json!({"uid": "ID0000000000", "first_name": "Jo"}));
    assert_eq!(post_signed(&srv, "profiles", &nobody).await, (422, error("user.doesnt_exist")));
    assert_eq!(
        post_signed(&srv, "profiles", &ask(json!({"first_name": ""}))).await,
        (422, error("uid is missing, uid is empty, first_name is empty"))
    );
}

both!(profiles_are_created, per_backend = |b| with_management(b, SCOPES, EVENTS_KEPT, profiles));
