//! AuthzStore's permissions and API-key nonces.

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
