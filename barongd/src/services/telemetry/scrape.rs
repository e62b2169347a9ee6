//! A scrape: the gauges that need a database or disk read are refreshed here, at scrape time,
//! so requests never pay for them; then the registry is encoded in Prometheus' text format.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, UNIX_EPOCH};

use super::families::{METRICS, QueueLabels};
use super::record::{self, Queue};
use crate::services::App;
use crate::store::ops::QueueStats;

/// The `Content-Type` of [`render`]'s output.
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// A database that does not answer within this is reported as it was at the last scrape; the
/// scrape itself must not hang on it.
const DB_READ_LIMIT: Duration = Duration::from_secs(2);

/// Every metric, as Prometheus text, after refreshing the scrape-time gauges.
pub async fn render(app: &App) -> String {
    refresh(app).await;
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::prometheus_text::encode(&mut out, &METRICS.registry) {
        tracing::error!(error = %e, "metrics could not be encoded");
    }
    out
}

async fn refresh(app: &App) {
    let now = app.clock.now();
    let pool = app.store.pool_usage();
    METRICS.db_pool_size.set(i64::from(pool.size));
    METRICS.db_pool_idle.set(i64::from(pool.idle));
    let read_at = METRICS.change_feed_read_at.load(Ordering::Relaxed);
    let lag = if read_at > 0 { (record::unix_ms() - read_at).max(0) as f64 / 1000.0 } else { 0.0 };
    METRICS.change_feed_lag.set(lag);
    match tokio::time::timeout(DB_READ_LIMIT, app.store.mail_queue_stats()).await {
        Ok(Ok(stats)) => set_queue(Queue::Mail, stats, now),
        Ok(Err(e)) => tracing::warn!(error = %e, "mail queue not measured"),
        Err(_) => tracing::warn!("mail queue not measured: the database did not answer in time"),
    }
    match tokio::time::timeout(DB_READ_LIMIT, app.store.event_outbox_stats()).await {
        Ok(Ok(stats)) => set_queue(Queue::Events, stats, now),
        Ok(Err(e)) => tracing::warn!(error = %e, "event outbox not measured"),
        Err(_) => tracing::warn!("event outbox not measured: the database did not answer in time"),
    }
    let outbox = Path::new(&app.config.data_dir).join("outbox");
    if let Ok(stats) = tokio::task::spawn_blocking(move || sms_files(&outbox)).await {
        set_queue(Queue::Sms, stats, now);
    }
}

fn set_queue(queue: Queue, stats: QueueStats, now: i64) {
    let labels = QueueLabels { queue: queue.as_str() };
    METRICS.outbox_depth.get_or_create(&labels).set(stats.depth);
    let age = stats.oldest_at.map_or(0, |at| (now - at).max(0));
    METRICS.outbox_oldest_age.get_or_create(&labels).set(age as f64);
}

/// SMS in `phone_verification: file` mode wait as `.txt` files for whatever relays them; the
/// relay removes what it sent. (Twilio mode sends at once and queues nothing.)
fn sms_files(dir: &Path) -> QueueStats {
    let mut stats = QueueStats { depth: 0, oldest_at: None };
    let Ok(entries) = std::fs::read_dir(dir) else { return stats };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        stats.depth += 1;
        let modified = entry.metadata().and_then(|m| m.modified()).ok();
        let at = modified.and_then(|t| t.duration_since(UNIX_EPOCH).ok()).map(|d| d.as_secs() as i64);
        if let Some(at) = at {
            stats.oldest_at = Some(stats.oldest_at.map_or(at, |o| o.min(at)));
        }
    }
    stats
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn sms_files_counts_only_finished_txt_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.txt"), b"x").expect("write");
        std::fs::write(dir.path().join("b.eml"), b"x").expect("write");
        std::fs::write(dir.path().join(".c.txt.tmp"), b"x").expect("write");
        let stats = sms_files(dir.path());
        assert_eq!(stats.depth, 1);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock").as_secs() as i64;
        assert!(stats.oldest_at.is_some_and(|at| (now - at).abs() < 60), "{stats:?}");
        assert_eq!(sms_files(&dir.path().join("missing")).depth, 0);
    }
}
