//! Keeps every daemon's restrictions in step with the database.

use std::sync::Arc;
use std::time::Duration;

use crate::services::App;

/// How often the change feed is polled.
const POLL: Duration = Duration::from_millis(500);
/// A full reload this often anyway: on PostgreSQL a change row can commit after a newer id of
/// another kind was already seen, and must still be picked up.
const RELOAD_EVERY: u32 = 20;

/// Keeps `app.restrictions` in step with the database until `stop` turns true.
pub async fn refresh_loop(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        ticks = (ticks + 1) % RELOAD_EVERY;
        if let Err(e) = app.restrictions.refresh(&app.store, ticks == 0).await {
            tracing::warn!(error = %e, "reloading restrictions failed; keeping the previous ones");
        }
    }
}
