//! The KYCAID worker: claims due jobs from `kycaid_jobs` with a lease (two daemons sharing a
//! database never run one job at once), runs them, and on an outage retries with back-off
//! from `kycaid_worker.retry_seconds` (Barong: 30 s). After `kycaid_worker.max_attempts` a job
//! is given up with an error line: it stays in the table and the check stays pending, for the
//! operator to decide (`barongctl kyc`). Delivery is at-least-once: a crash mid-job runs it
//! again once the lease expires.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::jobs;
use super::outcome::Failure;
use super::queue::Job;
use crate::services::App;
use crate::store::StoreError;
use crate::store::kycaid::KycaidJobRow;

/// Jobs from another daemon, and retries coming due, are found by polling.
const POLL_INTERVAL: Duration = Duration::from_secs(2);
const BATCH: i64 = 20;
const BACKOFF_CAP_SECS: i64 = 3600;
/// A job makes at most this many calls (three uploads, two documents, one verification).
const CALLS_PER_JOB: u64 = 6;
const MAX_STORED_ERROR_CHARS: usize = 500;

/// Spawns the worker when the provider is KYCAID.
pub fn spawn(app: Arc<App>, shutdown: watch::Receiver<bool>) -> Option<tokio::task::JoinHandle<()>> {
    app.kycaid.as_ref()?;
    Some(tokio::spawn(run(app, shutdown)))
}

async fn run(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let Some(wake) = app.kycaid.as_ref().map(|k| k.waker()) else { return };
    tracing::debug!("KYCAID worker started");
    loop {
        if *shutdown.borrow() {
            break;
        }
        let more = match run_due(&app, &shutdown).await {
            Ok(more) => more,
            Err(e) => {
                tracing::warn!(error = %e, "KYCAID job queue unavailable; will retry");
                false
            }
        };
        if more {
            continue;
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
            changed = shutdown.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
    tracing::debug!("KYCAID worker stopped");
}

/// How long one attempt may take, and so the lease.
fn attempt_deadline(app: &App) -> Duration {
    Duration::from_millis(app.config.kycaid_worker.timeout_ms.saturating_mul(CALLS_PER_JOB)).max(Duration::from_secs(5))
}

/// Runs one batch of due jobs; true when the batch was full and more may be waiting.
async fn run_due(app: &App, shutdown: &watch::Receiver<bool>) -> Result<bool, StoreError> {
    let max_attempts = i64::from(app.config.kycaid_worker.max_attempts.max(1));
    let rows = app.store.due_kycaid_jobs(app.clock.now(), max_attempts, BATCH).await?;
    let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) >= BATCH;
    let deadline = attempt_deadline(app);
    let lease = i64::try_from(deadline.as_secs()).unwrap_or(3600).saturating_add(30);
    for row in rows {
        if *shutdown.borrow() {
            return Ok(false);
        }
        if !app.store.claim_kycaid_job(&row.id, row.next_attempt_at, app.clock.now().saturating_add(lease)).await? {
            continue;
        }
        let outcome = match tokio::time::timeout(deadline, attempt(app, &row)).await {
            Ok(r) => r,
            Err(_) => Err(Failure::Kycaid(format!("attempt timed out after {} s", deadline.as_secs()))),
        };
        match outcome {
            Ok(()) => app.store.kycaid_job_done(&row.id).await?,
            Err(failure) => failed(app, &row, failure, max_attempts).await?,
        }
    }
    Ok(full)
}

async fn attempt(app: &App, row: &KycaidJobRow) -> Result<(), Failure> {
    let json = app.sealer.open(&row.payload_sealed).map_err(|e| Failure::Internal(format!("job unreadable: {e}")))?;
    let job: Job = serde_json::from_slice(&json).map_err(|e| Failure::Internal(format!("job unreadable: {e}")))?;
    jobs::run(app, row.user_id, job).await
}

async fn failed(app: &App, row: &KycaidJobRow, failure: Failure, max_attempts: i64) -> Result<(), StoreError> {
    let error: String = failure.to_string().chars().take(MAX_STORED_ERROR_CHARS).collect();
    let attempts = row.attempts.saturating_add(1);
    let delay = backoff_secs(app.config.kycaid_worker.retry_seconds, row.attempts);
    if attempts >= max_attempts {
        tracing::error!(job_id = %row.id, kind = %row.kind, user_id = row.user_id, attempts, error = %error,
            "KYCAID job failed; giving up (it stays in kycaid_jobs, the check stays pending for the operator)");
    } else {
        tracing::warn!(job_id = %row.id, kind = %row.kind, attempts, retry_in_secs = delay, error = %error,
            "KYCAID job failed; will retry");
    }
    app.store.kycaid_job_failed(&row.id, app.clock.now().saturating_add(delay), &error).await
}

/// Seconds before the next attempt: `base`, then twice as long each time, at most an hour.
fn backoff_secs(base: u64, previous_attempts: i64) -> i64 {
    let exp = u32::try_from(previous_attempts.clamp(0, 30)).unwrap_or(30);
    i64::try_from(base).unwrap_or(BACKOFF_CAP_SECS).saturating_mul(1i64 << exp).min(BACKOFF_CAP_SECS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_the_base_up_to_an_hour() {
        assert_eq!(backoff_secs(30, 0), 30);
        assert_eq!(backoff_secs(30, 1), 60);
        assert_eq!(backoff_secs(1, 3), 8);
        assert_eq!(backoff_secs(30, 40), 3600);
    }
}
