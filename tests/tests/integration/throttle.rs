//! Guessing limits: attempts reserved before the password hash, bounded hashing per client, one
//! account bucket for every password and 2FA check, long emails, IPv6 networks.

use futures::future::join_all;
use reqwest::Method;

use super::*;

/// `POST identity/sessions` from the client address `ip` (the daemon trusts the loopback proxy).
fn login_from(
    c: &reqwest::Client,
    srv: &TestServer,
    ip: &str,
    email: &str,
    password: &str,
) -> impl std::future::Future<Output = (u16, Value)> + use<> {
    let body = json!({"email": email, "password": password});
    let request = c.post(srv.url("identity/sessions")).header("X-Forwarded-For", ip).json(&body);
    async move { read(request.send().await.expect("login")).await }
}

fn statuses(replies: &[(u16, Value)]) -> (usize, usize) {
    let refused = replies.iter().filter(|r| r.0 == 429).count();
    let checked = replies.iter().filter(|r| r.0 == 401).count();
    for r in replies {
        assert!(
            r.0 == 401 && errors(&r.1) == ["identity.session.invalid_params"]
                || r.0 == 429 && errors(&r.1) == ["identity.session.too_many_attempts"],
            "{r:?}"
        );
    }
    (checked, refused)
}

both!(
    parallel_wrong_passwords_check_at_most_the_limit,
    config = "login_throttle: {max_failures_per_account: 10, max_failures_per_ip: 1000, window_seconds: 4, \
              max_hashing_per_account: 1000, max_hashing_per_ip: 1000}",
    |srv: TestServer| async move {
        operator_user(&srv, "victim@example.com");
        let c = srv.client();
        let tries = (0..40).map(|_| login_from(&c, &srv, "198.51.100.1", "victim@example.com", "guess"));
        let replies = join_all(tries).await;
        let (checked, refused) = statuses(&replies);
        assert_eq!((checked, refused), (10, 30), "exactly the limit was checked");
        // The right password is locked out too, until the window ends.
        let right = login_from(&c, &srv, "198.51.100.1", "victim@example.com", PASSWORD).await;
        assert_err(&right, 429, &["identity.session.too_many_attempts"]);
        eventually(Duration::from_secs(20), || async {
            login_from(&srv.client(), &srv, "198.51.100.1", "victim@example.com", PASSWORD).await.0 == 200
        })
        .await;
    }
);

both!(
    a_full_login_clears_the_accounts_earlier_typos,
    config = "login_throttle: {max_failures_per_account: 3, max_failures_per_ip: 1000, window_seconds: 900}",
    |srv: TestServer| async move {
        operator_user(&srv, "typist@example.com");
        let c = srv.client();
        for _ in 0..2 {
            let r = login_from(&c, &srv, "198.51.100.9", "typist@example.com", "typo").await;
            assert_err(&r, 401, &["identity.session.invalid_params"]);
        }
        let right = login_from(&c, &srv, "198.51.100.9", "typist@example.com", PASSWORD).await;
        assert_eq!(right.0, 200, "{right:?}");
        // The owner's two typos are forgotten: three more wrong passwords are checked again.
        for _ in 0..3 {
            let r = login_from(&c, &srv, "198.51.100.9", "typist@example.com", "typo").await;
            assert_err(&r, 401, &["identity.session.invalid_params"]);
        }
        let locked = login_from(&c, &srv, "198.51.100.9", "typist@example.com", PASSWORD).await;
        assert_err(&locked, 429, &["identity.session.too_many_attempts"]);
    }
);

both!(
    one_client_cannot_fill_the_hashing_queue,
    // A slow hash on one thread, so requests arrive while earlier ones are still hashed.
    config = "argon2: {memory_kib: 32768, iterations: 2, parallelism: 1, max_concurrent: 1}\n\
              login_throttle: {max_failures_per_account: 1000, max_failures_per_ip: 1000, window_seconds: 900, \
              max_hashing_per_account: 2, max_hashing_per_ip: 2}",
    |srv: TestServer| async move {
        operator_user(&srv, "other@example.com");
        operator_user(&srv, "target@example.com");
        let c = srv.client();
        // One IP guessing many accounts, and many IPs guessing one account.
        let from_one_ip = (0..24).map(|i| login_from(&c, &srv, "198.51.100.7", &format!("u{i}@example.com"), "guess"));
        let at_one_account =
            (0..24).map(|i| login_from(&c, &srv, &format!("203.0.113.{i}"), "target@example.com", "guess"));
        let flood = join_all(from_one_ip.chain(at_one_account));
        // Someone else logs in meanwhile: not refused, not queued behind the flood.
        let (replies, other) = tokio::join!(flood, login_from(&c, &srv, "192.0.2.50", "other@example.com", PASSWORD));
        assert_eq!(other.0, 200, "{other:?}");
        let (ip_checked, ip_refused) = statuses(&replies[..24]);
        let (account_checked, account_refused) = statuses(&replies[24..]);
        assert!(ip_refused >= 12, "one IP: {ip_checked} hashed, {ip_refused} refused at once");
        assert!(account_refused >= 12, "one account: {account_checked} hashed, {account_refused} refused at once");
        // Refused at once means not counted as guesses: the owner is not locked out.
        assert_eq!(login_from(&c, &srv, "192.0.2.51", "target@example.com", PASSWORD).await.0, 200);
    }
);

both!(
    password_change_and_deletion_share_the_login_bucket,
    config = "login_throttle: {max_failures_per_account: 3, max_failures_per_ip: 1000, window_seconds: 900}",
    |srv: TestServer| async move {
        let (c, csrf) = active_user(&srv, "pat@example.com").await;
        let url = srv.url("resource/users/password");
        let new = "Vei4ahch-Ohth";
        let change = |old: &str| json!({"old_password": old, "new_password": new, "confirm_password": new});
        for _ in 0..3 {
            let got = send_json(&c, Method::PUT, &url, Some(&csrf), Some(change("guess"))).await;
            assert_err(&got, 400, &["resource.password.prev_pass_not_correct"]);
        }
        let got = send_json(&c, Method::PUT, &url, Some(&csrf), Some(change(PASSWORD))).await;
        assert_err(&got, 429, &["resource.password.too_many_attempts"]);
        let me = srv.url("resource/users/me");
        let got = send_json(&c, Method::DELETE, &me, Some(&csrf), Some(json!({"password": PASSWORD}))).await;
        assert_err(&got, 429, &["resource.user.too_many_attempts"]);
        let login = post(
            &srv.client(),
            &srv.url("identity/sessions"),
            json!({"email": "pat@example.com", "password": PASSWORD}),
        )
        .await;
        assert_err(&login, 429, &["identity.session.too_many_attempts"]);

        // Account deletion guesses count the same way.
        let (c, csrf) = active_user(&srv, "del@example.com").await;
        for _ in 0..3 {
            let got = send_json(&c, Method::DELETE, &me, Some(&csrf), Some(json!({"password": "guess"}))).await;
            assert_err(&got, 422, &["resource.user.invalid_password"]);
        }
        let got = send_json(&c, Method::DELETE, &me, Some(&csrf), Some(json!({"password": PASSWORD}))).await;
        assert_err(&got, 429, &["resource.user.too_many_attempts"]);
        let login = post(
            &srv.client(),
            &srv.url("identity/sessions"),
            json!({"email": "del@example.com", "password": PASSWORD}),
        )
        .await;
        assert_err(&login, 429, &["identity.session.too_many_attempts"]);
        let (s, me_now) = get(&c, &srv.url("resource/users/me")).await;
        assert_eq!((s, me_now["state"].as_str()), (200, Some("active")), "not deleted");
    }
);

both!(
    ipv6_clients_are_counted_per_64,
    config = "login_throttle: {max_failures_per_account: 1000, max_failures_per_ip: 3, window_seconds: 900}",
    |srv: TestServer| async move {
        let c = srv.client();
        for (i, ip) in ["2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2:ffff::c"].iter().enumerate() {
            let got = login_from(&c, &srv, ip, &format!("v{i}@example.com"), "guess").await;
            assert_err(&got, 401, &["identity.session.invalid_params"]);
        }
        let same_64 = login_from(&c, &srv, "2001:db8:1:2::d", "w@example.com", "guess").await;
        assert_err(&same_64, 429, &["identity.session.too_many_attempts"]);
        let next_64 = login_from(&c, &srv, "2001:db8:1:3::1", "w@example.com", "guess").await;
        assert_err(&next_64, 401, &["identity.session.invalid_params"]);
        // IPv4 clients stay per address.
        for ip in ["192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"] {
            assert_err(
                &login_from(&c, &srv, ip, "w@example.com", "guess").await,
                401,
                &["identity.session.invalid_params"],
            );
        }
    }
);

both!(emails_over_255_bytes_are_refused_before_any_work, |srv: TestServer| async move {
    let c = srv.client();
    let long = format!("a@{}", "b".repeat(298));
    assert_err(
        &post(&c, &srv.url("identity/sessions"), json!({"email": long, "password": PASSWORD})).await,
        401,
        &["identity.session.invalid_params"],
    );
    for path in ["identity/users/password/generate_code", "identity/users/email/generate_code"] {
        assert_eq!(post(&c, &srv.url(path), json!({"email": long})).await, (201, json!(201)), "{path}");
    }
    assert_err(
        &post(&c, &srv.url("identity/users"), json!({"email": long, "password": PASSWORD})).await,
        422,
        &["email.invalid"],
    );
    let keys = srv.sql_texts("SELECT bucket FROM throttles").await;
    assert!(keys.iter().all(|k| !k.contains("bbbb")), "the long email reached the throttle table: {keys:?}");
});
