//! Read-your-writes on the daemon that made a change: its gateway caches take the change in
//! before it answers, however long until its next change-feed poll (set to a minute here, so only
//! that can explain a fresh answer). Other daemons follow within a second (authz.rs).

use reqwest::Method;

use super::*;

const PEATIO: &str = "api/v2/peatio/account/balances";

/// The upstream JWT's claims of a gateway call with `c`'s session.
async fn claims(srv: &TestServer, c: &reqwest::Client) -> Value {
    let (s, auth, body, _) = authz_call(c, Method::GET, &auth_url(srv, PEATIO), &[]).await;
    assert_eq!(s, 200, "{body}");
    let token = auth.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string();
    verify_with_jwks(srv, &token).await
}

both!(
    the_changing_daemon_answers_with_the_change,
    config = "change_feed_poll_ms: 60000\n",
    |srv: TestServer| async move {
        let email = "riser@example.com";
        let (c, csrf) = active_user(&srv, email).await;
        assert_eq!(claims(&srv, &c).await["level"], 1);

        // A verified phone raises the level: the very next gateway call says so.
        let number = "+44 07418084106";
        let phones = |path: &str| srv.url(&format!("resource/{path}"));
        let (s, b) =
            send_json(&c, Method::POST, &phones("phones"), Some(&csrf), Some(json!({"phone_number": number}))).await;
        assert_eq!(s, 201, "{b}");
        let sms = srv.sms_outbox();
        let code = regex::Regex::new(r"Barong: (\d{5})").expect("re").captures(sms.last().expect("sms")).expect("code")
            [1]
        .to_string();
        let verify = json!({"phone_number": number, "verification_code": code});
        let (s, b) = send_json(&c, Method::POST, &phones("phones/verify"), Some(&csrf), Some(verify)).await;
        assert_eq!((s, &b["level"]), (201, &json!(2)), "{b}");
        assert_eq!(claims(&srv, &c).await["level"], 2);

        // An operator's change through barongctl, the same way.
        ctl_json(&srv, &["label", "set", email, "ban", "true"]);
        let (s, _, body, _) = authz_call(&c, Method::GET, &auth_url(&srv, PEATIO), &[]).await;
        assert_eq!((s, errors(&body)), (401, vec!["authz.user_not_active".to_string()]));
    }
);
