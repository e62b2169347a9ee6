//! `kycaid_worker`: barong-rs's bounds on the KYCAID worker (retries, attempts, timeouts).

use serde::{Deserialize, Serialize};

/// How KYCAID jobs are attempted (`kycaid_worker:` in the file).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KycaidWorker {
    /// Seconds before the first retry after a network error or a KYCAID 5xx/429 (Barong: 30);
    /// each later retry waits twice as long, at most an hour.
    pub retry_seconds: u64,
    /// Attempts before a job is given up: it stays in `kycaid_jobs`, the label stays pending
    /// for the operator, and an error line is logged.
    pub max_attempts: u32,
    /// Timeout of one KYCAID request, milliseconds.
    pub timeout_ms: u64,
}

impl Default for KycaidWorker {
    fn default() -> Self {
        KycaidWorker { retry_seconds: 30, max_attempts: 20, timeout_ms: 10_000 }
    }
}
