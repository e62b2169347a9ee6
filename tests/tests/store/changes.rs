//! The change feed every daemon polls: rows written by triggers (migration 0004) and by the
//! restriction methods; `last_change_id`, `changes_after`, `purge_changes`, `latest_change`.

use std::future::Future;

use barongd::store::restrictions::NewRestriction;

use super::*;

/// (kind, subject) of the changes `action` wrote.
async fn announced<T: std::fmt::Debug>(db: &Db, action: impl Future<Output = StoreResult<T>>) -> Vec<(String, String)> {
    let before = db.last_change_id().await.expect("last change");
    action.await.expect("the action succeeds");
    let rows = db.changes_after(before).await.expect("changes");
    rows.into_iter().map(|c| (c.kind, c.subject)).collect()
}

fn one(kind: &str, subject: &str) -> Vec<(String, String)> {
    vec![(kind.to_string(), subject.to_string())]
}

/// A change to a user column users/me shows: the gateway's user and users/me's body, in any order.
fn user_and_info(subject: &str) -> Vec<(String, String)> {
    vec![("user".to_string(), subject.to_string()), ("user_info".to_string(), subject.to_string())]
}

fn sorted(mut v: Vec<(String, String)>) -> Vec<(String, String)> {
    v.sort();
    v
}

fn restriction(value: &str, now: i64) -> NewRestriction<'_> {
    NewRestriction { category: "blacklist", scope: "ip", value, code: 401, state: "enabled", now }
}

fn wall_clock() -> i64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("after 1970");
    since.as_secs() as i64
}

contract!(a_fresh_feed_is_empty, |db: Db| async move {
    assert_eq!(db.last_change_id().await.expect("last"), 0);
    assert_eq!(db.latest_change().await.expect("latest"), 0);
    assert!(db.changes_after(0).await.expect("changes").is_empty());
    assert!(db.changes_after(-256).await.expect("a cursor minus the re-read window").is_empty());
});

contract!(triggers_announce_what_the_caches_hold, |db: Db| async move {
    let u = new_user(&db, "feed@example.com").await;
    let id = u.id.to_string();
    let level = announced(&db, db.update_state_level(u.id, &AccountState::Active, 1, NOW)).await;
    assert_eq!(sorted(level), user_and_info(&id));
    assert_eq!(sorted(announced(&db, db.update_role(u.id, &Role::from("admin"), NOW)).await), user_and_info(&id));
    db.replace_otp_secret(u.id, "seed").await.expect("seed");
    assert_eq!(sorted(announced(&db, db.enable_otp(u.id, "seed", NOW)).await), user_and_info(&id));

    db.insert_session(&session_row(u.id, "sid-1", NOW + 60, NOW + 60)).await.expect("session");
    db.insert_session(&session_row(u.id, "sid-2", NOW + 60, NOW + 60)).await.expect("session");
    assert_eq!(announced(&db, db.delete_session("sid-1")).await, one("session", "sid-1"));
    assert_eq!(announced(&db, db.delete_user_sessions(u.id)).await, one("session", "sid-2"));

    let key = new_api_key(&db, Holder::User(u.id), NOW).await;
    assert_eq!(
        announced(&db, db.update_api_key(key.id, None, Some(KeyState::Disabled), NOW)).await,
        one("api_key", &key.kid)
    );
    assert_eq!(announced(&db, db.delete_api_key(key.id)).await, one("api_key", &key.kid));

    let sa = new_service_account(&db, u.id).await;
    let sa_id = sa.id.to_string();
    assert_eq!(
        announced(&db, db.set_service_account_state(sa.id, &AccountState::Disabled, NOW)).await,
        one("service_account", &sa_id)
    );

    let added = announced(&db, db.add_permission("ACCEPT", "member", "GET", "api", None, NOW)).await;
    assert_eq!(added, one("permissions", ""));
    let p = db.permissions().await.expect("permissions").remove(0);
    assert_eq!(announced(&db, db.delete_permission(p.id)).await, one("permissions", ""));

    assert_eq!(announced(&db, db.insert_first_signing_key(&signing_key("k1", NOW))).await, one("signing_keys", ""));
    let rotated = announced(&db, db.rotate_signing_key(&signing_key("k2", NOW + 1), NOW)).await;
    assert_eq!(rotated, [one("signing_keys", ""), one("signing_keys", "")].concat(), "demotion and insertion");

    let r = announced(&db, db.insert_restriction(&restriction("192.0.2.1", NOW))).await;
    let rid = db.restrictions().await.expect("restrictions")[0].id.to_string();
    assert_eq!(r, one("restrictions", &rid));
});

contract!(the_feed_is_read_in_id_order_from_a_cursor, |db: Db| async move {
    let u = new_user(&db, "cursor@example.com").await;
    for level in 1..=5 {
        db.update_state_level(u.id, &AccountState::Active, level, NOW).await.expect("update");
    }
    let all = db.changes_after(0).await.expect("all");
    // Each level change announces the user (gateway) and what users/me shows.
    assert_eq!(all.len(), 10);
    assert!(all.windows(2).all(|w| w[0].id < w[1].id), "ascending ids");
    let last = db.last_change_id().await.expect("last");
    assert_eq!(last, all[9].id);
    assert_eq!(db.latest_change().await.expect("latest"), last, "both read the newest id");
    let tail = db.changes_after(all[7].id).await.expect("tail");
    assert_eq!(tail.iter().map(|c| c.id).collect::<Vec<_>>(), [all[8].id, all[9].id]);
    assert!(db.changes_after(last).await.expect("nothing new").is_empty());
    // Another daemon sees the same feed.
    let other = db.daemon().await;
    assert_eq!(other.last_change_id().await.expect("last"), last);
});

contract!(purging_changes_goes_by_their_age, |db: Db| async move {
    // Restriction changes carry the caller's time; trigger changes the database's clock.
    db.insert_restriction(&restriction("192.0.2.1", 1_000)).await.expect("old");
    db.insert_restriction(&restriction("192.0.2.2", 2_000)).await.expect("newer");
    let u = new_user(&db, "purge@example.com").await;
    db.update_role(u.id, &Role::from("admin"), NOW).await.expect("a trigger change");
    let before = wall_clock();
    let stamped = db.int("SELECT created_at FROM changes WHERE kind = 'user'").await.expect("stamped");
    assert!((stamped - before).abs() <= 5, "a trigger stamps the current time: {stamped} vs {before}");
    let last = db.last_change_id().await.expect("last");

    assert_eq!(db.purge_changes(1_000).await.expect("none older"), 0);
    assert_eq!(db.purge_changes(1_001).await.expect("the oldest"), 1);
    assert_eq!(db.purge_changes(2_001).await.expect("the next"), 1);
    let left = db.changes_after(0).await.expect("left");
    let mut kinds = left.iter().map(|c| c.kind.as_str()).collect::<Vec<_>>();
    kinds.sort();
    assert_eq!(kinds, ["user", "user_info"]);
    assert_eq!(db.last_change_id().await.expect("last"), last, "the newest survives");
    assert_eq!(db.purge_changes(wall_clock() + 10).await.expect("everything"), 2);
    assert_eq!(db.last_change_id().await.expect("empty again"), 0);

    // Ids are never reused after a purge: a daemon's cursor stays valid.
    db.update_role(u.id, &Role::member(), NOW).await.expect("another change");
    assert!(db.last_change_id().await.expect("last") > last);
});
