//! resource/phones with the fixed phone codes (docs/barong-weaknesses-fixed.md#w-phone-codes):
//! codes from the SMS outbox file, Twilio SMS and Twilio Verify against a fake, expiry, attempt
//! and resend limits.

use reqwest::Method;

use super::*;

const NUMBER: &str = "+44 07418084106";
const STORED: &str = "447418084106";
const OTHER: &str = "+1 (415) 555-2671";

async fn call(srv: &TestServer, c: &reqwest::Client, csrf: &str, path: &str, body: Value) -> (u16, Value) {
    send_json(c, Method::POST, &srv.url(&format!("resource/{path}")), Some(csrf), Some(body)).await
}

fn sent_via(channel: &str) -> Value {
    json!({"message": format!("Code was sent successfully via {channel}")})
}

/// The code in the newest SMS file, after checking it went to `to`.
fn last_code(srv: &TestServer, to: &str) -> String {
    let sms = srv.sms_outbox();
    let last = sms.last().expect("an SMS in the outbox");
    assert!(last.contains(&format!("To: {to}\n")), "{last}");
    let re = regex::Regex::new(r"Your verification code for Barong: (\d{5})\n").expect("re");
    re.captures(last).map(|c| c[1].to_string()).unwrap_or_else(|| panic!("no code in {last}"))
}

/// Moves the last send back, past the resend interval.
async fn age_send(srv: &TestServer) {
    srv.sql(
        "UPDATE phones SET code_sent_at = code_sent_at - 61, sends_window_started_at = sends_window_started_at - 61",
    )
    .await;
}

both!(happy_path_reads_the_code_from_the_outbox, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "phone@example.com").await;
    let got = call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await;
    assert_eq!(got, (201, sent_via("sms")));
    assert_eq!(srv.sms_outbox().len(), 1);
    let code = last_code(&srv, &format!("+{STORED}"));
    // The number and the code are sealed at rest; the index is a keyed hash.
    for column in ["number_sealed", "number_index", "code"] {
        for v in srv.sql_texts(&format!("SELECT {column} FROM phones")).await {
            assert!(!v.contains("7418084106") && !v.contains(&code), "{column} holds {v}");
        }
    }
    assert_eq!(srv.sql_texts("SELECT country FROM phones").await, vec!["GB"]);

    // send_code resends the same code (once the resend interval has passed).
    age_send(&srv).await;
    let got =
        call(&srv, &c, &csrf, "phones/send_code", json!({"phone_number": "447418084106", "channel": "sms"})).await;
    assert_eq!(got, (201, sent_via("sms")));
    assert_eq!(srv.sms_outbox().len(), 2);
    assert_eq!(last_code(&srv, &format!("+{STORED}")), code);

    let (s, list) = get(&c, &srv.url("resource/phones")).await;
    assert_eq!((s, list), (200, json!([{"country": "GB", "number": "44******4106", "validated_at": null}])));

    let (s, user) =
        call(&srv, &c, &csrf, "phones/verify", json!({"phone_number": NUMBER, "verification_code": code})).await;
    assert_eq!(s, 201, "{user}");
    assert_eq!(user["level"], 2);
    assert_eq!(user["state"], "active");
    let labels = user["labels"].as_array().expect("labels");
    assert!(
        labels.iter().any(|l| l["key"] == "phone" && l["value"] == "verified" && l["scope"] == "private"),
        "{user}"
    );
    let validated = user["phones"][0]["validated_at"].as_str().expect("validated_at").to_string();
    assert!(validated.ends_with(".000Z") && validated.len() == 24, "{validated}");
    assert_eq!(user["phones"][0]["number"], "44******4106");

    // Both path forms, and users/me, show the same verified phone.
    let internal = format!("{}/api/v2/resource/phones", srv.base);
    let (s, list) = get(&c, &internal).await;
    assert_eq!((s, list), (200, json!([{"country": "GB", "number": "44******4106", "validated_at": validated}])));
    let (s, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!(s, 200);
    assert_eq!(me["phones"], user["phones"]);
    assert_eq!(me["level"], 2);
    // A verified code is forgotten.
    assert_eq!(srv.sql_texts("SELECT COALESCE(code, 'none') FROM phones").await, vec!["none"]);

    let logs = srv.logs();
    assert!(!logs.contains("7418084106") && !logs.contains(&code), "number or code logged");
});

both!(errors_follow_the_spec_order, |srv: TestServer| async move {
    // Authentication comes first.
    let anon = srv.client();
    assert_err(&get(&anon, &srv.url("resource/phones")).await, 401, &["authz.invalid_session"]);
    for path in ["phones", "phones/send_code", "phones/verify"] {
        let (s, body) = post(&anon, &srv.url(&format!("resource/{path}")), json!({})).await;
        assert_eq!(s, 401, "{path}: {body}");
    }

    let (c, csrf) = active_user(&srv, "errors@example.com").await;
    for path in ["phones", "phones/send_code"] {
        assert_err(
            &call(&srv, &c, &csrf, path, json!({"channel": "fax"})).await,
            422,
            &[
                "resource.phone.missing_phone_number",
                "resource.phone.empty_phone_number",
                "resource.phone.invalid_channel",
            ],
        );
        assert_err(
            &call(&srv, &c, &csrf, path, json!({"phone_number": " "})).await,
            422,
            &["resource.phone.empty_phone_number"],
        );
        assert_err(
            &call(&srv, &c, &csrf, path, json!({"phone_number": NUMBER, "channel": ""})).await,
            422,
            &["resource.phone.invalid_channel"],
        );
        assert_err(
            &call(&srv, &c, &csrf, path, json!({"phone_number": "12345"})).await,
            400,
            &["resource.phone.invalid_num"],
        );
    }
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", json!({"verification_code": ""})).await,
        422,
        &[
            "resource.phone.missing_phone_number",
            "resource.phone.empty_phone_number",
            "resource.phone.empty_verification_code",
        ],
    );
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", json!({"phone_number": "x"})).await,
        422,
        &["resource.phone.missing_verification_code", "resource.phone.empty_verification_code"],
    );
    let verify = |n: &str, code: &str| json!({"phone_number": n, "verification_code": code});
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", verify("abc", "12345")).await,
        400,
        &["resource.phone.invalid_num"],
    );
    // Not the user's phone.
    assert_err(
        &call(&srv, &c, &csrf, "phones/send_code", json!({"phone_number": NUMBER})).await,
        404,
        &["resource.phone.doesnt_exist"],
    );
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", verify(NUMBER, "12345")).await,
        404,
        &["resource.phone.doesnt_exist"],
    );

    assert_eq!(
        call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER, "channel": "call"})).await,
        (201, sent_via("call"))
    );
    assert!(srv.sms_outbox().last().expect("sms").contains("Channel: call"));
    // The same number in another spelling is the same phone.
    assert_err(
        &call(&srv, &c, &csrf, "phones", json!({"phone_number": STORED})).await,
        400,
        &["resource.phone.exists"],
    );
    let code = last_code(&srv, &format!("+{STORED}"));
    let wrong = if code == "00000" { "11111" } else { "00000" };
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", verify(NUMBER, wrong)).await,
        404,
        &["resource.phone.verification_invalid"],
    );

    // Another user may add the number while it is unverified...
    let (b, b_csrf) = active_user(&srv, "second@example.com").await;
    assert_eq!(call(&srv, &b, &b_csrf, "phones", json!({"phone_number": NUMBER})).await.0, 201);
    let (s, _) = call(&srv, &c, &csrf, "phones/verify", verify(NUMBER, &code)).await;
    assert_eq!(s, 201);
    // ...but once verified by anyone, the number is taken, for its owner too (before `exists`).
    for (client, token) in [(&b, &b_csrf), (&c, &csrf)] {
        assert_err(
            &call(&srv, client, token, "phones", json!({"phone_number": NUMBER})).await,
            400,
            &["resource.phone.number_exist"],
        );
        assert_err(
            &call(&srv, client, token, "phones/send_code", json!({"phone_number": NUMBER})).await,
            400,
            &["resource.phone.number_exist"],
        );
        assert_err(
            &call(&srv, client, token, "phones/verify", verify(NUMBER, &code)).await,
            400,
            &["resource.phone.number_exist"],
        );
    }
    let (_, b_me) = get(&b, &srv.url("resource/users/me")).await;
    assert_eq!((b_me["level"].as_i64(), b_me["phones"][0]["validated_at"].is_null()), (Some(1), true));
});

both!(expired_codes_are_refused_and_replaced, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "expiry@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": OTHER})).await.0, 201);
    let old = last_code(&srv, "+14155552671");
    assert_eq!(srv.sql_texts("SELECT country FROM phones").await, vec!["US"]);
    srv.sql("UPDATE phones SET code_expires_at = code_expires_at - 601").await;
    let verify = |code: &str| json!({"phone_number": OTHER, "verification_code": code});
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", verify(&old)).await,
        404,
        &["resource.phone.verification_invalid"],
    );
    // send_code after expiry makes a fresh code; the old one stays dead.
    age_send(&srv).await;
    assert_eq!(call(&srv, &c, &csrf, "phones/send_code", json!({"phone_number": OTHER})).await.0, 201);
    let fresh = last_code(&srv, "+14155552671");
    assert_ne!(fresh, old, "a fresh code after expiry");
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", verify(&old)).await,
        404,
        &["resource.phone.verification_invalid"],
    );
    let (s, user) = call(&srv, &c, &csrf, "phones/verify", verify(&fresh)).await;
    assert_eq!((s, user["phones"][0]["number"].as_str()), (201, Some("1******2671")));
});

both!(wrong_codes_void_the_code_after_the_attempt_limit, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "attempts@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await.0, 201);
    let code = last_code(&srv, &format!("+{STORED}"));
    let verify = |code: &str| json!({"phone_number": NUMBER, "verification_code": code});
    let wrong: Vec<String> =
        (0..5).map(|i| format!("{:05}", (code.parse::<u32>().expect("digits") + 1 + i) % 100_000)).collect();
    for w in &wrong {
        assert_err(
            &call(&srv, &c, &csrf, "phones/verify", verify(w)).await,
            404,
            &["resource.phone.verification_invalid"],
        );
    }
    // The sixth try fails even with the right code: the code is void.
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", verify(&code)).await,
        404,
        &["resource.phone.verification_invalid"],
    );
    age_send(&srv).await;
    assert_eq!(call(&srv, &c, &csrf, "phones/send_code", json!({"phone_number": NUMBER})).await.0, 201);
    let fresh = last_code(&srv, &format!("+{STORED}"));
    assert_ne!(fresh, code, "a voided code is replaced");
    let (s, user) = call(&srv, &c, &csrf, "phones/verify", verify(&fresh)).await;
    assert_eq!((s, user["level"].as_i64()), (201, Some(2)));
});

both!(resends_wait_the_interval, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "resend@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await.0, 201);
    let send = json!({"phone_number": NUMBER});
    assert_err(
        &call(&srv, &c, &csrf, "phones/send_code", send.clone()).await,
        429,
        &["resource.phone.too_many_requests"],
    );
    assert_eq!(srv.sms_outbox().len(), 1, "a refused resend sends nothing");
    age_send(&srv).await;
    assert_eq!(call(&srv, &c, &csrf, "phones/send_code", send.clone()).await.0, 201);
    assert_err(&call(&srv, &c, &csrf, "phones/send_code", send).await, 429, &["resource.phone.too_many_requests"]);
});

both!(
    sends_per_hour_are_capped,
    config = "phone_code_resend_interval: 0\nphone_code_max_sends_per_hour: 3\n",
    |srv: TestServer| async move {
        let (c, csrf) = active_user(&srv, "hourly@example.com").await;
        assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await.0, 201);
        let send = json!({"phone_number": NUMBER});
        for _ in 0..2 {
            assert_eq!(call(&srv, &c, &csrf, "phones/send_code", send.clone()).await.0, 201);
        }
        assert_err(
            &call(&srv, &c, &csrf, "phones/send_code", send.clone()).await,
            429,
            &["resource.phone.too_many_requests"],
        );
        assert_eq!(srv.sms_outbox().len(), 3);
        // A new hour opens a new window.
        srv.sql("UPDATE phones SET sends_window_started_at = sends_window_started_at - 3600").await;
        assert_eq!(call(&srv, &c, &csrf, "phones/send_code", send).await.0, 201);
    }
);

both!(phones_per_user_are_capped, config = "phone_max_per_user: 2\n", |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "many@example.com").await;
    for n in [NUMBER, OTHER] {
        assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": n})).await.0, 201);
    }
    // A number already held keeps Barong's answer; a third one is refused and sends nothing.
    assert_err(
        &call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await,
        400,
        &["resource.phone.exists"],
    );
    let third = json!({"phone_number": "+49 30 901820"});
    assert_err(&call(&srv, &c, &csrf, "phones", third).await, 400, &["resource.phone.limit_reached"]);
    assert_eq!(srv.sms_outbox().len(), 2);
    assert_eq!(get(&c, &srv.url("resource/phones")).await.1.as_array().map(Vec::len), Some(2));
});

fn twilio_sms_config(url: &str) -> String {
    format!(
        "phone_verification: twilio_sms\ntwilio_account_sid: AC123\ntwilio_auth_token: tw-token-secret\n\
         twilio_phone_number: \"+15005550006\"\ntwilio_api_url: {url}\n"
    )
}

async fn spawn_with_config(backend: Backend, config: String) -> Option<TestServer> {
    TestServer::spawn_with(backend, Options { config, ..Default::default() }).await
}

async fn twilio_sms_sends_through_the_messages_api(backend: Backend) {
    let (url, seen) = fake_http_requests(201, r#"{"sid": "SM1", "status": "queued"}"#).await;
    let Some(srv) = spawn_with_config(backend, twilio_sms_config(&url)).await else { return };
    let (c, csrf) = active_user(&srv, "twilio@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await, (201, sent_via("sms")));
    let request = seen.lock().expect("lock").last().cloned().expect("Twilio called");
    assert!(request.starts_with("POST /2010-04-01/Accounts/AC123/Messages.json HTTP/1.1\r\n"), "{request}");
    assert!(
        request.to_ascii_lowercase().contains("authorization: basic qumxmjm6dhctdg9rzw4tc2vjcmv0\r\n"),
        "{request}"
    );
    let body = request.split("\r\n\r\n").nth(1).expect("body");
    assert!(body.contains("From=%2B15005550006") && body.contains("To=%2B447418084106"), "{body}");
    let re = regex::Regex::new(r"Body=Your\+verification\+code\+for\+Barong%3A\+(\d{5})").expect("re");
    let code = re.captures(body).map(|m| m[1].to_string()).unwrap_or_else(|| panic!("no code in {body}"));
    assert!(srv.sms_outbox().is_empty(), "no outbox file under twilio_sms");

    // A call reads the same code through the Calls API.
    age_send(&srv).await;
    assert_eq!(
        call(&srv, &c, &csrf, "phones/send_code", json!({"phone_number": NUMBER, "channel": "call"})).await,
        (201, sent_via("call"))
    );
    let request = seen.lock().expect("lock").last().cloned().expect("Twilio called");
    assert!(request.starts_with("POST /2010-04-01/Accounts/AC123/Calls.json "), "{request}");
    let spaced: String = code.chars().map(String::from).collect::<Vec<_>>().join("+");
    assert!(request.contains("Twiml=%3CResponse%3E%3CSay%3E") && request.contains(&spaced), "{request}");

    let (s, user) =
        call(&srv, &c, &csrf, "phones/verify", json!({"phone_number": NUMBER, "verification_code": code})).await;
    assert_eq!((s, user["level"].as_i64()), (201, Some(2)), "{user}");
    let logs = srv.logs();
    assert!(!logs.contains("tw-token-secret") && !logs.contains("7418084106") && !logs.contains(&code), "leak in logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_sms_sqlite() {
    twilio_sms_sends_through_the_messages_api(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_sms_postgres() {
    twilio_sms_sends_through_the_messages_api(Backend::Postgres).await;
}

async fn twilio_errors_map_to_barong_keys(backend: Backend) {
    let (url, _) = fake_http_requests(400, r#"{"code": 21614, "message": "not a mobile number", "status": 400}"#).await;
    let Some(srv) = spawn_with_config(backend, twilio_sms_config(&url)).await else { return };
    let (c, csrf) = active_user(&srv, "twilio-error@example.com").await;
    assert_err(
        &call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await,
        422,
        &["resource.phone.num_not_valid"],
    );
    // A failed send does not count against the resend limit.
    assert_err(
        &call(&srv, &c, &csrf, "phones/send_code", json!({"phone_number": NUMBER})).await,
        422,
        &["resource.phone.num_not_valid"],
    );

    let (url, _) = fake_http_requests(400, r#"{"code": 21612, "status": 400}"#).await;
    let Some(srv) = spawn_with_config(backend, twilio_sms_config(&url)).await else { return };
    let (c, csrf) = active_user(&srv, "twilio-unreachable-number@example.com").await;
    assert_err(
        &call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await,
        422,
        &["resource.phone.num_not_reachable"],
    );

    // Twilio down: a quick refusal, never a hang.
    let Some(srv) = spawn_with_config(backend, twilio_sms_config("http://127.0.0.1:9")).await else { return };
    let (c, csrf) = active_user(&srv, "twilio-down@example.com").await;
    let started = std::time::Instant::now();
    assert_err(
        &call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await,
        422,
        &["resource.phone.twilio_unexpected"],
    );
    assert!(started.elapsed() < Duration::from_secs(6));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_errors_sqlite() {
    twilio_errors_map_to_barong_keys(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_errors_postgres() {
    twilio_errors_map_to_barong_keys(Backend::Postgres).await;
}

fn twilio_verify_config(url: &str) -> String {
    format!(
        "phone_verification: twilio_verify\ntwilio_account_sid: AC123\ntwilio_auth_token: tw-token-secret\n\
         twilio_service_sid: VA123\ntwilio_verify_url: {url}\n"
    )
}

async fn twilio_verify_checks_codes_remotely(backend: Backend) {
    let (url, seen) = fake_http_requests(200, r#"{"sid": "VE1", "status": "approved"}"#).await;
    let Some(srv) = spawn_with_config(backend, twilio_verify_config(&url)).await else { return };
    let (c, csrf) = active_user(&srv, "verify@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await, (201, sent_via("sms")));
    let request = seen.lock().expect("lock").last().cloned().expect("Twilio called");
    assert!(request.starts_with("POST /v2/Services/VA123/Verifications HTTP/1.1\r\n"), "{request}");
    assert!(
        request.to_ascii_lowercase().contains("authorization: basic qumxmjm6dhctdg9rzw4tc2vjcmv0\r\n"),
        "{request}"
    );
    assert!(request.ends_with("To=%2B447418084106&Channel=sms"), "{request}");
    assert!(srv.sms_outbox().is_empty());
    let (s, user) =
        call(&srv, &c, &csrf, "phones/verify", json!({"phone_number": NUMBER, "verification_code": "424242"})).await;
    assert_eq!((s, user["level"].as_i64()), (201, Some(2)), "{user}");
    let request = seen.lock().expect("lock").last().cloned().expect("Twilio called");
    assert!(request.starts_with("POST /v2/Services/VA123/VerificationCheck HTTP/1.1\r\n"), "{request}");
    assert!(request.ends_with("To=%2B447418084106&Code=424242"), "{request}");

    // Twilio says "pending": the code is wrong.
    let (url, _) = fake_http_requests(200, r#"{"sid": "VE1", "status": "pending"}"#).await;
    let Some(srv) = spawn_with_config(backend, twilio_verify_config(&url)).await else { return };
    let (c, csrf) = active_user(&srv, "pending@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER, "channel": "call"})).await.0, 201);
    assert_err(
        &call(&srv, &c, &csrf, "phones/verify", json!({"phone_number": NUMBER, "verification_code": "1"})).await,
        404,
        &["resource.phone.verification_invalid"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_verify_sqlite() {
    twilio_verify_checks_codes_remotely(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twilio_verify_postgres() {
    twilio_verify_checks_codes_remotely(Backend::Postgres).await;
}

#[tokio::test]
async fn mock_is_explicit_warned_and_accepts_any_code() {
    let srv = spawn_with_config(Backend::Sqlite, "phone_verification: mock\n".into()).await.expect("sqlite");
    assert!(srv.logs().contains("phone_verification is mock"), "{}", srv.logs());
    let (c, csrf) = active_user(&srv, "mock@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await.0, 201);
    assert!(srv.sms_outbox().is_empty());
    let (s, user) =
        call(&srv, &c, &csrf, "phones/verify", json!({"phone_number": NUMBER, "verification_code": "anything"})).await;
    assert_eq!((s, user["level"].as_i64()), (201, Some(2)));
}

#[test]
fn twilio_modes_need_credentials_at_start() {
    for (env, needle) in [
        (vec![("BARONG_PHONE_VERIFICATION", "twilio_sms")], "twilio_account_sid"),
        (
            vec![("BARONG_PHONE_VERIFICATION", "twilio_verify"), ("BARONG_TWILIO_ACCOUNT_SID", "AC1")],
            "twilio_service_sid",
        ),
        (vec![("BARONG_PHONE_VERIFICATION", "sms_by_pigeon")], "phone_verification"),
    ] {
        let out = std::process::Command::new(binary("barongd"))
            .args(["config", "check"])
            .envs(env.iter().copied())
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(needle) && err.trim_end().lines().count() == 1, "{err}");
    }
}

both!(masking_off_shows_the_whole_number, config = "api_data_masking_enabled: false\n", |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "unmasked@example.com").await;
    assert_eq!(call(&srv, &c, &csrf, "phones", json!({"phone_number": NUMBER})).await.0, 201);
    let (s, list) = get(&c, &srv.url("resource/phones")).await;
    assert_eq!((s, list), (200, json!([{"country": "GB", "number": STORED, "validated_at": null}])));
    let (_, me) = get(&c, &srv.url("resource/users/me")).await;
    assert_eq!(me["phones"][0]["number"], STORED);
});
