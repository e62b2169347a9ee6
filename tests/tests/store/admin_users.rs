//! AdminUserStore: user pages cut in SQL with distinct totals (a user with several profiles is
//! one row), ordering by whitelisted columns, pending-document pages, comments, e-mail updates,
//! data-storage deletion.

use barongd::store::admin_users::{UserColumn, UserFilter, UserOrder};

use super::*;

contract!(user_pages_are_distinct_and_ordered, |db: Db| async move {
    let a = new_user(&db, "a@example.com").await;
    let b = new_user(&db, "B@example.com").await;
    new_user(&db, "c@example.com").await;
    for (user, state) in [(a.id, 2), (a.id, 3), (b.id, 2)] {
        db.exec(&format!(
            "INSERT INTO profiles (user_id, country, state, created_at, updated_at) VALUES ({user}, 'FR', {state}, 1, 1)"
        ))
        .await;
    }
    let fr = UserFilter { country: Some("FR".into()), ..Default::default() };
    let emails = |rows: &[UserRow]| rows.iter().map(|u| u.email.clone()).collect::<Vec<_>>();
    let (rows, total) = db.users_page(&fr, UserOrder::default(), 1, 0).await.expect("page");
    assert_eq!((emails(&rows), total), (vec!["a@example.com".to_string()], 2));
    let (rows, _) = db.users_page(&fr, UserOrder::default(), 10, 1).await.expect("page 2");
    assert_eq!(emails(&rows), ["B@example.com"]);
    let desc = UserOrder { order_by: UserColumn::Email, descending: true };
    let (rows, total) = db.users_page(&UserFilter::default(), desc, 10, 0).await.expect("all");
    assert_eq!(total, 3);
    assert_eq!(emails(&rows), ["c@example.com", "a@example.com", "B@example.com"]);
    let by_email = UserFilter { email_key: Some("b@example.com".into()), ..Default::default() };
    assert_eq!(db.users_page(&by_email, desc, 10, 0).await.expect("email").1, 1);

    // Pending documents: oldest label first, other values and scopes left out.
    for (user, value, scope, at) in [(a.id, "pending", "private", 20), (b.id, "replaced", "private", 10)] {
        db.exec(&format!(
            "INSERT INTO labels (user_id, key, value, scope, created_at, updated_at) \
             VALUES ({user}, 'document', '{value}', '{scope}', {at}, {at})"
        ))
        .await;
    }
    let (rows, total) = db.pending_documents_page(&UserFilter::default(), 10, 0).await.expect("pending");
    assert_eq!((emails(&rows), total), (vec!["B@example.com".to_string(), "a@example.com".to_string()], 2));

    // Comments, e-mail changes (unique by key), data storages (title case-insensitive).
    let id = db.insert_comment(a.id, "ID1", "t", "d", NOW).await.expect("comment");
    db.update_comment(id, None, Some("d2"), NOW + 1).await.expect("edit");
    let c = db.comment_by_id(id).await.expect("read").expect("row");
    assert_eq!((c.title.as_str(), c.data.as_str(), c.updated_at), ("t", "d2", NOW + 1));
    assert_eq!(db.comments_of(a.id).await.expect("of").len(), 1);
    db.delete_comment(id).await.expect("delete");
    assert!(db.comment_by_id(id).await.expect("gone").is_none());
    unique_violation(db.update_email_with_events(a.id, "b@example.com", "b@example.com", NOW, &[]).await);
    db.update_email_with_events(a.id, "n@example.com", "n@example.com", NOW, &[]).await.expect("email");
    assert_eq!(db.user_by_id(a.id).await.expect("user").expect("row").email, "n@example.com");
    db.exec(&format!(
        "INSERT INTO data_storages (user_id, title, data, created_at, updated_at) VALUES ({}, 'Form', '{{}}', 1, 1)",
        a.id
    ))
    .await;
    assert!(!db.delete_data_storage(b.id, "form").await.expect("other user"));
    assert!(db.delete_data_storage(a.id, "form").await.expect("delete"));
});

contract!(every_filter_combination_binds_its_own_values, |db: Db| async move {
    // Only the filters that are set enter the statement, numbered in order: each combination
    // must still bind the right value to the right test.
    let a = new_user(&db, "fa@example.com").await;
    let b = new_user(&db, "fb@example.com").await;
    let c = new_user(&db, "fc@example.com").await;
    db.exec(&format!(
        "UPDATE users SET state = 'banned', level = 2, role = 'admin', created_at = 100 WHERE id = {}",
        a.id
    ))
    .await;
    db.exec(&format!("UPDATE users SET state = 'banned', level = 1, created_at = 200 WHERE id = {}", b.id)).await;
    db.exec(&format!("UPDATE users SET created_at = 300 WHERE id = {}", c.id)).await;
    for (user, country) in [(a.id, "FR"), (b.id, "FR"), (c.id, "DE")] {
        db.exec(&format!(
            "INSERT INTO profiles (user_id, country, state, created_at, updated_at) VALUES ({user}, '{country}', 1, 1, 1)"
        ))
        .await;
    }
    let uids = |rows: Vec<UserRow>| rows.into_iter().map(|u| u.id).collect::<Vec<_>>();
    let page = |f: UserFilter| {
        let db = &db;
        async move { db.users_page(&f, UserOrder::default(), 10, 0).await.expect("page") }
    };
    let banned_fr = UserFilter { state: Some("banned".into()), country: Some("FR".into()), ..Default::default() };
    let (rows, total) = page(banned_fr.clone()).await;
    assert_eq!((uids(rows), total), (vec![a.id, b.id], 2));
    let level2 = UserFilter { level: Some(2), ..banned_fr.clone() };
    assert_eq!(uids(page(level2).await.0), [a.id]);
    let admin_after = UserFilter { role: Some("admin".into()), from: Some(150), ..Default::default() };
    assert_eq!(page(admin_after).await.1, 0);
    let window = UserFilter { from: Some(150), to: Some(300), country: Some("DE".into()), ..Default::default() };
    assert_eq!(uids(page(window).await.0), [c.id]);
    let uid_and_email =
        UserFilter { uid: Some(b.uid.clone()), email_key: Some("fb@example.com".into()), ..Default::default() };
    assert_eq!(uids(page(uid_and_email).await.0), [b.id]);
    let mismatch =
        UserFilter { uid: Some(b.uid.clone()), email_key: Some("fa@example.com".into()), ..Default::default() };
    assert_eq!(page(mismatch).await.1, 0);
    let (rows, total) = db.pending_documents_page(&banned_fr, 10, 0).await.expect("pending");
    assert_eq!((rows.len(), total), (0, 0));

    // A page's profiles in one query, by user.
    let profiles = db.profiles_of_users(&[c.id, a.id]).await.expect("profiles");
    let owners: Vec<(i64, Option<String>)> = profiles.into_iter().map(|p| (p.user_id, p.country)).collect();
    assert_eq!(owners, [(a.id, Some("FR".to_string())), (c.id, Some("DE".to_string()))]);
    assert!(db.profiles_of_users(&[]).await.expect("none").is_empty());
});
