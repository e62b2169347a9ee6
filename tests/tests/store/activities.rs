//! ActivityStore and the account methods that page and count a user's activities.

use barongd::store::account::ActivityFilter;
use barongd::store::activities::ActivityRow;

use super::*;

fn ids(rows: &[ActivityRow]) -> Vec<i64> {
    rows.iter().map(|a| a.id).collect()
}

contract!(an_activity_round_trips_every_column, |db: Db| async move {
    let u = new_user(&db, "act@example.com").await;
    let mut a = activity(u.id, "session", "succeed", NOW);
    a.target_uid = Some("ID-TARGET".into());
    a.category = "admin";
    a.action = "update";
    db.insert_activity(&a).await.expect("insert");
    let rows = db.activities_of(u.id, 10).await.expect("read");
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    assert_eq!((r.user_id, r.category.as_str(), r.user_ip.as_str()), (Some(u.id), "admin", "192.0.2.7"));
    assert_eq!((r.user_ip_country.as_deref(), r.user_agent.as_deref()), (Some("DE"), Some("test-agent")));
    assert_eq!((r.topic.as_str(), r.action.as_str(), r.result.as_str()), ("session", "update", "succeed"));
    assert_eq!((r.data.as_deref(), r.created_at), (Some("{\"note\":\"x\"}"), NOW));
    assert_eq!(db.text("SELECT target_uid FROM activities").await.as_deref(), Some("ID-TARGET"));

    // The optional columns may be empty; an activity may have no user (a refused login).
    let bare =
        NewActivity { user_ip_country: None, user_agent: None, data: None, ..activity(u.id, "otp", "failed", NOW) };
    db.insert_activity(&bare).await.expect("bare");
    db.insert_activity(&NewActivity { user_id: None, ..activity(u.id, "x", "failed", NOW) }).await.expect("no user");
    let rows = db.activities_of(u.id, 10).await.expect("read");
    assert_eq!(rows.len(), 2, "the user-less activity is nobody's");
    assert_eq!(
        (rows[0].user_ip_country.as_deref(), rows[0].user_agent.as_deref(), rows[0].data.as_deref()),
        (None, None, None)
    );
});

contract!(activities_of_is_newest_first_and_limited, |db: Db| async move {
    let u = new_user(&db, "list@example.com").await;
    let other = new_user(&db, "list2@example.com").await;
    // Inserted out of time order: the listing follows insertion (id), newest first.
    for at in [NOW + 5, NOW, NOW + 9] {
        db.insert_activity(&activity(u.id, "session", "succeed", at)).await.expect("insert");
    }
    db.insert_activity(&activity(other.id, "session", "succeed", NOW)).await.expect("other");
    let all = db.activities_of(u.id, 10).await.expect("all");
    assert_eq!(all.iter().map(|a| a.created_at).collect::<Vec<_>>(), [NOW + 9, NOW, NOW + 5]);
    assert!(all.windows(2).all(|w| w[0].id > w[1].id));
    assert_eq!(ids(&db.activities_of(u.id, 2).await.expect("two")), ids(&all[..2]));
    assert_eq!(db.activities_of(other.id, 10).await.expect("other").len(), 1);
});

contract!(activity_pages_filter_and_count, |db: Db| async move {
    let u = new_user(&db, "page@example.com").await;
    let other = new_user(&db, "page2@example.com").await;
    let rows = [
        ("session", "succeed", NOW),
        ("session", "failed", NOW + 10),
        ("otp", "succeed", NOW + 20),
        ("session", "succeed", NOW + 30),
        ("password", "denied", NOW + 40),
    ];
    for (topic, result, at) in rows {
        db.insert_activity(&activity(u.id, topic, result, at)).await.expect("insert");
    }
    db.insert_activity(&activity(other.id, "session", "succeed", NOW + 10)).await.expect("other user");
    let all = db.activities_page(u.id, &ActivityFilter::default(), 100, 0).await.expect("all");
    let at = |rows: &[ActivityRow]| rows.iter().map(|a| a.created_at - NOW).collect::<Vec<_>>();
    assert_eq!(at(&all), [40, 30, 20, 10, 0], "newest first, only the user's");
    assert_eq!(db.count_activities(u.id, &ActivityFilter::default()).await.expect("count"), 5);

    // Paging: the count ignores it.
    assert_eq!(at(&db.activities_page(u.id, &ActivityFilter::default(), 2, 0).await.expect("p1")), [40, 30]);
    assert_eq!(at(&db.activities_page(u.id, &ActivityFilter::default(), 2, 2).await.expect("p2")), [20, 10]);
    assert_eq!(at(&db.activities_page(u.id, &ActivityFilter::default(), 2, 4).await.expect("p3")), [0]);
    assert!(db.activities_page(u.id, &ActivityFilter::default(), 2, 6).await.expect("p4").is_empty());

    let cases: [(ActivityFilter, &[i64]); 6] = [
        (ActivityFilter { topic: Some("session"), ..Default::default() }, &[30, 10, 0]),
        (ActivityFilter { result: Some("succeed"), ..Default::default() }, &[30, 20, 0]),
        // `from` is inclusive, `to` exclusive.
        (ActivityFilter { from: Some(NOW + 10), ..Default::default() }, &[40, 30, 20, 10]),
        (ActivityFilter { to: Some(NOW + 30), ..Default::default() }, &[20, 10, 0]),
        (
            ActivityFilter { topic: Some("session"), from: Some(NOW + 1), to: Some(NOW + 31), result: Some("succeed") },
            &[30],
        ),
        (ActivityFilter { topic: Some("nothing"), ..Default::default() }, &[]),
    ];
    for (filter, expected) in cases {
        let page = db.activities_page(u.id, &filter, 100, 0).await.expect("page");
        assert_eq!(at(&page), expected, "{filter:?}");
        assert_eq!(db.count_activities(u.id, &filter).await.expect("count"), expected.len() as i64, "{filter:?}");
    }
    let session = ActivityFilter { topic: Some("session"), ..Default::default() };
    assert_eq!(at(&db.activities_page(u.id, &session, 1, 1).await.expect("filtered page")), [10]);
});
