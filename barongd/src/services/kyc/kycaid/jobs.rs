//! Runs one attempt of a queued KYCAID job.

use super::outcome::Failure;
use super::queue::Job;
use super::{address, applicant, documents, verification};
use crate::services::App;

/// Runs one attempt of `job` for `user_id`.
pub async fn run(app: &App, user_id: i64, job: Job) -> Result<(), Failure> {
    let Some(kycaid) = &app.kycaid else { return Ok(()) };
    let Some(user) = app.store.user_by_id(user_id).await? else {
        return Ok(()); // Deleted meanwhile: nothing left to verify.
    };
    let client = &kycaid.client;
    match job {
        Job::Applicant { profile_id } => applicant::run(app, client, &user, profile_id).await,
        Job::Document { identificator } => documents::run(app, client, &user, &identificator).await,
        Job::Address { identificator, country, city, postcode, address: text } => {
            let typed = address::Typed { country, city, postcode, address: text };
            address::run(app, client, &user, &identificator, &typed).await
        }
        Job::Verification { verification_id, applicant_id } => {
            verification::run(app, client, &user, &verification_id, &applicant_id).await
        }
    }
}
