//! PhoneStore: numbers (found by blind index), verification codes, attempts and the resend limit.

use barongd::store::phones::{PhoneRecord, SendLimit};

use super::*;

const INTERVAL: i64 = 60;
const WINDOW: i64 = 3600;
const MAX_SENDS: i64 = 3;

/// The limits the phone service applies at `now`.
fn limit(now: i64) -> SendLimit {
    SendLimit { now, last_sent_before: now - INTERVAL, window_start: now - WINDOW, max_in_window: MAX_SENDS }
}

async fn phone(db: &Db, user_id: i64, index: &str) -> PhoneRecord {
    db.user_phone(user_id, index).await.expect("read").expect("phone")
}

contract!(a_phone_round_trips_and_is_found_by_its_index, |db: Db| async move {
    let u = new_user(&db, "ph@example.com").await;
    let other = new_user(&db, "ph2@example.com").await;
    let p = db.insert_phone(u.id, "DE", "sealed-number", "idx", NOW).await.expect("insert");
    assert_eq!((p.user_id, p.country.as_str(), p.number_sealed.as_str()), (u.id, "DE", "sealed-number"));
    assert_eq!((p.code.as_deref(), p.code_expires_at, p.code_attempts), (None, None, 0));
    assert_eq!((p.code_sent_at, p.validated_at), (None, None));
    let found = phone(&db, u.id, "idx").await;
    assert_eq!((found.id, found.number_sealed.as_str()), (p.id, "sealed-number"));
    assert!(db.user_phone(other.id, "idx").await.expect("not theirs").is_none());
    assert!(db.user_phone(u.id, "other-idx").await.expect("other number").is_none());

    // `resource.phone.exists`: the user has that number already.
    unique_violation(db.insert_phone(u.id, "DE", "sealed-again", "idx", NOW).await);
    // Another user may add it (only verifying it is exclusive).
    db.insert_phone(other.id, "DE", "sealed-number", "idx", NOW).await.expect("other user");
});

contract!(a_number_is_verified_for_one_user_at_most, |db: Db| async move {
    let u = new_user(&db, "v@example.com").await;
    let other = new_user(&db, "v2@example.com").await;
    let mine = db.insert_phone(u.id, "DE", "s", "idx", NOW).await.expect("mine");
    let theirs = db.insert_phone(other.id, "DE", "s", "idx", NOW).await.expect("theirs");
    db.set_code(mine.id, Some("sealed-code"), NOW + 300, NOW).await.expect("code");
    assert!(!db.verified_number_exists("idx").await.expect("not yet"));

    db.mark_validated(mine.id, NOW + 10).await.expect("validate");
    let p = phone(&db, u.id, "idx").await;
    assert_eq!(
        (p.validated_at, p.code.as_deref(), p.code_expires_at),
        (Some(NOW + 10), None, None),
        "the code is forgotten"
    );
    assert!(db.verified_number_exists("idx").await.expect("verified"));
    assert!(!db.verified_number_exists("other-idx").await.expect("another number"));
    // `resource.phone.number_exist`: the second user loses, even with a code in hand.
    unique_violation(db.mark_validated(theirs.id, NOW + 11).await);
    assert_eq!(phone(&db, other.id, "idx").await.validated_at, None);
});

contract!(a_validated_phone_is_added_in_one_write, |db: Db| async move {
    let u = new_user(&db, "mv@example.com").await;
    let other = new_user(&db, "mv2@example.com").await;
    let p = db.insert_validated_phone(u.id, "GB", "s", "vidx", NOW).await.expect("insert");
    assert_eq!((p.validated_at, p.code.as_deref()), (Some(NOW), None));
    assert!(db.verified_number_exists("vidx").await.expect("verified"));
    // The user has it already; another user cannot have it verified too.
    unique_violation(db.insert_validated_phone(u.id, "GB", "s2", "vidx", NOW).await);
    unique_violation(db.insert_validated_phone(other.id, "GB", "s", "vidx", NOW).await);
    assert!(db.user_phone(other.id, "vidx").await.expect("read").is_none(), "nothing half-written");
});

contract!(set_code_starts_a_fresh_code, |db: Db| async move {
    let u = new_user(&db, "code@example.com").await;
    let p = db.insert_phone(u.id, "DE", "s", "idx", NOW).await.expect("insert");
    db.set_code(p.id, Some("sealed-1"), NOW + 300, NOW).await.expect("code");
    assert!(db.take_attempt(p.id, 5).await.expect("attempt"));
    assert!(db.take_attempt(p.id, 5).await.expect("attempt"));
    let r = phone(&db, u.id, "idx").await;
    assert_eq!((r.code.as_deref(), r.code_expires_at, r.code_attempts), (Some("sealed-1"), Some(NOW + 300), 2));

    db.set_code(p.id, Some("sealed-2"), NOW + 400, NOW + 100).await.expect("new code");
    let r = phone(&db, u.id, "idx").await;
    assert_eq!((r.code.as_deref(), r.code_expires_at, r.code_attempts), (Some("sealed-2"), Some(NOW + 400), 0));
    // Twilio Verify holds the code itself: only the expiry and the attempts are ours.
    db.set_code(p.id, None, NOW + 500, NOW + 200).await.expect("no code");
    let r = phone(&db, u.id, "idx").await;
    assert_eq!((r.code.as_deref(), r.code_expires_at, r.code_attempts), (None, Some(NOW + 500), 0));
});

contract!(attempts_run_out_at_the_maximum, |db: Db| async move {
    let u = new_user(&db, "att@example.com").await;
    let p = db.insert_phone(u.id, "DE", "s", "idx", NOW).await.expect("insert");
    let q = db.insert_phone(u.id, "DE", "s", "idx-2", NOW).await.expect("another phone");
    for i in 0..3 {
        assert!(db.take_attempt(p.id, 3).await.expect("attempt"), "attempt {i}");
    }
    assert!(!db.take_attempt(p.id, 3).await.expect("used up"));
    assert_eq!(phone(&db, u.id, "idx").await.code_attempts, 3, "a refused attempt is not counted");
    assert!(db.take_attempt(q.id, 3).await.expect("the other phone has its own"));
    assert!(!db.take_attempt(p.id + 100, 3).await.expect("unknown phone"));
});

contract!(racing_attempts_cannot_exceed_the_maximum, |db: Db| async move {
    let u = new_user(&db, "race@example.com").await;
    let p = db.insert_phone(u.id, "DE", "s", "idx", NOW).await.expect("insert");
    let daemons = db.daemons(3).await;
    let calls = (0..15).map(|i| daemons[i % 3].take_attempt(p.id, 5));
    assert_eq!(winners(join_all(calls).await), 5);
    assert_eq!(phone(&db, u.id, "idx").await.code_attempts, 5);
});

contract!(sends_respect_the_interval_and_the_hourly_window, |db: Db| async move {
    let u = new_user(&db, "send@example.com").await;
    let p = db.insert_phone(u.id, "DE", "s", "idx", NOW).await.expect("insert");
    assert!(db.reserve_send(p.id, limit(NOW)).await.expect("first send"));
    assert_eq!(phone(&db, u.id, "idx").await.code_sent_at, Some(NOW));
    assert!(!db.reserve_send(p.id, limit(NOW + INTERVAL - 1)).await.expect("too soon"));
    assert_eq!(phone(&db, u.id, "idx").await.code_sent_at, Some(NOW), "a refused send changes nothing");
    assert!(db.reserve_send(p.id, limit(NOW + INTERVAL)).await.expect("second"));
    assert!(db.reserve_send(p.id, limit(NOW + 2 * INTERVAL)).await.expect("third"));
    assert!(!db.reserve_send(p.id, limit(NOW + 3 * INTERVAL)).await.expect("fourth in the hour"));
    assert!(!db.reserve_send(p.id, limit(NOW + WINDOW - 1)).await.expect("still the same hour"));
    // The window opened at the first send; once it is over, the count restarts.
    assert!(db.reserve_send(p.id, limit(NOW + WINDOW)).await.expect("a new hour"));
    assert!(db.reserve_send(p.id, limit(NOW + WINDOW + INTERVAL)).await.expect("2 of the new hour"));
    assert!(db.reserve_send(p.id, limit(NOW + WINDOW + 2 * INTERVAL)).await.expect("3 of the new hour"));
    assert!(!db.reserve_send(p.id, limit(NOW + WINDOW + 3 * INTERVAL)).await.expect("4 of the new hour"));
    assert!(!db.reserve_send(p.id + 100, limit(NOW)).await.expect("unknown phone"));
});

contract!(a_released_send_is_not_counted, |db: Db| async move {
    let u = new_user(&db, "rel@example.com").await;
    let p = db.insert_phone(u.id, "DE", "s", "idx", NOW).await.expect("insert");
    // The first delivery fails: the user may retry at once, and it does not use up the hour.
    assert!(db.reserve_send(p.id, limit(NOW)).await.expect("reserve"));
    db.release_send(p.id, None).await.expect("release");
    assert_eq!(phone(&db, u.id, "idx").await.code_sent_at, None);
    for i in 0..MAX_SENDS {
        let at = NOW + i * INTERVAL;
        assert!(db.reserve_send(p.id, limit(at)).await.expect("send"), "send {i}");
        if i == 1 {
            // A failed resend restores the previous send time.
            db.release_send(p.id, Some(NOW)).await.expect("release");
            assert_eq!(phone(&db, u.id, "idx").await.code_sent_at, Some(NOW));
            assert!(db.reserve_send(p.id, limit(at)).await.expect("retry"));
        }
    }
    assert!(!db.reserve_send(p.id, limit(NOW + MAX_SENDS * INTERVAL)).await.expect("the hour is used up"));
});

contract!(racing_sends_reserve_one, |db: Db| async move {
    let u = new_user(&db, "rs@example.com").await;
    let p = db.insert_phone(u.id, "DE", "s", "idx", NOW).await.expect("insert");
    let daemons = db.daemons(3).await;
    let calls = (0..9).map(|i| daemons[i % 3].reserve_send(p.id, limit(NOW)));
    assert_eq!(winners(join_all(calls).await), 1, "one send per interval, however many requests");
});
