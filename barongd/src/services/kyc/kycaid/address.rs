//! Barong's AddressWorker: the typed address and its proof go to KYCAID as a REGISTERED
//! address, then an ADDRESS verification whose result comes back through the callback; a
//! refusal sets `address=rejected`.

use reqwest::Method;
use serde_json::json;

use super::client::{Client, id_of};
use super::documents::{tag, upload, verify};
use super::outcome::{Attempt, Failure, refused_or_retry};
use super::verification::decide;
use crate::model::CheckState;
use crate::model::labels::keys as label_keys;
use crate::services::App;
use crate::store::UserRow;

/// What the user typed with the proof (sent to KYCAID only).
pub struct Typed {
    pub country: String,
    pub city: String,
    pub postcode: String,
    pub address: String,
}

pub async fn run(
    app: &App,
    client: &Client,
    user: &UserRow,
    identificator: &str,
    typed: &Typed,
) -> Result<(), Failure> {
    if let Err(why) = send(app, client, user, identificator, typed).await? {
        tracing::warn!(uid = %user.uid, error = %why, "KYCAID refused the address; address rejected");
        decide(app, user, label_keys::ADDRESS, CheckState::Rejected, Some("KYCAID refused the address")).await?;
    }
    Ok(())
}

async fn send(app: &App, client: &Client, user: &UserRow, identificator: &str, typed: &Typed) -> Attempt<()> {
    let Some(applicant_id) = app.store.applicant_of_user(user.id).await? else {
        return Ok(Err("no KYCAID applicant: the profile was never submitted".into()));
    };
    let documents = app.store.documents_of(user.id).await?;
    let Some(proof) = documents.iter().find(|d| d.identificator.as_deref() == Some(identificator)) else {
        return Ok(Err("the address proof is gone".into()));
    };
    let file_id = match upload(app, client, proof).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    let body = json!({
        "applicant_id": applicant_id,
        "type": "REGISTERED",
        "country": typed.country,
        "city": typed.city,
        "postal_code": typed.postcode,
        "full_address": typed.address,
        "front_side_id": file_id,
    });
    let created = refused_or_retry(client.json(Method::POST, "addresses", Some(&body)).await)?;
    let address_id = match created.and_then(|v| id_of(&v, "address_id", "addresses").map_err(|e| e.to_string())) {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    tag(app, user, proof, "address_id", &address_id).await?;
    let verification = verify(app, client, &applicant_id, &["ADDRESS"]).await?;
    Ok(verification.map(|id| {
        tracing::info!(uid = %user.uid, verification_id = %id, "KYCAID address verification requested");
    }))
}
