//! Restrictions through barongctl, the whitelink endpoint, propagation between two daemons,
//! and the GeoIP start-up check.

use super::*;

/// `barongctl --json ARGS` that the daemon refuses; returns the error code.
fn ctl_refused(srv: &TestServer, args: &[&str]) -> String {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let (code, out, err) = srv.ctl(&all, None);
    assert_eq!(code, 1, "barongctl {args:?}: {out} {err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    v["error"]["code"].as_str().expect("code").to_string()
}

fn whitelink(srv: &TestServer) -> String {
    ctl_json(srv, &["restriction", "whitelink", "--hours", "2"])["token"].as_str().expect("token").to_string()
}

async fn access(srv: &TestServer, token: &str, forwarded_for: Option<&str>) -> (u16, Value) {
    let mut r = srv.client().post(srv.url("identity/users/access")).json(&json!({ "whitelink_token": token }));
    if let Some(ip) = forwarded_for {
        r = r.header("X-Forwarded-For", ip);
    }
    read(r.send().await.expect("request")).await
}

both!(whitelink_tokens_whitelist_the_caller_once, |srv: TestServer| async move {
    let c = srv.client();
    let url = srv.url("identity/users/access");
    let got = post(&c, &url, json!({})).await;
    assert_err(&got, 422, &["identity.user.missing_whitelink_token", "identity.user.empty_whitelink_token"]);
    let got = post(&c, &url, json!({"whitelink_token": "  "})).await;
    assert_err(&got, 422, &["identity.user.empty_whitelink_token"]);
    assert_err(&access(&srv, "nope", None).await, 422, &["identity.user.access.invalid_token"]);

    let token = whitelink(&srv);
    assert_eq!(token.len(), 64, "{token}");
    // Stored hashed, never in clear.
    assert!(srv.sql_texts("SELECT token_hash FROM whitelinks").await.iter().all(|h| *h != token));
    assert_eq!(access(&srv, &token, None).await, (201, json!(201)));
    let list = ctl_json(&srv, &["restriction", "list"]);
    let w = &list[0];
    assert_eq!((&w["category"], &w["scope"], &w["value"]), (&json!("whitelist"), &json!("ip"), &json!("127.0.0.1")));
    assert_eq!((&w["state"], &w["code"], &w["active"]), (&json!("enabled"), &json!(401), &json!(true)));
    // Consumed on use (Barong's stayed valid until expiry).
    assert_err(&access(&srv, &token, None).await, 422, &["identity.user.access.invalid_token"]);

    // The same IP again: value.taken, and that token stays usable.
    let second = whitelink(&srv);
    assert_err(&access(&srv, &second, None).await, 422, &["value.taken"]);
    // IPv6 clients can be whitelisted too (through a trusted proxy here).
    assert_eq!(access(&srv, &second, Some("2001:DB8:0::7")).await, (201, json!(201)));
    let values: Vec<Value> =
        ctl_json(&srv, &["restriction", "list"]).as_array().expect("list").iter().map(|r| r["value"].clone()).collect();
    assert_eq!(values, vec![json!("127.0.0.1"), json!("2001:db8::7")]);

    // An expired token is refused.
    let third = whitelink(&srv);
    srv.sql("UPDATE whitelinks SET expires_at = 1").await;
    assert_err(&access(&srv, &third, Some("192.0.2.9")).await, 422, &["identity.user.access.invalid_token"]);

    assert_eq!(ctl_refused(&srv, &["restriction", "whitelink", "--days", "31"]), "admin.restriction.invalid_expire");
    assert_eq!(ctl_refused(&srv, &["restriction", "whitelink", "--hours", "0"]), "admin.restriction.invalid_expire");
    // The table output prints the token on stdout, and only there.
    let (code, out, err) = srv.ctl(&["restriction", "whitelink"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim().len(), 64, "{out}");
    assert!(err.contains("shown only this once"), "{err}");
});

both!(barongctl_manages_restrictions, |srv: TestServer| async move {
    let r = ctl_json(&srv, &["restriction", "add", "--category", "maintenance", "--scope", "all", "--value", "all"]);
    assert_eq!((&r["code"], &r["state"], &r["active"]), (&json!(471), &json!("enabled"), &json!(true)));
    let id = r["id"].as_i64().expect("id").to_string();
    let args = ["restriction", "add", "--category", "blacklist", "--scope", "ip_subnet", "--value", "2001:db8::5/32"];
    let r = ctl_json(&srv, &args);
    assert_eq!((&r["value"], &r["code"]), (&json!("2001:db8::/32"), &json!(403)));
    let r = ctl_json(
        &srv,
        &["restriction", "add", "--category", "whitelist", "--scope", "ip", "--value", "::1", "--code", "499"],
    );
    assert_eq!(r["code"], 401, "whitelist codes are always the default");
    let r = ctl_json(
        &srv,
        &[
            "restriction",
            "add",
            "--category",
            "blacklist",
            "--scope",
            "country",
            "--value",
            "US",
            "--code",
            "451",
            "--state",
            "disabled",
        ],
    );
    assert_eq!((&r["code"], &r["state"], &r["active"]), (&json!(451), &json!("disabled"), &json!(false)));
    let country = r["id"].as_i64().expect("id").to_string();

    let add = |c: &str, s: &str, v: &str| {
        ctl_refused(&srv, &["restriction", "add", "--category", c, "--scope", s, "--value", v])
    };
    assert_eq!(add("maintenance", "all", "all"), "value.taken");
    assert_eq!(add("blacklist", "ip", "300.1.1.1"), "value.invalid");
    assert_eq!(add("blacklist", "ip_subnet", "10.0.0.1"), "value.invalid");
    assert_eq!(add("greylist", "ip", "1.1.1.1"), "admin.restriction.invalid_category");
    assert_eq!(add("blacklist", "planet", "mars"), "admin.restriction.invalid_scope");

    let r = ctl_json(&srv, &["restriction", "disable", &id]);
    assert_eq!((&r["state"], &r["active"]), (&json!("disabled"), &json!(false)));
    let r = ctl_json(&srv, &["restriction", "enable", &country]);
    assert_eq!(r["state"], "enabled");
    let r = ctl_json(&srv, &["restriction", "remove", &id]);
    assert_eq!(r["category"], "maintenance");
    assert_eq!(ctl_refused(&srv, &["restriction", "remove", &id]), "admin.restriction.doesnt_exist");
    assert_eq!(ctl_refused(&srv, &["restriction", "enable", "999"]), "admin.restriction.doesnt_exist");
    assert_eq!(ctl_json(&srv, &["restriction", "list"]).as_array().map(Vec::len), Some(3));
    // Every change is in the change feed.
    let kinds = srv.sql_texts("SELECT kind FROM changes WHERE kind = 'restrictions'").await;
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    let (code, out, _) = srv.ctl(&["restriction", "list"], None);
    assert_eq!(code, 0);
    assert!(out.contains("2001:db8::/32") && out.contains("country"), "{out}");
});

both!(changes_reach_a_second_daemon_within_a_second, |srv: TestServer| async move {
    let other = srv.sibling("").await;
    let r = ctl_json(&srv, &["restriction", "add", "--category", "blacklist", "--scope", "ip", "--value", "192.0.2.1"]);
    let id = r["id"].as_i64().expect("id");
    let active_on_other = |want: bool| {
        let list = ctl_json(&other, &["restriction", "list"]);
        list.as_array().expect("list").iter().any(|r| r["id"] == id && r["active"] == want)
    };
    let started = std::time::Instant::now();
    while !active_on_other(true) {
        assert!(started.elapsed() < Duration::from_millis(1500), "not enforced by the second daemon in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ctl_json(&other, &["restriction", "disable", &id.to_string()]);
    let started = std::time::Instant::now();
    loop {
        let list = ctl_json(&srv, &["restriction", "list"]);
        if list[0]["active"] == json!(false) {
            break;
        }
        assert!(started.elapsed() < Duration::from_millis(1500), "disable not seen by the first daemon in time");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
});

both!(enabling_blocklogin_ends_only_the_sessions_it_matches, |srv: TestServer| async move {
    let (c, _) = active_user(&srv, "blocked@example.com").await;
    let me = srv.url("resource/users/me");
    assert_eq!(get(&c, &me).await.0, 200);
    ctl_json(&srv, &["restriction", "add", "--category", "blocklogin", "--scope", "ip", "--value", "192.0.2.1"]);
    assert_eq!(get(&c, &me).await.0, 200, "a session from elsewhere survives");
    let r = ctl_json(
        &srv,
        &[
            "restriction",
            "add",
            "--category",
            "blocklogin",
            "--scope",
            "ip_subnet",
            "--value",
            "127.0.0.0/8",
            "--state",
            "disabled",
        ],
    );
    assert_eq!(get(&c, &me).await.0, 200, "a disabled restriction ends nothing");
    ctl_json(&srv, &["restriction", "enable", &r["id"].as_i64().expect("id").to_string()]);
    assert_eq!(get(&c, &me).await.0, 401, "the matching session ended");
});

#[test]
fn a_missing_geoip_database_stops_start_up_with_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("barong.yml");
    std::fs::write(&cfg, "maxminddb_path: /nonexistent/GeoLite2-Country.mmdb\n").expect("write");
    let out = std::process::Command::new(binary("barongd"))
        .arg("--config")
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--listen", "127.0.0.1:0"])
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("maxminddb_path at line 1: /nonexistent/GeoLite2-Country.mmdb does not exist"), "{err}");
}

/// `GET /api/v2/auth/<path>` from `ip` (through the trusted loopback proxy).
async fn gateway(srv: &TestServer, path: &str, ip: &str) -> (u16, Value) {
    let url = format!("{}/api/v2/auth/{path}", srv.base);
    read(srv.client().get(url).header("X-Forwarded-For", ip).send().await.expect("request")).await
}

both!(the_gateway_applies_restrictions_first, |srv: TestServer| async move {
    let public = "api/v2/barong/public/ping";
    assert_eq!(gateway(&srv, public, "192.0.2.1").await.0, 200);
    let add = |args: &[&str]| {
        let mut all = vec!["restriction", "add"];
        all.extend_from_slice(args);
        ctl_json(&srv, &all)
    };
    add(&["--category", "blocklogin", "--scope", "ip", "--value", "192.0.2.1"]);
    for login in ["api/v2/barong/identity/sessions", "api/v2/barong/identity/sessions/auth0"] {
        assert_err(&gateway(&srv, login, "192.0.2.1").await, 401, &["authz.restrict.blocklogin"]);
    }
    assert_eq!(gateway(&srv, public, "192.0.2.1").await.0, 200, "blocklogin only blocks logins");
    add(&["--category", "blacklist", "--scope", "ip_subnet", "--value", "2001:db8::/32"]);
    assert_err(&gateway(&srv, public, "2001:db8::9").await, 403, &["authz.restrict.blacklist"]);
    let m = add(&["--category", "maintenance", "--scope", "all", "--value", "all"]);
    assert_err(&gateway(&srv, public, "198.51.100.1").await, 471, &["authz.restrict.maintenance"]);
    // The whitelink endpoint stays reachable during maintenance, and whitelists the caller.
    assert_eq!(gateway(&srv, "api/v2/barong/identity/users/access", "198.51.100.1").await.0, 200);
    let token = whitelink(&srv);
    assert_eq!(access(&srv, &token, Some("198.51.100.1")).await, (201, json!(201)));
    assert_eq!(gateway(&srv, public, "198.51.100.1").await.0, 200, "whitelisted past maintenance");
    assert_err(&gateway(&srv, public, "198.51.100.2").await, 471, &["authz.restrict.maintenance"]);
    ctl_json(&srv, &["restriction", "disable", &m["id"].as_i64().expect("id").to_string()]);
    assert_eq!(gateway(&srv, public, "198.51.100.2").await.0, 200);
});

/// A real MaxMind database (written by the testkit) with a Japanese and an American network.
fn geo_options(dir: &std::path::Path) -> Options {
    use barong_tests::mmdb::{GeoEntry, write_country_db};
    let path = dir.join("GeoLite2-Country.mmdb");
    write_country_db(
        &path,
        &[
            GeoEntry {
                network: "203.0.113.0/24",
                country_iso: "JP",
                country_names: &[("en", "Japan"), ("ru", "Япония")],
                continent_code: "AS",
                continent_name: "Asia",
            },
            GeoEntry {
                network: "198.51.100.0/24",
                country_iso: "US",
                country_names: &[("en", "United States"), ("ru", "США")],
                continent_code: "NA",
                continent_name: "North America",
            },
        ],
    )
    .expect("mmdb");
    Options { config: format!("maxminddb_path: {}\ngeoip_lang: ru\n", path.display()), ..Default::default() }
}

async fn geoip(srv: TestServer) {
    // Activities carry the country of the client, named in geoip_lang.
    let (c, _) = active_user(&srv, "geo@example.com").await;
    let login = c
        .post(srv.url("identity/sessions"))
        .header("X-Forwarded-For", "198.51.100.9")
        .json(&json!({"email": "geo@example.com", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200);
    // Sessions stay with the /16 they logged in from, so the rest comes through the same proxy.
    let r = c.get(srv.url("resource/users/activity/session")).header("X-Forwarded-For", "198.51.100.10");
    let (s, list) = read(r.send().await.expect("activity")).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!((&list[0]["user_ip"], &list[0]["user_ip_country"]), (&json!("198.51.100.9"), &json!("США")));
    assert_eq!(list[1]["user_ip_country"], Value::Null, "loopback is nowhere");
    // So do the admin activities the gateway writes for a denied permission.
    let admin = auth_url(&srv, "api/v2/barong/admin/users");
    let r = authz_call(&c, reqwest::Method::GET, &admin, &[("X-Forwarded-For", "198.51.100.11".into())]).await;
    assert_eq!((r.0, errors(&r.2)), (401, vec!["authz.invalid_permission".to_string()]));
    let started = std::time::Instant::now();
    while srv.sql_texts("SELECT user_ip_country FROM activities WHERE category = 'admin'").await != ["США"] {
        assert!(started.elapsed() < Duration::from_secs(5), "no admin activity with a country");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Country rules by ISO code and by name (localized or English), continent rules by code or
    // name; their default code is 423.
    let public = "api/v2/barong/public/ping";
    let add = |scope: &str, value: &str| {
        ctl_json(&srv, &["restriction", "add", "--category", "blacklist", "--scope", scope, "--value", value])
    };
    let jp = add("country", "jp");
    assert_err(&gateway(&srv, public, "203.0.113.7").await, 423, &["authz.restrict.blacklist"]);
    assert_eq!(gateway(&srv, public, "198.51.100.9").await.0, 200);
    assert_eq!(gateway(&srv, public, "192.0.2.1").await.0, 200, "an address the database does not know");
    ctl_json(&srv, &["restriction", "remove", &jp["id"].as_i64().expect("id").to_string()]);
    assert_eq!(gateway(&srv, public, "203.0.113.7").await.0, 200);
    for (scope, value) in [("country", "Япония"), ("country", "japan"), ("continent", "AS"), ("continent", "asia")]
    {
        let r = add(scope, value);
        assert_err(&gateway(&srv, public, "203.0.113.7").await, 423, &["authz.restrict.blacklist"]);
        assert_eq!(gateway(&srv, public, "198.51.100.9").await.0, 200, "{scope} {value}");
        ctl_json(&srv, &["restriction", "remove", &r["id"].as_i64().expect("id").to_string()]);
    }
}

both!(geoip_from_a_maxmind_database, per_backend = geoip_from_a_maxmind_database);
/// Its own MaxMind database per daemon, kept until the test ends.
async fn geoip_from_a_maxmind_database(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let Some(srv) = TestServer::spawn_with(backend, geo_options(dir.path())).await else { return };
    within_limit(srv, geoip).await;
}
