//! ManagementStore: each Management API jti is accepted once, across daemons, until purged.

use super::*;

contract!(a_management_jti_is_claimed_once, |db: Db| async move {
    assert!(db.claim_management_jti("m-1", NOW + 60).await.expect("first"));
    assert!(!db.claim_management_jti("m-1", NOW + 60).await.expect("replay"));
    assert!(!db.claim_management_jti("m-1", NOW + 999).await.expect("another expiry does not help"));
    assert!(db.claim_management_jti("m-2", NOW + 60).await.expect("another jti"));
    // Not the confirmation tokens' table: the same text there is another token.
    assert!(db.use_jti("m-1", NOW + 60).await.expect("used_tokens is separate"));
});

contract!(racing_claims_of_one_management_jti_have_one_winner, |db: Db| async move {
    let daemons = db.daemons(3).await;
    let calls = (0..12).map(|i| daemons[i % 3].claim_management_jti("raced", NOW + 60));
    assert_eq!(winners(join_all(calls).await), 1);
});

contract!(expired_management_jtis_are_purged, |db: Db| async move {
    assert!(db.claim_management_jti("old", NOW - 1).await.expect("old"));
    assert!(db.claim_management_jti("edge", NOW).await.expect("edge"));
    assert!(db.claim_management_jti("live", NOW + 60).await.expect("live"));
    assert_eq!(db.purge_management_jtis(NOW).await.expect("purge"), 2);
    assert!(!db.claim_management_jti("live", NOW + 60).await.expect("kept"));
    assert!(db.claim_management_jti("old", NOW + 60).await.expect("forgotten after purge"));
});
