//! Barong's ApplicantWorker: a submitted profile becomes a KYCAID applicant. Created → the
//! profile is `verified` (kept from Barong, where clients wait for it: it means the applicant
//! exists, not that KYCAID checked anyone; README, "KYCAID") and keeps the
//! `applicant_id`; refused → `rejected`.

use reqwest::Method;
use serde_json::json;

use super::client::{Client, id_of};
use super::outcome::{Failure, refused_or_retry};
use crate::model::ProfileState;
use crate::services::App;
use crate::services::kyc::profiles;
use crate::store::UserRow;

pub async fn run(app: &App, client: &Client, user: &UserRow, profile_id: i64) -> Result<(), Failure> {
    let profiles = app.store.profiles_of(user.id).await?;
    let Some(profile) = profiles.iter().find(|p| p.id == profile_id) else { return Ok(()) };
    if profile.state != ProfileState::Submitted {
        return Ok(()); // Decided meanwhile (an operator, or an earlier attempt).
    }
    let open = |s: &Option<String>| s.as_deref().and_then(|s| app.sealer.open_string(s).ok());
    let phone = app.store.phones_of(user.id).await?.last().and_then(|p| app.sealer.open_string(&p.number_sealed).ok());
    let body = json!({
        "type": "PERSON",
        "first_name": open(&profile.first_name_sealed),
        "last_name": open(&profile.last_name_sealed),
        "dob": open(&profile.dob_sealed),
        "residence_country": profile.country,
        "email": user.email,
        "phone": phone,
    });
    let created = refused_or_retry(client.json(Method::POST, "applicants", Some(&body)).await)?;
    let created = created.and_then(|v| id_of(&v, "applicant_id", "applicants").map_err(|e| e.to_string()));
    match created {
        Ok(applicant_id) => {
            app.store.set_profile_applicant(profile_id, &applicant_id, app.clock.now()).await?;
            profiles::provider_decision(app, user, profile_id, ProfileState::Verified, None).await?;
            tracing::info!(uid = %user.uid, applicant_id = %applicant_id, "KYCAID applicant created");
        }
        Err(why) => {
            tracing::warn!(uid = %user.uid, error = %why, "KYCAID refused the applicant; profile rejected");
            profiles::provider_decision(app, user, profile_id, ProfileState::Rejected, None).await?;
        }
    }
    Ok(())
}
