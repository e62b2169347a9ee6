//! ThrottleStore: failure counters per bucket in a fixed window.

use super::*;

const WINDOW: i64 = 60;

contract!(failures_count_within_the_window_and_restart_after_it, |db: Db| async move {
    let b = "login:account:a@example.com";
    assert_eq!(db.failures(b, NOW - WINDOW).await.expect("none"), 0);

    // The window starts at the first failure (NOW) and lasts until NOW + WINDOW.
    db.record_failure(b, NOW, NOW - WINDOW).await.expect("1");
    db.record_failure(b, NOW + 30, NOW + 30 - WINDOW).await.expect("2");
    db.record_failure(b, NOW + 59, NOW + 59 - WINDOW).await.expect("3");
    assert_eq!(db.failures(b, NOW + 59 - WINDOW).await.expect("in the window"), 3);

    // Once the window's start is no longer after `window_start`, it has ended: nothing counts.
    assert_eq!(db.failures(b, NOW).await.expect("at the end"), 0);
    // The next failure starts a new window at 1.
    db.record_failure(b, NOW + 60, NOW).await.expect("new window");
    assert_eq!(db.failures(b, NOW).await.expect("new window"), 1);
    assert_eq!(db.int("SELECT window_started_at FROM throttles").await, Some(NOW + 60));
    db.record_failure(b, NOW + 61, NOW + 1).await.expect("2 in the new window");
    assert_eq!(db.failures(b, NOW + 1).await.expect("count"), 2);
});

contract!(buckets_are_independent_and_clearable, |db: Db| async move {
    let (account, ip) = ("login:account:x", "login:ip:192.0.2.1");
    for _ in 0..3 {
        db.record_failure(account, NOW, NOW - WINDOW).await.expect("account");
    }
    db.record_failure(ip, NOW, NOW - WINDOW).await.expect("ip");
    assert_eq!(db.failures(account, NOW - WINDOW).await.expect("account"), 3);
    assert_eq!(db.failures(ip, NOW - WINDOW).await.expect("ip"), 1);

    // A successful login clears its bucket only.
    db.clear_failures(account).await.expect("clear");
    assert_eq!(db.failures(account, NOW - WINDOW).await.expect("cleared"), 0);
    assert_eq!(db.failures(ip, NOW - WINDOW).await.expect("untouched"), 1);
    db.clear_failures("never-used").await.expect("clearing an unknown bucket is harmless");
    db.record_failure(account, NOW + 1, NOW + 1 - WINDOW).await.expect("after clearing");
    assert_eq!(db.failures(account, NOW + 1 - WINDOW).await.expect("restarts"), 1);
});

contract!(concurrent_failures_are_all_counted, |db: Db| async move {
    let daemons = db.daemons(3).await;
    let calls = (0..15).map(|i| daemons[i % 3].record_failure("login:ip:203.0.113.9", NOW, NOW - WINDOW));
    for r in join_all(calls).await {
        r.expect("record");
    }
    assert_eq!(db.failures("login:ip:203.0.113.9", NOW - WINDOW).await.expect("count"), 15, "no lost update");
});
