//! Barong's Event API over a real RabbitMQ: what barongd
//! publishes is consumed here with amqprs, each test on its own exclusive server-named queue
//! (tests run in parallel against one broker) and filtered by the test's own user.
//!
//! The broker is `BARONG_TEST_AMQP_URL` (default `amqp://guest:guest@127.0.0.1:5672/%2f`). When
//! it does not answer, a test prints a loud skip, or fails under CI=true.

use amqprs::BasicProperties;
use amqprs::channel::{
    BasicConsumeArguments, Channel, ConsumerMessage, ExchangeDeclareArguments, QueueBindArguments,
    QueueDeclareArguments,
};
use amqprs::connection::{Connection, OpenConnectionArguments};
use jwt_simple::reexports::ct_codecs::{Base64UrlSafeNoPadding, Decoder as _};
use tokio::sync::mpsc::UnboundedReceiver;

use super::*;

const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
pub(super) const SYSTEM: &str = "barong.events.system";

pub(super) fn amqp_url() -> String {
    std::env::var("BARONG_TEST_AMQP_URL").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| DEFAULT_AMQP_URL.into())
}

fn unpercent(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let Some(v) = s.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).expect("UTF-8 URL part")
}

/// (host, port, user, password, vhost) of an `amqp://user:pass@host:port/vhost` URL.
pub(super) fn url_parts(url: &str) -> (String, u16, String, String, String) {
    let rest = url.strip_prefix("amqp://").expect("BARONG_TEST_AMQP_URL must be amqp://…");
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let (userinfo, hostport) = authority.rsplit_once('@').unwrap_or(("guest:guest", authority));
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let (host, port) =
        hostport.rsplit_once(':').map(|(h, p)| (h, p.parse().expect("port"))).unwrap_or((hostport, 5672));
    let vhost = if path.is_empty() { "/".to_string() } else { unpercent(path) };
    (host.to_string(), port, unpercent(user), unpercent(pass), vhost)
}

/// `url` with its password replaced.
fn with_password(url: &str, password: &str) -> String {
    let (host, port, user, _, vhost) = url_parts(url);
    let vhost = if vhost == "/" { "%2f".to_string() } else { vhost };
    format!("amqp://{user}:{password}@{host}:{port}/{vhost}")
}

/// A test's consumer: its own exclusive queue bound to the exchanges and keys it needs.
pub(super) struct Consumer {
    _connection: Connection,
    _channel: Channel,
    messages: UnboundedReceiver<ConsumerMessage>,
}

/// A received event: its AMQP envelope, its body (as received and parsed) and the claims of its
/// payload.
pub(super) struct Received {
    pub(super) exchange: String,
    pub(super) routing_key: String,
    properties: BasicProperties,
    pub(super) raw: String,
    body: Value,
    pub(super) claims: Value,
}

impl Consumer {
    /// Connects to the test broker, or returns None after a loud skip (a failure under CI=true).
    pub(super) async fn connect(bindings: &[(&str, &str)]) -> Option<Consumer> {
        Self::connect_to(&amqp_url(), bindings).await
    }

    /// As [`Consumer::connect`], on the broker at `url` (`amqp://`).
    pub(super) async fn connect_to(url: &str, bindings: &[(&str, &str)]) -> Option<Consumer> {
        let (host, port, user, pass, vhost) = url_parts(url);
        let mut args = OpenConnectionArguments::new(&host, port, &user, &pass);
        args.virtual_host(&vhost);
        let connection = match tokio::time::timeout(Duration::from_secs(10), Connection::open(&args)).await {
            Ok(Ok(c)) => c,
            failure => {
                let why = match failure {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer within 10 s".to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "RabbitMQ at {host}:{port} (BARONG_TEST_AMQP_URL) does not answer, and CI=true requires the \
                     Event API tests: {why}"
                );
                eprintln!("SKIPPED (RabbitMQ): {host}:{port} does not answer ({why}); set BARONG_TEST_AMQP_URL");
                return None;
            }
        };
        let channel = connection.open_channel(None).await.expect("open channel");
        let (queue, _, _) = channel
            .queue_declare(QueueDeclareArguments::exclusive_server_named())
            .await
            .expect("queue.declare")
            .expect("a server-named queue");
        for (exchange, key) in bindings {
            // Declared as barongd (and Barong's bunny client) does, so binding never races it.
            let declare = ExchangeDeclareArguments::new(exchange, "direct").durable(false).auto_delete(false).finish();
            channel.exchange_declare(declare).await.expect("exchange.declare");
            channel.queue_bind(QueueBindArguments::new(&queue, exchange, key)).await.expect("queue.bind");
        }
        let consume = BasicConsumeArguments::new(&queue, "").manual_ack(false).exclusive(true).finish();
        let (_, messages) = channel.basic_consume_rx(consume).await.expect("basic.consume");
        Some(Consumer { _connection: connection, _channel: channel, messages })
    }

    /// The next message whose claims satisfy `wanted`, waiting at most `within`.
    pub(super) async fn next(&mut self, within: Duration, wanted: impl Fn(&Value) -> bool) -> Received {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let msg = tokio::time::timeout_at(deadline, self.messages.recv())
                .await
                .unwrap_or_else(|_| panic!("no matching event within {within:?}"))
                .expect("consumer open");
            let deliver = msg.deliver.expect("deliver");
            let content = msg.content.expect("content");
            let body: Value = serde_json::from_slice(&content).expect("the body is JSON");
            let payload = body["payload"].as_str().expect("payload");
            let claims: Value =
                serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(payload, None).expect("base64url"))
                    .expect("the payload is JSON");
            if wanted(&claims) {
                return Received {
                    exchange: deliver.exchange().to_string(),
                    routing_key: deliver.routing_key().to_string(),
                    properties: msg.basic_properties.expect("properties"),
                    raw: String::from_utf8(content).expect("the body is UTF-8"),
                    body,
                    claims,
                };
            }
        }
    }

    /// The claims of the next message, or None when nothing arrives within `within`.
    pub(super) async fn next_claims(&mut self, within: Duration) -> Option<Value> {
        let msg = tokio::time::timeout(within, self.messages.recv()).await.ok()??;
        let body: Value = serde_json::from_slice(&msg.content.unwrap_or_default()).ok()?;
        let payload = Base64UrlSafeNoPadding::decode_to_vec(body["payload"].as_str()?, None).ok()?;
        serde_json::from_slice(&payload).ok()
    }

    /// Asserts that nothing satisfying `wanted` arrives within `within`.
    pub(super) async fn none(&mut self, within: Duration, wanted: impl Fn(&Value) -> bool) {
        let deadline = tokio::time::Instant::now() + within;
        while let Ok(Some(msg)) = tokio::time::timeout_at(deadline, self.messages.recv()).await {
            let body: Value = serde_json::from_slice(&msg.content.unwrap_or_default()).unwrap_or_default();
            let payload = body["payload"].as_str().unwrap_or_default();
            let claims: Value = Base64UrlSafeNoPadding::decode_to_vec(payload, None)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok())
                .unwrap_or_default();
            assert!(!wanted(&claims), "unexpected event {claims}");
        }
    }
}

pub(super) fn for_user(email: &str, name: &'static str) -> impl Fn(&Value) -> bool {
    let email = email.to_string();
    move |c: &Value| c["event"]["name"] == name && c["event"]["record"]["user"]["email"] == email.as_str()
}

pub(super) fn unique_email(tag: &str) -> String {
    format!("{tag}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

pub(super) fn events_config(url: &str) -> String {
    format!("event_api_rabbitmq_url: \"{url}\"\n")
}

pub(super) async fn outbox_count(srv: &TestServer, filter: &str) -> String {
    let q = format!("SELECT CAST(COUNT(*) AS TEXT) FROM event_outbox {filter}");
    srv.sql_texts(&q).await.into_iter().next().expect("a count")
}

/// Checks the jwt-multisig envelope of `event` and its signature; returns the verified claims.
async fn check_signed(srv: &TestServer, event: &Received) -> Value {
    let body = &event.body;
    let sigs = body["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 1, "{body}");
    assert_eq!(sigs[0]["header"], json!({"kid": "barong"}), "{body}");
    let protected = sigs[0]["protected"].as_str().expect("protected");
    // Barong's `{"alg"}` and the key's JWKS id under a name of its own: no header name in both
    // the protected and the unprotected header (RFC 7515 §7.2.1).
    let header: Value = serde_json::from_slice(&Base64UrlSafeNoPadding::decode_to_vec(protected, None).expect("b64"))
        .expect("protected header JSON");
    let mut names: Vec<&str> = header.as_object().expect("object").keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["alg", "jwks_kid"], "{header}");
    let signature = sigs[0]["signature"].as_str().expect("signature");
    let payload = body["payload"].as_str().expect("payload");
    let compact = format!("{protected}.{payload}.{signature}");
    // Events carry no audience, unlike session JWTs.
    let claims = verify_with_jwks_for(srv, &compact, None).await;
    assert_eq!(claims, event.claims);
    assert_eq!(claims["iss"], "barong");
    let jti = claims["jti"].as_str().expect("jti");
    assert!(uuid::Uuid::parse_str(jti).is_ok(), "jti {jti}");
    let iat = claims["iat"].as_i64().expect("iat");
    assert_eq!(claims["exp"].as_i64(), Some(iat + 3600));
    let now = now_ms() / 1000;
    assert!((now - 60..=now + 5).contains(&iat), "iat {iat} now {now}");
    assert_eq!(event.properties.content_type().map(String::as_str), Some("application/json"));
    assert_eq!(event.properties.message_id().map(String::as_str), Some(jti), "message_id is the jti");
    claims
}

both!(session_create_is_published_signed, per_backend = session_create_is_published_signed);
async fn session_create_is_published_signed(backend: Backend) {
    let Some(mut consumer) = Consumer::connect(&[(SYSTEM, "session.create")]).await else { return };
    let opts = Options { config: events_config(&amqp_url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        let email = unique_email("event");
        active_user(&srv, &email).await;
        let event = consumer.next(Duration::from_secs(20), for_user(&email, "system.session.create")).await;
        assert_eq!((event.exchange.as_str(), event.routing_key.as_str()), (SYSTEM, "session.create"));
        let claims = check_signed(&srv, &event).await;
        let record = &claims["event"]["record"];
        let user = &record["user"];
        assert_eq!(user["email"], email.as_str());
        assert!(user["uid"].as_str().is_some_and(|u| u.starts_with("ID")), "{user}");
        assert_eq!(user["role"], "member");
        assert_eq!(user["state"], "active");
        assert_eq!(user["otp"], false);
        assert!(user["level"].is_i64(), "{user}");
        for t in ["created_at", "updated_at"] {
            let v = user[t].as_str().unwrap_or_default();
            assert!(v.len() == 20 && v.ends_with('Z'), "{t}: {user}");
        }
        // Barong compacts only a model record's top level: this nested user keeps its nulls.
        assert!(user["username"].is_null() && user["referral_uid"].is_null(), "nil fields kept: {user}");
        assert!(user.as_object().is_some_and(|u| u.contains_key("username")), "{user}");
        assert_eq!(record["user_ip"], "127.0.0.1");
        assert_eq!(record["user_agent"], TEST_UA);

        // Every event of this daemon is confirmed and deleted: the outbox empties.
        eventually(Duration::from_secs(20), || async { outbox_count(&srv, "").await == "0" }).await;
        // Exactly one session event for this login.
        consumer.none(Duration::from_millis(500), for_user(&email, "system.session.create")).await;
    })
    .await;
}

both!(outage_keeps_events_until_a_daemon_can_publish, per_backend = outage_keeps_events_until_a_daemon_can_publish);
async fn outage_keeps_events_until_a_daemon_can_publish(backend: Backend) {
    let Some(mut consumer) = Consumer::connect(&[(SYSTEM, "session.create")]).await else { return };
    const SECRET: &str = "Outage-Pw-7f3kQ";
    let dead = format!("amqp://barong:{SECRET}@127.0.0.1:1/%2f");
    let opts = Options { config: events_config(&dead), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        let email = unique_email("outage");
        let (c, _) = active_user(&srv, &email).await;
        // A second login while the broker is still unreachable: answered at once.
        let started = std::time::Instant::now();
        let (s, b) = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(s, 200, "login: {b}");
        assert!(started.elapsed() < Duration::from_secs(5), "login took {:?}", started.elapsed());

        let sessions = "WHERE name = 'system.session.create'";
        assert_eq!(outbox_count(&srv, sessions).await, "2");
        eventually(Duration::from_secs(10), || async { srv.logs().contains("RabbitMQ unavailable") }).await;
        // Still queued after the publisher tried, and nothing reached the broker.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(outbox_count(&srv, sessions).await, "2");
        consumer.none(Duration::from_millis(200), for_user(&email, "system.session.create")).await;
        let logs = srv.logs();
        assert!(!logs.contains(SECRET), "the AMQP password is in the log:\n{logs}");
        assert!(logs.contains("amqp://barong:***@127.0.0.1:1/%2f"), "the broker is named, redacted:\n{logs}");

        // A daemon on the same database that reaches RabbitMQ publishes both: nothing was lost.
        let sibling = srv.sibling(&events_config(&amqp_url())).await;
        let first = consumer.next(Duration::from_secs(20), for_user(&email, "system.session.create")).await;
        let second = consumer.next(Duration::from_secs(20), for_user(&email, "system.session.create")).await;
        let a = check_signed(&sibling, &first).await;
        let b = check_signed(&sibling, &second).await;
        assert_ne!(a["jti"], b["jti"], "two logins, two events");
        eventually(Duration::from_secs(20), || async { outbox_count(&srv, sessions).await == "0" }).await;
        assert!(!srv.logs().contains(SECRET) && !sibling.logs().contains(SECRET));
    })
    .await;
}

both!(wrong_credentials_are_never_logged, per_backend = wrong_credentials_are_never_logged);
async fn wrong_credentials_are_never_logged(backend: Backend) {
    // Only to know the broker is there: a refused login must come from the password.
    let Some(_consumer) = Consumer::connect(&[]).await else { return };
    const SECRET: &str = "Wrong-Pw-91xZq%2Fv";
    let url = with_password(&amqp_url(), SECRET);
    let opts = Options { config: events_config(&url), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        let email = unique_email("badpw");
        active_user(&srv, &email).await;
        eventually(Duration::from_secs(15), || async { srv.logs().contains("RabbitMQ unavailable") }).await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_ne!(outbox_count(&srv, "WHERE name = 'system.session.create'").await, "0");
        let logs = srv.logs();
        for form in [SECRET, "Wrong-Pw-91xZq/v"] {
            assert!(!logs.contains(form), "the AMQP password ({form}) is in the log:\n{logs}");
        }
        // The outage is logged once, not once per poll.
        assert_eq!(logs.matches("RabbitMQ unavailable").count(), 1, "{logs}");
    })
    .await;
}

both!(without_rabbitmq_nothing_is_queued, |srv: TestServer| async move {
    let email = unique_email("noevents");
    let (c, _) = active_user(&srv, &email).await;
    let (s, b) = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(s, 200, "login: {b}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(outbox_count(&srv, "").await, "0");
    assert!(!srv.logs().contains("event publisher started"), "{}", srv.logs());
});

both!(unreadable_events_are_dropped_not_retried, per_backend = unreadable_events_are_dropped_not_retried);
async fn unreadable_events_are_dropped_not_retried(backend: Backend) {
    let Some(mut consumer) = Consumer::connect(&[(SYSTEM, "session.create")]).await else { return };
    let opts = Options { config: events_config(&amqp_url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        // A row no daemon can open (not sealed with this master key), queued before a real event.
        srv.sql(
            "INSERT INTO event_outbox (jti, name, record_sealed, attempts, next_attempt_at, created_at) \
             VALUES ('0b7e3f1c-0000-4000-8000-000000000000', 'system.session.create', 'not-sealed', 0, 0, 0)",
        )
        .await;
        let email = unique_email("unreadable");
        active_user(&srv, &email).await;
        consumer.next(Duration::from_secs(20), for_user(&email, "system.session.create")).await;
        eventually(Duration::from_secs(20), || async { outbox_count(&srv, "").await == "0" }).await;
        let logs = srv.logs();
        assert_eq!(logs.matches("event cannot be opened or signed; event dropped").count(), 1, "{logs}");
    })
    .await;
}

both!(the_account_lifecycle_is_published, per_backend = the_account_lifecycle_is_published);
/// Registration, confirmation, a password reset, a profile and a label, as events: names,
/// routing keys, records and `changes`, each signed.
async fn the_account_lifecycle_is_published(backend: Backend) {
    let bindings = [
        (SYSTEM, "user.email.confirmation.token"),
        (SYSTEM, "user.email.confirmed"),
        (SYSTEM, "user.password.reset.token"),
        (SYSTEM, "user.password.reset"),
        ("barong.events.model", "user.created"),
        ("barong.events.model", "user.updated"),
        ("barong.events.model", "label.created"),
        ("barong.events.model", "profile.created"),
        ("barong.events.model", "profile.updated"),
        ("barong.events.model", "label.updated"),
    ];
    let Some(mut consumer) = Consumer::connect(&bindings).await else { return };
    let opts = Options { config: events_config(&amqp_url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        let email = unique_email("life");
        let wait = Duration::from_secs(20);
        let (c, csrf) = active_user(&srv, &email).await;

        let mut seen = consumer
            .collect(
                wait,
                &email,
                &[
                    "model.user.created",
                    "system.user.email.confirmation.token",
                    "model.label.created",
                    "model.user.updated",
                    "system.user.email.confirmed",
                ],
            )
            .await;
        let created = seen.remove("model.user.created").expect("created");
        assert_eq!((created.exchange.as_str(), created.routing_key.as_str()), ("barong.events.model", "user.created"));
        assert_eq!(created.claims["event"]["record"]["state"], "pending");
        check_signed(&srv, &created).await;

        let token = seen.remove("system.user.email.confirmation.token").expect("token");
        let record = &token.claims["event"]["record"];
        assert_eq!(record["domain"], "barong.io");
        let mailed = mailed_token(&srv, &email, "confirmation_token").await;
        assert_eq!(record["token"], mailed.as_str(), "the token the mail carries");

        let label = seen.remove("model.label.created").expect("label");
        let record = &label.claims["event"]["record"];
        assert_eq!(
            (record["key"].as_str(), record["value"].as_str(), record["scope"].as_str()),
            (Some("email"), Some("verified"), Some("private"))
        );

        let updated = seen.remove("model.user.updated").expect("updated");
        let event = &updated.claims["event"];
        assert_eq!((event["record"]["state"].as_str(), event["record"]["level"].as_i64()), (Some("active"), Some(1)));
        assert_eq!(event["changes"], json!({"state": "pending", "level": 0}), "previous values: {event}");

        // A profile (before the reset, which ends the session): Barong's record, in clear (the
        // default of `event_api_mask_profile_pii`), without `state`.
        let body = json!({"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-05-17", "country": "GB"});
        let (s, _) = send_json(&c, reqwest::Method::POST, &srv.url("resource/profiles"), Some(&csrf), Some(body)).await;
        assert_eq!(s, 201);
        let profile = consumer.next(wait, for_user(&email, "model.profile.created")).await;
        let record = &profile.claims["event"]["record"];
        assert_eq!(
            (record["first_name"].as_str(), record["last_name"].as_str(), record["dob"].as_str()),
            (Some("Ada"), Some("Lovelace"), Some("1990-05-17"))
        );
        let mut keys: Vec<&str> = record.as_object().expect("record").keys().map(String::as_str).collect();
        keys.sort_unstable();
        // Top-level nulls (address, postcode, city, metadata) removed; the nested user keeps its own.
        assert_eq!(keys, ["country", "created_at", "dob", "first_name", "last_name", "updated_at", "user"], "{record}");
        assert!(record["user"]["username"].is_null() && record["user"]["referral_uid"].is_null(), "{record}");
        assert!(record["user"].as_object().is_some_and(|u| u.contains_key("referral_uid")), "{record}");
        check_signed(&srv, &profile).await;
        // An edit that submits it: `changes` holds the previous values that differ (not `state`,
        // which the record does not carry; never `updated_at`).
        let body = json!({"last_name": "Byron", "city": "London", "confirm": true});
        let (s, b) = send_json(&c, reqwest::Method::PUT, &srv.url("resource/profiles"), Some(&csrf), Some(body)).await;
        assert_eq!(s, 200, "{b}");
        let updated = consumer.next(wait, for_user(&email, "model.profile.updated")).await;
        let event = &updated.claims["event"];
        assert_eq!(
            (event["record"]["last_name"].as_str(), event["record"]["city"].as_str()),
            (Some("Byron"), Some("London"))
        );
        assert_eq!(event["changes"], json!({"last_name": "Lovelace"}), "{event}");
        // A label changed by the operator: its previous value, never `id` or `updated_at`.
        for value in ["first", "second"] {
            let (code, _, err) = srv.ctl(&["label", "set", &email, "note", value], None);
            assert_eq!(code, 0, "{err}");
        }
        let label_update = |key: &'static str| {
            let of_user = for_user(&email, "model.label.updated");
            move |c: &Value| of_user(c) && c["event"]["record"]["key"] == key
        };
        // The submission moved the `profile` label first (drafted → submitted).
        let profile_label = consumer.next(wait, label_update("profile")).await;
        assert_eq!(profile_label.claims["event"]["changes"], json!({"value": "drafted"}));
        let label = consumer.next(wait, label_update("note")).await;
        let event = &label.claims["event"];
        assert_eq!(event["record"]["value"], "second", "{event}");
        assert_eq!(event["changes"], json!({"value": "first"}), "{event}");
        assert!(event["record"]["id"].is_i64(), "{event}");
        // A password reset: the token event carries the signed reset token of the mail.
        let (s, _) = post(&c, &srv.url("identity/users/password/generate_code"), json!({"email": email})).await;
        assert_eq!(s, 201);
        let reset = consumer.next(wait, for_user(&email, "system.user.password.reset.token")).await;
        let token = reset.claims["event"]["record"]["token"].as_str().expect("token").to_string();
        assert_eq!(token, mailed_token(&srv, &email, "reset_token").await);
        let body =
            json!({"reset_password_token": token, "password": "Ohxae3Ie-Quah", "confirm_password": "Ohxae3Ie-Quah"});
        assert_eq!(post(&c, &srv.url("identity/users/password/confirm_code"), body).await.0, 201);
        consumer.next(wait, for_user(&email, "system.user.password.reset")).await;

        eventually(wait, || async { outbox_count(&srv, "").await == "0" }).await;
    })
    .await;
}

both!(profile_events_are_masked_only_when_the_setting_says_so, per_backend = profile_events_masked_by_setting);
/// `event_api_mask_profile_pii: true`: last name and birth date masked as the resource API masks
/// them, in the record and in `changes`.
async fn profile_events_masked_by_setting(backend: Backend) {
    let Some(mut consumer) =
        Consumer::connect(&[("barong.events.model", "profile.created"), ("barong.events.model", "profile.updated")])
            .await
    else {
        return;
    };
    let config = format!("{}event_api_mask_profile_pii: true\n", events_config(&amqp_url()));
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    within_limit(srv, |srv| async move {
        let email = unique_email("masked");
        let wait = Duration::from_secs(20);
        let (c, csrf) = active_user(&srv, &email).await;
        let url = srv.url("resource/profiles");
        let body = json!({"first_name": "Ada", "last_name": "Lovelace", "dob": "1990-05-17", "country": "GB"});
        assert_eq!(send_json(&c, reqwest::Method::POST, &url, Some(&csrf), Some(body)).await.0, 201);
        let created = consumer.next(wait, for_user(&email, "model.profile.created")).await;
        let record = &created.claims["event"]["record"];
        assert_eq!(
            (record["first_name"].as_str(), record["last_name"].as_str(), record["dob"].as_str()),
            (Some("Ada"), Some("L*******"), Some("1990-05-**"))
        );
        assert!(!created.body.to_string().contains("Lovelace"));
        let body = json!({"last_name": "Byron"});
        assert_eq!(send_json(&c, reqwest::Method::PUT, &url, Some(&csrf), Some(body)).await.0, 200);
        let updated = consumer.next(wait, for_user(&email, "model.profile.updated")).await;
        assert_eq!(updated.claims["event"]["changes"], json!({"last_name": "L*******"}));
        assert!(!updated.body.to_string().contains("Lovelace"));
    })
    .await;
}

impl Consumer {
    /// Every event in `names` about the user `email` (as `record.user` or, for `model.user.*`,
    /// as the record itself), in whatever order they arrive.
    pub(super) async fn collect(
        &mut self,
        within: Duration,
        email: &str,
        names: &[&str],
    ) -> std::collections::HashMap<String, Received> {
        let mut seen = std::collections::HashMap::new();
        while seen.len() < names.len() {
            let wanted = |c: &Value| {
                let r = &c["event"]["record"];
                let name = c["event"]["name"].as_str().unwrap_or_default();
                names.contains(&name) && (r["user"]["email"] == email || r["email"] == email)
            };
            let got = self.next(within, wanted).await;
            let name = got.claims["event"]["name"].as_str().unwrap_or_default().to_string();
            assert!(seen.insert(name.clone(), got).is_none(), "{name} published twice");
        }
        seen
    }
}
