//! Barong's DocumentWorker: a complete identity document set (front, back, selfie sharing an
//! identificator) goes to KYCAID as files, one document for front/back and one SELFIE_IMAGE,
//! then a DOCUMENT+FACIAL verification whose result comes back through the callback. A
//! resubmission updates the KYCAID documents created before instead of adding new ones.
//!
//! The KYCAID `document_id` is kept in each file's `metadata`, as in Barong, with a tag only
//! barongd can make: users write `metadata` themselves, and an untagged id (one a user typed)
//! must never make barongd update a KYCAID document that is not theirs.

use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, id_of};
use super::outcome::{Attempt, Failure, refused_or_retry};
use super::verification::{decide, path_segment};
use crate::model::CheckState;
use crate::model::labels::keys as label_keys;
use crate::services::App;
use crate::services::kyc::uploads;
use crate::store::UserRow;
use crate::store::documents::DocumentRow;

fn kycaid_type(doc_type: &str) -> &'static str {
    match doc_type {
        "Passport" => "PASSPORT",
        "Identity card" => "GOVERNMENT_ID",
        _ => "DRIVERS_LICENSE",
    }
}

pub async fn run(app: &App, client: &Client, user: &UserRow, identificator: &str) -> Result<(), Failure> {
    if let Err(why) = send(app, client, user, identificator).await? {
        tracing::warn!(uid = %user.uid, error = %why, "KYCAID refused the documents; document rejected");
        decide(app, user, label_keys::DOCUMENT, CheckState::Rejected, Some("KYCAID refused the documents")).await?;
    }
    Ok(())
}

async fn send(app: &App, client: &Client, user: &UserRow, identificator: &str) -> Attempt<()> {
    let Some(applicant_id) = app.store.applicant_of_user(user.id).await? else {
        return Ok(Err("no KYCAID applicant: the profile was never submitted".into()));
    };
    let all = app.store.documents_of(user.id).await?;
    let batch: Vec<&DocumentRow> = all.iter().filter(|d| d.identificator.as_deref() == Some(identificator)).collect();
    let pick = |category: &str| batch.iter().find(|d| d.doc_category.as_deref() == Some(category)).copied();
    let (Some(front), Some(selfie)) = (pick("front_side"), pick("selfie")) else {
        return Ok(Err("the set has no front_side or no selfie".into()));
    };
    let back = pick("back_side");
    let earlier = |categories: &[&str]| {
        all.iter()
            .filter(|d| d.doc_category.as_deref().is_some_and(|c| categories.contains(&c)))
            .filter_map(|d| tagged_id(app, user, d, "document_id"))
            .next_back()
    };
    let (old_document, old_selfie) = (earlier(&["front_side", "back_side"]), earlier(&["selfie"]));

    let front_id = match upload(app, client, front).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    let back_id = match back {
        Some(b) => match upload(app, client, b).await? {
            Ok(id) => Some(id),
            Err(why) => return Ok(Err(why)),
        },
        None => None,
    };
    let number = front.doc_number_sealed.as_deref().and_then(|s| app.sealer.open_string(s).ok());
    let mut body = json!({
        "applicant_id": applicant_id,
        "type": kycaid_type(front.doc_type.as_deref().unwrap_or_default()),
        "document_number": number,
        "expiry_date": front.doc_expire,
        "front_side_id": front_id,
    });
    if let Some(id) = back_id {
        body["back_side_id"] = Value::String(id);
    }
    let document_id = match save_document(client, old_document.as_deref(), &body).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    for row in [Some(front), back].into_iter().flatten() {
        tag(app, user, row, "document_id", &document_id).await?;
    }

    let selfie_file = match upload(app, client, selfie).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    let body = json!({"applicant_id": applicant_id, "type": "SELFIE_IMAGE", "front_side_id": selfie_file});
    let selfie_id = match save_document(client, old_selfie.as_deref(), &body).await? {
        Ok(id) => id,
        Err(why) => return Ok(Err(why)),
    };
    tag(app, user, selfie, "document_id", &selfie_id).await?;

    let verification = verify(app, client, &applicant_id, &["DOCUMENT", "FACIAL"]).await?;
    Ok(verification.map(|id| {
        tracing::info!(uid = %user.uid, verification_id = %id, "KYCAID document verification requested");
    }))
}

/// `POST /documents`, or `PATCH /documents/{id}` of the user's earlier KYCAID document.
async fn save_document(client: &Client, earlier: Option<&str>, body: &Value) -> Attempt<String> {
    let answer = match earlier {
        Some(id) => client.json(Method::PATCH, &format!("documents/{}", path_segment(id)), Some(body)).await,
        None => client.json(Method::POST, "documents", Some(body)).await,
    };
    Ok(refused_or_retry(answer)?.and_then(|v| match earlier {
        // An update may answer without the id: it is the one updated.
        Some(id) => Ok(id_of(&v, "document_id", "documents").unwrap_or_else(|_| id.to_string())),
        None => id_of(&v, "document_id", "documents").map_err(|e| e.to_string()),
    }))
}

/// `POST /verifications` of `types` with Barong's callback URL; the verification's id.
pub(super) async fn verify(app: &App, client: &Client, applicant_id: &str, types: &[&str]) -> Attempt<String> {
    let mut body = json!({
        "applicant_id": applicant_id,
        "types": types,
        "callback_url": super::callback_url(&app.config),
    });
    if !app.config.kycaid_form_id.trim().is_empty() {
        body["form_id"] = Value::String(app.config.kycaid_form_id.trim().to_string());
    }
    let answer = refused_or_retry(client.json(Method::POST, "verifications", Some(&body)).await)?;
    Ok(answer.and_then(|v| id_of(&v, "verification_id", "verifications").map_err(|e| e.to_string())))
}

/// Uploads a stored file to KYCAID; its `file_id`.
pub(super) async fn upload(app: &App, client: &Client, row: &DocumentRow) -> Attempt<String> {
    let (kind, bytes) = match uploads::read(app, &row.upload).await {
        Ok(file) => file,
        Err(e) if e.key() == "record.not_found" => return Ok(Err(format!("document {}: its file is gone", row.id))),
        Err(e) => return Err(e.into()),
    };
    refused_or_retry(client.upload(&row.upload, kind.mime(), bytes).await)
}

fn tag_message(user: &UserRow, field: &str, id: &str) -> String {
    format!("kycaid:{}:{field}:{id}", user.id)
}

/// Stores `{field: id}` in the document's metadata with barongd's tag.
pub(super) async fn tag(app: &App, user: &UserRow, row: &DocumentRow, field: &str, id: &str) -> Result<(), Failure> {
    let mark = app.sealer.sign_url(&tag_message(user, field, id));
    let metadata = json!({ field: id, "kycaid_tag": mark }).to_string();
    app.store.set_document_metadata(row.id, &metadata, app.clock.now()).await?;
    Ok(())
}

/// The KYCAID id in `field` of a document's metadata, if barongd wrote it for this user.
fn tagged_id(app: &App, user: &UserRow, row: &DocumentRow, field: &str) -> Option<String> {
    let meta: Value = serde_json::from_str(row.metadata.as_deref()?).ok()?;
    let id = meta.get(field)?.as_str()?;
    let mark = meta.get("kycaid_tag")?.as_str()?;
    app.sealer.verify_url(&tag_message(user, field, id), mark).then(|| id.to_string())
}
