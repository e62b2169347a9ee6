//! ServiceAccountStore and the owner cascade (an owner leaving `active` takes its service accounts
//! and their keys along).

use super::*;

fn uids(rows: &[ServiceAccountRow]) -> Vec<&str> {
    rows.iter().map(|s| s.uid.as_str()).collect()
}

contract!(a_service_account_round_trips, |db: Db| async move {
    let owner = new_user(&db, "own@example.com").await;
    let new = NewServiceAccount {
        uid: "SI0000000001",
        owner_id: owner.id,
        email: "own+SI0000000001@example.com",
        role: &Role::from("trader"),
        level: 3,
        state: &AccountState::Active,
        now: NOW,
    };
    let row = db.insert_service_account(&new).await.expect("insert");
    assert_eq!((row.uid.as_str(), row.owner_id, row.email.as_str()), (new.uid, Some(owner.id), new.email));
    assert_eq!((row.role.as_str(), row.level, account_state(&row)), ("trader", 3, "active"));
    assert_eq!((row.created_at, row.updated_at), (NOW, NOW));
    let by_uid = db.service_account_by_uid("SI0000000001").await.expect("by uid").expect("found");
    let by_id = db.service_account_by_id(row.id).await.expect("by id").expect("found");
    for found in [by_uid, by_id] {
        assert_eq!((found.id, found.uid.as_str(), found.email.as_str(), found.level), (row.id, new.uid, new.email, 3));
    }
    assert!(db.service_account_by_uid("SI9999999999").await.expect("by uid").is_none());
    assert!(db.service_account_by_id(row.id + 100).await.expect("by id").is_none());
});

contract!(service_account_uniqueness_names_the_email, |db: Db| async move {
    let owner = new_user(&db, "u@example.com").await;
    let sa = new_service_account(&db, owner.id).await;
    let base = NewServiceAccount {
        uid: "SI0000000002",
        owner_id: owner.id,
        email: "fresh@example.com",
        role: &Role::from("service_account"),
        level: 0,
        state: &AccountState::Active,
        now: NOW,
    };
    // `email.taken` is told apart by "email" in the constraint's text.
    let what = unique_violation(db.insert_service_account(&NewServiceAccount { email: &sa.email, ..base }).await);
    assert!(what.contains("email"), "{what}");
    // A uid collision is not an email one (the service draws another uid instead).
    let what = unique_violation(db.insert_service_account(&NewServiceAccount { uid: &sa.uid, ..base }).await);
    assert!(!what.contains("email"), "{what}");
    assert_eq!(db.service_accounts(None).await.expect("all").len(), 1);
});

contract!(
    service_account_emails_are_unique_in_any_case,
    ignore = "BUG: service_accounts.email is UNIQUE case-sensitively while the service checks \
              service_account_email_taken case-insensitively (read-then-insert); two racing creates \
              can store emails that differ only in case",
    |db: Db| async move {
        let owner = new_user(&db, "u@example.com").await;
        let sa = new_service_account(&db, owner.id).await;
        assert!(db.service_account_email_taken(&sa.email.to_uppercase()).await.expect("taken?"));
        let upper = sa.email.to_uppercase();
        let new = NewServiceAccount {
            uid: "SI0000000003",
            owner_id: owner.id,
            email: &upper,
            role: &Role::from("service_account"),
            level: 0,
            state: &AccountState::Active,
            now: NOW,
        };
        unique_violation(db.insert_service_account(&new).await);
    }
);

contract!(email_taken_compares_case_insensitively, |db: Db| async move {
    let owner = new_user(&db, "u@example.com").await;
    assert!(!db.service_account_email_taken("bot@example.com").await.expect("none yet"));
    let new = NewServiceAccount {
        uid: "SI0000000004",
        owner_id: owner.id,
        email: "Bot@Example.com",
        role: &Role::from("service_account"),
        level: 0,
        state: &AccountState::Active,
        now: NOW,
    };
    db.insert_service_account(&new).await.expect("insert");
    for probe in ["Bot@Example.com", "bot@example.com", "BOT@EXAMPLE.COM"] {
        assert!(db.service_account_email_taken(probe).await.expect("taken?"), "{probe}");
    }
    assert!(!db.service_account_email_taken("bot2@example.com").await.expect("another email"));
    // A user's email is not a service account's.
    assert!(!db.service_account_email_taken("u@example.com").await.expect("user email"));
});

contract!(service_accounts_by_owner_oldest_first, |db: Db| async move {
    let a = new_user(&db, "a@example.com").await;
    let b = new_user(&db, "b@example.com").await;
    let a1 = new_service_account(&db, a.id).await;
    let b1 = new_service_account(&db, b.id).await;
    let a2 = new_service_account(&db, a.id).await;
    assert_eq!(uids(&db.service_accounts(Some(a.id)).await.expect("a's")), [a1.uid.as_str(), a2.uid.as_str()]);
    assert_eq!(uids(&db.service_accounts(Some(b.id)).await.expect("b's")), [b1.uid.as_str()]);
    assert_eq!(
        uids(&db.service_accounts(None).await.expect("all")),
        [a1.uid.as_str(), b1.uid.as_str(), a2.uid.as_str()]
    );
    assert!(db.service_accounts(Some(b.id + 100)).await.expect("nobody's").is_empty());
});

contract!(leaving_active_disables_the_accounts_own_keys, |db: Db| async move {
    let owner = new_user(&db, "o@example.com").await;
    let sa = new_service_account(&db, owner.id).await;
    let sibling = new_service_account(&db, owner.id).await;
    let sa_key = new_api_key(&db, Holder::ServiceAccount(sa.id), NOW).await;
    let sibling_key = new_api_key(&db, Holder::ServiceAccount(sibling.id), NOW).await;
    let owner_key = new_api_key(&db, Holder::User(owner.id), NOW).await;

    let row =
        db.set_service_account_state(sa.id, &AccountState::Disabled, NOW + 5).await.expect("disable").expect("row");
    assert_eq!((account_state(&row), row.updated_at, row.uid.as_str()), ("disabled", NOW + 5, sa.uid.as_str()));
    let state_of = |kid: String| {
        let db = db.clone();
        async move { db.api_key_by_kid(&kid).await.expect("read").map(|k| key_state(&k).to_string()) }
    };
    assert_eq!(state_of(sa_key.kid.clone()).await.as_deref(), Some("disabled"));
    assert_eq!(state_of(sibling_key.kid.clone()).await.as_deref(), Some("active"));
    assert_eq!(state_of(owner_key.kid.clone()).await.as_deref(), Some("active"));
    assert_key_states_are_named(&db).await;

    // Back to active: the keys stay disabled (the owner re-enables them one by one).
    let row = db.set_service_account_state(sa.id, &AccountState::Active, NOW + 6).await.expect("enable").expect("row");
    assert_eq!(account_state(&row), "active");
    assert_eq!(state_of(sa_key.kid.clone()).await.as_deref(), Some("disabled"));
    assert!(db.set_service_account_state(sa.id + 100, &AccountState::Disabled, NOW).await.expect("unknown").is_none());
    assert_eq!(state_of(sibling_key.kid.clone()).await.as_deref(), Some("active"));
});

contract!(the_owner_cascade_passes_the_state_and_disables_keys, |db: Db| async move {
    let owner = new_user(&db, "own@example.com").await;
    let other = new_user(&db, "other@example.com").await;
    let sa1 = new_service_account(&db, owner.id).await;
    let sa2 = new_service_account(&db, owner.id).await;
    db.set_service_account_state(sa2.id, &AccountState::Banned, NOW + 1).await.expect("already banned");
    let others_sa = new_service_account(&db, other.id).await;
    let keys = [
        new_api_key(&db, Holder::User(owner.id), NOW).await,
        new_api_key(&db, Holder::ServiceAccount(sa1.id), NOW).await,
    ];
    let spared = [
        new_api_key(&db, Holder::User(other.id), NOW).await,
        new_api_key(&db, Holder::ServiceAccount(others_sa.id), NOW).await,
    ];

    assert_eq!(db.cascade_owner_state(owner.id, &AccountState::Banned, NOW + 10).await.expect("cascade"), 2);
    let sa1 = db.service_account_by_id(sa1.id).await.expect("read").expect("row");
    assert_eq!((account_state(&sa1), sa1.updated_at), ("banned", NOW + 10));
    let sa2 = db.service_account_by_id(sa2.id).await.expect("read").expect("row");
    assert_eq!((account_state(&sa2), sa2.updated_at), ("banned", NOW + 1), "already in that state: not rewritten");
    let others_sa = db.service_account_by_id(others_sa.id).await.expect("read").expect("row");
    assert_eq!(account_state(&others_sa), "active");
    for k in &keys {
        let r = db.api_key_by_kid(&k.kid).await.expect("read").expect("row");
        assert_eq!((key_state(&r), r.updated_at), ("disabled", NOW + 10));
    }
    for k in &spared {
        assert_eq!(
            db.api_key_by_kid(&k.kid).await.expect("read").map(|r| key_state(&r).to_string()).as_deref(),
            Some("active")
        );
    }
    assert_key_states_are_named(&db).await;
    assert_eq!(db.cascade_owner_state(owner.id, &AccountState::Banned, NOW + 11).await.expect("again"), 0);
});
