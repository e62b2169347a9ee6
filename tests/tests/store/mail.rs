//! MailStore: the outgoing mail queue, its leases and retries.

use super::*;

const MAX: i64 = 3;

fn ids(rows: &[barongd::store::MailRow]) -> Vec<&str> {
    rows.iter().map(|m| m.id.as_str()).collect()
}

contract!(queued_mail_round_trips_and_counts, |db: Db| async move {
    assert_eq!(db.pending_mail().await.expect("pending"), 0);
    // Arbitrary bytes: a message is stored as a blob, not text.
    let message: Vec<u8> = b"Subject: hi\r\n\r\n\xff\x00\xfe".to_vec();
    db.enqueue_mail("m1", "ann@example.com", &message, NOW).await.expect("enqueue");
    assert_eq!(db.pending_mail().await.expect("pending"), 1);
    let due = db.due_mail(NOW, MAX, 10).await.expect("due");
    assert_eq!(due.len(), 1);
    let m = &due[0];
    assert_eq!((m.id.as_str(), m.recipient.as_str(), &m.message), ("m1", "ann@example.com", &message));
    assert_eq!((m.attempts, m.next_attempt_at), (0, NOW));
    // The id is the message's identity.
    assert!(db.enqueue_mail("m1", "bob@example.com", b"x", NOW).await.is_err());

    db.mail_delivered("m1").await.expect("delivered");
    assert_eq!(db.pending_mail().await.expect("pending"), 0);
    assert!(db.due_mail(NOW + 1000, MAX, 10).await.expect("due").is_empty());
    db.mail_delivered("m1").await.expect("delivering twice is harmless");
});

contract!(due_mail_is_oldest_first_due_only_and_limited, |db: Db| async move {
    db.enqueue_mail("later", "a@example.com", b"1", NOW + 10).await.expect("later");
    db.enqueue_mail("first", "a@example.com", b"2", NOW).await.expect("first");
    db.enqueue_mail("second", "a@example.com", b"3", NOW + 5).await.expect("second");
    assert!(db.due_mail(NOW - 1, MAX, 10).await.expect("none due").is_empty());
    assert_eq!(ids(&db.due_mail(NOW + 5, MAX, 10).await.expect("due")), ["first", "second"]);
    assert_eq!(ids(&db.due_mail(NOW + 10, MAX, 10).await.expect("due")), ["first", "second", "later"]);
    assert_eq!(ids(&db.due_mail(NOW + 10, MAX, 2).await.expect("limited")), ["first", "second"]);
    assert_eq!(db.pending_mail().await.expect("pending"), 3);
});

contract!(a_claim_leases_a_message_to_one_daemon, |db: Db| async move {
    db.enqueue_mail("m", "a@example.com", b"x", NOW).await.expect("enqueue");
    let seen = db.due_mail(NOW, MAX, 10).await.expect("due")[0].next_attempt_at;
    assert!(db.claim_mail("m", seen, NOW + 60).await.expect("claim"));
    // Another daemon that read the same row loses.
    assert!(!db.claim_mail("m", seen, NOW + 60).await.expect("second claim"));
    assert!(!db.claim_mail("unknown", seen, NOW + 60).await.expect("unknown id"));
    // Leased: not due again until the lease ends.
    assert!(db.due_mail(NOW + 59, MAX, 10).await.expect("due").is_empty());
    let again = db.due_mail(NOW + 60, MAX, 10).await.expect("due after the lease");
    assert_eq!((again.len(), again[0].next_attempt_at, again[0].attempts), (1, NOW + 60, 0));
});

contract!(racing_claims_of_one_message_have_one_winner, |db: Db| async move {
    db.enqueue_mail("m", "a@example.com", b"x", NOW).await.expect("enqueue");
    let daemons = db.daemons(3).await;
    let calls = (0..9).map(|i| daemons[i % 3].claim_mail("m", NOW, NOW + 60 + i as i64));
    assert_eq!(winners(join_all(calls).await), 1);
});

contract!(failures_count_attempts_until_the_message_gives_up, |db: Db| async move {
    db.enqueue_mail("m", "a@example.com", b"x", NOW).await.expect("enqueue");
    db.enqueue_mail("other", "b@example.com", b"y", NOW + 1).await.expect("enqueue");
    db.mail_failed("m", NOW + 30, "421 try later").await.expect("fail 1");
    assert_eq!(db.text("SELECT last_error FROM mail_queue WHERE id = 'm'").await.as_deref(), Some("421 try later"));
    assert_eq!(ids(&db.due_mail(NOW + 29, MAX, 10).await.expect("due")), ["other"], "retried later, not now");
    let due = db.due_mail(NOW + 30, MAX, 10).await.expect("due");
    assert_eq!(ids(&due), ["m", "other"], "still ordered by when it was queued");
    assert_eq!((due[0].attempts, due[0].next_attempt_at), (1, NOW + 30));

    db.mail_failed("m", NOW + 60, "421 again").await.expect("fail 2");
    db.mail_failed("m", NOW + 90, "550 no such user").await.expect("fail 3");
    assert_eq!(db.text("SELECT last_error FROM mail_queue WHERE id = 'm'").await.as_deref(), Some("550 no such user"));
    // Out of attempts: never due again, but still queued (an operator can see it).
    assert_eq!(ids(&db.due_mail(NOW + 1000, MAX, 10).await.expect("due")), ["other"]);
    assert_eq!(ids(&db.due_mail(NOW + 1000, MAX + 1, 10).await.expect("a higher limit")), ["m", "other"]);
    assert_eq!(db.pending_mail().await.expect("pending"), 2);
    let other = db.due_mail(NOW + 1, MAX, 10).await.expect("due");
    assert_eq!((other[0].id.as_str(), other[0].attempts), ("other", 0), "the other message was not touched");
});
