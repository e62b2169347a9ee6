//! AdminStore: the Admin API's pages (SQL-level LIMIT/OFFSET with their counts), permission and
//! restriction updates, activity logs and metrics counts.

use barongd::model::LabelScope;
use barongd::store::admin::{PermissionUpdate, RestrictionFilter};
use barongd::store::admin_logs::ActivityFilter;
use barongd::store::restrictions::NewRestriction;

use super::*;

contract!(permission_pages_and_updates, |db: Db| async move {
    for (i, role) in ["a", "b", "c"].iter().enumerate() {
        db.add_permission("ACCEPT", role, "GET", "api/v2/x", None, NOW + i as i64).await.expect("add");
    }
    let (page, total) = db.permissions_page(2, 1).await.expect("page");
    assert_eq!(total, 3);
    assert_eq!(page.iter().map(|p| p.role.as_str()).collect::<Vec<_>>(), ["b", "c"]);
    assert_eq!((page[0].created_at, page[0].updated_at), (NOW + 1, NOW + 1));
    let (page, total) = db.permissions_page(2, 10).await.expect("past the end");
    assert_eq!((page.len(), total), (0, 3));

    let id = db.permissions_page(1, 0).await.expect("first").0[0].id;
    let up = PermissionUpdate { action: "DROP", role: "a", verb: "ALL", path: "api/v2/y", topic: Some("t") };
    let row = db.update_permission(id, &up, NOW + 9).await.expect("update").expect("row");
    assert_eq!((row.action.as_str(), row.verb.as_str(), row.path.as_str()), ("DROP", "ALL", "api/v2/y"));
    assert_eq!((row.topic.as_deref(), row.created_at, row.updated_at), (Some("t"), NOW, NOW + 9));
    assert_eq!(db.permission_by_id(id).await.expect("read"), Some(row));
    assert!(db.update_permission(999_999, &up, NOW).await.expect("no row").is_none());
    // Becoming a copy of another row is a unique violation.
    let b = db.permissions_page(1, 1).await.expect("b").0[0].id;
    let copy = PermissionUpdate { action: "DROP", role: "a", verb: "ALL", path: "api/v2/y", topic: None };
    unique_violation(db.update_permission(b, &copy, NOW).await);
});

contract!(restriction_pages_filter_and_updates_are_announced, |db: Db| async move {
    let new = |category, scope, value, now| NewRestriction { category, scope, value, code: 403, state: "enabled", now };
    let r1 = db.insert_restriction(&new("blacklist", "ip", "192.0.2.1", NOW)).await.expect("1");
    db.insert_restriction(&new("blacklist", "country", "FR", NOW + 10)).await.expect("2");
    db.insert_restriction(&new("whitelist", "ip", "192.0.2.2", NOW + 20)).await.expect("3");
    let values = |f: RestrictionFilter| {
        let db = &db;
        async move {
            let (rows, total) = db.restrictions_page(&f, 100, 0).await.expect("page");
            assert_eq!(rows.len() as i64, total);
            rows.into_iter().map(|r| r.value).collect::<Vec<_>>()
        }
    };
    assert_eq!(values(RestrictionFilter::default()).await, ["192.0.2.1", "FR", "192.0.2.2"]);
    let ip = RestrictionFilter { scope: Some("ip".into()), ..Default::default() };
    assert_eq!(values(ip).await, ["192.0.2.1", "192.0.2.2"]);
    let black = RestrictionFilter { category: Some("blacklist".into()), from: Some(NOW + 10), ..Default::default() };
    assert_eq!(values(black).await, ["FR"], "from is inclusive");
    let to = RestrictionFilter { to: Some(NOW + 10), ..Default::default() };
    assert_eq!(values(to).await, ["192.0.2.1", "FR"], "to is inclusive");

    let before = db.last_change_id().await.expect("last");
    let changed = new("maintenance", "all", "all", NOW + 30);
    let row = db.update_restriction(r1.id, &changed).await.expect("update").expect("row");
    assert_eq!((row.category.as_str(), row.created_at, row.updated_at), ("maintenance", NOW, NOW + 30));
    assert_eq!(db.restriction_by_id(r1.id).await.expect("read"), Some(row));
    assert_eq!(db.changes_after(before).await.expect("feed").len(), 1, "announced in the change feed");
    let updated = RestrictionFilter { by_updated: true, from: Some(NOW + 30), ..Default::default() };
    assert_eq!(values(updated).await, ["all"]);
    assert!(db.update_restriction(999_999, &changed).await.expect("no row").is_none());
    unique_violation(db.update_restriction(r1.id, &new("blacklist", "country", "FR", NOW)).await);
});

contract!(activity_logs_and_metrics_counts, |db: Db| async move {
    let u = new_user(&db, "u@example.com").await;
    let gone = new_user(&db, "gone@example.com").await;
    let admin = new_user(&db, "admin@example.com").await;
    for (topic, result, at) in
        [("session", "succeed", NOW), ("session", "failed", NOW + 86_400), ("account", "succeed", NOW + 5)]
    {
        db.insert_activity(&activity(u.id, topic, result, at)).await.expect("insert");
    }
    db.insert_activity(&activity(gone.id, "session", "succeed", NOW)).await.expect("insert");
    db.exec(&format!("DELETE FROM users WHERE id = {}", gone.id)).await;
    let mut a = activity(admin.id, "permissions", "succeed", NOW);
    (a.category, a.target_uid) = ("admin", Some(u.uid.clone()));
    db.insert_activity(&a).await.expect("admin row");
    let mut op = activity(admin.id, "users", "succeed", NOW + 1);
    (op.category, op.user_id) = ("admin", None);
    db.insert_activity(&op).await.expect("operator row");

    // Users' log: newest first, rows of deleted users gone, filters inclusive.
    let (rows, total) = db.user_activities_page(&ActivityFilter::default(), 2, 0).await.expect("page");
    assert_eq!((total, rows.len()), (3, 2));
    assert_eq!(rows.iter().map(|r| r.created_at).collect::<Vec<_>>(), [NOW + 5, NOW + 86_400], "by id desc");
    let f = ActivityFilter {
        email: Some("u@example.com".into()),
        topic: Some("session".into()),
        to: Some(NOW),
        ..Default::default()
    };
    let (rows, total) = db.user_activities_page(&f, 10, 0).await.expect("filtered");
    assert_eq!((total, rows[0].result.as_str()), (1, "succeed"));
    // Admin log: operator rows included unless an actor is named; target filter.
    let (rows, total) = db.admin_activities_page(&ActivityFilter::default(), 10, 0).await.expect("admin");
    assert_eq!((total, rows[0].user_id), (2, None));
    let f = ActivityFilter { uid: Some(admin.uid.clone()), target_uid: Some(u.uid.clone()), ..Default::default() };
    let (rows, total) = db.admin_activities_page(&f, 10, 0).await.expect("actor");
    assert_eq!((total, rows[0].topic.as_str()), (1, "permissions"));

    // Metrics: per UTC day, inside the window.
    let days = db.activity_counts_by_day("session", "login", "succeed", NOW, NOW + 2 * 86_400).await.expect("days");
    // Counted from the activities alone: a deleted user's sign-in still happened.
    assert_eq!(days, [(NOW / 86_400, 2)]);
    let failed = db.activity_counts_by_day("session", "login", "failed", NOW, NOW + 86_400).await.expect("failed");
    assert_eq!(failed, [((NOW + 86_400) / 86_400, 1)]);
    assert!(db.activity_counts_by_day("session", "login", "failed", NOW, NOW + 86_399).await.expect("w").is_empty());
    assert_eq!(db.pending_applications().await.expect("none"), 0);
    db.upsert_label(u.id, "document", "pending", LabelScope::Private, NOW).await.expect("label");
    db.upsert_label(admin.id, "document", "pending", LabelScope::Public, NOW).await.expect("public label");
    assert_eq!(db.pending_applications().await.expect("one"), 1);
});
