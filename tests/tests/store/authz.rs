//! AuthzStore's permissions, and NonceStore's API-key nonces.

use barongd::store::authz::PermissionRow;

use super::*;

fn rows(v: &[PermissionRow]) -> Vec<(&str, &str, &str, &str, Option<&str>)> {
    v.iter()
        .map(|p| (p.action.as_str(), p.role.as_str(), p.verb.as_str(), p.path.as_str(), p.topic.as_deref()))
        .collect()
}

contract!(permissions_round_trip_in_id_order, |db: Db| async move {
    assert!(db.permissions().await.expect("empty").is_empty());
    let a = db.add_permission("ACCEPT", "member", "GET", "api/v2/resource", None, NOW).await.expect("a");
    let b = db.add_permission("AUDIT", "admin", "ALL", "api/v2/admin", Some("admin"), NOW).await.expect("b");
    assert!(b.id > a.id);
    assert_eq!(
        rows(&[a.clone(), b.clone()]),
        [
            ("ACCEPT", "member", "GET", "api/v2/resource", None),
            ("AUDIT", "admin", "ALL", "api/v2/admin", Some("admin"))
        ]
    );
    let listed = db.permissions().await.expect("list");
    assert_eq!(listed.iter().map(|p| p.id).collect::<Vec<_>>(), [a.id, b.id]);
    assert_eq!(rows(&listed), rows(&[a.clone(), b.clone()]));

    assert!(db.delete_permission(a.id).await.expect("delete"));
    assert!(!db.delete_permission(a.id).await.expect("delete again"));
    assert_eq!(db.permissions().await.expect("list").iter().map(|p| p.id).collect::<Vec<_>>(), [b.id]);
});

contract!(a_permission_is_unique_per_role_verb_path_and_action, |db: Db| async move {
    db.add_permission("ACCEPT", "member", "GET", "api/v2", None, NOW).await.expect("first");
    // `permission.already_exists`, whatever the topic.
    unique_violation(db.add_permission("ACCEPT", "member", "GET", "api/v2", Some("t"), NOW).await);
    // Any one part different is another permission.
    db.add_permission("DROP", "member", "GET", "api/v2", None, NOW).await.expect("other action");
    db.add_permission("ACCEPT", "admin", "GET", "api/v2", None, NOW).await.expect("other role");
    db.add_permission("ACCEPT", "member", "POST", "api/v2", None, NOW).await.expect("other verb");
    db.add_permission("ACCEPT", "member", "GET", "api/v2/x", None, NOW).await.expect("other path");
    assert_eq!(db.permissions().await.expect("list").len(), 5);
});

contract!(seeding_a_permission_adds_it_once, |db: Db| async move {
    assert!(db.insert_permission_if_absent("ACCEPT", "member", "GET", "api", Some("one"), NOW).await.expect("seed"));
    assert!(!db.insert_permission_if_absent("ACCEPT", "member", "GET", "api", Some("two"), NOW).await.expect("again"));
    let listed = db.permissions().await.expect("list");
    assert_eq!(rows(&listed), [("ACCEPT", "member", "GET", "api", Some("one"))], "the first seed is kept");
    assert!(db.insert_permission_if_absent("DROP", "member", "GET", "api", None, NOW).await.expect("another"));
    assert_eq!(db.permissions().await.expect("list").len(), 2);
});

contract!(a_role_exists_while_a_permission_names_it, |db: Db| async move {
    assert!(!db.role_exists("trader").await.expect("none"));
    let p = db.add_permission("ACCEPT", "trader", "GET", "api", None, NOW).await.expect("add");
    assert!(db.role_exists("trader").await.expect("exists"));
    assert!(!db.role_exists("Trader").await.expect("case matters"));
    assert!(!db.role_exists("trade").await.expect("not a prefix"));
    assert!(db.delete_permission(p.id).await.expect("delete"));
    assert!(!db.role_exists("trader").await.expect("gone with its last permission"));
});

contract!(a_nonce_is_used_once_per_key, |db: Db| async move {
    assert!(db.use_nonce("kid-a", 1_700_000_000_123, NOW + 30).await.expect("first"));
    assert!(!db.use_nonce("kid-a", 1_700_000_000_123, NOW + 30).await.expect("replay"));
    assert!(db.use_nonce("kid-b", 1_700_000_000_123, NOW + 30).await.expect("same nonce, other key"));
    assert!(db.use_nonce("kid-a", 1_700_000_000_124, NOW + 30).await.expect("next nonce"));
});

contract!(racing_replays_of_a_nonce_have_one_winner, |db: Db| async move {
    let daemons = db.daemons(3).await;
    let calls = (0..12).map(|i| daemons[i % 3].use_nonce("kid", 42, NOW + 30));
    assert_eq!(winners(join_all(calls).await), 1);
});

fn nonce(kid: &str, nonce: i64, expires_at: i64) -> NonceUse {
    NonceUse { kid: kid.into(), nonce, expires_at }
}

contract!(a_batch_accepts_the_first_use_of_each_nonce_only, |db: Db| async move {
    assert!(db.use_nonce("k1", 5, NOW + 30).await.expect("before the batch"));
    let batch =
        [nonce("k1", 5, NOW + 30), nonce("k1", 6, NOW + 30), nonce("k2", 5, NOW + 30), nonce("k1", 6, NOW + 30)];
    let got = db.use_nonces(&batch).await.expect("batch");
    assert_eq!(got, [false, true, true, false], "used before, new, other key, repeated within the batch");
    assert!(db.use_nonces(&[]).await.expect("empty batch").is_empty());
    assert!(!db.use_nonce("k2", 5, NOW + 30).await.expect("the batch's nonces are recorded"));
});

contract!(racing_batches_of_the_same_nonces_have_one_winner_each, |db: Db| async move {
    // Three daemons send the same 300 nonces in different orders at once: each nonce is taken
    // once, and rows locked in opposite orders end in no deadlock error.
    let daemons = db.daemons(3).await;
    let mut batches = Vec::new();
    for (i, daemon) in daemons.iter().enumerate() {
        let mut b: Vec<NonceUse> = (0..300).map(|n| nonce(&format!("kid-{}", n % 7), 1_000 + n, NOW + 30)).collect();
        match i {
            1 => b.reverse(),
            2 => b.sort_by_key(|n| (n.nonce % 13, n.nonce)),
            _ => {}
        }
        batches.push((daemon.clone(), b));
    }
    let results = join_all(batches.iter().map(|(d, b)| d.use_nonces(b))).await;
    let mut wins = std::collections::HashMap::new();
    for ((_, batch), accepted) in batches.iter().zip(results) {
        for (n, ok) in batch.iter().zip(accepted.expect("racing batch")) {
            *wins.entry((n.kid.clone(), n.nonce)).or_insert(0) += ok as usize;
        }
    }
    assert_eq!(wins.len(), 300);
    assert!(wins.values().all(|w| *w == 1), "every nonce has exactly one winner");
});

contract!(nonces_are_forgotten_after_they_expire_and_not_before, |db: Db| async move {
    // Nonces are millisecond timestamps: this one was signed at NOW and lives 5 s (+2 of slack).
    let signed_at = NOW * 1000;
    assert!(db.use_nonce("kid", signed_at, NOW + 7).await.expect("used"));
    // Same minute, but kept far longer (a lifetime configured beyond 30 s): expired rows around
    // it still go, it stays.
    assert!(db.use_nonce("kid", signed_at + 1, NOW + 1000).await.expect("long-lived"));
    assert_eq!(db.purge_nonces(NOW + 6).await.expect("purge"), 0, "nothing has expired yet");
    assert!(!db.use_nonce("kid", signed_at, NOW + 7).await.expect("still a replay"));

    // Three minutes later: a nonce of that moment is live, the old one is gone.
    let later = NOW + 180;
    assert!(db.use_nonce("kid", later * 1000, later + 7).await.expect("a current nonce"));
    assert_eq!(db.purge_nonces(later).await.expect("purge"), 1);
    assert!(db.use_nonce("kid", signed_at, NOW + 7).await.expect("forgotten, usable again"));
    assert!(!db.use_nonce("kid", signed_at + 1, NOW + 1000).await.expect("the long-lived one stays"));
    assert!(!db.use_nonce("kid", later * 1000, later + 7).await.expect("the current one stays"));

    // Once nothing in it is live, the whole minute goes (PostgreSQL empties that minute's
    // partition now; SQLite deletes the expired rows of every minute).
    let purged = db.purge_nonces(NOW + 1260).await.expect("purge");
    assert!(purged >= 2, "both nonces of that minute went, {purged} rows in all");
    assert!(db.use_nonce("kid", signed_at, NOW + 7).await.expect("forgotten"));
    assert!(db.use_nonce("kid", signed_at + 1, NOW + 1000).await.expect("forgotten"));
});
