//! Two-factor columns of users: `replace_otp_secret`, `enable_otp`, `disable_otp` (ApiKeyStore)
//! and `use_otp_step` (UserStore).

use super::*;

async fn user(db: &Db, id: i64) -> UserRow {
    db.user_by_id(id).await.expect("read").expect("user")
}

contract!(enabling_needs_the_seed_the_code_was_checked_against, |db: Db| async move {
    let u = new_user(&db, "otp@example.com").await;
    assert!(!db.enable_otp(u.id, "seed-1", NOW).await.expect("no seed yet"));
    assert!(db.replace_otp_secret(u.id, "seed-1").await.expect("seed 1"));
    // A concurrent `generate_qrcode` put another seed in place: the old code no longer enables.
    assert!(db.replace_otp_secret(u.id, "seed-2").await.expect("seed 2"));
    assert!(!db.enable_otp(u.id, "seed-1", NOW).await.expect("stale seed"));
    assert!(!user(&db, u.id).await.otp);

    assert!(db.enable_otp(u.id, "seed-2", NOW + 5).await.expect("enable"));
    let r = user(&db, u.id).await;
    assert!(r.otp);
    assert_eq!((r.otp_secret_sealed.as_deref(), r.updated_at), (Some("seed-2"), NOW + 5));
    assert!(!db.enable_otp(u.id, "seed-2", NOW + 6).await.expect("already on"));
    // The seed of an enabled 2FA is never replaced.
    assert!(!db.replace_otp_secret(u.id, "seed-3").await.expect("replace while on"));
    assert_eq!(user(&db, u.id).await.otp_secret_sealed.as_deref(), Some("seed-2"));
});

contract!(an_otp_step_is_used_once_and_never_backwards, |db: Db| async move {
    let u = new_user(&db, "step@example.com").await;
    let other = new_user(&db, "step2@example.com").await;
    assert!(db.use_otp_step(u.id, 100).await.expect("first"));
    assert_eq!(user(&db, u.id).await.otp_last_step, Some(100));
    assert!(!db.use_otp_step(u.id, 100).await.expect("same step"));
    assert!(!db.use_otp_step(u.id, 99).await.expect("an earlier step"));
    assert!(db.use_otp_step(u.id, 101).await.expect("the next step"));
    assert!(db.use_otp_step(other.id, 100).await.expect("another user's step 100"));
    assert!(!db.use_otp_step(u.id + 100, 1).await.expect("no such user"));

    // A new seed forgets the last step: the new seed's codes start over.
    assert!(db.replace_otp_secret(u.id, "seed").await.expect("new seed"));
    assert_eq!(user(&db, u.id).await.otp_last_step, None);
    assert!(db.use_otp_step(u.id, 50).await.expect("lower step under a new seed"));
});

contract!(racing_daemons_accept_one_code_once, |db: Db| async move {
    let u = new_user(&db, "race@example.com").await;
    let daemons = db.daemons(3).await;
    let calls = (0..12).map(|i| daemons[i % 3].use_otp_step(u.id, 5000));
    assert_eq!(winners(join_all(calls).await), 1);
    assert_eq!(user(&db, u.id).await.otp_last_step, Some(5000));
});

contract!(disabling_2fa_drops_the_label_and_the_keys, |db: Db| async move {
    let u = new_user(&db, "off@example.com").await;
    let other = new_user(&db, "keep@example.com").await;
    assert!(!db.disable_otp(u.id, NOW).await.expect("off already"));

    assert!(db.replace_otp_secret(u.id, "seed").await.expect("seed"));
    assert!(db.enable_otp(u.id, "seed", NOW).await.expect("enable"));
    db.upsert_label(u.id, "otp", "enabled", LabelScope::Private, NOW).await.expect("otp label");
    db.upsert_label(u.id, "otp", "mine", LabelScope::Public, NOW).await.expect("a public label with that key");
    db.upsert_label(u.id, "email", "verified", LabelScope::Private, NOW).await.expect("another private label");
    db.upsert_label(other.id, "otp", "enabled", LabelScope::Private, NOW).await.expect("other's label");
    let sa = new_service_account(&db, u.id).await;
    let keys =
        [new_api_key(&db, Holder::User(u.id), NOW).await, new_api_key(&db, Holder::ServiceAccount(sa.id), NOW).await];
    let others_key = new_api_key(&db, Holder::User(other.id), NOW).await;

    assert!(db.disable_otp(u.id, NOW + 7).await.expect("disable"));
    let r = user(&db, u.id).await;
    assert!(!r.otp);
    assert_eq!(r.updated_at, NOW + 7);
    let labels: Vec<(String, String)> =
        db.labels_of(u.id).await.expect("labels").into_iter().map(|l| (l.key, l.scope.as_str().to_string())).collect();
    let expected = [("otp", "public"), ("email", "private")].map(|(k, s)| (k.to_string(), s.to_string()));
    assert_eq!(labels, expected, "only the private otp label goes");
    assert_eq!(db.labels_of(other.id).await.expect("labels").len(), 1);
    for k in &keys {
        let r = db.api_key_by_kid(&k.kid).await.expect("read").expect("row");
        assert_eq!((key_state(&r), r.updated_at), ("disabled", NOW + 7));
    }
    let r = db.api_key_by_kid(&others_key.kid).await.expect("read").expect("row");
    assert_eq!(key_state(&r), "active");
    assert_key_states_are_named(&db).await;
    assert!(!db.disable_otp(u.id, NOW + 8).await.expect("twice"));
    // Off again: a new seed may be set.
    assert!(db.replace_otp_secret(u.id, "seed-2").await.expect("new seed after disabling"));
});

contract!(a_reset_reports_what_it_changed_and_skips_keys_without_secrets, |db: Db| async move {
    // An imported account in the safe state: 2FA on, the label, no seed; one key carried, one
    // without its secret, one of a service account.
    let u = new_user(&db, "migrated@example.com").await;
    db.exec(&format!("UPDATE users SET otp = TRUE WHERE id = {}", u.id)).await;
    db.upsert_label(u.id, "otp", "enabled", LabelScope::Private, NOW).await.expect("otp label");
    let carried = new_api_key(&db, Holder::User(u.id), NOW).await;
    let sa = new_service_account(&db, u.id).await;
    let sa_key = new_api_key(&db, Holder::ServiceAccount(sa.id), NOW).await;
    db.exec(&format!(
        "INSERT INTO api_keys (key_holder_account_id, key_holder_account_type, kid, algorithm, scope, secret_sealed, \
         state, created_at, updated_at, secret_unavailable) VALUES ({}, 'User', 'lost00000000kid0', 'HS256', '[]', '', \
         'disabled', {NOW}, {NOW}, TRUE)",
        u.id
    ))
    .await;
    let lost = db.api_key_by_kid("lost00000000kid0").await.expect("read").expect("row");
    assert!(lost.secret_unavailable && lost.secret_sealed.is_empty());
    assert!(!carried.secret_unavailable, "a key made here has its secret");
    // The schema keeps such a key from ever being active.
    let activate = db.update_api_key(lost.id, None, Some(KeyState::Active), NOW).await;
    assert!(activate.is_err(), "activating a key without its secret: {activate:?}");

    let r = db.reset_otp_with_events(u.id, NOW + 9, &[]).await.expect("reset").expect("2FA was on");
    let mut disabled = r.keys_disabled.clone();
    disabled.sort();
    let mut expected = vec![carried.kid.clone(), sa_key.kid.clone()];
    expected.sort();
    assert_eq!((r.label_removed, disabled), (true, expected));
    let row = user(&db, u.id).await;
    assert_eq!((row.otp, row.otp_secret_sealed.as_deref()), (false, None));
    let lost = db.api_key_by_kid("lost00000000kid0").await.expect("read").expect("row");
    assert_eq!((key_state(&lost), lost.secret_unavailable, lost.updated_at), ("disabled", true, NOW));
    assert_eq!(db.reset_otp_with_events(u.id, NOW + 10, &[]).await.expect("again"), None);
});
