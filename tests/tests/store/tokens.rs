//! TokenStore: single use of confirmation JWTs (jti) and the newest-only reset token.

use super::*;

contract!(a_jti_is_used_once, |db: Db| async move {
    assert!(!db.jti_used("jti-1").await.expect("unused"));
    assert!(db.use_jti("jti-1", NOW + 60).await.expect("first use"));
    assert!(db.jti_used("jti-1").await.expect("used"));
    assert!(!db.use_jti("jti-1", NOW + 60).await.expect("second use"));
    assert!(!db.use_jti("jti-1", NOW + 999).await.expect("another expiry does not help"));
    assert!(!db.jti_used("jti-2").await.expect("another jti"));
    assert!(db.use_jti("jti-2", NOW + 60).await.expect("another jti"));
});

contract!(racing_uses_of_one_jti_have_one_winner, |db: Db| async move {
    let daemons = db.daemons(3).await;
    let calls = (0..12).map(|i| daemons[i % 3].use_jti("raced", NOW + 60));
    assert_eq!(winners(join_all(calls).await), 1);
    assert!(db.jti_used("raced").await.expect("used"));
});

contract!(only_the_newest_reset_token_works_once, |db: Db| async move {
    let u = new_user(&db, "r@example.com").await;
    let other = new_user(&db, "r2@example.com").await;
    assert!(!db.take_reset_token(u.id, "t1", NOW).await.expect("none set"));

    db.set_reset_token(u.id, "t1", NOW + 60).await.expect("t1");
    db.set_reset_token(u.id, "t2", NOW + 60).await.expect("t2 replaces t1");
    db.set_reset_token(other.id, "t1", NOW + 60).await.expect("another user's token");
    assert!(!db.take_reset_token(u.id, "t1", NOW).await.expect("replaced"));
    assert!(!db.take_reset_token(other.id, "t2", NOW).await.expect("not the other user's"));
    assert!(db.take_reset_token(u.id, "t2", NOW).await.expect("newest"));
    assert!(!db.take_reset_token(u.id, "t2", NOW).await.expect("consumed"));
    assert!(db.take_reset_token(other.id, "t1", NOW).await.expect("the other user's is untouched"));
});

contract!(a_reset_token_works_until_its_expiry, |db: Db| async move {
    let u = new_user(&db, "rx@example.com").await;
    db.set_reset_token(u.id, "t", NOW + 60).await.expect("set");
    assert!(!db.take_reset_token(u.id, "t", NOW + 60).await.expect("at the expiry"));
    assert!(db.take_reset_token(u.id, "t", NOW + 59).await.expect("a second before"));

    // A newer token brings a newer expiry with it.
    db.set_reset_token(u.id, "old", NOW + 10).await.expect("old");
    db.set_reset_token(u.id, "new", NOW + 100).await.expect("new");
    assert!(db.take_reset_token(u.id, "new", NOW + 50).await.expect("new expiry applies"));
});

contract!(racing_resets_with_one_token_have_one_winner, |db: Db| async move {
    let u = new_user(&db, "rr@example.com").await;
    db.set_reset_token(u.id, "t", NOW + 60).await.expect("set");
    let daemons = db.daemons(3).await;
    let calls = (0..9).map(|i| daemons[i % 3].take_reset_token(u.id, "t", NOW));
    assert_eq!(winners(join_all(calls).await), 1);
});
