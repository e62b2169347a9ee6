//! How an attempt at a KYCAID job ends: KYCAID's refusal is the job's outcome (a label
//! `rejected`), an outage or a failure on our side a retry.

use super::client::CallError;
use crate::services::error::ServiceError;

/// Why an attempt did not finish; every one is retried until `kycaid_worker.max_attempts`.
#[derive(Debug)]
pub enum Failure {
    /// KYCAID unreachable or failing (5xx, 429, timeout).
    Kycaid(String),
    /// Our side (the database, a stored file).
    Internal(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Kycaid(m) | Failure::Internal(m) => f.write_str(m),
        }
    }
}

impl From<ServiceError> for Failure {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Internal(m) => Failure::Internal(m),
            other => Failure::Internal(format!("refused: {}", other.key())),
        }
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(e: crate::store::StoreError) -> Self {
        Failure::Internal(e.to_string())
    }
}

/// What an attempt's KYCAID call gives: a refusal is the job's outcome, an outage a retry.
pub type Attempt<T> = Result<Result<T, String>, Failure>;

/// Splits a call's error: `Ok(Err(why))` when KYCAID refused, `Err` when it should be retried.
pub fn refused_or_retry<T>(r: Result<T, CallError>) -> Attempt<T> {
    match r {
        Ok(v) => Ok(Ok(v)),
        Err(CallError::Refused(m)) => Ok(Err(m)),
        Err(CallError::Transient(m)) => Err(Failure::Kycaid(m)),
    }
}
