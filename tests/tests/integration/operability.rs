//! Running in production: Prometheus metrics on their own listener, the health probes on both
//! listeners, readiness that follows the database, and request ids in JSON log lines.

use reqwest::Method;

use super::*;

const METRICS_ON: &str = "metrics_listen: 127.0.0.1:0\n";
const PEATIO: &str = "api/v2/peatio/account/balances";

/// The metrics listener's address, from the daemon's start-up line.
fn metrics_base(srv: &TestServer) -> String {
    let logs = srv.logs();
    let at = logs.find("served at http://").unwrap_or_else(|| panic!("no metrics listener in the log:\n{logs}"));
    let rest = &logs[at + "served at ".len()..];
    let url = rest.split_whitespace().next().unwrap_or_default();
    url.trim_end_matches("/metrics").trim_end_matches('"').to_string()
}

fn workspace_file(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

async fn scrape(srv: &TestServer) -> String {
    let r = reqwest::get(format!("{}/metrics", metrics_base(srv))).await.expect("scrape");
    assert_eq!(r.status().as_u16(), 200);
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert!(ct.starts_with("text/plain"), "content type {ct}");
    r.text().await.expect("metrics body")
}

/// The value of the sample `series` (its name with labels, exactly as exported).
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')).and_then(|v| v.trim().parse().ok()))
}

#[track_caller]
fn at_least(metrics: &str, series: &str, min: f64) {
    match sample(metrics, series) {
        Some(v) => assert!(v >= min, "{series} is {v}, expected at least {min}"),
        None => panic!("no sample {series} in:\n{metrics}"),
    }
}

async fn get_status(url: &str) -> (u16, Value) {
    read(reqwest::get(url).await.expect("request")).await
}

both!(
    every_family_appears_after_its_request,
    config = format!(
        "{METRICS_ON}login_throttle: {{max_failures_per_account: 1, max_failures_per_ip: 1000, window_seconds: 900}}\n"
    ),
    |srv: TestServer| async move {
        let (c, _) = active_user(&srv, "ops@example.com").await;
        let again =
            post(&srv.client(), &srv.url("identity/users"), json!({"email": "ops@example.com", "password": PASSWORD}))
                .await;
        assert_eq!(again.0, 422, "{again:?}");
        operator_user(&srv, "guessed@example.com");
        let guess = json!({"email": "guessed@example.com", "password": "wrong"});
        assert_eq!(post(&srv.client(), &srv.url("identity/sessions"), guess.clone()).await.0, 401);
        assert_eq!(post(&srv.client(), &srv.url("identity/sessions"), guess).await.0, 429);
        // The cookie flow twice (a miss, then a hit), the API-key flow once (bad headers).
        for _ in 0..2 {
            c.get(srv.url(&format!("auth/{PEATIO}"))).send().await.expect("gateway");
        }
        let keyed = srv.client().get(srv.url(&format!("auth/{PEATIO}"))).header("X-Auth-Apikey", "nope");
        assert_eq!(keyed.send().await.expect("gateway").status().as_u16(), 422);
        let shown = c.get(srv.url("admin/users/ID00000000AB")).send().await.expect("admin");
        assert!(shown.status().is_client_error());

        let m = scrape(&srv).await;
        let http = r#"barong_http_requests_total{route="/api/v2/barong/identity/sessions",method="POST",status="200"}"#;
        at_least(&m, http, 1.0);
        at_least(&m, r#"barong_http_requests_total{route="/api/v2/barong/auth/*",method="GET",status="200"}"#, 1.0);
        assert!(m.contains(r#"route="/api/v2/barong/admin/users/:uid""#), "{m}");
        assert!(!m.contains("ID00000000AB"), "an id became a label value:\n{m}");
        let latency =
            r#"barong_http_request_duration_seconds_count{route="/api/v2/barong/identity/users",method="POST"}"#;
        at_least(&m, latency, 2.0);
        at_least(&m, r#"barong_logins_total{outcome="success"}"#, 1.0);
        at_least(&m, r#"barong_logins_total{outcome="identity.session.invalid_params"}"#, 1.0);
        at_least(&m, r#"barong_logins_total{outcome="identity.session.too_many_attempts"}"#, 1.0);
        at_least(&m, r#"barong_registrations_total{outcome="success"}"#, 1.0);
        assert!(
            m.lines().any(|l| l.starts_with("barong_registrations_total{outcome=\"") && !l.contains("success")),
            "{m}"
        );
        at_least(&m, r#"barong_gateway_decisions_total{flow="session",outcome="allowed"}"#, 2.0);
        at_least(&m, r#"barong_gateway_decisions_total{flow="api_key",outcome="authz.invalid_api_key_headers"}"#, 1.0);
        at_least(&m, r#"barong_throttled_total{reason="identity.session.too_many_attempts"}"#, 1.0);
        assert_eq!(sample(&m, "barong_argon2_queue_depth"), Some(0.0), "nothing hashes now");
        at_least(&m, "barong_argon2_wait_seconds_count", 3.0);
        at_least(&m, r#"barong_gateway_cache_lookups_total{cache="sessions",result="miss"}"#, 1.0);
        at_least(&m, r#"barong_gateway_cache_lookups_total{cache="sessions",result="hit"}"#, 1.0);
        let lag = sample(&m, "barong_change_feed_lag_seconds").expect("lag");
        assert!((0.0..30.0).contains(&lag), "the feed is read continuously: lag {lag}");
        for queue in ["mail", "sms", "events"] {
            assert!(sample(&m, &format!("barong_outbox_depth{{queue=\"{queue}\"}}")).is_some(), "{queue}:\n{m}");
            assert!(sample(&m, &format!("barong_outbox_oldest_age_seconds{{queue=\"{queue}\"}}")).is_some(), "{queue}");
        }
        // Failures are exported at 0 before the first one (undelivered_mail_… counts one).
        assert_eq!(sample(&m, r#"barong_outbox_failures_total{queue="sms"}"#), Some(0.0), "{m}");
        at_least(&m, "barong_db_pool_size", 1.0);
        assert!(sample(&m, "barong_db_pool_idle").is_some(), "{m}");
        // The Grafana dashboard charts only series the daemon exports.
        let dashboard = std::fs::read_to_string(workspace_file("config/grafana-dashboard.json")).expect("dashboard");
        let names = regex::Regex::new(r"barong_[a-z0-9_]+").expect("regex");
        for name in names.find_iter(&dashboard).map(|n| n.as_str()) {
            assert!(m.lines().any(|l| l.starts_with(name)), "the dashboard charts {name}, which is not exported");
        }
    }
);

/// A closed port for the SMTP server: every delivery attempt fails.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

both!(
    undelivered_mail_shows_as_queue_depth_age_and_failures,
    config = format!(
        "{METRICS_ON}mailer: {{transport: smtp, smtp_url: \"smtp://127.0.0.1:{}\", from: \"Barong <noreply@example.com>\"}}\n",
        closed_port()
    ),
    |srv: TestServer| async move {
        register(&srv, &srv.client(), "queued@example.com").await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let m = loop {
            let m = scrape(&srv).await;
            if sample(&m, r#"barong_outbox_failures_total{queue="mail"}"#).is_some_and(|n| n >= 1.0) {
                break m;
            }
            assert!(std::time::Instant::now() < deadline, "no mail failure counted:\n{m}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        at_least(&m, r#"barong_outbox_failures_total{queue="mail"}"#, 1.0);
        assert_eq!(sample(&m, r#"barong_outbox_depth{queue="mail"}"#), Some(1.0), "{m}");
        let age = sample(&m, r#"barong_outbox_oldest_age_seconds{queue="mail"}"#).expect("age");
        assert!((0.0..60.0).contains(&age), "age {age}");
    }
);

both!(probes_answer_on_the_api_listener_and_metrics_is_off_by_default, |srv: TestServer| async move {
    assert_eq!(get_status(&format!("{}/health/live", srv.base)).await, (200, json!({"status": "live"})));
    assert_eq!(get_status(&format!("{}/health/ready", srv.base)).await, (200, json!({"status": "ready"})));
    assert!(!srv.logs().contains("served at http://"), "a metrics listener started unasked");
    // /metrics is never on the API's listener, which may be public.
    let (status, _) = get_status(&format!("{}/metrics", srv.base)).await;
    assert_eq!(status, 404);
    // Every response carries a request id, even one no endpoint claimed.
    let r = reqwest::get(format!("{}/no/such/route", srv.base)).await.expect("request");
    let id = r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(id.len(), 32, "request id {id:?}");
    // An id that is not text is replaced, and the request is answered as usual.
    let garbled = reqwest::header::HeaderValue::from_bytes(b"id-\xff").expect("obs-text");
    let r = srv.client().get(srv.url("identity/ping")).header("X-Request-Id", garbled).send().await.expect("ping");
    assert_eq!(r.status().as_u16(), 200);
    let id = r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(id.len(), 32, "request id {id:?}");
});

both!(probes_answer_on_both_listeners, config = METRICS_ON, |srv: TestServer| async move {
    let ops = metrics_base(&srv);
    assert_ne!(ops, srv.base);
    for base in [&srv.base, &ops] {
        assert_eq!(get_status(&format!("{base}/health/live")).await, (200, json!({"status": "live"})));
        assert_eq!(get_status(&format!("{base}/health/ready")).await, (200, json!({"status": "ready"})));
    }
    assert_eq!(get_status(&format!("{ops}/api/v2/barong/identity/ping")).await.0, 404, "the API is not on it");
});

both!(probes_stay_open_in_import_mode, |mut srv: TestServer| async move {
    // Import mode as an interrupted Barong import leaves it: the API answers 503 after a restart.
    srv.sql(
        "INSERT INTO import_jobs (state, import_mode, options, created_at, updated_at) \
         VALUES ('interrupted', TRUE, '{}', 0, 0)",
    )
    .await;
    srv.restart();
    let (status, body) = get_status(&srv.url("resource/users/me")).await;
    assert_eq!((status, errors(&body)), (503, vec!["server.import_in_progress".to_string()]), "{body}");
    assert_eq!(get_status(&format!("{}/health/live", srv.base)).await.0, 200);
    assert_eq!(get_status(&format!("{}/health/ready", srv.base)).await, (200, json!({"status": "ready"})));
});

both!(
    ready_turns_unready_while_draining,
    // Costly hashes keep sign-ins in flight long enough to watch the shutdown wait for them.
    config = format!("{METRICS_ON}argon2: {{memory_kib: 65536, iterations: 30, parallelism: 1}}\n"),
    |srv: TestServer| async move {
        let ops = metrics_base(&srv);
        assert_eq!(get_status(&format!("{ops}/health/ready")).await.0, 200);
        let c = srv.client();
        let logins: Vec<_> = (0..4)
            .map(|i| {
                let body = json!({"email": format!("slow{i}@example.com"), "password": "Wrong-Pass-123"});
                let req = c.post(srv.url("identity/sessions")).header("X-Forwarded-For", format!("198.51.100.{i}"));
                let req = req.json(&body);
                tokio::spawn(async move { req.send().await.map(|r| r.status().as_u16()) })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(300)).await;
        let mut srv = srv;
        let stopping = tokio::task::spawn_blocking(move || {
            let code = srv.terminate();
            (srv, code)
        });
        let (status, body) = wait_for_ready(&ops, 503).await;
        assert_eq!((status, &body["failed"]), (503, &json!(["draining"])), "{body}");
        for login in logins {
            let status = login.await.expect("joined").expect("an in-flight request is answered, not cut");
            assert_eq!(status, 401);
        }
        let (_srv, code) = stopping.await.expect("joined");
        assert_eq!(code, Some(0));
    }
);

both!(a_json_log_line_carries_its_request_id, config = "log_format: json\n", |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "logged@example.com").await;
    let sent = format!("edge-{}", uuid::Uuid::new_v4());
    let body = json!({"old_password": PASSWORD, "new_password": "Ohb7ahsh-Eep3", "confirm_password": "Ohb7ahsh-Eep3"});
    let r = c
        .request(Method::PUT, srv.url("resource/users/password"))
        .header("X-CSRF-Token", &csrf)
        .header("X-Request-Id", &sent)
        .json(&body)
        .send()
        .await
        .expect("password change");
    assert_eq!(r.status().as_u16(), 201);
    // The test talks from loopback, a trusted proxy by default: its id is the request's id.
    assert_eq!(r.headers().get("x-request-id").and_then(|v| v.to_str().ok()), Some(sent.as_str()));
    let logs = srv.logs();
    let lines: Vec<Value> = logs.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    assert!(!lines.is_empty() && lines.len() == logs.lines().count(), "every line is JSON:\n{logs}");
    // A service's own line, written inside the request, carries the request's span.
    let line = lines
        .iter()
        .find(|l| l["fields"]["message"] == "password changed")
        .unwrap_or_else(|| panic!("no service line for the password change:\n{logs}"));
    assert_eq!(line["span"]["request_id"], json!(sent), "{line}");
    assert_eq!(line["span"]["method"], "PUT", "{line}");
    assert_eq!(line["span"]["route"], "/api/v2/barong/resource/users/password", "{line}");
    assert_eq!(line["span"]["ip"], "127.0.0.1", "{line}");

    // Without an incoming id one is made, and the request's lines carry that one.
    let r = c.get(srv.url("resource/users/me")).send().await.expect("me");
    let made = r.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(made.len(), 32, "{made}");
    // The access line is written as the response leaves, and reaches the log file a moment later.
    eventually(Duration::from_secs(3), || async {
        srv.logs()
            .lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .any(|l| l["span"]["request_id"] == json!(made) && l["fields"]["status"] == 200)
    })
    .await;
});

/// `/health/ready` follows PostgreSQL: the daemon reaches it through a proxy the test cuts (the
/// machine's PostgreSQL serves other tests and stays up).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    let Some(admin) = pg_url() else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true requires the PostgreSQL tests");
        eprintln!("SKIPPED (PostgreSQL): BARONG_TEST_PG_URL is not set");
        return;
    };
    let db = PgDatabase::create(&admin).await;
    let url = db.url();
    let (head, tail) = url.split_once('@').expect("user@host in the URL");
    let (host_port, db_name) = tail.split_once('/').expect("a database in the URL");
    let proxy = TcpProxy::start(host_port).await;
    let proxied = format!("{head}@127.0.0.1:{}/{db_name}", proxy.port);
    let opts = Options { config: METRICS_ON.into(), database_url: Some(proxied), ..Default::default() };
    let srv = TestServer::spawn_with(Backend::Postgres, opts).await.expect("daemon");
    within_limit(srv, |srv| async move {
        let ops = metrics_base(&srv);
        let ready = |base: String| async move { get_status(&format!("{base}/health/ready")).await };
        assert_eq!(ready(ops.clone()).await.0, 200);

        proxy.cut().await;
        for base in [&srv.base, &ops] {
            let (status, body) = wait_for_ready(base, 503).await;
            assert_eq!((status, &body["failed"]), (503, &json!(["database"])), "{body}");
            assert_eq!(get_status(&format!("{base}/health/live")).await.0, 200, "alive without its database");
        }

        proxy.restore().await;
        for base in [&srv.base, &ops] {
            assert_eq!(wait_for_ready(base, 200).await, (200, json!({"status": "ready"})));
        }
        drop(db);
    })
    .await;
}

/// Polls `/health/ready` until it answers `status` (or 30 s pass), returning the last answer.
async fn wait_for_ready(base: &str, status: u16) -> (u16, Value) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = get_status(&format!("{base}/health/ready")).await;
        if got.0 == status || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
