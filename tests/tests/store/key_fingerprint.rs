//! KeyFingerprintStore (issue 14): the id of the master key a database is sealed under, recorded
//! once (one winner when daemons race), found again, and moved by a finished rotation.

use super::*;

contract!(the_first_fingerprint_recorded_stays, |db: Db| async move {
    assert_eq!(db.master_key_fingerprint().await.expect("read"), None);
    assert_eq!(db.record_master_key_fingerprint("aaaa", NOW).await.expect("record"), "aaaa");
    assert_eq!(db.record_master_key_fingerprint("bbbb", NOW + 1).await.expect("second"), "aaaa", "kept");
    assert_eq!(db.master_key_fingerprint().await.expect("read"), Some("aaaa".into()));
});

contract!(racing_daemons_record_one_fingerprint, |db: Db| async move {
    let daemons = [db.daemon().await, db.daemon().await, db.daemon().await, db.daemon().await];
    let calls = daemons.iter().enumerate().map(|(i, d)| {
        let id = format!("id-{i}");
        async move { d.record_master_key_fingerprint(&id, NOW).await.expect("record") }
    });
    let answers = join_all(calls).await;
    let stored = db.master_key_fingerprint().await.expect("read").expect("recorded");
    assert!(answers.iter().all(|a| *a == stored), "every daemon is told the one winner: {answers:?} vs {stored}");
});

contract!(any_sealed_value_finds_one_and_skips_empty_secrets, |db: Db| async move {
    assert_eq!(db.any_sealed_value().await.expect("empty"), None);
    // A user without 2FA has no sealed value; an API key imported without its secret holds ''.
    let user = new_user(&db, "sealed@example.com").await;
    let key = NewApiKey {
        holder: Holder::User(user.id),
        kid: "0000000000000001",
        algorithm: "HS256",
        scope: "[]",
        secret_sealed: "",
        now: NOW,
    };
    db.insert_api_key(&key).await.expect("api key");
    assert_eq!(db.any_sealed_value().await.expect("none yet"), None);
    db.insert_first_signing_key(&signing_key("k1", NOW)).await.expect("key");
    assert_eq!(
        db.any_sealed_value().await.expect("one"),
        Some(("signing_keys.private_sealed".to_string(), "sealed-k1".to_string()))
    );
});

contract!(a_finished_rotation_moves_the_fingerprint, |db: Db| async move {
    db.record_master_key_fingerprint("old-id", NOW).await.expect("record");
    let r = db.start_rotation("old-id", "new-id", NOW).await.expect("start");
    assert_eq!(db.master_key_fingerprint().await.expect("read"), Some("old-id".into()), "until it finishes");
    db.finish_rotation(r.id, NOW + 5).await.expect("finish");
    assert_eq!(db.master_key_fingerprint().await.expect("read"), Some("new-id".into()));
});
