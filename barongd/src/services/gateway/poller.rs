//! The gateway's background upkeep: the change feed, the rules file and expired cache entries.

use std::sync::Arc;
use std::time::Duration;

use crate::services::App;

const POLL_EVERY: Duration = Duration::from_millis(100);

/// Polls the change feed every 100 ms (the rules file once a second, expired cache entries away
/// every 10 s, old changes once a minute) until `stop` turns true.
pub fn spawn_poller(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(POLL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut n: u64 = 0;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
            n += 1;
            if let Err(e) = app.authz.sync(&app.store, &app.tokens, &app.sealer).await {
                tracing::warn!(error = %e, "change feed not read; caches are dropped");
                app.authz.clear();
            }
            if n.is_multiple_of(10) {
                app.authz.reload_rules();
            }
            if n.is_multiple_of(100) {
                app.authz.sweep(app.clock.now());
            }
            if n.is_multiple_of(600)
                && let Err(e) = app.store.purge_changes(app.clock.now() - 3600).await
            {
                tracing::warn!(error = %e, "old changes not purged");
            }
        }
    })
}
