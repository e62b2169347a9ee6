//! Mails anyone can trigger by naming an address are limited per address and per client IP;
//! the reply is the same 201 whether a mail goes or not.

use super::*;

async fn ask(srv: &TestServer, path: &str, email: &str, ip: &str) {
    let r = srv.client().post(srv.url(path)).header("X-Forwarded-For", ip).json(&json!({"email": email}));
    assert_eq!(read(r.send().await.expect("request")).await, (201, json!(201)), "{path} {email}");
}

async fn reset(srv: &TestServer, email: &str, ip: &str) {
    ask(srv, "identity/users/password/generate_code", email, ip).await;
}

/// The mails to `email` once the outbox has settled: waits for `expected`, then a little longer
/// for any that should not come.
async fn mails_to(srv: &TestServer, email: &str, expected: usize) -> usize {
    let to = format!("To: {email}");
    let count = || srv.outbox().iter().filter(|m| m.contains(&to)).count();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while count() < expected && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    count()
}

both!(one_mail_a_minute_per_address, |srv: TestServer| async move {
    operator_user(&srv, "bomb@example.com");
    for _ in 0..8 {
        reset(&srv, "bomb@example.com", "198.51.100.1").await;
    }
    assert_eq!(mails_to(&srv, "bomb@example.com", 1).await, 1, "8 requests, one mail");
    // Confirmation mails share the address's limit.
    register(&srv, &srv.client(), "pending@example.com").await;
    assert_eq!(mails_to(&srv, "pending@example.com", 1).await, 1, "the registration mail");
    reset(&srv, "pending@example.com", "198.51.100.2").await;
    for _ in 0..5 {
        ask(&srv, "identity/users/email/generate_code", "pending@example.com", "198.51.100.2").await;
    }
    assert_eq!(mails_to(&srv, "pending@example.com", 2).await, 2, "the reset link, then nothing this minute");
});

both!(
    a_few_mails_an_hour_per_address_and_per_ip,
    config = "mail_throttle: {max_per_address_per_minute: 100, max_per_address_per_hour: 3, max_per_ip_per_hour: 10}",
    |srv: TestServer| async move {
        operator_user(&srv, "a@example.com");
        operator_user(&srv, "b@example.com");
        for _ in 0..8 {
            reset(&srv, "a@example.com", "198.51.100.1").await;
        }
        assert_eq!(mails_to(&srv, "a@example.com", 3).await, 3, "the hourly limit of the address");
        // The IP has made 8 requests: two more pass, then its hour is used up (for any address,
        // known or not).
        for _ in 0..3 {
            reset(&srv, "b@example.com", "198.51.100.1").await;
        }
        assert_eq!(mails_to(&srv, "b@example.com", 2).await, 2, "the hourly limit of the IP");
        reset(&srv, "b@example.com", "198.51.100.9").await;
        assert_eq!(mails_to(&srv, "b@example.com", 3).await, 3, "another IP still gets its mail through");
        // IPv6 clients share one budget per /64.
        for i in 0..10 {
            reset(&srv, &format!("nobody{i}@example.com"), &format!("2001:db8:5:6::{i}")).await;
        }
        srv.sql("DELETE FROM throttles WHERE bucket LIKE 'mail:address:%'").await;
        reset(&srv, "b@example.com", "2001:db8:5:6:ffff::1").await;
        assert_eq!(mails_to(&srv, "b@example.com", 3).await, 3, "the /64 used its hour");
    }
);
