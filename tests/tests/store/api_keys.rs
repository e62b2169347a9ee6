//! ApiKeyStore's key methods, and the account cascade that disables a user's keys.

use barongd::store::api_keys::{KeyColumn, KeyPage};

use super::*;

fn page(order_by: KeyColumn, descending: bool, limit: i64, offset: i64) -> KeyPage {
    KeyPage { order_by, descending, limit, offset }
}

fn kids(rows: &[ApiKeyRow]) -> Vec<&str> {
    rows.iter().map(|k| k.kid.as_str()).collect()
}

contract!(an_api_key_round_trips_and_belongs_to_its_holder, |db: Db| async move {
    let u = new_user(&db, "k@example.com").await;
    let new = NewApiKey {
        holder: Holder::User(u.id),
        kid: "0123456789abcdef",
        algorithm: "HS512",
        scope: "[\"trade\",\"withdraw\"]",
        secret_sealed: "sealed",
        now: NOW,
    };
    let row = db.insert_api_key(&new).await.expect("insert");
    assert_eq!((row.key_holder_account_id, row.key_holder_account_type.as_str()), (u.id, "User"));
    assert_eq!((row.kid.as_str(), row.algorithm.as_str()), ("0123456789abcdef", "HS512"));
    assert_eq!((row.scope.as_str(), row.secret_sealed.as_str()), ("[\"trade\",\"withdraw\"]", "sealed"));
    assert_eq!((key_state(&row), row.created_at, row.updated_at), ("active", NOW, NOW));

    let by_kid = db.api_key_by_kid("0123456789abcdef").await.expect("by kid").expect("found");
    assert_eq!(
        (by_kid.id, by_kid.secret_sealed.as_str(), by_kid.scope.as_str()),
        (row.id, "sealed", row.scope.as_str())
    );
    assert!(db.api_key_by_kid("ffffffffffffffff").await.expect("by kid").is_none());
    assert_eq!(db.api_key_of(Holder::User(u.id), &row.kid).await.expect("of").map(|k| k.id), Some(row.id));
    // Someone else's key is not found: neither another user, nor a service account with the same id.
    assert!(db.api_key_of(Holder::User(u.id + 1), &row.kid).await.expect("of").is_none());
    assert!(db.api_key_of(Holder::ServiceAccount(u.id), &row.kid).await.expect("of").is_none());

    let sa = new_service_account(&db, u.id).await;
    let sa_key = new_api_key(&db, Holder::ServiceAccount(sa.id), NOW).await;
    assert_eq!((sa_key.key_holder_account_id, sa_key.key_holder_account_type.as_str()), (sa.id, "ServiceAccount"));

    // A kid names one key.
    unique_violation(db.insert_api_key(&NewApiKey { holder: Holder::ServiceAccount(sa.id), ..new }).await);
});

contract!(api_keys_of_a_holder_are_ordered_paged_and_counted, |db: Db| async move {
    let u = new_user(&db, "list@example.com").await;
    let other = new_user(&db, "other@example.com").await;
    let holder = Holder::User(u.id);
    let mut made = Vec::new();
    // created_at: 30, 10, 20, 10 (a tie) — inserted in that order.
    for at in [30, 10, 20, 10] {
        made.push(new_api_key(&db, holder, NOW + at).await);
    }
    new_api_key(&db, Holder::User(other.id), NOW).await;
    new_api_key(&db, Holder::ServiceAccount(u.id), NOW).await;
    assert_eq!(db.count_api_keys(holder).await.expect("count"), 4);
    assert_eq!(db.count_api_keys(Holder::ServiceAccount(u.id)).await.expect("count"), 1);
    assert_eq!(db.count_api_keys(Holder::User(u.id + 100)).await.expect("count"), 0);

    let k = |i: usize| made[i].kid.as_str();
    let all = db.api_keys_of(holder, page(KeyColumn::Id, false, 10, 0)).await.expect("by id");
    assert_eq!(kids(&all), [k(0), k(1), k(2), k(3)]);
    let desc = db.api_keys_of(holder, page(KeyColumn::Id, true, 10, 0)).await.expect("by id desc");
    assert_eq!(kids(&desc), [k(3), k(2), k(1), k(0)]);
    // Ties on the column are broken by id in the same direction, so pages never overlap.
    let by_time = db.api_keys_of(holder, page(KeyColumn::CreatedAt, false, 10, 0)).await.expect("asc");
    assert_eq!(kids(&by_time), [k(1), k(3), k(2), k(0)]);
    let by_time = db.api_keys_of(holder, page(KeyColumn::CreatedAt, true, 10, 0)).await.expect("desc");
    assert_eq!(kids(&by_time), [k(0), k(2), k(3), k(1)]);
    let p1 = db.api_keys_of(holder, page(KeyColumn::CreatedAt, true, 2, 0)).await.expect("page 1");
    let p2 = db.api_keys_of(holder, page(KeyColumn::CreatedAt, true, 2, 2)).await.expect("page 2");
    assert_eq!((kids(&p1), kids(&p2)), (vec![k(0), k(2)], vec![k(3), k(1)]));
    assert!(db.api_keys_of(holder, page(KeyColumn::Id, false, 2, 4)).await.expect("past the end").is_empty());
    // Kids are hex of a counter here, so their order is the insertion order.
    let by_kid = db.api_keys_of(holder, page(KeyColumn::Kid, true, 10, 0)).await.expect("by kid");
    assert_eq!(kids(&by_kid), [k(3), k(2), k(1), k(0)]);
});

contract!(update_api_key_changes_only_what_is_given, |db: Db| async move {
    let u = new_user(&db, "upd@example.com").await;
    let key = new_api_key(&db, Holder::User(u.id), NOW).await;
    let r = db.update_api_key(key.id, Some("[\"read\"]"), None, NOW + 1).await.expect("scope").expect("row");
    assert_eq!((r.scope.as_str(), key_state(&r), r.updated_at), ("[\"read\"]", "active", NOW + 1));
    let r = db.update_api_key(key.id, None, Some(KeyState::Disabled), NOW + 2).await.expect("state").expect("row");
    assert_eq!((r.scope.as_str(), key_state(&r), r.updated_at), ("[\"read\"]", "disabled", NOW + 2));
    // A scope-only change of a disabled key keeps it disabled.
    let r = db.update_api_key(key.id, Some("[\"a\"]"), None, NOW + 3).await.expect("scope").expect("row");
    assert_eq!((r.scope.as_str(), key_state(&r)), ("[\"a\"]", "disabled"));
    let r = db.update_api_key(key.id, Some("[]"), Some(KeyState::Active), NOW + 3).await.expect("both").expect("row");
    assert_eq!((r.scope.as_str(), key_state(&r), r.updated_at, r.created_at), ("[]", "active", NOW + 3, NOW));
    let stored = db.api_key_by_kid(&key.kid).await.expect("read").expect("row");
    assert_eq!(
        (stored.scope.as_str(), key_state(&stored), stored.secret_sealed.as_str()),
        ("[]", "active", "sealed-secret")
    );
    assert_key_states_are_named(&db).await;
    assert!(db.update_api_key(key.id + 100, None, Some(KeyState::Disabled), NOW).await.expect("unknown").is_none());

    assert!(db.delete_api_key(key.id).await.expect("delete"));
    assert!(!db.delete_api_key(key.id).await.expect("delete again"));
    assert!(db.api_key_by_kid(&key.kid).await.expect("read").is_none());
    assert!(db.update_api_key(key.id, None, Some(KeyState::Active), NOW).await.expect("deleted").is_none());
});

contract!(disabling_a_users_keys_reaches_its_service_accounts_only, |db: Db| async move {
    let u = new_user(&db, "cascade@example.com").await;
    let other = new_user(&db, "safe@example.com").await;
    // Ids chosen to collide across holder types: the other user's service account has the
    // user's id, and the user's service account has the other user's id.
    let others_sa = new_service_account(&db, other.id).await;
    let sa = new_service_account(&db, u.id).await;
    assert_eq!((others_sa.id, sa.id), (u.id, other.id));
    let own = new_api_key(&db, Holder::User(u.id), NOW).await;
    let already_off = new_api_key(&db, Holder::User(u.id), NOW).await;
    db.update_api_key(already_off.id, None, Some(KeyState::Disabled), NOW + 1).await.expect("off");
    let sa_key = new_api_key(&db, Holder::ServiceAccount(sa.id), NOW).await;
    let untouched = [
        new_api_key(&db, Holder::User(other.id), NOW).await,
        new_api_key(&db, Holder::ServiceAccount(others_sa.id), NOW).await,
    ];

    assert_eq!(db.disable_api_keys_of_user(u.id, NOW + 9).await.expect("cascade"), 2);
    for k in [&own, &sa_key] {
        let r = db.api_key_by_kid(&k.kid).await.expect("read").expect("row");
        assert_eq!((key_state(&r), r.updated_at), ("disabled", NOW + 9), "{}", k.kid);
    }
    let r = db.api_key_by_kid(&already_off.kid).await.expect("read").expect("row");
    assert_eq!(r.updated_at, NOW + 1, "a disabled key is not rewritten");
    for k in &untouched {
        let r = db.api_key_by_kid(&k.kid).await.expect("read").expect("row");
        assert_eq!((key_state(&r), r.updated_at), ("active", NOW), "{}", k.kid);
    }
    assert_key_states_are_named(&db).await;
    assert_eq!(db.disable_api_keys_of_user(u.id, NOW + 10).await.expect("again"), 0);
});
