//! EventStore: the Event API outbox, its leases and retries.

use barongd::store::events::EventRow;

use super::*;

fn names(rows: &[EventRow]) -> Vec<&str> {
    rows.iter().map(|e| e.name.as_str()).collect()
}

contract!(an_event_round_trips_and_is_counted, |db: Db| async move {
    assert_eq!(db.pending_events().await.expect("pending"), 0);
    db.enqueue_event("jti-1", "user.created", "sealed-record", NOW).await.expect("enqueue");
    assert_eq!(db.pending_events().await.expect("pending"), 1);
    let due = db.due_events(NOW, 10).await.expect("due");
    assert_eq!(due.len(), 1);
    let e = &due[0];
    assert_eq!((e.jti.as_str(), e.name.as_str(), e.record_sealed.as_str()), ("jti-1", "user.created", "sealed-record"));
    assert_eq!((e.attempts, e.next_attempt_at, e.created_at), (0, NOW, NOW));
    assert!(e.id > 0);

    db.event_published(e.id).await.expect("published");
    assert_eq!(db.pending_events().await.expect("pending"), 0);
    assert!(db.due_events(NOW + 1000, 10).await.expect("due").is_empty());
    db.event_published(e.id).await.expect("publishing twice is harmless");
});

contract!(due_events_keep_their_order_and_limit, |db: Db| async move {
    // Order of happening is insertion order, even when the clock says otherwise.
    db.enqueue_event("j1", "first", "r", NOW + 5).await.expect("1");
    db.enqueue_event("j2", "second", "r", NOW).await.expect("2");
    db.enqueue_event("j3", "third", "r", NOW + 1).await.expect("3");
    assert!(db.due_events(NOW - 1, 10).await.expect("none").is_empty());
    assert_eq!(names(&db.due_events(NOW + 1, 10).await.expect("due")), ["second", "third"]);
    assert_eq!(names(&db.due_events(NOW + 5, 10).await.expect("due")), ["first", "second", "third"]);
    assert_eq!(names(&db.due_events(NOW + 5, 2).await.expect("limited")), ["first", "second"]);
});

contract!(a_claimed_event_waits_for_its_lease, |db: Db| async move {
    db.enqueue_event("j", "e", "r", NOW).await.expect("enqueue");
    let e = db.due_events(NOW, 10).await.expect("due").remove(0);
    assert!(db.claim_event(e.id, e.next_attempt_at, NOW + 30).await.expect("claim"));
    assert!(!db.claim_event(e.id, e.next_attempt_at, NOW + 30).await.expect("stale claim"));
    assert!(!db.claim_event(e.id + 100, NOW, NOW + 30).await.expect("unknown id"));
    assert!(db.due_events(NOW + 29, 10).await.expect("leased").is_empty());
    assert_eq!(db.due_events(NOW + 30, 10).await.expect("lease over")[0].next_attempt_at, NOW + 30);
});

contract!(racing_claims_of_one_event_have_one_winner, |db: Db| async move {
    db.enqueue_event("j", "e", "r", NOW).await.expect("enqueue");
    let id = db.due_events(NOW, 1).await.expect("due")[0].id;
    let daemons = db.daemons(3).await;
    let calls = (0..9).map(|i| daemons[i % 3].claim_event(id, NOW, NOW + 30 + i as i64));
    assert_eq!(winners(join_all(calls).await), 1);
});

contract!(a_failed_event_is_retried_later, |db: Db| async move {
    db.enqueue_event("j1", "a", "r", NOW).await.expect("a");
    db.enqueue_event("j2", "b", "r", NOW).await.expect("b");
    let a = db.due_events(NOW, 10).await.expect("due").remove(0);
    db.event_failed(a.id, NOW + 20).await.expect("fail");
    db.event_failed(a.id, NOW + 40).await.expect("fail again");
    assert_eq!(names(&db.due_events(NOW + 39, 10).await.expect("due")), ["b"]);
    let again = db.due_events(NOW + 40, 10).await.expect("due");
    assert_eq!(names(&again), ["a", "b"]);
    assert_eq!((again[0].attempts, again[0].next_attempt_at), (2, NOW + 40));
    assert_eq!((again[1].attempts, again[1].next_attempt_at), (0, NOW));
    assert_eq!(db.pending_events().await.expect("pending"), 2);
});
