//! Barong's bcrypt digests as legacy credentials (migration spec §2.7): sign-in over the first
//! 72 bytes, the rehash to argon2id, lockout, and the time floor while any remain. Digests are
//! written by SQL, as the Management API's import stores them (tests/integration/management/import.rs
//! signs in through the import itself).

use std::time::Instant;

use super::*;

/// A real bcrypt digest of `password` as Barong stored it (`variant` is `$2a$`, `$2b$`, ...).
fn barong_digest(password: &[u8], variant: &str) -> String {
    bcrypt::hash(password, 4).expect("bcrypt").replacen("$2b$", variant, 1)
}

/// Registers `email` (password [`PASSWORD`]) and gives it `digest` instead.
async fn legacy_user(srv: &TestServer, email: &str, digest: &str) {
    register(srv, &srv.client(), email).await;
    srv.sql(&format!("UPDATE users SET password_digest = '{digest}' WHERE email = '{email}'")).await;
}

async fn digest_of(srv: &TestServer, email: &str) -> String {
    srv.sql_texts(&format!("SELECT password_digest FROM users WHERE email = '{email}'")).await.remove(0)
}

/// `barongctl status --json`'s count of bcrypt digests left, by prefix and cost.
fn bcrypt_left(srv: &TestServer) -> Value {
    let (code, out, err) = srv.ctl(&["--json", "status"], None);
    assert_eq!(code, 0, "{err}");
    serde_json::from_str::<Value>(&out).expect("status JSON")["bcrypt_digests"].clone()
}

async fn login(srv: &TestServer, email: &str, password: &str) -> (u16, Value) {
    post(&srv.client(), &srv.url("identity/sessions"), json!({"email": email, "password": password})).await
}

both!(bcrypt_digests_sign_in_and_become_argon2id, |srv: TestServer| async move {
    let digest = barong_digest(PASSWORD.as_bytes(), "$2a$");
    legacy_user(&srv, "legacy@example.com", &digest).await;
    assert_eq!(bcrypt_left(&srv), json!({"$2a$04": 1}), "status counts what is left");
    let (s, b) = login(&srv, "legacy@example.com", PASSWORD).await;
    assert_eq!((s, b["email"].as_str()), (200, Some("legacy@example.com")), "{b}");
    let now = digest_of(&srv, "legacy@example.com").await;
    assert!(now.starts_with("$argon2id$"), "rehashed: {now}");
    assert_eq!(bcrypt_left(&srv), json!({}));
    let (s, b) = login(&srv, "legacy@example.com", PASSWORD).await;
    assert_eq!(s, 200, "the argon2id digest signs in: {b}");

    // $2y$ (PHP's name for the same algorithm) is accepted; $2x$ (the buggy 8-bit variant)
    // is refused like a wrong password, and kept.
    legacy_user(&srv, "y@example.com", &barong_digest(PASSWORD.as_bytes(), "$2y$")).await;
    assert_eq!(login(&srv, "y@example.com", PASSWORD).await.0, 200);
    let x = barong_digest(PASSWORD.as_bytes(), "$2x$");
    legacy_user(&srv, "x@example.com", &x).await;
    assert_err(&login(&srv, "x@example.com", PASSWORD).await, 401, &["identity.session.invalid_params"]);
    assert_eq!(digest_of(&srv, "x@example.com").await, x);
});

both!(only_the_first_72_bytes_count_and_a_longer_password_is_not_stored, |srv: TestServer| async move {
    let long = format!("{}{}", "Zahsh8ei-".repeat(8), "X"); // 73 bytes
    let digest = barong_digest(&long.as_bytes()[..72], "$2a$");
    legacy_user(&srv, "long@example.com", &digest).await;
    let other_tail = format!("{}Y", &long[..72]);
    assert_eq!(login(&srv, "long@example.com", &other_tail).await.0, 200, "bcrypt-ruby read 72 bytes");
    assert_eq!(login(&srv, "long@example.com", &long).await.0, 200);
    assert_eq!(digest_of(&srv, "long@example.com").await, digest, "matched by truncation: not rehashed");
    assert_err(&login(&srv, "long@example.com", &long[..71]).await, 401, &["identity.session.invalid_params"]);
    // The 72 bytes themselves are the whole password: that one is migrated.
    assert_eq!(login(&srv, "long@example.com", &long[..72]).await.0, 200);
    assert!(digest_of(&srv, "long@example.com").await.starts_with("$argon2id$"));
    assert_eq!(login(&srv, "long@example.com", &long[..72]).await.0, 200);
    assert_err(&login(&srv, "long@example.com", &long).await, 401, &["identity.session.invalid_params"]);
});

both!(
    wrong_bcrypt_passwords_count_toward_lockout,
    config = "login_throttle: {max_failures_per_account: 2, max_failures_per_ip: 1000, window_seconds: 900}",
    |srv: TestServer| async move {
        let digest = barong_digest(PASSWORD.as_bytes(), "$2b$");
        legacy_user(&srv, "guessed@example.com", &digest).await;
        for _ in 0..2 {
            assert_err(
                &login(&srv, "guessed@example.com", "Wrong-1234").await,
                401,
                &["identity.session.invalid_params"],
            );
        }
        let locked = login(&srv, "guessed@example.com", PASSWORD).await;
        assert_err(&locked, 429, &["identity.session.too_many_attempts"]);
        assert_eq!(digest_of(&srv, "guessed@example.com").await, digest, "a refused sign-in changes nothing");
        let failed = "SELECT CAST(COUNT(*) AS TEXT) FROM activities a JOIN users u ON u.id = a.user_id \
                      WHERE u.email = 'guessed@example.com' AND a.action = 'login' AND a.result = 'failed'";
        assert_eq!(srv.sql_texts(failed).await, ["2"], "each wrong password is recorded");
    }
);

/// How long a sign-in for an email nobody has takes.
async fn unknown_email_login(srv: &TestServer) -> Duration {
    let t = Instant::now();
    assert_err(&login(srv, "nobody@example.com", PASSWORD).await, 401, &["identity.session.invalid_params"]);
    t.elapsed()
}

const FLOOR: Duration = Duration::from_millis(1500);

both!(
    the_time_floor_holds_while_bcrypt_digests_remain,
    config = "legacy_password_time_floor_ms: 1500",
    |mut srv: TestServer| async move {
        let fast = unknown_email_login(&srv).await;
        assert!(fast < FLOOR, "no bcrypt digest yet: {fast:?}");
        legacy_user(&srv, "one@example.com", &barong_digest(PASSWORD.as_bytes(), "$2a$")).await;
        legacy_user(&srv, "two@example.com", &barong_digest(PASSWORD.as_bytes(), "$2a$")).await;
        // Written behind the daemon's back (as an import on another daemon would be): the first
        // sign-in that meets one counts them again.
        assert_eq!(login(&srv, "one@example.com", "Wrong-1234").await.0, 401);
        let held = unknown_email_login(&srv).await;
        assert!(held >= FLOOR, "unknown email during the migration: {held:?}");

        let t = Instant::now();
        assert_eq!(login(&srv, "one@example.com", PASSWORD).await.0, 200);
        assert!(t.elapsed() >= FLOOR, "a bcrypt sign-in is held too: {:?}", t.elapsed());
        let held = unknown_email_login(&srv).await;
        assert!(held >= FLOOR, "one bcrypt digest left: {held:?}");

        // A restart counts them at start.
        srv.restart();
        let held = unknown_email_login(&srv).await;
        assert!(held >= FLOOR, "after a restart: {held:?}");
        assert_eq!(login(&srv, "two@example.com", PASSWORD).await.0, 200);
        let fast = unknown_email_login(&srv).await;
        assert!(fast < FLOOR / 2, "the last bcrypt digest migrated, the floor is gone: {fast:?}");
    }
);
