//! WebauthnStore: challenges taken once, for their purpose and user; credentials under a limit,
//! unique across accounts; the counter's compare-and-set; the janitor's purge of expired
//! challenges.

use barongd::store::webauthn::{CounterUse, NewChallenge, NewCredential};

use super::*;

fn challenge<'a>(handle: &'a str, user_id: i64, purpose: &'a str, expires_at: i64) -> NewChallenge<'a> {
    NewChallenge { handle, user_id, purpose, state_sealed: "sealed-state", expires_at }
}

fn credential<'a>(user_id: i64, credential_id: &'a str, name: &'a str) -> NewCredential<'a> {
    NewCredential { user_id, credential_id, name, credential_sealed: "sealed-cred", sign_count: 0, now: NOW }
}

contract!(a_challenge_is_taken_once_for_its_purpose_and_user, |db: Db| async move {
    let u = new_user(&db, "w@example.com").await;
    let other = new_user(&db, "x@example.com").await;
    db.insert_webauthn_challenge(&challenge("h1", u.id, "login", NOW + 60)).await.expect("insert");
    assert!(db.take_webauthn_challenge("h1", "action", u.id).await.expect("take").is_none(), "another purpose");
    assert!(db.take_webauthn_challenge("h1", "login", other.id).await.expect("take").is_none(), "another user");
    let got = db.take_webauthn_challenge("h1", "login", u.id).await.expect("take");
    assert_eq!(got, Some(("sealed-state".to_string(), NOW + 60)));
    assert!(db.take_webauthn_challenge("h1", "login", u.id).await.expect("again").is_none(), "used once");
    unique_violation(
        async {
            db.insert_webauthn_challenge(&challenge("h2", u.id, "login", NOW)).await?;
            db.insert_webauthn_challenge(&challenge("h2", u.id, "login", NOW)).await
        }
        .await,
    );
    // Expired challenges go with the janitor's purge.
    db.insert_webauthn_challenge(&challenge("h3", u.id, "register", NOW + 600)).await.expect("insert");
    db.purge_expired(NOW + 1).await.expect("purge");
    assert!(db.take_webauthn_challenge("h2", "login", u.id).await.expect("take").is_none(), "expired: purged");
    assert!(db.take_webauthn_challenge("h3", "register", u.id).await.expect("take").is_some(), "live: kept");
});

contract!(credentials_are_limited_unique_renamed_and_deleted, |db: Db| async move {
    let u = new_user(&db, "c@example.com").await;
    let other = new_user(&db, "d@example.com").await;
    assert!(db.webauthn_credentials(u.id).await.expect("list").is_empty());
    let a = db.insert_webauthn_credential(&credential(u.id, "cred-a", "A"), 2, &[]).await.expect("a").expect("stored");
    assert_eq!((a.user_id, a.credential_id.as_str(), a.name.as_str()), (u.id, "cred-a", "A"));
    assert_eq!((a.sign_count, a.created_at, a.last_used_at), (0, NOW, None));
    db.insert_webauthn_credential(&credential(u.id, "cred-b", "B"), 2, &[]).await.expect("b").expect("stored");
    assert!(
        db.insert_webauthn_credential(&credential(u.id, "cred-c", "C"), 2, &[]).await.expect("c").is_none(),
        "limit"
    );
    assert_eq!(db.count_webauthn_credentials(u.id).await.expect("count"), 2);
    // One credential id belongs to one account.
    unique_violation(db.insert_webauthn_credential(&credential(other.id, "cred-a", "X"), 2, &[]).await);

    let renamed = db.rename_webauthn_credential(u.id, a.id, "Phone").await.expect("rename").expect("found");
    assert_eq!(renamed.name, "Phone");
    assert!(db.rename_webauthn_credential(other.id, a.id, "x").await.expect("rename").is_none(), "not theirs");
    assert!(!db.delete_webauthn_credential(other.id, a.id, &[]).await.expect("delete"), "not theirs");
    assert!(db.delete_webauthn_credential(u.id, a.id, &[]).await.expect("delete"));
    assert!(!db.delete_webauthn_credential(u.id, a.id, &[]).await.expect("again"));
    let names: Vec<String> = db.webauthn_credentials(u.id).await.expect("list").into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["B"]);
});

contract!(the_counter_only_moves_forward, |db: Db| async move {
    let u = new_user(&db, "n@example.com").await;
    let c = db.insert_webauthn_credential(&credential(u.id, "cred", "K"), 10, &[]).await.expect("c").expect("stored");
    // An authenticator without a counter: 0 stays 0.
    assert_eq!(db.use_webauthn_credential(c.id, 0, "s0", NOW + 1).await.expect("use"), CounterUse::Accepted);
    assert_eq!(db.use_webauthn_credential(c.id, 5, "s5", NOW + 2).await.expect("use"), CounterUse::Accepted);
    assert_eq!(db.use_webauthn_credential(c.id, 5, "s5b", NOW + 3).await.expect("use"), CounterUse::Regressed);
    assert_eq!(db.use_webauthn_credential(c.id, 4, "s4", NOW + 3).await.expect("use"), CounterUse::Regressed);
    assert_eq!(db.use_webauthn_credential(c.id, 0, "s0", NOW + 3).await.expect("use"), CounterUse::Regressed);
    let got = db.webauthn_credentials(u.id).await.expect("list").remove(0);
    assert_eq!((got.sign_count, got.credential_sealed.as_str(), got.last_used_at), (5, "s5", Some(NOW + 2)));
    assert_eq!(db.use_webauthn_credential(c.id + 1000, 9, "s", NOW).await.expect("use"), CounterUse::Missing);
});
