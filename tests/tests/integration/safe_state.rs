//! The safe state of accounts and keys whose Barong secrets were not carried (migration spec
//! §2.8.5): an account with 2FA on and no seed signs in with nothing short of the operator's
//! `user reset-2fa`, its carried API keys keep working, and a key without its secret stays
//! disabled. The importer writes these rows; here the test writes them with SQL on the daemon's
//! own database, as the importer would, after making the rest through the API.

use reqwest::Method;

use super::events::{Consumer, amqp_url, events_config};
use super::*;

const EMAIL: &str = "migrated@example.com";
/// A key as the importer leaves one whose secret Vault kept.
const LOST_KID: &str = "faa4dd17b2d84284";

/// A login attempt: status, body, and whether the reply set a cookie.
async fn login(srv: &TestServer, password: &str, otp_code: Option<&str>) -> (u16, Value, bool) {
    let mut body = json!({"email": EMAIL, "password": password});
    if let Some(code) = otp_code {
        body["otp_code"] = json!(code);
    }
    let r = srv.client().post(srv.url("identity/sessions")).json(&body).send().await.expect("login");
    let cookie = r.headers().contains_key("set-cookie");
    let (s, v) = read(r).await;
    (s, v, cookie)
}

/// The gateway's answer to a request signed with `kid`/`secret`.
async fn gateway(srv: &TestServer, kid: &str, secret: &str) -> (u16, Value) {
    let url = auth_url(srv, "api/v2/peatio/account/balances");
    let got = authz_call(&reqwest::Client::new(), Method::GET, &url, &signed_headers(kid, secret, now_ms())).await;
    (got.0, got.2)
}

/// `user show --json`'s keys, by kid.
fn keys_shown(srv: &TestServer) -> Vec<Value> {
    ctl_json(srv, &["user", "show", EMAIL])["api_keys"].as_array().expect("api_keys").clone()
}

/// The next `model.user.updated` of `uid` whose `changes` name `otp`.
async fn next_otp_change(consumer: &mut Consumer, uid: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let claims = consumer.next_claims(left).await.expect("a model.user.updated with changes.otp");
        let event = &claims["event"];
        if event["name"] == "model.user.updated"
            && event["record"]["uid"] == uid
            && event["changes"].get("otp").is_some()
        {
            return event.clone();
        }
    }
}

both!(safe_state_and_reset_2fa, per_backend = safe_state_and_reset_2fa);
/// The whole path of a migrated 2FA account: refused sign-in, working bots, a key that cannot
/// come back, the operator's reset with a reason, then a password sign-in and a new enrolment.
async fn safe_state_and_reset_2fa(backend: Backend) {
    // Events are checked when RabbitMQ answers; everything else runs either way.
    let consumer = Consumer::connect(&[("barong.events.model", "user.updated")]).await;
    let config = if consumer.is_some() { events_config(&amqp_url()) } else { String::new() };
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    within_limit(srv, |srv| async move {
        let mut consumer = consumer;
        // Level 2 is "2FA on", so taking the label away must bring the level down.
        srv.sql("UPDATE levels SET key = 'otp', value = 'enabled' WHERE id = 2").await;
        let (c, csrf, totp) = two_factor_user(&srv, EMAIL).await;
        let (kid, secret) = create_api_key(&srv, &c, &csrf, &totp).await;
        let uid = ctl_json(&srv, &["user", "show", EMAIL])["uid"].as_str().expect("uid").to_string();
        assert_eq!(ctl_json(&srv, &["user", "show", EMAIL])["level"], 2);

        // What the importer writes for a user whose seed Vault kept, and for a key whose secret
        // it kept: 2FA and the label stay, the seed is NULL; the key has no secret, disabled.
        srv.sql(&format!(
            "UPDATE users SET otp_secret_sealed = NULL, otp_last_step = NULL WHERE email = '{EMAIL}';
             INSERT INTO api_keys (key_holder_account_id, key_holder_account_type, kid, algorithm, scope,
               secret_sealed, state, created_at, updated_at, secret_unavailable)
             SELECT id, 'User', '{LOST_KID}', 'HS256', '[\"trade\"]', '', 'disabled', 1600000000, 1600000000, TRUE
             FROM users WHERE email = '{EMAIL}'"
        ))
        .await;
        let shown = ctl_json(&srv, &["user", "show", EMAIL]);
        assert_eq!((shown["otp"].as_bool(), shown["totp"].as_str()), (Some(true), Some("seed_missing")), "{shown}");
        let (code, text, err) = srv.ctl(&["user", "show", EMAIL], None);
        assert!(code == 0 && text.contains("seed_missing") && text.contains("secret not migrated"), "{text} {err}");

        // Sign-in: a wrong password is an ordinary failure; the right one is refused whatever the
        // code, with no session.
        let (s, v, cookie) = login(&srv, "Wrong-pass-123", None).await;
        assert_err(&(s, v), 401, &["identity.session.invalid_params"]);
        assert!(!cookie);
        let current = totp.generate_current().expect("clock");
        for code in [None, Some("123456"), Some(current.as_str())] {
            let (s, v, cookie) = login(&srv, PASSWORD, code).await;
            assert_err(&(s, v), 403, &["identity.session.otp_reset_required"]);
            assert!(!cookie, "no session for a refused sign-in");
        }
        let refusals = srv
            .sql_texts(
                "SELECT a.action || '|' || a.result || '|' || COALESCE(a.data, '') FROM activities a \
                 JOIN users u ON u.id = a.user_id WHERE a.topic = 'session' AND a.result = 'failed' ORDER BY a.id",
            )
            .await;
        assert_eq!(refusals.len(), 4, "{refusals:?}");
        assert!(refusals[0].starts_with("login|failed|") && refusals[0].contains("Invalid Email or Password"));
        assert!(
            refusals[1..].iter().all(|r| r.starts_with("login::2fa|failed|") && r.contains("2FA seed not migrated"))
        );

        // Every 2FA-gated action answers its invalid-code key (the old session is still open).
        let code = totp.generate_current().expect("clock");
        let body = json!({"algorithm": "HS256", "totp_code": code});
        let got = send_json(&c, Method::POST, &srv.url("resource/api_keys"), Some(&csrf), Some(body)).await;
        assert_err(&got, 422, &["resource.api_key.invalid_totp"]);
        let got =
            send_json(&c, Method::POST, &srv.url("resource/otp/disable"), Some(&csrf), Some(json!({"code": code})))
                .await;
        assert_err(&got, 422, &["resource.otp.invalid"]);

        // Bots keep trading with the carried key; the key without its secret is refused as the
        // disabled key it is, whatever it is signed with.
        assert_eq!(gateway(&srv, &kid, &secret).await.0, 200);
        let refused = gateway(&srv, LOST_KID, &"0".repeat(32)).await;
        assert_err(&refused, 401, &["authz.apikey_not_active"]);
        let lost = keys_shown(&srv).into_iter().find(|k| k["kid"] == LOST_KID).expect("the lost key is listed");
        assert_eq!((lost["state"].as_str(), lost["secret_unavailable"].as_bool()), (Some("disabled"), Some(true)));

        // The way out needs a reason.
        let (code, _, err) = srv.ctl(&["user", "reset-2fa", &uid], None);
        assert_eq!(code, 2, "no --reason: {err}");
        assert!(err.contains("--reason"), "{err}");
        let (code, _, err) = srv.ctl(&["user", "reset-2fa", &uid, "--reason", "  "], None);
        assert_eq!(code, 2, "blank reason: {err}");
        assert!(err.contains("--reason"), "{err}");
        let reason = "ticket 4711: identity checked on a video call";
        let r = ctl_json(&srv, &["user", "reset-2fa", &uid, "--reason", reason]);
        assert_eq!(
            (r["totp_before"].as_str(), r["otp"].as_bool(), r["otp_label_removed"].as_bool()),
            (Some("seed_missing"), Some(false), Some(true)),
            "{r}"
        );
        assert_eq!((r["level_before"].as_i64(), r["level"].as_i64()), (Some(2), Some(1)), "{r}");
        assert_eq!(r["api_keys_disabled"], json!([kid]), "only the active key: {r}");
        assert!(r["sessions_ended"].as_u64().is_some_and(|n| n >= 1), "the session opened above: {r}");
        assert_eq!(r["reason"], reason, "{r}");
        // Once only.
        let (code, out, _) = srv.ctl(&["--json", "user", "otp-reset", &uid, "--reason", reason], None);
        assert_eq!(code, 1, "{out}");
        assert!(out.contains("admin.user.otp_no_change"), "{out}");

        // The admin activity names the operator and the reason.
        let rows = srv
            .sql_texts(
                "SELECT COALESCE(data, '') FROM activities WHERE category = 'admin' AND user_ip = 'local' ORDER BY id",
            )
            .await;
        let row = rows.iter().rev().find(|d| d.contains(reason)).unwrap_or_else(|| panic!("no reason in {rows:?}"));
        assert!(row.contains("barongctl") && row.contains("os_uid"), "{row}");

        // The old session is over; the carried key is disabled like any key of a reset account.
        eventually(Duration::from_secs(2), || async { get(&c, &srv.url("resource/users/me")).await.0 == 401 }).await;
        eventually(Duration::from_secs(2), || async {
            errors(&gateway(&srv, &kid, &secret).await.1) == ["authz.apikey_not_active"]
        })
        .await;

        // The password alone signs in now; no otp label, level recomputed.
        let (s, me, cookie) = login(&srv, PASSWORD, None).await;
        assert_eq!((s, cookie), (200, true), "{me}");
        assert_eq!((me["otp"].as_bool(), me["level"].as_i64()), (Some(false), Some(1)), "{me}");
        assert!(!me["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "otp"), "{me}");
        let seed = srv
            .sql_texts(&format!("SELECT COALESCE(otp_secret_sealed, 'none') FROM users WHERE email = '{EMAIL}'"))
            .await;
        assert_eq!(seed, ["none"]);

        // Enrolled again, the user sees the lost key, cannot bring it back, and can delete it.
        let (c, csrf) = fixed_cookie_client(&srv, EMAIL).await;
        let (totp, _) = setup_totp(&srv, &c, &csrf).await;
        let code = fresh_code(&srv, &totp).await;
        let got =
            send_json(&c, Method::POST, &srv.url("resource/otp/enable"), Some(&csrf), Some(json!({"code": code})))
                .await;
        assert_eq!(got, (201, json!(200)));
        let (s, list) = get(&c, &srv.url("resource/api_keys")).await;
        assert_eq!(s, 200, "{list}");
        let listed = list.as_array().expect("keys").iter().find(|k| k["kid"] == LOST_KID).cloned().expect("listed");
        assert_eq!(listed["secret_unavailable"], true, "{listed}");
        let normal = list.as_array().expect("keys").iter().find(|k| k["kid"] == kid.as_str()).cloned().expect("listed");
        assert!(normal.get("secret_unavailable").is_none(), "Barong's entity shape for other keys: {normal}");
        let key_url = srv.url(&format!("resource/api_keys/{LOST_KID}"));
        let body = json!({"state": "active", "totp_code": fresh_code(&srv, &totp).await});
        let got = send_json(&c, Method::PATCH, &key_url, Some(&csrf), Some(body)).await;
        assert_err(&got, 422, &["resource.api_key.secret_unavailable"]);
        let got = send_json(
            &c,
            Method::DELETE,
            &format!("{key_url}?totp_code={}", fresh_code(&srv, &totp).await),
            Some(&csrf),
            None,
        )
        .await;
        assert!(got.0 < 300, "delete: {got:?}");
        assert!(keys_shown(&srv).iter().all(|k| k["kid"] != LOST_KID));

        if let Some(consumer) = consumer.as_mut() {
            let e = next_otp_change(consumer, &uid).await;
            assert_eq!(
                (e["changes"]["otp"].as_bool(), e["record"]["otp"].as_bool()),
                (Some(false), Some(true)),
                "enrolment: {e}"
            );
            let e = next_otp_change(consumer, &uid).await;
            assert_eq!(
                (e["changes"]["otp"].as_bool(), e["record"]["otp"].as_bool()),
                (Some(true), Some(false)),
                "reset: {e}"
            );
        }
    })
    .await;
}

both!(reset_2fa_of_an_account_with_its_seed, |srv: TestServer| async move {
    // The same command for an ordinary 2FA account: it leaves with the seed discarded.
    let (_c, _csrf, _totp) = two_factor_user(&srv, "kept@example.com").await;
    let shown = ctl_json(&srv, &["user", "show", "kept@example.com"]);
    assert_eq!(shown["totp"], "active");
    let uid = shown["uid"].as_str().expect("uid").to_string();
    let (code, text, err) = srv.ctl(&["user", "reset-2fa", &uid, "--reason", "lost phone, verified in person"], None);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("active -> off") && text.contains("lost phone"), "{text}");
    let shown = ctl_json(&srv, &["user", "show", "kept@example.com"]);
    assert_eq!((shown["otp"].as_bool(), shown["totp"].as_str()), (Some(false), Some("off")));
    let seed =
        srv.sql_texts("SELECT COALESCE(otp_secret_sealed, 'none') FROM users WHERE email = 'kept@example.com'").await;
    assert_eq!(seed, ["none"]);
});
