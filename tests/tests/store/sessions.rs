//! SessionStore, the account method that ends the other sessions, `session_ips`, and
//! `purge_expired` over every table with an expiry.

use super::*;

contract!(a_session_round_trips_every_column, |db: Db| async move {
    let u = new_user(&db, "s@example.com").await;
    let mut s = session_row(u.id, "hash-1", NOW + 60, NOW + 3600);
    s.amr = "pwd,webauthn".into();
    db.insert_session(&s).await.expect("insert");
    let got = db.session("hash-1").await.expect("read").expect("found");
    assert_eq!((got.id_hash.as_str(), got.user_id, got.csrf_token.as_str()), ("hash-1", u.id, "csrf-hash-1"));
    assert_eq!((got.user_ip.as_str(), got.user_agent.as_str()), ("192.0.2.1", "test-agent"));
    assert_eq!((got.expires_at, got.absolute_expires_at, got.created_at), (NOW + 60, NOW + 3600, NOW));
    assert_eq!(got.amr, "pwd,webauthn");
    assert!(db.session("hash-2").await.expect("read").is_none());
    // The id is the key.
    unique_violation(db.insert_session(&session_row(u.id, "hash-1", NOW, NOW)).await);

    db.touch_session("hash-1", NOW + 600).await.expect("touch");
    let got = db.session("hash-1").await.expect("read").expect("found");
    assert_eq!((got.expires_at, got.absolute_expires_at), (NOW + 600, NOW + 3600), "only the idle expiry moves");
    db.touch_session("unknown", NOW + 600).await.expect("touching a missing session is harmless");
    assert!(db.session("unknown").await.expect("read").is_none());

    assert!(db.delete_session("hash-1").await.expect("delete"));
    assert!(!db.delete_session("hash-1").await.expect("delete again"));
    assert!(db.session("hash-1").await.expect("read").is_none());
});

contract!(ending_a_users_sessions_spares_other_users, |db: Db| async move {
    let u = new_user(&db, "many@example.com").await;
    let other = new_user(&db, "other@example.com").await;
    for h in ["a", "b", "c", "d"] {
        db.insert_session(&session_row(u.id, h, NOW + 60, NOW + 60)).await.expect("insert");
    }
    db.insert_session(&session_row(other.id, "o", NOW + 60, NOW + 60)).await.expect("insert");

    // Password change: every session but the current one.
    assert_eq!(db.delete_other_sessions(u.id, "b").await.expect("others"), 3);
    assert!(db.session("b").await.expect("read").is_some());
    assert!(db.session("a").await.expect("read").is_none());
    assert_eq!(db.delete_other_sessions(u.id, "b").await.expect("again"), 0);

    db.insert_session(&session_row(u.id, "e", NOW + 60, NOW + 60)).await.expect("insert");
    assert_eq!(db.delete_user_sessions(u.id).await.expect("all"), 2);
    assert!(db.session("b").await.expect("read").is_none() && db.session("e").await.expect("read").is_none());
    assert_eq!(db.delete_user_sessions(u.id).await.expect("none left"), 0);
    assert!(db.session("o").await.expect("read").is_some(), "another user's session survives");
});

contract!(session_ips_lists_every_session, |db: Db| async move {
    assert!(db.session_ips().await.expect("none").is_empty());
    let u = new_user(&db, "ip@example.com").await;
    let other = new_user(&db, "ip2@example.com").await;
    let mut a = session_row(u.id, "h-a", NOW + 60, NOW + 60);
    a.user_ip = "203.0.113.5".into();
    let mut b = session_row(other.id, "h-b", NOW + 60, NOW + 60);
    b.user_ip = "2001:db8::1".into();
    db.insert_session(&a).await.expect("a");
    db.insert_session(&b).await.expect("b");
    let mut ips = db.session_ips().await.expect("ips");
    ips.sort();
    assert_eq!(ips, [("h-a".to_string(), "203.0.113.5".to_string()), ("h-b".to_string(), "2001:db8::1".to_string())]);
});

contract!(purge_expired_drops_exactly_what_has_expired, |db: Db| async move {
    let u = new_user(&db, "exp@example.com").await;
    let u2 = new_user(&db, "exp2@example.com").await;
    let u3 = new_user(&db, "exp3@example.com").await;
    // Sessions: idle expiry reached, absolute expiry reached (idle still ahead), both ahead.
    db.insert_session(&session_row(u.id, "idle", NOW, NOW + 3600)).await.expect("idle");
    db.insert_session(&session_row(u.id, "absolute", NOW + 60, NOW)).await.expect("absolute");
    db.insert_session(&session_row(u.id, "live", NOW + 1, NOW + 1)).await.expect("live");
    // Used tokens, reset tokens and whitelinks: one at the boundary, one a second later.
    assert!(db.use_jti("jti-old", NOW).await.expect("jti"));
    assert!(db.use_jti("jti-new", NOW + 1).await.expect("jti"));
    db.set_reset_token(u.id, "reset-old", NOW).await.expect("reset");
    db.set_reset_token(u2.id, "reset-new", NOW + 1).await.expect("reset");
    db.insert_whitelink("wl-old", NOW, NOW - 60).await.expect("whitelink");
    db.insert_whitelink("wl-new", NOW + 1, NOW - 60).await.expect("whitelink");
    // A reset token of a third user that will not expire at all in this test.
    db.set_reset_token(u3.id, "reset-later", NOW + 1000).await.expect("reset");

    assert_eq!(db.purge_expired(NOW - 1).await.expect("nothing yet"), 0);
    assert_eq!(db.purge_expired(NOW).await.expect("purge"), 5, "2 sessions, a jti, a reset token, a whitelink");
    assert_eq!(db.purge_expired(NOW).await.expect("again"), 0);

    assert!(db.session("idle").await.expect("read").is_none());
    assert!(db.session("absolute").await.expect("read").is_none());
    assert!(db.session("live").await.expect("read").is_some());
    // A purged jti may be used again (it cannot verify anyway: its token expired).
    assert!(!db.jti_used("jti-old").await.expect("used?"));
    assert!(db.jti_used("jti-new").await.expect("used?"));
    assert_eq!(db.int("SELECT COUNT(*) FROM reset_tokens").await, Some(2));
    assert_eq!(db.text("SELECT token_hash FROM whitelinks").await.as_deref(), Some("wl-new"));

    // A second later the rest expires.
    assert_eq!(db.purge_expired(NOW + 1).await.expect("purge"), 4);
    assert_eq!(db.int("SELECT COUNT(*) FROM sessions").await, Some(0));
    assert_eq!(db.int("SELECT COUNT(*) FROM reset_tokens").await, Some(1));
});
