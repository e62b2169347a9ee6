//! UserStore (users, and the phones and data storages shown with a user), and the account
//! methods that write `users.data` and data storages.

use super::*;

contract!(insert_user_round_trips_every_column, |db: Db| async move {
    let referrer = new_user(&db, "ref@example.com").await;
    let mut u = user_fields("Ann@Example.com");
    u.username = Some("ann".into());
    u.role = "admin".into();
    u.data = Some("{\"k\":\"v\"}".into());
    u.level = 2;
    u.state = "active".into();
    u.referral_id = Some(referrer.id);
    u.language = "de".into();
    let row = db.insert_user(&u).await.expect("insert");
    assert!(row.id > referrer.id);
    assert_eq!(row.uid, u.uid);
    assert_eq!(row.username.as_deref(), Some("ann"));
    assert_eq!((row.email.as_str(), row.email_key.as_str()), ("Ann@Example.com", "ann@example.com"));
    assert_eq!(row.password_digest, u.password_digest);
    assert_eq!((row.role.as_str(), row.data.as_deref()), ("admin", Some("{\"k\":\"v\"}")));
    assert_eq!((row.level, user_state(&row), row.language.as_str()), (2, "active", "de"));
    assert_eq!(row.referral_id, Some(referrer.id));
    // What a new user always starts with.
    assert!(!row.otp);
    assert_eq!((row.otp_secret_sealed.as_deref(), row.otp_last_step), (None, None));
    assert_eq!((row.claims_version, row.created_at, row.updated_at), (0, NOW, NOW));

    // Every lookup returns the same row.
    for found in [
        db.user_by_id(row.id).await.expect("by id"),
        db.user_by_uid(&row.uid).await.expect("by uid"),
        db.user_by_email_key("ann@example.com").await.expect("by email key"),
    ] {
        let found = found.expect("found");
        assert_eq!(
            (found.id, found.uid.as_str(), found.email.as_str()),
            (row.id, row.uid.as_str(), row.email.as_str())
        );
        assert_eq!(
            (found.username, found.data, found.referral_id),
            (row.username.clone(), row.data.clone(), row.referral_id)
        );
        assert_eq!((found.level, found.language, found.created_at), (2, "de".to_string(), NOW));
    }
    assert!(db.user_by_id(row.id + 100).await.expect("by id").is_none());
    assert!(db.user_by_uid("ID-NOPE").await.expect("by uid").is_none());
    // The key is what is looked up: not the email as typed.
    assert!(db.user_by_email_key("Ann@Example.com").await.expect("by key").is_none());
});

contract!(uniqueness_names_the_field_the_service_maps, |db: Db| async move {
    let mut first = user_fields("dup@example.com");
    first.username = Some("dup".into());
    db.insert_user(&first).await.expect("first");

    // Same email key (another case): `email.taken` needs "email" and not "username".
    let mut same_email = user_fields("DUP@example.com");
    same_email.email_key = "dup@example.com".into();
    let what = unique_violation(db.insert_user(&same_email).await);
    assert!(what.contains("email") && !what.contains("username"), "{what}");

    let mut same_name = user_fields("other@example.com");
    same_name.username = Some("dup".into());
    let what = unique_violation(db.insert_user(&same_name).await);
    assert!(what.contains("username") && !what.contains("email"), "{what}");

    // A uid collision names neither, so the service draws a new uid.
    let mut same_uid = user_fields("third@example.com");
    same_uid.uid = first.uid.clone();
    let what = unique_violation(db.insert_user(&same_uid).await);
    assert!(!what.contains("email") && !what.contains("username"), "{what}");

    // Users without a username do not collide with each other.
    db.insert_user(&user_fields("a@example.com")).await.expect("no username");
    db.insert_user(&user_fields("b@example.com")).await.expect("no username either");
    assert_eq!(db.count_users().await.expect("count"), 3);
});

contract!(list_users_is_newest_first_and_pages, |db: Db| async move {
    assert_eq!(db.count_users().await.expect("count"), 0);
    assert!(db.list_users(10, 0).await.expect("list").is_empty());
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(new_user(&db, &format!("u{i}@example.com")).await.id);
    }
    assert_eq!(db.count_users().await.expect("count"), 5);
    let listed = |rows: Vec<UserRow>| rows.iter().map(|u| u.id).collect::<Vec<_>>();
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();
    assert_eq!(listed(db.list_users(10, 0).await.expect("all")), newest_first);
    assert_eq!(listed(db.list_users(2, 0).await.expect("page 1")), newest_first[0..2]);
    assert_eq!(listed(db.list_users(2, 2).await.expect("page 2")), newest_first[2..4]);
    assert_eq!(listed(db.list_users(2, 4).await.expect("page 3")), newest_first[4..]);
    assert!(db.list_users(2, 5).await.expect("past the end").is_empty());
});

contract!(updates_change_their_columns_and_claims_version, |db: Db| async move {
    let u = new_user(&db, "upd@example.com").await;
    let other = new_user(&db, "bystander@example.com").await;

    db.update_password(u.id, "new-digest", NOW + 1).await.expect("password");
    let r = db.user_by_id(u.id).await.expect("read").expect("row");
    assert_eq!((r.password_digest.as_str(), r.updated_at), ("new-digest", NOW + 1));
    assert_eq!(r.claims_version, 0, "a password change does not touch the claims");

    db.update_state_level(u.id, &AccountState::Active, 3, NOW + 2).await.expect("state");
    let r = db.user_by_id(u.id).await.expect("read").expect("row");
    assert_eq!((user_state(&r), r.level, r.updated_at, r.claims_version), ("active", 3, NOW + 2, 1));

    db.update_role(u.id, &Role::from("admin"), NOW + 3).await.expect("role");
    let r = db.user_by_id(u.id).await.expect("read").expect("row");
    assert_eq!((r.role.as_str(), r.updated_at, r.claims_version), ("admin", NOW + 3, 2));
    assert_eq!((user_state(&r), r.level, r.password_digest.as_str()), ("active", 3, "new-digest"));

    db.update_state_level(u.id, &AccountState::Banned, 0, NOW + 4).await.expect("state again");
    let r = db.user_by_id(u.id).await.expect("read").expect("row");
    assert_eq!((user_state(&r), r.level, r.claims_version), ("banned", 0, 3));

    db.update_user_data(u.id, "{\"a\":1}", NOW + 5).await.expect("data");
    let r = db.user_by_id(u.id).await.expect("read").expect("row");
    assert_eq!((r.data.as_deref(), r.updated_at), (Some("{\"a\":1}"), NOW + 5));

    // Nothing leaked to the other user.
    let o = db.user_by_id(other.id).await.expect("read").expect("row");
    assert_eq!((user_state(&o), o.claims_version, o.updated_at), ("pending", 0, NOW));
    assert_eq!((o.password_digest, o.role, o.data), (other.password_digest, other.role, None));
});

contract!(phones_and_data_storages_of_a_user, |db: Db| async move {
    let u = new_user(&db, "ph@example.com").await;
    let other = new_user(&db, "ph2@example.com").await;
    assert!(db.phones_of(u.id).await.expect("phones").is_empty());
    let p1 = db.insert_phone(u.id, "DE", "sealed-1", "idx-1", NOW).await.expect("phone 1");
    let p2 = db.insert_phone(u.id, "FR", "sealed-2", "idx-2", NOW + 1).await.expect("phone 2");
    db.insert_phone(other.id, "DE", "sealed-3", "idx-3", NOW).await.expect("other's phone");
    db.mark_validated(p2.id, NOW + 9).await.expect("validate");
    let phones = db.phones_of(u.id).await.expect("phones");
    let got: Vec<_> = phones
        .iter()
        .map(|p| (p.id, p.user_id, p.country.as_str(), p.number_sealed.as_str(), p.validated_at, p.created_at))
        .collect();
    assert_eq!(
        got,
        [(p1.id, u.id, "DE", "sealed-1", None, NOW), (p2.id, u.id, "FR", "sealed-2", Some(NOW + 9), NOW + 1)]
    );

    assert!(db.data_storages_of(u.id).await.expect("storages").is_empty());
    db.insert_data_storage(u.id, "Personal", "{\"a\":1}", NOW).await.expect("storage 1");
    db.insert_data_storage(u.id, "Work", "{\"b\":2}", NOW + 1).await.expect("storage 2");
    db.insert_data_storage(other.id, "Personal", "{}", NOW).await.expect("same title, other user");
    let got: Vec<_> = db
        .data_storages_of(u.id)
        .await
        .expect("storages")
        .into_iter()
        .map(|d| (d.title, d.data, d.created_at, d.updated_at))
        .collect();
    assert_eq!(
        got,
        [
            ("Personal".to_string(), "{\"a\":1}".to_string(), NOW, NOW),
            ("Work".to_string(), "{\"b\":2}".to_string(), NOW + 1, NOW + 1)
        ]
    );
});

contract!(data_storage_titles_are_unique_per_user_in_any_case, |db: Db| async move {
    let u = new_user(&db, "ds@example.com").await;
    let other = new_user(&db, "ds2@example.com").await;
    assert!(!db.data_storage_title_taken(u.id, "personal").await.expect("taken?"));
    db.insert_data_storage(u.id, "Personal", "{}", NOW).await.expect("insert");
    assert!(db.data_storage_title_taken(u.id, "personal").await.expect("taken?"));
    assert!(db.data_storage_title_taken(u.id, "PERSONAL").await.expect("taken?"));
    assert!(!db.data_storage_title_taken(other.id, "Personal").await.expect("not for another user"));
    assert!(!db.data_storage_title_taken(u.id, "Persona").await.expect("a prefix is another title"));
    // The index decides, not the read: a concurrent request gets `title.taken`.
    unique_violation(db.insert_data_storage(u.id, "Personal", "{}", NOW).await);
    unique_violation(db.insert_data_storage(u.id, "pERSONAL", "{}", NOW).await);
    assert_eq!(db.data_storages_of(u.id).await.expect("storages").len(), 1);
});

contract!(legacy_digests_are_counted_by_prefix_and_replaced_only_while_unchanged, |db: Db| async move {
    let digest = "$2a$12$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
    let a = new_user(&db, "a@example.com").await;
    let b = new_user(&db, "b@example.com").await;
    let c = new_user(&db, "c@example.com").await;
    new_user(&db, "argon@example.com").await;
    db.update_password(a.id, digest, NOW).await.expect("a");
    db.update_password(b.id, digest, NOW).await.expect("b");
    db.update_password(c.id, &digest.replacen("$2a$12$", "$2x$04$", 1), NOW).await.expect("c");
    let mut counts = db.legacy_password_counts().await.expect("count");
    counts.sort();
    assert_eq!(counts, [("$2a$12$".to_string(), 2), ("$2x$04$".to_string(), 1)], "argon2id digests are not counted");

    // The rehash only replaces the digest it verified: a password changed meanwhile is kept.
    assert!(db.rehash_legacy_password(a.id, digest, "$argon2id$a", NOW + 1).await.expect("rehash"));
    let r = db.user_by_id(a.id).await.expect("read").expect("row");
    assert_eq!((r.password_digest.as_str(), r.updated_at), ("$argon2id$a", NOW + 1));
    db.update_password(b.id, "$argon2id$changed", NOW + 2).await.expect("changed");
    assert!(!db.rehash_legacy_password(b.id, digest, "$argon2id$b", NOW + 3).await.expect("lost race"));
    let r = db.user_by_id(b.id).await.expect("read").expect("row");
    assert_eq!(r.password_digest, "$argon2id$changed");
    assert_eq!(db.legacy_password_counts().await.expect("count"), [("$2x$04$".to_string(), 1)]);
});
