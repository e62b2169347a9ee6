//! SigningKeyStore and `rotate_signing_key`: the JWT key ring every daemon shares.

use super::*;

/// (kid, state) of the keys that still verify, as listed.
async fn ring(db: &Db) -> Vec<(String, String)> {
    let rows = db.signing_keys().await.expect("signing keys");
    rows.iter().map(|k| (k.kid.clone(), signing_key_state(k).to_string())).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(k, s)| (k.to_string(), s.to_string())).collect()
}

contract!(the_first_signing_key_is_stored_once, |db: Db| async move {
    assert!(db.signing_keys().await.expect("empty").is_empty());
    let mut first = signing_key("k1", NOW);
    first.state = SigningKeyState::Previous; // ignored: the first key is always stored active
    assert!(db.insert_first_signing_key(&first).await.expect("first"));
    assert!(!db.insert_first_signing_key(&signing_key("k2", NOW + 1)).await.expect("second"));
    let rows = db.signing_keys().await.expect("keys");
    assert_eq!(rows.len(), 1, "the second key was not stored");
    let k = &rows[0];
    assert_eq!((k.kid.as_str(), k.algorithm.as_str(), signing_key_state(k)), ("k1", "RS256", "active"));
    assert_eq!(
        (k.private_sealed.as_str(), k.public_pem.as_str(), k.created_at),
        ("sealed-k1", first.public_pem.as_str(), NOW)
    );
});

contract!(racing_daemons_store_one_first_signing_key, |db: Db| async move {
    for round in 0..5 {
        let fresh = Scratch::new(db.backend).await.expect("fresh database");
        let daemons = [fresh.open().await, fresh.open().await, fresh.open().await, fresh.open().await];
        daemons[0].migrate(NOW).await.expect("migrate");
        let keys: Vec<SigningKeyRow> = (0..8).map(|i| signing_key(&format!("r{round}-k{i}"), NOW)).collect();
        let calls = keys.iter().enumerate().map(|(i, k)| daemons[i % 4].insert_first_signing_key(k));
        let won = winners(join_all(calls).await);
        let active = daemons[0].signing_keys().await.expect("keys");
        assert_eq!((won, active.len()), (1, 1), "round {round}: one daemon stores the first key");
    }
});

contract!(rotation_demotes_then_retires_keys, |db: Db| async move {
    const EXPIRE: i64 = 100;
    assert!(db.insert_first_signing_key(&signing_key("k1", NOW)).await.expect("k1"));

    // k2 takes over; k1 keeps verifying.
    db.rotate_signing_key(&signing_key("k2", NOW + 200), NOW + 200 - EXPIRE).await.expect("rotate to k2");
    assert_eq!(ring(&db).await, pairs(&[("k2", "active"), ("k1", "previous")]));

    // A quick second rotation: k1 was replaced (at k2's creation, NOW + 200) after the cut-off,
    // so its tokens may still be alive and it keeps verifying.
    db.rotate_signing_key(&signing_key("k3", NOW + 250), NOW + 250 - EXPIRE).await.expect("rotate to k3");
    assert_eq!(ring(&db).await, pairs(&[("k3", "active"), ("k2", "previous"), ("k1", "previous")]));

    // Later: k1 (replaced at NOW + 200) and k2 (replaced at NOW + 250) are past the cut-off
    // NOW + 260 and retire; k3 is only now replaced and stays as previous.
    db.rotate_signing_key(&signing_key("k4", NOW + 360), NOW + 360 - EXPIRE).await.expect("rotate to k4");
    assert_eq!(ring(&db).await, pairs(&[("k4", "active"), ("k3", "previous")]));
    let retired = db.int("SELECT COUNT(*) FROM signing_keys WHERE state = 'retired'").await;
    assert_eq!(retired, Some(2), "retired keys are kept, not listed");

    // A retired or previous key does not count as active for a late first-key insert.
    assert!(!db.insert_first_signing_key(&signing_key("late", NOW + 400)).await.expect("late first key"));
    let rows = db.signing_keys().await.expect("keys");
    let k4 = rows.iter().find(|k| k.kid == "k4").expect("k4");
    assert_eq!((k4.algorithm.as_str(), k4.private_sealed.as_str(), k4.created_at), ("RS256", "sealed-k4", NOW + 360));
});

contract!(keys_created_in_the_same_second_are_listed_by_kid, |db: Db| async move {
    assert!(db.insert_first_signing_key(&signing_key("b", NOW)).await.expect("b"));
    db.rotate_signing_key(&signing_key("a", NOW), NOW).await.expect("a, same second");
    let kids: Vec<String> = db.signing_keys().await.expect("keys").into_iter().map(|k| k.kid).collect();
    assert_eq!(kids, ["a", "b"]);
    // A kid is a key's identity: rotating to a known kid fails and leaves the ring as it was.
    assert!(db.rotate_signing_key(&signing_key("a", NOW + 1), NOW).await.is_err());
    assert_eq!(ring(&db).await, pairs(&[("a", "active"), ("b", "previous")]));
});

contract!(activation_stores_or_reuses_a_key_and_demotes_the_active_one, |db: Db| async move {
    const EXPIRE: i64 = 100;
    assert!(db.insert_first_signing_key(&signing_key("k1", NOW)).await.expect("k1"));
    // An imported key, verify-only: stored once, listed as previous.
    let mut standby = signing_key("imp", NOW + 10);
    standby.state = SigningKeyState::Previous;
    assert!(db.add_signing_key(&standby).await.expect("add"));
    assert!(!db.add_signing_key(&standby).await.expect("add again"), "a known kid is not stored twice");
    assert_eq!(ring(&db).await, pairs(&[("imp", "previous"), ("k1", "active")]));

    // Activating it keeps its stored row (the sealed half of the first insert), demotes k1.
    let mut again = signing_key("imp", NOW + 20);
    again.private_sealed = "another-seal".into();
    db.activate_signing_key(&again, NOW + 20 - EXPIRE).await.expect("activate imp");
    assert_eq!(ring(&db).await, pairs(&[("imp", "active"), ("k1", "previous")]));
    let all = db.all_signing_keys().await.expect("all");
    let imp = all.iter().find(|k| k.kid == "imp").expect("imp");
    assert_eq!((imp.private_sealed.as_str(), imp.created_at), ("sealed-imp", NOW + 10));

    // A new key activated at once is stored active; activating the active key changes nothing.
    db.activate_signing_key(&signing_key("k3", NOW + 300), NOW + 300 - EXPIRE).await.expect("activate k3");
    db.activate_signing_key(&signing_key("k3", NOW + 301), NOW + 301 - EXPIRE).await.expect("again");
    let active = db.int("SELECT COUNT(*) FROM signing_keys WHERE state = 'active'").await;
    assert_eq!(active, Some(1));
    // k1 (replaced by the newer imp before the cut-off) retires; retired keys stay listed by
    // all_signing_keys and can be activated again.
    assert_eq!(ring(&db).await, pairs(&[("k3", "active"), ("imp", "previous")]));
    let all: Vec<(String, String)> =
        db.all_signing_keys().await.expect("all").iter().map(|k| (k.kid.clone(), k.state.to_string())).collect();
    assert_eq!(all, pairs(&[("k3", "active"), ("imp", "previous"), ("k1", "retired")]));
    db.activate_signing_key(&signing_key("k1", NOW + 400), NOW + 400 - EXPIRE).await.expect("k1 back");
    assert_eq!(ring(&db).await, pairs(&[("k3", "previous"), ("imp", "previous"), ("k1", "active")]));
});

contract!(a_scheduled_key_is_published_then_replaced_or_activated, |db: Db| async move {
    const EXPIRE: i64 = 100;
    assert!(db.insert_first_signing_key(&signing_key("k1", NOW)).await.expect("k1"));
    // Published as next (listed, so every daemon verifies with it), signing from NOW + 300.
    let plan = |kid: &str, at: i64| SigningKeyRow { takes_over_at: at, ..signing_key(kid, NOW + 10) };
    db.schedule_signing_key(&plan("n1", NOW + 300)).await.expect("schedule n1");
    assert_eq!(ring(&db).await, pairs(&[("n1", "next"), ("k1", "active")]));
    let n1 = db.signing_keys().await.expect("keys").into_iter().find(|k| k.kid == "n1").expect("n1");
    assert_eq!((n1.created_at, n1.takes_over_at), (NOW + 10, NOW + 300));
    // A second plan retires the first: one next key at a time.
    db.schedule_signing_key(&plan("n2", NOW + 320)).await.expect("schedule n2");
    assert_eq!(ring(&db).await, pairs(&[("n2", "next"), ("k1", "active")]));
    // Its time comes: activated (by any daemon, twice is harmless), k1 verifies as previous.
    let n2 = SigningKeyRow { takes_over_at: NOW + 320, ..signing_key("n2", NOW + 10) };
    db.activate_signing_key(&n2, NOW + 320 - EXPIRE).await.expect("activate n2");
    db.activate_signing_key(&n2, NOW + 321 - EXPIRE).await.expect("again");
    assert_eq!(ring(&db).await, pairs(&[("n2", "active"), ("k1", "previous")]));
    let n2 = db.signing_keys().await.expect("keys").into_iter().find(|k| k.kid == "n2").expect("n2");
    assert_eq!(n2.takes_over_at, NOW + 320, "the moment it took over, kept by a second activation");
    // Retirement counts from the take-over, not the creation: at NOW + 400 k1's tokens (signed
    // until NOW + 320) may still live, so a rotation keeps it.
    let k3 = SigningKeyRow { takes_over_at: NOW + 400, ..signing_key("k3", NOW + 400) };
    db.rotate_signing_key(&k3, NOW + 400 - EXPIRE).await.expect("rotate to k3");
    assert_eq!(ring(&db).await, pairs(&[("k3", "active"), ("n2", "previous"), ("k1", "previous")]));
    // A plan pending when another key is activated at once is dropped.
    db.schedule_signing_key(&plan("n4", NOW + 900)).await.expect("schedule n4");
    let k5 = SigningKeyRow { takes_over_at: NOW + 500, ..signing_key("k5", NOW + 500) };
    db.rotate_signing_key(&k5, NOW + 500 - EXPIRE).await.expect("rotate to k5");
    // k1 retires (its successor n2 took over at NOW + 320, before the cut-off NOW + 400); n2,
    // replaced only at NOW + 400, keeps verifying.
    assert_eq!(ring(&db).await, pairs(&[("k5", "active"), ("k3", "previous"), ("n2", "previous")]));
    let states: Vec<(String, String)> =
        db.all_signing_keys().await.expect("all").iter().map(|k| (k.kid.clone(), k.state.to_string())).collect();
    assert!(states.contains(&("n4".into(), "retired".into())) && states.contains(&("k1".into(), "retired".into())));
});
