//! ThrottleStore: attempt counters per bucket in a fixed window, reserved atomically.

use barongd::store::throttle::Hit;

use super::*;

const WINDOW: i64 = 60;

fn one(bucket: &str) -> [Hit<'_>; 1] {
    [Hit { bucket, window: WINDOW }]
}

contract!(hits_count_within_the_window_and_restart_after_it, |db: Db| async move {
    let b = "login:account:a@example.com";
    // The window starts at the first hit (NOW) and ends at NOW + WINDOW.
    assert_eq!(db.hit(&one(b), NOW).await.expect("1"), vec![1]);
    assert_eq!(db.hit(&one(b), NOW + 30).await.expect("2"), vec![2]);
    assert_eq!(db.hit(&one(b), NOW + 59).await.expect("3"), vec![3]);
    assert_eq!(db.int("SELECT window_ends_at FROM throttles").await, Some(NOW + WINDOW), "a hit never extends it");
    // At its end, the next hit starts a new window at 1.
    assert_eq!(db.hit(&one(b), NOW + 60).await.expect("new window"), vec![1]);
    assert_eq!(db.int("SELECT window_ends_at FROM throttles").await, Some(NOW + 60 + WINDOW));
    assert_eq!(db.hit(&one(b), NOW + 61).await.expect("2 in the new window"), vec![2]);
    assert!(db.hit(&[], NOW).await.expect("nothing to count").is_empty());
});

contract!(buckets_are_independent_and_released_one_attempt_at_a_time, |db: Db| async move {
    let (account, ip) = ("login:account:x", "login:ip:192.0.2.1");
    let both = [Hit { bucket: account, window: WINDOW }, Hit { bucket: ip, window: 10 * WINDOW }];
    for n in 1..=3 {
        assert_eq!(db.hit(&both, NOW).await.expect("both"), vec![n, n], "one statement counts both, in order");
    }
    assert_eq!(db.hit(&one(ip), NOW).await.expect("ip alone"), vec![4]);
    let ends = db.int(&format!("SELECT window_ends_at FROM throttles WHERE bucket = '{ip}'")).await;
    assert_eq!(ends, Some(NOW + 10 * WINDOW), "each bucket has its own window");

    // A success gives back its own attempt only.
    db.release(&[account, ip]).await.expect("release");
    assert_eq!(db.hit(&both, NOW + 1).await.expect("after release"), vec![3, 4]);
    db.release(&[account]).await.expect("account only");
    assert_eq!(db.hit(&one(ip), NOW + 1).await.expect("ip untouched"), vec![5]);

    // Never below zero, and unknown buckets are harmless.
    for _ in 0..5 {
        db.release(&[account, "never-used"]).await.expect("release");
    }
    db.release(&[]).await.expect("nothing to release");
    assert_eq!(db.hit(&one(account), NOW + 2).await.expect("from zero"), vec![1]);
});

contract!(concurrent_hits_each_get_their_own_count, |db: Db| async move {
    // Three daemons reserve at once: every attempt sees a distinct count, so exactly `limit`
    // of them can pass a check of `count <= limit`, however they interleave.
    let daemons = db.daemons(3).await;
    let hits =
        [Hit { bucket: "login:account:v", window: WINDOW }, Hit { bucket: "login:ip:203.0.113.9", window: WINDOW }];
    let calls = (0..30).map(|i| daemons[i % 3].hit(&hits, NOW));
    let mut accounts = Vec::new();
    for r in join_all(calls).await {
        let counts = r.expect("hit");
        assert_eq!(counts[0], counts[1], "both buckets counted by the same statement: {counts:?}");
        accounts.push(counts[0]);
    }
    accounts.sort();
    assert_eq!(accounts, (1..=30).collect::<Vec<i64>>(), "no lost update, no shared count");
});

contract!(ended_windows_are_purged, |db: Db| async move {
    db.hit(&[Hit { bucket: "mail:address:a@x.io:minute", window: 60 }], NOW).await.expect("minute");
    db.hit(&[Hit { bucket: "mail:address:a@x.io:hour", window: 3600 }], NOW).await.expect("hour");
    let count = || db.int("SELECT COUNT(*) FROM throttles");
    db.purge_expired(NOW + 59).await.expect("purge");
    assert_eq!(count().await, Some(2), "both windows still run");
    db.purge_expired(NOW + 60).await.expect("purge");
    assert_eq!(count().await, Some(1), "the minute ended");
    db.purge_expired(NOW + 3600).await.expect("purge");
    assert_eq!(count().await, Some(0), "the hour ended");
});

contract!(a_cleared_bucket_starts_again, |db: Db| async move {
    let (account, other) = ("login:account:cleared", "login:account:kept");
    for _ in 0..4 {
        db.hit(&[Hit { bucket: account, window: WINDOW }, Hit { bucket: other, window: WINDOW }], NOW)
            .await
            .expect("hit");
    }
    db.clear(account).await.expect("clear");
    assert_eq!(db.hit(&one(account), NOW + 1).await.expect("after clear"), vec![1], "a new window");
    assert_eq!(db.hit(&one(other), NOW + 1).await.expect("other"), vec![5], "other buckets untouched");
    db.clear("never-used").await.expect("unknown bucket is harmless");
});
