//! config/gateway/nginx.conf in front of the real barongd and a stand-in upstream, with a real
//! nginx: the shipped file, with only its addresses and ports substituted, is what is tested.
//! Without nginx the test says it is skipped (and fails when `CI` is `true`).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use reqwest::Method;

use super::*;

const BALANCES: &str = "/api/v2/peatio/account/balances";

/// `nginx` on PATH, else /usr/sbin/nginx.
fn find_nginx() -> Option<PathBuf> {
    let on_path =
        std::env::var_os("PATH").and_then(|p| std::env::split_paths(&p).map(|d| d.join("nginx")).find(|f| f.is_file()));
    on_path.or_else(|| Some(PathBuf::from("/usr/sbin/nginx")).filter(|p| p.is_file()))
}

/// A port nobody listens on right now (nginx binds it a moment later; `Nginx::start` retries on
/// the rare collision).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// What the upstream received: one JSON object per request (method, path, authorization, body).
type Seen = Arc<Mutex<Vec<Value>>>;

/// The stand-in for Peatio: answers every request with 200 and a JSON echo of its method, path,
/// `Authorization` header and body. HTTP/1.1 with Content-Length; keeps the connection open only
/// when the request allows it (nginx's proxy speaks HTTP/1.0 with `Connection: close` by default).
async fn upstream() -> (String, Seen) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
    let addr = listener.local_addr().expect("addr").to_string();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut conn = BufReader::new(stream);
                loop {
                    let mut line = String::new();
                    match conn.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    let mut parts = line.split_whitespace();
                    let (method, path, version) = (
                        parts.next().unwrap_or_default().to_string(),
                        parts.next().unwrap_or_default().to_string(),
                        parts.next().unwrap_or_default().to_string(),
                    );
                    let mut headers = Vec::new();
                    loop {
                        let mut h = String::new();
                        match conn.read_line(&mut h).await {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        let h = h.trim_end();
                        if h.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = h.split_once(':') {
                            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
                        }
                    }
                    let header = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                    let connection = header("connection").unwrap_or_default().to_ascii_lowercase();
                    let keep_alive = if version == "HTTP/1.0" {
                        connection.contains("keep-alive")
                    } else {
                        !connection.contains("close")
                    };
                    let (status, reply) = if header("transfer-encoding").is_some() {
                        ("501 Not Implemented", json!({"error": "chunked request bodies are not supported here"}))
                    } else {
                        let len = header("content-length").and_then(|l| l.parse::<usize>().ok()).unwrap_or(0);
                        let mut body = vec![0u8; len];
                        if conn.read_exact(&mut body).await.is_err() {
                            return;
                        }
                        let echo = json!({
                            "method": method,
                            "path": path,
                            "authorization": header("authorization"),
                            "body": String::from_utf8_lossy(&body),
                        });
                        if let Ok(mut l) = log.lock() {
                            l.push(echo.clone());
                        }
                        ("200 OK", echo)
                    };
                    let reply = reply.to_string();
                    let head = format!(
                        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: {}\r\n\r\n",
                        reply.len(),
                        if keep_alive { "keep-alive" } else { "close" }
                    );
                    let stream = conn.get_mut();
                    if stream.write_all(head.as_bytes()).await.is_err()
                        || stream.write_all(reply.as_bytes()).await.is_err()
                        || stream.flush().await.is_err()
                        || !keep_alive
                    {
                        let _ = stream.shutdown().await;
                        return;
                    }
                }
            });
        }
    });
    (addr, seen)
}

/// config/gateway/nginx.conf with barongd's and the upstream's addresses, `port` to listen on,
/// and what nginx needs to run unprivileged with everything under `dir`.
fn generated_config(barong: &str, upstream: &str, port: u16, dir: &Path) -> String {
    let shipped = workspace_root().join("config/gateway/nginx.conf");
    let text = std::fs::read_to_string(&shipped).expect("config/gateway/nginx.conf");
    let d = dir.display();
    let mut conf = text;
    for (from, to) in [
        ("127.0.0.1:3000", barong.to_string()),
        ("127.0.0.1:8000", upstream.to_string()),
        ("listen 8080;", format!("listen 127.0.0.1:{port};")),
        (
            "http {",
            format!(
                "http {{\n    client_body_temp_path {d}/client_body;\n    proxy_temp_path {d}/proxy;\n    \
                 fastcgi_temp_path {d}/fastcgi;\n    uwsgi_temp_path {d}/uwsgi;\n    scgi_temp_path {d}/scgi;\n    \
                 access_log {d}/access.log;\n"
            ),
        ),
    ] {
        assert!(conf.contains(from), "config/gateway/nginx.conf has no `{from}`");
        conf = conf.replace(from, &to);
    }
    assert_eq!(conf.matches("http {").count(), 1, "one http block (with the temp paths)");
    format!("daemon off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n{conf}")
}

/// nginx as a child process; stopped (and its workers with it) when dropped, also when a test
/// assertion fails.
struct Nginx {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Nginx {
    fn start(bin: &Path, barong: &str, upstream: &str) -> Nginx {
        let dir = tempfile::Builder::new().prefix("nginx-test").tempdir().expect("tempdir");
        // Workers run as nginx's unprivileged user when the test runs as root: let them in.
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        let help = Command::new(bin).arg("-h").output().expect("nginx -h");
        let has_e = String::from_utf8_lossy(&help.stderr).contains("-e filename");
        let conf = dir.path().join("nginx.conf");
        let error_log = dir.path().join("error.log");
        let mut log = String::new();
        for _attempt in 0..3 {
            let port = free_port();
            std::fs::write(&conf, generated_config(barong, upstream, port, dir.path())).expect("write nginx.conf");
            let _ = std::fs::remove_file(&error_log);
            let mut cmd = Command::new(bin);
            cmd.arg("-p").arg(dir.path()).arg("-c").arg(&conf);
            if has_e {
                cmd.arg("-e").arg(&error_log);
            }
            let mut child =
                cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("nginx");
            let deadline = std::time::Instant::now() + Duration::from_secs(15);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Nginx { child, port, dir };
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            stop(&mut child);
            log = std::fs::read_to_string(&error_log).unwrap_or_default();
            // Another process took the port between free_port() and nginx's bind: another port.
            if !log.contains("Address already in use") {
                break;
            }
        }
        panic!("nginx did not start; its error log:\n{log}");
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }
}

/// SIGTERM (the master stops its workers), then SIGKILL if it lingers.
fn stop(child: &mut Child) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Nginx {
    fn drop(&mut self) {
        stop(&mut self.child);
    }
}

/// `method url` through nginx with `headers`; (status, body as JSON or text).
async fn call(
    c: &reqwest::Client,
    method: Method,
    url: &str,
    headers: &[(&str, String)],
    body: Option<Value>,
) -> (u16, Value) {
    let mut r = c.request(method, url);
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    if let Some(b) = body {
        r = r.json(&b);
    }
    read(r.send().await.expect("request through nginx")).await
}

/// As [`call`], GET without a body, with the reply's `Content-Type` and `X-Server-Time`.
async fn call_with_headers(
    c: &reqwest::Client,
    url: &str,
    headers: &[(&str, String)],
) -> (u16, Value, Option<String>, Option<String>) {
    let mut r = c.get(url);
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    let resp = r.send().await.expect("request through nginx");
    let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let (content_type, server_time) = (header("content-type"), header("x-server-time"));
    let (s, body) = read(resp).await;
    (s, body, content_type, server_time)
}

/// The token the upstream received, checked against barongd's JWKS; returns its claims.
async fn upstream_claims(srv: &TestServer, echo: &Value) -> Value {
    let auth = echo["authorization"].as_str().unwrap_or_else(|| panic!("no Authorization upstream: {echo}"));
    let token = auth.strip_prefix("Bearer ").unwrap_or_else(|| panic!("not a Bearer token: {auth}"));
    verify_with_jwks(srv, token).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_auth_request() {
    let Some(bin) = find_nginx() else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("nginx is not installed, and CI must run the gateway test: install nginx (see .ci/run)");
        }
        eprintln!("SKIPPED (nginx): install nginx to run this test");
        return;
    };
    let rules = workspace_root().join("config/authz_rules.yml");
    let opts = Options { config: format!("authz_rules_file: {}\n", rules.display()), ..Default::default() };
    let srv = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("barongd");
    let (peatio, seen) = upstream().await;
    let nginx = Nginx::start(&bin, &srv.addr, &peatio);
    let upstream_count = || seen.lock().map(|s| s.len()).unwrap_or_default();
    let last_upstream = || seen.lock().ok().and_then(|s| s.last().cloned()).unwrap_or(Value::Null);
    let c = reqwest::Client::builder().user_agent(TEST_UA).timeout(Duration::from_secs(30)).build().expect("client");
    let balances = nginx.url(&format!("{BALANCES}?currency=btc"));

    // (f) A barong `pass` path: barongd itself answers, through nginx.
    let r = call(&c, Method::GET, &nginx.url("/api/v2/barong/public/ping"), &[], None).await;
    assert_eq!(r, (200, json!({"ping": "pong"})), "nginx log:\n{}", nginx.error_log());

    // (a) No session: barongd's 401 and JSON body, as JSON, and the upstream sees nothing.
    let r = call_with_headers(&c, &balances, &[]).await;
    assert_eq!((r.0, &r.1), (401, &json!({"errors": ["authz.invalid_session"]})), "{}", nginx.error_log());
    assert_eq!(r.2.as_deref(), Some("application/json"));
    assert_eq!(r.3, None, "no X-Server-Time unless barongd sent one");
    assert_eq!(upstream_count(), 0, "the upstream saw a denied request");

    // A `pass` path of the upstream: no token, and the client's own Authorization is dropped.
    let forged = [("Authorization", "Bearer forged".to_string())];
    let r = call(&c, Method::GET, &nginx.url("/api/v2/peatio/public/markets"), &forged, None).await;
    assert_eq!(
        (r.0, &r.1["authorization"], &r.1["path"]),
        (200, &Value::Null, &json!("/api/v2/peatio/public/markets"))
    );

    // (e) `block` rules of config/authz_rules.yml: 401 even on barong's own paths.
    let before = upstream_count();
    for path in ["/api/v2/barong/management/users", "/api/v2/peatio/management/deposits"] {
        let r = call(&c, Method::GET, &nginx.url(path), &[], None).await;
        assert_eq!(r, (401, json!({"errors": ["authz.permission_denied"]})), "{path}");
    }
    assert_eq!(upstream_count(), before, "the upstream saw a blocked request");

    // (b) A session made by logging in through nginx (identity is a `pass` path; barongd sees the
    // client's address in nginx's X-Forwarded-For), sent as a plain Cookie header with the same
    // User-Agent as the login.
    let email = "nginx@example.com";
    drop(active_user(&srv, email).await);
    let login = c
        .post(nginx.url("/api/v2/barong/identity/sessions"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .expect("login through nginx");
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("_barong_session="))
        .and_then(|v| v.split(';').next())
        .expect("_barong_session cookie")
        .to_string();
    let (s, body) = read(login).await;
    assert_eq!(s, 200, "login: {body}");
    let csrf = body["csrf_token"].as_str().expect("csrf_token").to_string();
    let session = [("Cookie", cookie.clone())];

    let r = call(&c, Method::GET, &balances, &session, None).await;
    assert_eq!(r.0, 200, "{} / nginx log:\n{}", r.1, nginx.error_log());
    assert_eq!(r.1["path"], format!("{BALANCES}?currency=btc"), "the upstream got the original path and query");
    assert_eq!(r.1, last_upstream(), "the reply is the upstream's");
    let claims = upstream_claims(&srv, &r.1).await;
    assert_eq!((claims["email"].as_str(), claims["sub"].as_str()), (Some(email), Some("session")));
    // The client's own Authorization header never reaches the upstream: barongd's replaces it.
    let forged = [("Cookie", cookie.clone()), ("Authorization", "Bearer forged".to_string())];
    let r = call(&c, Method::GET, &balances, &forged, None).await;
    assert_eq!(r.0, 200, "{}", r.1);
    upstream_claims(&srv, &r.1).await;

    // (c) State-changing requests need the CSRF token: barongd sees the original method.
    let before = upstream_count();
    let order = Some(json!({"market": "btcusd", "volume": "1"}));
    let orders = nginx.url("/api/v2/peatio/market/orders");
    let r = call(&c, Method::POST, &orders, &session, order.clone()).await;
    assert_eq!(r.0, 401, "a POST without X-CSRF-Token: {}", r.1);
    let wrong = [("Cookie", cookie.clone()), ("X-CSRF-Token", "0123456789abcdef0123".to_string())];
    assert_eq!(call(&c, Method::POST, &orders, &wrong, order.clone()).await.0, 401, "a wrong CSRF token");
    assert_eq!(upstream_count(), before, "the upstream saw a request without CSRF");
    let with_csrf = [("Cookie", cookie.clone()), ("X-CSRF-Token", csrf.clone())];
    let r = call(&c, Method::POST, &orders, &with_csrf, order.clone()).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!((r.1["method"].as_str(), r.1["path"].as_str()), (Some("POST"), Some("/api/v2/peatio/market/orders")));
    assert_eq!(serde_json::from_str::<Value>(r.1["body"].as_str().unwrap_or_default()).ok(), order, "the body");
    assert_eq!(upstream_claims(&srv, &r.1).await["email"], email);

    // Barong's resource API behind the same gateway: the session reaches /resource/users/me.
    let r = call(&c, Method::GET, &nginx.url("/api/v2/barong/resource/users/me"), &session, None).await;
    assert_eq!((r.0, r.1["email"].as_str()), (200, Some(email)), "{}", r.1);

    // A `block` rule holds with a good session too (peatio paths otherwise let it through).
    let before = upstream_count();
    let r = call(&c, Method::GET, &nginx.url("/api/v2/peatio/management/deposits"), &session, None).await;
    assert_eq!((r.0, upstream_count()), (401, before), "a blocked path with a session: {}", r.1);

    // nginx passes the User-Agent on: the same cookie from another browser is refused, and
    // barongd then ends the session (as Barong does), for the right browser too.
    let other_ua = reqwest::Client::builder().user_agent("curl/8.0").build().expect("client");
    assert_eq!(call(&other_ua, Method::GET, &balances, &session, None).await.0, 401, "another User-Agent");
    assert_eq!(call(&c, Method::GET, &balances, &session, None).await.0, 401, "the session is gone");

    // (d) The API-key flow: signed headers, no cookie, no CSRF.
    let key_email = "nginx-key@example.com";
    let (kc, kcsrf, totp) = two_factor_user(&srv, key_email).await;
    let (kid, secret) = create_api_key(&srv, &kc, &kcsrf, &totp).await;
    let signed = signed_headers(&kid, &secret, now_ms());
    let r = call(&c, Method::POST, &orders, &signed, order.clone()).await;
    assert_eq!(r.0, 200, "{}", r.1);
    let claims = upstream_claims(&srv, &r.1).await;
    assert_eq!(claims["email"], key_email);
    let before = upstream_count();
    // The same nonce again is a replay.
    assert_eq!(call(&c, Method::POST, &orders, &signed, None).await.0, 401, "a replayed nonce");
    let bad = signed_headers(&kid, &"0".repeat(32), now_ms());
    assert_eq!(call(&c, Method::GET, &balances, &bad, None).await.0, 401, "a wrong signature");
    // Statuses auth_request does not know reach the client as barongd gave them.
    let partial = [("X-Auth-Apikey", kid.clone())];
    let r = call(&c, Method::GET, &balances, &partial, None).await;
    assert_eq!(r, (422, json!({"errors": ["authz.invalid_api_key_headers"]})), "{}", nginx.error_log());
    // A stale nonce: barongd's clock is relayed for the client to correct its own.
    let stale = signed_headers(&kid, &secret, now_ms() - 3_600_000);
    let r = call_with_headers(&c, &balances, &stale).await;
    assert_eq!((r.0, &r.1), (401, &json!({"errors": ["authz.nonce_expired"]})));
    let server_time: i64 = r.3.as_deref().and_then(|t| t.parse().ok()).expect("X-Server-Time relayed");
    assert!((server_time - now_ms()).abs() < 60_000, "X-Server-Time {server_time}");
    assert_eq!(upstream_count(), before, "the upstream saw a denied API-key request");
    let r = call(&c, Method::GET, &balances, &signed_headers(&kid, &secret, now_ms()), None).await;
    assert_eq!(r.0, 200, "{}", r.1);
    assert_eq!(upstream_claims(&srv, &r.1).await["email"], key_email);

    // Maintenance (471): barongd's status and body through nginx, for everyone.
    let before = upstream_count();
    let (code, out, err) = srv
        .ctl(&["--json", "restriction", "add", "--category", "maintenance", "--scope", "all", "--value", "all"], None);
    assert_eq!(code, 0, "{out}{err}");
    let maintenance = (471, json!({"errors": ["authz.restrict.maintenance"]}));
    eventually(Duration::from_secs(10), || async {
        call(&c, Method::GET, &balances, &session, None).await == maintenance
    })
    .await;
    assert_eq!(call(&c, Method::GET, &nginx.url("/api/v2/barong/public/ping"), &[], None).await, maintenance);
    assert_eq!(upstream_count(), before, "the upstream saw a request during maintenance");

    // barongd down: a JSON 502, not nginx's HTML 500.
    let mut srv = srv;
    let stopped = tokio::task::spawn_blocking(move || {
        srv.terminate();
        srv
    })
    .await
    .expect("join");
    let r = call_with_headers(&c, &balances, &[]).await;
    assert_eq!(
        (r.0, &r.1, r.2.as_deref()),
        (502, &json!({"errors": ["server.bad_gateway"]}), Some("application/json"))
    );
    drop(stopped);

    let log = nginx.error_log();
    assert!(!log.contains("[emerg]") && !log.contains("[alert]"), "nginx error log:\n{log}");
}
