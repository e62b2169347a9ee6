//! The change feed's readers: the background upkeep (the feed, the rules file, expired cache
//! entries) and the read a request makes after its own writes.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::services::App;

/// The upkeep's own beat: the rules file and expiry checks run on it whatever the feed's interval.
const TICK: Duration = Duration::from_millis(100);
const RULES_EVERY: Duration = Duration::from_secs(1);
const SWEEP_EVERY: Duration = Duration::from_secs(10);
const PURGE_EVERY: Duration = Duration::from_secs(60);
/// Import mode is set by whichever daemon runs the import (migration spec §2.2); the others on
/// the same database learn it from there.
const IMPORT_MODE_EVERY: Duration = Duration::from_secs(1);

/// Reads the change feed every `change_feed_poll_ms`, the rules file and import mode once a
/// second, sweeps expired cache entries every 10 s and old changes once a minute, until `stop`
/// turns true.
pub fn spawn_poller(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let feed_every = Duration::from_millis(app.config.change_feed_poll_ms);
        let mut tick = tokio::time::interval(TICK.min(feed_every));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let start = Instant::now();
        let (mut feed, mut rules, mut sweep, mut purge, mut import) = (start, start, start, start, start);
        let due = |last: &mut Instant, every: Duration| {
            let now = Instant::now();
            let is_due = now.duration_since(*last) >= every;
            if is_due {
                *last = now;
            }
            is_due
        };
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
            if due(&mut feed, feed_every)
                && let Err(e) = app.authz.sync(&app.store, &app.tokens, &app.sealer).await
            {
                tracing::warn!(error = %e, "change feed not read; caches are dropped");
            }
            if due(&mut rules, RULES_EVERY) {
                app.authz.reload_rules();
            }
            if due(&mut sweep, SWEEP_EVERY) {
                app.authz.sweep(app.clock.now());
            }
            if due(&mut import, IMPORT_MODE_EVERY) {
                match app.store.import_mode().await {
                    Ok(on) => app.import.set_import_mode(on),
                    Err(e) => tracing::warn!(error = %e, "import mode not read"),
                }
            }
            if due(&mut purge, PURGE_EVERY)
                && let Err(e) = app.store.purge_changes(app.clock.now() - 3600).await
            {
                tracing::warn!(error = %e, "old changes not purged");
            }
        }
    })
}

/// Applies the changes this daemon has just committed to its own caches before it answers
/// (read-your-writes); other daemons follow at their next poll. When the feed cannot be read
/// the caches have been emptied, which is as fresh.
pub async fn catch_up(app: &App) {
    if let Err(e) = app.authz.catch_up(&app.store, &app.tokens, &app.sealer).await {
        tracing::warn!(error = %e, "change feed not read after a change; caches are dropped");
    }
}
