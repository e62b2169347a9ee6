//! EventStore: the Event API outbox, its leases and retries.

use barongd::store::PendingEvent;
use barongd::store::events::EventRow;

use super::*;

/// A pending event as the services build one.
pub fn event(jti: &str, name: &str, record_sealed: &str, at: i64) -> PendingEvent {
    PendingEvent { jti: jti.into(), name: name.into(), record_sealed: record_sealed.into(), created_at: at }
}

/// Queues one event the way every write does: with a change (here a role change of a user kept
/// for the purpose), in its transaction.
async fn enqueue(db: &Db, jti: &str, name: &str, record_sealed: &str, at: i64) {
    let email = "outbox@example.com";
    let user = match db.user_by_email_key(email).await.expect("lookup") {
        Some(u) => u,
        None => new_user(db, email).await,
    };
    db.update_role_with_events(user.id, &Role::member(), at, &[event(jti, name, record_sealed, at)])
        .await
        .expect("enqueue");
}

/// From now on an event named `refused` cannot be written (as a full disk or a lost connection
/// would fail it), so the write carrying it must fail whole.
pub async fn refuse_events_named_refused(db: &Db) {
    db.exec(match db.backend {
        Backend::Sqlite => {
            "CREATE TRIGGER refuse_events BEFORE INSERT ON event_outbox WHEN NEW.name = 'refused' \
             BEGIN SELECT RAISE(ABORT, 'refused'); END;"
        }
        Backend::Postgres => {
            "CREATE OR REPLACE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql AS \
             $$ BEGIN RAISE EXCEPTION 'refused'; END $$; \
             CREATE TRIGGER refuse_events BEFORE INSERT ON event_outbox FOR EACH ROW \
             WHEN (NEW.name = 'refused') EXECUTE FUNCTION refuse_events();"
        }
    })
    .await;
}

/// The names of the queued events, in order.
pub async fn queued(db: &Db) -> Vec<String> {
    db.due_events(i64::MAX, 100).await.expect("due").into_iter().map(|e| e.name).collect()
}

fn names(rows: &[EventRow]) -> Vec<&str> {
    rows.iter().map(|e| e.name.as_str()).collect()
}

contract!(an_event_round_trips_and_is_counted, |db: Db| async move {
    assert_eq!(db.pending_events().await.expect("pending"), 0);
    enqueue(&db, "jti-1", "user.created", "sealed-record", NOW).await;
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
    enqueue(&db, "j1", "first", "r", NOW + 5).await;
    enqueue(&db, "j2", "second", "r", NOW).await;
    enqueue(&db, "j3", "third", "r", NOW + 1).await;
    assert!(db.due_events(NOW - 1, 10).await.expect("none").is_empty());
    assert_eq!(names(&db.due_events(NOW + 1, 10).await.expect("due")), ["second", "third"]);
    assert_eq!(names(&db.due_events(NOW + 5, 10).await.expect("due")), ["first", "second", "third"]);
    assert_eq!(names(&db.due_events(NOW + 5, 2).await.expect("limited")), ["first", "second"]);
});

contract!(a_claimed_event_waits_for_its_lease, |db: Db| async move {
    enqueue(&db, "j", "e", "r", NOW).await;
    let e = db.due_events(NOW, 10).await.expect("due").remove(0);
    assert!(db.claim_event(e.id, e.next_attempt_at, NOW + 30).await.expect("claim"));
    assert!(!db.claim_event(e.id, e.next_attempt_at, NOW + 30).await.expect("stale claim"));
    assert!(!db.claim_event(e.id + 100, NOW, NOW + 30).await.expect("unknown id"));
    assert!(db.due_events(NOW + 29, 10).await.expect("leased").is_empty());
    assert_eq!(db.due_events(NOW + 30, 10).await.expect("lease over")[0].next_attempt_at, NOW + 30);
});

contract!(racing_claims_of_one_event_have_one_winner, |db: Db| async move {
    enqueue(&db, "j", "e", "r", NOW).await;
    let id = db.due_events(NOW, 1).await.expect("due")[0].id;
    let daemons = db.daemons(3).await;
    let calls = (0..9).map(|i| daemons[i % 3].claim_event(id, NOW, NOW + 30 + i as i64));
    assert_eq!(winners(join_all(calls).await), 1);
});

contract!(a_failed_event_is_retried_later, |db: Db| async move {
    enqueue(&db, "j1", "a", "r", NOW).await;
    enqueue(&db, "j2", "b", "r", NOW).await;
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

contract!(a_change_and_its_events_commit_together, |db: Db| async move {
    let u = new_user(&db, "together@example.com").await;
    db.update_password_with_events(u.id, "digest-2", NOW, &[event("p", "system.user.password.change", "r", NOW)])
        .await
        .expect("password");
    assert_eq!(queued(&db).await, ["system.user.password.change"]);
    refuse_events_named_refused(&db).await;
    let again = db.update_password_with_events(u.id, "digest-3", NOW, &[event("q", "refused", "r", NOW)]).await;
    assert!(again.is_err(), "{again:?}");
    let digest = db.user_by_id(u.id).await.expect("read").expect("user").password_digest;
    assert_eq!(digest, "digest-2", "the change went without its event");
    assert_eq!(queued(&db).await, ["system.user.password.change"]);
});
