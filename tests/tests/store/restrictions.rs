//! RestrictionStore: restrictions (each write announced in the change feed) and whitelink
//! tokens. `session_ips` is in sessions.rs.

use barongd::store::restrictions::{CHANGE_KIND, NewRestriction, Redeemed, RestrictionRow};

use super::*;

fn new(category: &'static str, scope: &'static str, value: &'static str, now: i64) -> NewRestriction<'static> {
    NewRestriction { category, scope, value, code: 423, state: "enabled", now }
}

/// (kind, subject) of the changes after `after`.
async fn feed(db: &Db, after: i64) -> Vec<(String, String)> {
    db.changes_after(after).await.expect("changes").into_iter().map(|c| (c.kind, c.subject)).collect()
}

fn announced(id: i64) -> Vec<(String, String)> {
    vec![(CHANGE_KIND.to_string(), id.to_string())]
}

contract!(a_restriction_round_trips_and_is_announced, |db: Db| async move {
    assert!(db.restrictions().await.expect("none").is_empty());
    let r = db.insert_restriction(&new("blacklist", "ip_subnet", "192.0.2.0/24", NOW)).await.expect("insert");
    let expected = RestrictionRow {
        id: r.id,
        category: "blacklist".into(),
        scope: "ip_subnet".into(),
        value: "192.0.2.0/24".into(),
        code: Some(423),
        state: "enabled".into(),
        created_at: NOW,
        updated_at: NOW,
    };
    assert_eq!(r, expected);
    assert_eq!(db.restrictions().await.expect("list"), [expected]);
    assert_eq!(feed(&db, 0).await, announced(r.id));
    assert_eq!(db.int("SELECT created_at FROM changes").await, Some(NOW), "stamped with the caller's time");
    assert_eq!(db.latest_change().await.expect("latest"), db.last_change_id().await.expect("last"));

    let r2 = db.insert_restriction(&new("maintenance", "all", "all", NOW + 1)).await.expect("second");
    let listed: Vec<i64> = db.restrictions().await.expect("list").iter().map(|r| r.id).collect();
    assert_eq!(listed, [r.id, r2.id], "oldest first");
});

contract!(a_duplicate_restriction_is_refused_and_not_announced, |db: Db| async move {
    db.insert_restriction(&new("blacklist", "ip", "192.0.2.1", NOW)).await.expect("first");
    let latest = db.latest_change().await.expect("latest");
    unique_violation(db.insert_restriction(&new("blacklist", "ip", "192.0.2.1", NOW + 1)).await);
    assert_eq!(db.latest_change().await.expect("latest"), latest, "the change rolled back with the insert");
    // One part different: another restriction.
    db.insert_restriction(&new("whitelist", "ip", "192.0.2.1", NOW)).await.expect("other category");
    db.insert_restriction(&new("blacklist", "country", "192.0.2.1", NOW)).await.expect("other scope");
    db.insert_restriction(&new("blacklist", "ip", "192.0.2.2", NOW)).await.expect("other value");
    assert_eq!(db.restrictions().await.expect("list").len(), 4);
});

contract!(state_changes_and_deletes_are_announced, |db: Db| async move {
    let r = db.insert_restriction(&new("blocklogin", "ip", "203.0.113.1", NOW)).await.expect("insert");
    let other = db.insert_restriction(&new("blocklogin", "ip", "203.0.113.2", NOW)).await.expect("other");
    let mark = db.latest_change().await.expect("latest");

    let d = db.set_restriction_state(r.id, "disabled", NOW + 5).await.expect("disable").expect("row");
    assert_eq!((d.id, d.state.as_str(), d.created_at, d.updated_at), (r.id, "disabled", NOW, NOW + 5));
    assert_eq!((d.value.as_str(), d.code), ("203.0.113.1", Some(423)));
    assert_eq!(feed(&db, mark).await, announced(r.id));
    let mark = db.latest_change().await.expect("latest");
    assert!(db.set_restriction_state(other.id + 100, "disabled", NOW).await.expect("unknown").is_none());
    assert_eq!(db.latest_change().await.expect("latest"), mark, "nothing changed, nothing announced");

    assert!(db.delete_restriction(r.id, NOW + 6).await.expect("delete"));
    assert_eq!(feed(&db, mark).await, announced(r.id));
    let mark = db.latest_change().await.expect("latest");
    assert!(!db.delete_restriction(r.id, NOW + 7).await.expect("delete again"));
    assert_eq!(db.latest_change().await.expect("latest"), mark);
    assert_eq!(db.restrictions().await.expect("list"), [other]);
});

contract!(a_whitelink_creates_its_restriction_once, |db: Db| async move {
    db.insert_whitelink("hash-1", NOW + 60, NOW).await.expect("whitelink");
    let wl = new("whitelist", "ip", "198.51.100.7", NOW + 10);
    let Redeemed::Created(row) = db.redeem_whitelink("hash-1", &wl).await.expect("redeem") else {
        panic!("expected Created");
    };
    assert_eq!((row.category.as_str(), row.scope.as_str(), row.value.as_str()), ("whitelist", "ip", "198.51.100.7"));
    assert_eq!((row.state.as_str(), row.code, row.created_at), ("enabled", Some(423), NOW + 10));
    assert_eq!(db.restrictions().await.expect("list"), std::slice::from_ref(&row));
    assert_eq!(feed(&db, 0).await, announced(row.id));
    // The token is spent.
    let again = new("whitelist", "ip", "198.51.100.8", NOW + 11);
    assert_eq!(db.redeem_whitelink("hash-1", &again).await.expect("again"), Redeemed::InvalidToken);
    assert_eq!(db.redeem_whitelink("unknown", &again).await.expect("unknown"), Redeemed::InvalidToken);
    assert_eq!(db.restrictions().await.expect("list").len(), 1);
});

contract!(a_whitelink_expires, |db: Db| async move {
    db.insert_whitelink("hash-x", NOW + 60, NOW).await.expect("whitelink");
    let at_expiry = new("whitelist", "ip", "198.51.100.9", NOW + 60);
    assert_eq!(db.redeem_whitelink("hash-x", &at_expiry).await.expect("expired"), Redeemed::InvalidToken);
    assert!(db.restrictions().await.expect("list").is_empty());
    let before = new("whitelist", "ip", "198.51.100.9", NOW + 59);
    assert!(matches!(db.redeem_whitelink("hash-x", &before).await.expect("in time"), Redeemed::Created(_)));
});

contract!(a_taken_whitelist_entry_keeps_the_token, |db: Db| async move {
    let existing = db.insert_restriction(&new("whitelist", "ip", "198.51.100.1", NOW)).await.expect("existing");
    db.insert_whitelink("hash-t", NOW + 60, NOW).await.expect("whitelink");
    let mark = db.latest_change().await.expect("latest");
    let wl = new("whitelist", "ip", "198.51.100.1", NOW + 1);
    assert_eq!(db.redeem_whitelink("hash-t", &wl).await.expect("taken"), Redeemed::Taken);
    assert_eq!(db.latest_change().await.expect("latest"), mark, "nothing announced");
    assert_eq!(db.text("SELECT token_hash FROM whitelinks").await.as_deref(), Some("hash-t"), "token not spent");
    // Once the entry is gone the same token still works.
    assert!(db.delete_restriction(existing.id, NOW + 2).await.expect("delete"));
    assert!(matches!(db.redeem_whitelink("hash-t", &wl).await.expect("redeem"), Redeemed::Created(_)));
    // A token hash is a key.
    db.insert_whitelink("hash-u", NOW + 60, NOW).await.expect("whitelink");
    unique_violation(db.insert_whitelink("hash-u", NOW + 90, NOW).await);
});

contract!(racing_redemptions_of_one_token_create_one_entry, |db: Db| async move {
    db.insert_whitelink("hash-r", NOW + 60, NOW).await.expect("whitelink");
    let daemons = db.daemons(3).await;
    let values: Vec<String> = (0..6).map(|i| format!("198.51.100.{}", 10 + i)).collect();
    let calls = (0..6).map(|i| {
        let store = daemons[i % 3].clone();
        let value = values[i].as_str();
        async move {
            let r = NewRestriction { category: "whitelist", scope: "ip", value, code: 0, state: "enabled", now: NOW };
            store.redeem_whitelink("hash-r", &r).await
        }
    });
    let results = join_all(calls).await;
    let created = results.iter().filter(|r| matches!(r, Ok(Redeemed::Created(_)))).count();
    let invalid = results.iter().filter(|r| matches!(r, Ok(Redeemed::InvalidToken))).count();
    assert_eq!((created, invalid), (1, 5), "{results:?}");
    assert_eq!(db.restrictions().await.expect("list").len(), 1);
});
