//! The jobs queued for KYCAID: what each holds (sealed JSON in `kycaid_jobs`) and how the KYC
//! steps queue them.

use serde::{Deserialize, Serialize};

use crate::services::App;
use crate::services::error::ServiceError;

/// One piece of work for KYCAID.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Job {
    /// Create the applicant of a submitted profile.
    Applicant { profile_id: i64 },
    /// Send the user's identity documents sharing `identificator`.
    Document { identificator: String },
    /// Send the address typed with the proof sharing `identificator` (the text lives only here:
    /// Barong never stored it either).
    Address { identificator: String, country: String, city: String, postcode: String, address: String },
    /// Re-fetch a verification KYCAID called back about, and apply its decisions.
    Verification { verification_id: String, applicant_id: String },
}

impl Job {
    pub fn kind(&self) -> &'static str {
        match self {
            Job::Applicant { .. } => "applicant",
            Job::Document { .. } => "document",
            Job::Address { .. } => "address",
            Job::Verification { .. } => "verification",
        }
    }
}

/// Queues `job` for `user_id` and wakes the worker. Nothing happens unless the provider is
/// KYCAID.
pub async fn enqueue(app: &App, user_id: i64, job: &Job) -> Result<(), ServiceError> {
    let Some(kycaid) = &app.kycaid else { return Ok(()) };
    let json = serde_json::to_vec(job).map_err(ServiceError::internal)?;
    let id = uuid::Uuid::new_v4().to_string();
    let sealed = app.sealer.seal(&json);
    app.store.enqueue_kycaid_job(&id, user_id, job.kind(), &sealed, app.clock.now()).await?;
    kycaid.wake();
    tracing::debug!(job_id = %id, kind = job.kind(), "KYCAID job queued");
    Ok(())
}

/// Queues `job`; a failure is logged (the KYC write it follows is committed already, and the
/// operator can still decide by hand).
pub async fn enqueue_logged(app: &App, user_id: i64, job: &Job) {
    if let Err(e) = enqueue(app, user_id, job).await {
        tracing::error!(user_id, kind = job.kind(), error = ?e, "KYCAID job not queued; the check stays pending");
    }
}
