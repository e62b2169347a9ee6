//! The admin activity rows of denied gateway requests (docs/barong-weaknesses-fixed.md#w-denied-audit):
//! recorded within a budget per client address and minute, every stored text cut to a size.
//! Client addresses come from `X-Forwarded-For` (the test is a trusted proxy, as by default).

use reqwest::Method;

use super::*;

const ADMIN: &str = "api/v2/barong/admin/users";

/// A member's gateway call to the admin API from `ip`, refused by the permissions.
async fn denied(srv: &TestServer, c: &reqwest::Client, ip: &str, extra: &[(&str, String)]) {
    let mut headers = vec![("X-Forwarded-For", ip.to_string())];
    headers.extend(extra.iter().cloned());
    let url = if extra.is_empty() { auth_url(srv, ADMIN) } else { format!("{}/api/v2/auth", srv.base) };
    let (s, _, body, _) = authz_call(c, Method::GET, &url, &headers).await;
    assert_eq!((s, errors(&body)), (401, vec!["authz.invalid_permission".to_string()]));
}

async fn rows_of(srv: &TestServer, ip: &str) -> Vec<String> {
    srv.sql_texts(&format!("SELECT data FROM activities WHERE category = 'admin' AND user_ip = '{ip}'")).await
}

both!(
    denied_requests_are_recorded_within_a_budget_and_cut_to_size,
    config = "denied_audit: {max_per_ip_per_minute: 5, max_per_minute: 100}\n",
    |srv: TestServer| async move {
        let (c, _) = active_user(&srv, "member@example.com").await;
        // A flood from one address (in the login address's network, so the session holds).
        for _ in 0..20 {
            denied(&srv, &c, "127.0.1.1", &[]).await;
        }
        // One denial with a 100 KB path (Traefik names the path in a header, where it fits), from
        // another address; once its row is in, the flood's are too (all were written first).
        let long = format!("/{ADMIN}/{}", "a".repeat(100_000));
        denied(&srv, &c, "127.0.2.2", &[("X-Forwarded-Uri", long), ("X-Forwarded-Method", "GET".into())]).await;
        eventually(Duration::from_secs(10), || async { !rows_of(&srv, "127.0.2.2").await.is_empty() }).await;
        let long_row = rows_of(&srv, "127.0.2.2").await;
        let flood = rows_of(&srv, "127.0.1.1").await;
        assert!(flood.len() <= 5, "{} rows for one address in a minute", flood.len());
        let row: Value = serde_json::from_str(&long_row[0]).expect("data is JSON");
        let path = row["path"].as_str().expect("path");
        assert!(path.len() <= 1024 && path.starts_with(ADMIN), "stored path of {} bytes", path.len());
        assert_eq!(row["truncated"], true);
    }
);
