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
