//! `barongctl keys rotate-master` (issue 12): a rotation killed with SIGKILL halfway resumes at
//! the next start and ends with every sealed value opening under the new key and none under the
//! old one; blind indexes follow, and 2FA, API keys, phones and PII keep working.

use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine;
use hmac::Mac;
use reqwest::Method;

use super::admin_api::admin_url;
use super::documents::{PNG, passport, upload};
use super::*;

/// Every sealed column the test fills (the daemon's list is checked against the schema by a unit
/// test in barongd/src/store/master_key.rs).
const SEALED: &[(&str, &str)] = &[
    ("users", "otp_secret_sealed"),
    ("profiles", "first_name_sealed"),
    ("profiles", "last_name_sealed"),
    ("profiles", "dob_sealed"),
    ("phones", "number_sealed"),
    ("phones", "code"),
    ("documents", "doc_number_sealed"),
    ("api_keys", "secret_sealed"),
    ("signing_keys", "private_sealed"),
    ("event_outbox", "record_sealed"),
];

const NUMBER: &str = "+44 7418 084106";

/// Whether `sealed` (`v1:` + base64 of nonce and ciphertext) opens under `master_hex`.
fn opens(master_hex: &str, sealed: &str) -> bool {
    let key = hex::decode(master_hex).expect("hex key");
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).expect("32-byte key");
    let raw = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(sealed.strip_prefix("v1:").expect("v1 value"))
        .expect("base64");
    let (nonce, ct) = raw.split_at(12);
    cipher.decrypt(aes_gcm::Nonce::from_slice(nonce), ct).is_ok()
}

/// The blind index barongd keeps of `value`, derived from the master key as `Sealer` derives it.
fn blind_index(master_hex: &str, domain: &str, value: &str) -> String {
    let mac = |key: &[u8], msg: &[u8]| {
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("key");
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    };
    let index_key = mac(&hex::decode(master_hex).expect("hex"), b"barong-rs lookup index v1");
    hex::encode(mac(&index_key, format!("{domain}\0{value}").as_bytes()))
}

/// Every non-empty sealed value stored now, named `table.column`.
async fn sealed_values(srv: &TestServer) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (table, column) in SEALED {
        let q = format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> ''");
        for v in srv.sql_texts(&q).await {
            all.push((format!("{table}.{column}"), v));
        }
    }
    all
}

fn status(srv: &TestServer) -> Value {
    ctl_json(srv, &["keys", "master-status"])
}

// One row per batch and a pause after each: slow enough to kill the daemon halfway.
both!(
    rotation_survives_sigkill,
    config = "master_key_rotation: {batch_size: 1, batch_delay_ms: 400}\n",
    |srv: TestServer| async move {
        let mut srv = srv;
        body(&mut srv).await;
    }
);

async fn body(srv: &mut TestServer) {
    // A 2FA user with an API key (made superadmin, so the key reads the Admin API), a profile, a
    // phone waiting for its code and a document; and a few more users with profiles.
    let email = "holder@example.com";
    let (c, csrf, totp) = two_factor_user(srv, email).await;
    let (kid, secret) = create_api_key(srv, &c, &csrf, &totp).await;
    srv.sql(&format!("UPDATE users SET role = 'superadmin' WHERE email = '{email}'")).await;
    let profile = json!({"first_name": "Jean", "last_name": "Dupont", "dob": "1990-05-17", "city": "Lyon",
        "country": "FR", "confirm": true});
    let (s, p) = send_json(&c, Method::POST, &srv.url("resource/profiles"), Some(&csrf), Some(profile)).await;
    assert_eq!(s, 201, "{p}");
    let (s, p) =
        send_json(&c, Method::POST, &srv.url("resource/phones"), Some(&csrf), Some(json!({"phone_number": NUMBER})))
            .await;
    assert_eq!(s, 201, "{p}");
    let sms = srv.sms_outbox();
    let code = regex::Regex::new(r"Your verification code for Barong: (\d{5})\n")
        .expect("re")
        .captures(sms.last().expect("an SMS"))
        .map(|c| c[1].to_string())
        .expect("a code");
    let (s, d) = upload(&c, &srv.url("resource/documents"), &csrf, &passport(&[]), &[("p.png", PNG)]).await;
    assert_eq!(s, 201, "{d}");
    for n in 0..4 {
        let (c2, csrf2) = active_user(srv, &format!("u{n}@example.com")).await;
        let body = json!({"first_name": "Ann", "last_name": format!("Lee{n}"), "country": "FR", "confirm": true});
        let (s, p) = send_json(&c2, Method::POST, &srv.url("resource/profiles"), Some(&csrf2), Some(body)).await;
        assert_eq!(s, 201, "{p}");
    }
    let uid = get(&c, &srv.url("resource/users/me")).await.1["uid"].as_str().expect("uid").to_string();
    let old_key = srv.master_key();
    let before = sealed_values(srv).await;
    for (table, _) in SEALED.iter().filter(|(t, _)| *t != "event_outbox") {
        assert!(before.iter().any(|(name, _)| name.starts_with(&format!("{table}."))), "no sealed {table} value");
    }
    assert!(before.iter().all(|(_, v)| opens(&old_key, v)));

    // Without --yes and without a terminal nothing starts.
    let (code_no, _, err) = srv.ctl(&["keys", "rotate-master"], None);
    assert_eq!(code_no, 2, "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert_eq!(status(srv)["state"], "none");

    let started = ctl_json(srv, &["keys", "rotate-master", "--yes"]);
    assert_eq!(started["state"], "running", "{started}");
    assert_eq!(started["key_source"], "file");
    assert_eq!(started["current_key_id"], started["new_key_id"], "new values are sealed under the new key");
    assert_ne!(started["new_key_id"], started["old_key_id"]);
    let next = srv.data_dir.join("keys/master.key.next");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&next).expect("master.key.next").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let new_key = std::fs::read_to_string(&next).expect("next key").trim().to_string();
    assert_ne!(new_key, old_key);

    // Halfway: some values re-sealed, some not yet. Then SIGKILL.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let s = status(srv);
        assert_eq!(s["state"], "running", "{s}");
        if s["resealed"].as_i64().unwrap_or(0) >= 3 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no progress: {s}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Online: a sign-in with 2FA opens its seed under either key, and a profile written now is
    // sealed under the new key.
    let mid = json!({"email": email, "password": PASSWORD, "otp_code": fresh_code(srv, &totp).await});
    let (s, b) = post(&srv.client(), &srv.url("identity/sessions"), mid).await;
    assert_eq!(s, 200, "2FA login during the rotation: {b}");
    let (c3, csrf3) = active_user(srv, "during@example.com").await;
    let body = json!({"first_name": "Mid", "last_name": "Way", "country": "FR", "confirm": true});
    let (s, p) = send_json(&c3, Method::POST, &srv.url("resource/profiles"), Some(&csrf3), Some(body)).await;
    assert_eq!(s, 201, "{p}");
    let written = srv.sql_texts("SELECT last_name_sealed FROM profiles WHERE last_name_sealed IS NOT NULL").await;
    assert!(written.iter().any(|v| opens(&new_key, v) && !opens(&old_key, v)));
    srv.kill();
    let halfway = sealed_values(srv).await;
    let under_old = halfway.iter().filter(|(_, v)| opens(&old_key, v)).count();
    let under_new = halfway.iter().filter(|(_, v)| opens(&new_key, v)).count();
    assert!(under_old > 0 && under_new > 0, "killed halfway: {under_old} old, {under_new} new");
    assert!(halfway.iter().all(|(_, v)| opens(&old_key, v) || opens(&new_key, v)));
    assert_eq!(srv.sql_texts("SELECT new_key_id FROM master_key_rotations WHERE finished_at IS NULL").await.len(), 1);

    // The next start continues on its own and finishes.
    srv.restart();
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let done = loop {
        let s = status(srv);
        if s["state"] == "finished" {
            break s;
        }
        assert_eq!(s["state"], "running", "{s}");
        assert!(std::time::Instant::now() < deadline, "not finished: {s}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(done["current_key_id"], done["new_key_id"], "{done}");
    assert!(srv.logs().contains("continuing the unfinished master-key rotation"));
    assert!(!next.exists(), "master.key.next is gone once it is master.key");
    assert_eq!(srv.master_key(), new_key);

    // Every sealed value opens under the new key and none under the old one.
    let after = sealed_values(srv).await;
    assert!(after.len() >= before.len() - before.iter().filter(|(n, _)| n.starts_with("event_outbox")).count());
    for (name, v) in &after {
        assert!(opens(&new_key, v), "{name} does not open under the new key");
        assert!(!opens(&old_key, v), "{name} still opens under the old key");
    }
    // Blind indexes are under the new key only.
    let phone_index = srv.sql_texts("SELECT number_index FROM phones").await;
    assert_eq!(phone_index, [blind_index(&new_key, "phone", "447418084106")]);
    let doc_index = srv.sql_texts("SELECT doc_number_index FROM documents").await;
    assert_eq!(doc_index, [blind_index(&new_key, "document", "AB123456CD")]);

    // And the daemon works with them: 2FA login, the phone's code found by its number, the API key
    // signs an Admin API read of the PII.
    let c = srv.client();
    let login = json!({"email": email, "password": PASSWORD, "otp_code": fresh_code(srv, &totp).await});
    let (s, b) = post(&c, &srv.url("identity/sessions"), login).await;
    assert_eq!(s, 200, "2FA login: {b}");
    let csrf = b["csrf_token"].as_str().expect("csrf").to_string();
    let verify = json!({"phone_number": NUMBER, "verification_code": code});
    let (s, b) = send_json(&c, Method::POST, &srv.url("resource/phones/verify"), Some(&csrf), Some(verify)).await;
    assert_eq!(s, 201, "phone verify: {b}");
    let bare = reqwest::Client::new();
    let signed = || {
        let mut r = bare.get(admin_url(srv, &format!("users/{uid}")));
        for (k, v) in signed_headers(&kid, &secret, now_ms()) {
            r = r.header(k, v);
        }
        r
    };
    let (s, user) = read(signed().send().await.expect("admin read")).await;
    assert_eq!(s, 200, "{user}");
    let p = &user["profiles"][0];
    assert_eq!((p["first_name"].as_str(), p["last_name"].as_str()), (Some("Jean"), Some("Dupont")), "{user}");
    assert_eq!(p["dob"], "1990-05-17", "{user}");
}

// With BARONG_MASTER_KEY every daemon of the database would need the new key at once: refused,
// with the reason, and nothing is written.
both!(
    an_env_master_key_is_not_rotated,
    options = Options { env: vec![("BARONG_MASTER_KEY".into(), "ab".repeat(32))], ..Default::default() },
    |srv: TestServer| async move {
        let (code, out, err) = srv.ctl(&["--json", "keys", "rotate-master", "--yes"], None);
        assert_ne!(code, 0, "{out}");
        assert!(err.contains("admin.master_key.from_env"), "{err}");
        assert!(!srv.data_dir.join("keys/master.key.next").exists());
        let s = status(&srv);
        assert_eq!((s["state"].as_str(), s["key_source"].as_str()), (Some("none"), Some("env")), "{s}");
        assert!(srv.sql_texts("SELECT new_key_id FROM master_key_rotations").await.is_empty());
    }
);

// `--wait` follows a rotation to its end; a second rotation starts from the first one's key.
both!(rotate_master_waits_and_rotates_again, |srv: TestServer| async move {
    let (c, csrf, totp) = two_factor_user(&srv, "again@example.com").await;
    let (kid, secret) = create_api_key(&srv, &c, &csrf, &totp).await;
    let first = srv.master_key();
    let done = ctl_json(&srv, &["keys", "rotate-master", "--yes", "--wait"]);
    assert_eq!(done["state"], "finished", "{done}");
    let second = srv.master_key();
    assert_ne!(first, second);
    let done = ctl_json(&srv, &["keys", "rotate-master", "--yes", "--wait"]);
    assert_eq!(done["state"], "finished", "{done}");
    assert_eq!(done["old_key_id"].as_str().map(str::len), Some(16), "{done}");
    let third = srv.master_key();
    assert!(third != second && third != first);
    for (name, v) in sealed_values(&srv).await {
        assert!(opens(&third, &v) && !opens(&second, &v) && !opens(&first, &v), "{name}");
    }
    // The API key still signs, after two rotations, without a restart.
    let bare = reqwest::Client::new();
    let url = auth_url(&srv, "api/v2/peatio/account/balances");
    let (s, auth, body, _) = authz_call(&bare, Method::GET, &url, &signed_headers(&kid, &secret, now_ms())).await;
    assert_eq!(s, 200, "{body}");
    assert!(auth.is_some_and(|a| a.starts_with("Bearer ")));
});
