//! ManagementStore: each Management API jti is accepted once, across daemons, until purged; an
//! import is written whole or not at all; service accounts may have no owner.

use barongd::store::labels::{Description, LabelMode, LabelRow, LabelWrite};
use barongd::store::management::{NewManagedServiceAccount, UserImport};
use barongd::store::profiles::{ProfileFields, ProfileRow};

use super::*;

contract!(a_management_jti_is_claimed_once, |db: Db| async move {
    assert!(db.claim_management_jti("m-1", NOW + 60).await.expect("first"));
    assert!(!db.claim_management_jti("m-1", NOW + 60).await.expect("replay"));
    assert!(!db.claim_management_jti("m-1", NOW + 999).await.expect("another expiry does not help"));
    assert!(db.claim_management_jti("m-2", NOW + 60).await.expect("another jti"));
    // Not the confirmation tokens' table: the same text there is another token.
    assert!(db.use_jti("m-1", NOW + 60).await.expect("used_tokens is separate"));
});

contract!(racing_claims_of_one_management_jti_have_one_winner, |db: Db| async move {
    let daemons = db.daemons(3).await;
    let calls = (0..12).map(|i| daemons[i % 3].claim_management_jti("raced", NOW + 60));
    assert_eq!(winners(join_all(calls).await), 1);
});

contract!(expired_management_jtis_are_purged, |db: Db| async move {
    assert!(db.claim_management_jti("old", NOW - 1).await.expect("old"));
    assert!(db.claim_management_jti("edge", NOW).await.expect("edge"));
    assert!(db.claim_management_jti("live", NOW + 60).await.expect("live"));
    assert_eq!(db.purge_management_jtis(NOW).await.expect("purge"), 2);
    assert!(!db.claim_management_jti("live", NOW + 60).await.expect("kept"));
    assert!(db.claim_management_jti("old", NOW + 60).await.expect("forgotten after purge"));
});

contract!(phones_are_found_by_index_for_every_user, |db: Db| async move {
    let (a, b) = (new_user(&db, "pa@example.com").await, new_user(&db, "pb@example.com").await);
    db.insert_phone(a.id, "DE", "sealed-a", "idx", NOW).await.expect("a");
    db.insert_phone(b.id, "DE", "sealed-b", "idx", NOW).await.expect("b");
    db.insert_phone(b.id, "DE", "sealed-c", "other", NOW).await.expect("other");
    let found = db.phones_by_index("idx").await.expect("by index");
    assert_eq!(found, [(a.id, "sealed-a".to_string()), (b.id, "sealed-b".to_string())]);
    assert!(db.phones_by_index("none").await.expect("none").is_empty());
});

contract!(comments_of_a_user_in_order, |db: Db| async move {
    let (a, b) = (new_user(&db, "ca@example.com").await, new_user(&db, "cb@example.com").await);
    for (user, title) in [(a.id, "first"), (b.id, "theirs"), (a.id, "second")] {
        db.exec(&format!(
            "INSERT INTO comments (user_id, author_uid, title, data, created_at, updated_at) \
             VALUES ({user}, 'ID0000000001', '{title}', 'text', {NOW}, {NOW})"
        ))
        .await;
    }
    let titles: Vec<String> = db.comments_of(a.id).await.expect("comments").into_iter().map(|c| c.title).collect();
    assert_eq!(titles, ["first", "second"]);
    assert!(db.comments_of(a.id + b.id + 100).await.expect("nobody").is_empty());
});

contract!(a_phone_is_deleted_only_for_its_user, |db: Db| async move {
    let (a, b) = (new_user(&db, "da@example.com").await, new_user(&db, "db@example.com").await);
    let p = db.insert_phone(a.id, "DE", "sealed-a", "idx", NOW).await.expect("a");
    assert!(!db.delete_user_phone(b.id, p.id).await.expect("not b's"));
    assert!(db.delete_user_phone(a.id, p.id).await.expect("a's"));
    assert!(!db.delete_user_phone(a.id, p.id).await.expect("gone"));
    assert!(db.phones_by_index("idx").await.expect("none").is_empty());
});

contract!(a_service_account_is_found_by_its_exact_email, |db: Db| async move {
    let owner = new_user(&db, "sao@example.com").await;
    let new = NewServiceAccount {
        uid: "SI0000000009",
        owner_id: owner.id,
        email: "sao+SI0000000009@example.com",
        role: &Role::from("member"),
        level: 1,
        state: &AccountState::Active,
        now: NOW,
    };
    let row = db.insert_service_account(&new).await.expect("insert");
    let found = db.service_account_by_email(new.email).await.expect("by email").expect("found");
    assert_eq!((found.id, found.uid.as_str(), found.owner_id), (row.id, new.uid, Some(owner.id)));
    assert!(db.service_account_by_email("sao@example.com").await.expect("owner's email").is_none());
});

contract!(a_service_account_changes_owner_and_level, |db: Db| async move {
    let (a, b) = (new_user(&db, "soa@example.com").await, new_user(&db, "sob@example.com").await);
    let new = NewServiceAccount {
        uid: "SI0000000010",
        owner_id: a.id,
        email: "soa+SI0000000010@example.com",
        role: &Role::from("member"),
        level: 1,
        state: &AccountState::Active,
        now: NOW,
    };
    let row = db.insert_service_account(&new).await.expect("insert");
    assert!(db.set_service_account_owner(row.id, b.id, 3, NOW + 5).await.expect("moved"));
    let got = db.service_account_by_uid(new.uid).await.expect("read").expect("found");
    assert_eq!((got.owner_id, got.level, got.updated_at), (Some(b.id), 3, NOW + 5));
    assert!(!db.set_service_account_owner(row.id + 100, b.id, 3, NOW).await.expect("none"));
});

fn import_fields() -> ProfileFields {
    ProfileFields { first_name_sealed: Some("sealed-ann".into()), country: Some("GB".into()), ..Default::default() }
}

contract!(an_import_writes_user_phone_profile_label_and_events_together, |db: Db| async move {
    let user = user_fields("imp@example.com");
    let fields = import_fields();
    let active = AccountState::Active;
    let label = LabelWrite {
        user_id: 0,
        key: "profile",
        value: "verified",
        scope: LabelScope::Private,
        description: Description::Keep,
        mode: LabelMode::Upsert,
        now: NOW,
        state_level: Some((&active, 2)),
        review: None,
    };
    let import = UserImport {
        user: &user,
        phone: Some(("GB", "sealed-number", "phone-idx")),
        profile: Some((&fields, ProfileState::Verified)),
        label: Some(label),
    };
    let events = |u: &UserRow, p: Option<&ProfileRow>, l: Option<&LabelRow>| {
        assert!(p.is_some_and(|p| p.user_id == u.id) && l.is_some_and(|l| l.user_id == u.id), "the new user's rows");
        vec![crate::events::event(&format!("imp-{}", u.uid), "model.user.created", "sealed", NOW)]
    };
    let stored = db.import_user(&import, &events).await.expect("import");
    assert_eq!((stored.uid.as_str(), stored.email.as_str()), (user.uid.as_str(), "imp@example.com"));
    let phones = db.phones_of(stored.id).await.expect("phones");
    assert_eq!((phones.len(), phones[0].validated_at), (1, Some(NOW)));
    let profiles = db.profiles_of(stored.id).await.expect("profiles");
    assert_eq!((profiles.len(), profiles[0].state), (1, ProfileState::Verified));
    let labels = db.labels_of(stored.id).await.expect("labels");
    assert_eq!(
        labels.iter().map(|l| (l.key.as_str(), l.value.as_str())).collect::<Vec<_>>(),
        [("profile", "verified")]
    );
    let after = db.user_by_id(stored.id).await.expect("read").expect("user");
    assert_eq!((user_state(&after), after.level), ("active", 2), "the label's recompute is applied");
    assert_eq!(db.pending_events().await.expect("outbox"), 1);
});

contract!(a_failed_import_leaves_nothing, |db: Db| async move {
    let owner = new_user(&db, "holder@example.com").await;
    db.insert_phone(owner.id, "GB", "sealed", "taken-idx", NOW).await.expect("phone");
    db.exec("UPDATE phones SET validated_at = 1").await;
    let user = user_fields("failed@example.com");
    let fields = import_fields();
    // The verified number belongs to someone else: the phone insert fails after the user's.
    let import = UserImport {
        user: &user,
        phone: Some(("GB", "sealed-2", "taken-idx")),
        profile: Some((&fields, ProfileState::Drafted)),
        label: None,
    };
    let events = |_: &UserRow, _: Option<&ProfileRow>, _: Option<&LabelRow>| Vec::new();
    assert!(!unique_violation(db.import_user(&import, &events).await).is_empty());
    assert!(db.user_by_email_key("failed@example.com").await.expect("read").is_none(), "rolled back");
    assert_eq!(db.int("SELECT COUNT(*) FROM profiles").await, Some(0));
    // A taken e-mail is the store's unique error too.
    let again = UserImport { user: &user_fields("holder@example.com"), phone: None, profile: None, label: None };
    assert!(!unique_violation(db.import_user(&again, &events).await).is_empty());
});

contract!(managed_service_accounts_may_have_no_owner, |db: Db| async move {
    let new = |uid: &'static str, email: &'static str, owner_id| NewManagedServiceAccount {
        uid,
        owner_id,
        email,
        role: "member",
        level: 3,
        state: "pending",
        now: NOW,
    };
    let sa = db.insert_managed_service_account(&new("SI00000000A1", "a1@example.com", None)).await.expect("insert");
    assert_eq!((sa.owner_id, sa.level, account_state(&sa)), (None, 3, "pending"));
    let owner = new_user(&db, "owner-m@example.com").await;
    let owned = db.insert_managed_service_account(&new("SI00000000A2", "a2@example.com", Some(owner.id))).await;
    assert_eq!(owned.expect("owned").owner_id, Some(owner.id));
    for taken in [new("SI00000000A1", "a3@example.com", None), new("SI00000000A4", "a1@example.com", None)] {
        assert!(!unique_violation(db.insert_managed_service_account(&taken).await).is_empty());
    }
});
