//! KYC documents and address proofs (`resource/documents`, `resource/addresses`).
//!
//! Fixed from Barong: the batch is saved atomically (rows, KYC label and events in one
//! transaction, files renamed into place just before it commits); only declared fields are stored; the content of a
//! file must match its extension; address documents count against `doc_num_limit`; the dead
//! first limit check is gone; the limit holds under concurrent uploads. Files are not public:
//! `upload.url` is a short-lived signed link that also needs the owner's authentication.
//! See docs/barong-weaknesses-fixed.md#w-documents, #w-upload-content and #w-upload-links.

use chrono::NaiveDate;
use common::entities::{Document, UploadUrl};

use crate::model::labels::keys as label_keys;
use crate::model::{CheckState, FileKind, LabelScope};
use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api;
use crate::services::kyc::kycaid::{queue, sets};
use crate::services::kyc::levels::LabelChange;
use crate::services::kyc::uploads::{self, Accepted, Staged};
use crate::store::documents::{DocumentBatch, DocumentRow, NewDocument};
use crate::store::{LabelRow, PendingEvent, UserRow};

/// Barong's `doc_category` values.
pub const CATEGORIES: [&str; 3] = ["front_side", "back_side", "selfie"];

/// Longest `doc_number` (Barong's model) and `identificator` (its column).
const MAX_DOC_NUMBER: usize = 128;
const MAX_IDENTIFICATOR: usize = 255;

/// Where the resource API serves a document's file (under the public `/api/v2/barong` prefix).
pub const UPLOAD_PATH_PREFIX: &str = "/api/v2/barong/resource/documents";

/// An uploaded file as the service sees it.
pub struct FileInput {
    /// The client's file name: only its extension is used.
    pub filename: String,
    pub bytes: bytes::Bytes,
}

/// The declared parameters of `POST documents` (nothing else is ever stored).
pub struct DocumentInput {
    pub doc_type: String,
    pub doc_number: String,
    pub doc_expire: Option<NaiveDate>,
    pub doc_category: Option<String>,
    pub identificator: Option<String>,
    pub metadata: Option<String>,
}

/// A strict `YYYY-MM-DD` date (what Barong's expiry check demands).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

/// Keeps the first 2 and last 2 characters (`AB123456CD` → `AB******CD`); 4 or fewer stay.
pub fn mask_doc_number(s: &str) -> String {
    let n = s.chars().count();
    if n <= 4 {
        return s.to_string();
    }
    s.chars().enumerate().map(|(i, c)| if i < 2 || i >= n - 2 { c } else { '*' }).collect()
}

fn today(app: &App) -> NaiveDate {
    chrono::DateTime::from_timestamp(app.clock.now(), 0).map(|t| t.date_naive()).unwrap_or_default()
}

fn limit_will_be_reached() -> ServiceError {
    ServiceError::rejected("resource.documents.limit_will_be_reached")
}

/// The batch must fit under `doc_num_limit` (Barong's earlier `limit_reached` check could never
/// fire, and is gone).
async fn check_limit(app: &App, user: &UserRow, files: usize) -> ServiceResult<()> {
    let count = app.store.count_documents(user.id).await?;
    if count + files as i64 > app.config.doc_num_limit {
        return Err(limit_will_be_reached());
    }
    Ok(())
}

/// The model's checks on the uploads, all files at once; the accepted files, or the keys.
fn check_files(app: &App, files: &[FileInput], errors: &mut Vec<String>) -> Vec<Accepted> {
    if files.is_empty() {
        errors.push("upload.blank".into());
    }
    files.iter().filter_map(|f| uploads::check(&app.config, &f.filename, &f.bytes, errors)).collect()
}

fn doc_type_errors(app: &App, doc_type: &str, errors: &mut Vec<String>) {
    if doc_type.trim().is_empty() {
        errors.push("doc_type.blank".into());
    }
    if !app.config.document_types.iter().any(|t| t == doc_type) {
        errors.push("doc_type.inclusion".into());
    }
}

/// `POST documents`: checks in Barong's order, then one row per file, then the KYC step.
pub async fn create(app: &App, user: &UserRow, input: DocumentInput, files: Vec<FileInput>) -> ServiceResult<()> {
    if app.config.required_docs_expire {
        let Some(expire) = input.doc_expire else {
            return Err(ServiceError::invalid("resource.documents.invalid_format"));
        };
        if expire < today(app) {
            return Err(ServiceError::invalid("resource.documents.already_expired"));
        }
    }
    check_limit(app, user, files.len()).await?;

    let mut errors = Vec::new();
    input_errors(app, &input, &mut errors);
    let accepted = check_files(app, &files, &mut errors);
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    store_identity_documents(app, user, input, &accepted, true, app.config.doc_num_limit).await
}

/// Barong's document step for a batch of `files` files: with the `local` provider every
/// identity document sets `document=pending`; with KYCAID only a Passport, Identity card or
/// Driver license whose identificator reaches exactly its number of files (2, 3, 3) does, and
/// that set is then sent to KYCAID. Gives the label to set and whether to send.
async fn document_step(
    app: &App,
    user: &UserRow,
    doc_type: &str,
    identificator: &str,
    files: usize,
) -> ServiceResult<(Option<&'static str>, bool)> {
    if doc_type == "Address" {
        return Ok((None, false));
    }
    if app.kycaid.is_none() {
        return Ok((Some(label_keys::DOCUMENT), false));
    }
    let Some(required) = sets::required_files(doc_type) else { return Ok((None, false)) };
    let rows = app.store.documents_of(user.id).await?;
    let before = rows.iter().filter(|d| d.identificator.as_deref() == Some(identificator)).count();
    // Barong counted after each file: some file of the batch makes the count exactly `required`.
    let completes = before < required && before + files >= required;
    Ok(if completes { (Some(label_keys::DOCUMENT), true) } else { (None, false) })
}

/// The model's checks on a document's declared fields, in its order.
fn input_errors(app: &App, input: &DocumentInput, errors: &mut Vec<String>) {
    doc_type_errors(app, &input.doc_type, errors);
    let number = input.doc_number.trim();
    if number.is_empty() {
        errors.push("doc_number.blank".into());
    } else if number.chars().count() > MAX_DOC_NUMBER {
        errors.push("doc_number.too_long".into());
    } else if !number.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ' ') {
        errors.push("doc_number.invalid".into());
    }
    if input.identificator.as_ref().is_some_and(|i| i.chars().count() > MAX_IDENTIFICATOR) {
        errors.push("identificator.too_long".into());
    }
    if input.metadata.as_ref().is_some_and(|m| serde_json::from_str::<serde_json::Value>(m).is_err()) {
        errors.push("metadata.invalid_format".into());
    }
}

/// One row per accepted file (a shared identificator), saved with the KYC document step's
/// label when `kyc_step`; with KYCAID a completed set is then queued for it.
async fn store_identity_documents(
    app: &App,
    user: &UserRow,
    input: DocumentInput,
    accepted: &[Accepted],
    kyc_step: bool,
    limit: i64,
) -> ServiceResult<()> {
    let number = input.doc_number.trim();
    let identificator = input.identificator.unwrap_or_else(random_identificator);
    let (step, send) = if kyc_step {
        document_step(app, user, &input.doc_type, &identificator, accepted.len()).await?
    } else {
        (None, false)
    };
    let sealed = app.sealer.seal(number.as_bytes());
    let index = app.sealer.blind_index("document", number);
    let expire = input.doc_expire.map(|d| d.format("%Y-%m-%d").to_string());
    let rows = accepted
        .iter()
        .map(|a| NewDocument {
            upload: &a.name,
            doc_type: &input.doc_type,
            doc_expire: expire.as_deref(),
            doc_number_sealed: Some(&sealed),
            doc_number_index: Some(&index),
            doc_category: input.doc_category.as_deref(),
            identificator: &identificator,
            metadata: input.metadata.as_deref(),
        })
        .collect::<Vec<_>>();
    let shown = if app.config.api_data_masking_enabled { mask_doc_number(number) } else { number.to_string() };
    save(app, user, &rows, accepted, step, Some(&shown), limit).await?;
    if send {
        queue::enqueue_logged(app, user.id, &queue::Job::Document { identificator }).await;
    }
    Ok(())
}

/// A document pushed by a trusted system (`management/documents`): one file, the model's checks
/// (an expiry date is required when `required_docs_expire` is on, and an empty file is
/// `upload.blank`), no `doc_num_limit` (Barong had none on this path); the KYC step runs unless
/// `update_labels` is false.
pub async fn create_pushed(
    app: &App,
    user: &UserRow,
    input: DocumentInput,
    file: FileInput,
    update_labels: bool,
) -> ServiceResult<()> {
    let mut errors = Vec::new();
    input_errors(app, &input, &mut errors);
    if app.config.required_docs_expire && input.doc_expire.is_none() {
        errors.push("doc_expire.blank".into());
    }
    let accepted = if file.bytes.is_empty() {
        errors.push("upload.blank".into());
        Vec::new()
    } else {
        check_files(app, std::slice::from_ref(&file), &mut errors)
    };
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    store_identity_documents(app, user, input, &accepted, update_labels, i64::MAX).await
}

/// What `POST addresses` types besides the proof: never stored, only sent to KYCAID (as in
/// Barong).
pub struct AddressInput {
    pub country: String,
    pub city: String,
    pub postcode: String,
    pub address: String,
}

/// `POST addresses`: one `Address` document per file with a shared identificator, then the
/// `address=pending` label; with KYCAID the address and its proof are then queued for it.
/// Address documents count against the limit (Barong's had none).
pub async fn create_address(
    app: &App,
    user: &UserRow,
    typed: AddressInput,
    files: Vec<FileInput>,
) -> ServiceResult<()> {
    check_limit(app, user, files.len()).await?;
    let mut errors = Vec::new();
    doc_type_errors(app, "Address", &mut errors);
    let accepted = check_files(app, &files, &mut errors);
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let identificator = random_identificator();
    let rows = accepted
        .iter()
        .map(|a| NewDocument {
            upload: &a.name,
            doc_type: "Address",
            doc_expire: None,
            doc_number_sealed: None,
            doc_number_index: None,
            doc_category: None,
            identificator: &identificator,
            metadata: None,
        })
        .collect::<Vec<_>>();
    save(app, user, &rows, &accepted, Some(label_keys::ADDRESS), None, app.config.doc_num_limit).await?;
    let AddressInput { country, city, postcode, address } = typed;
    let job = queue::Job::Address { identificator, country, city, postcode, address };
    queue::enqueue_logged(app, user.id, &job).await;
    Ok(())
}

/// `model.document.created` per stored file. `upload` names the stored file (a download link
/// would expire within minutes); the number is masked as the resource API masks it
/// (docs/barong-weaknesses-fixed.md#w-event-pii).
fn created_events(
    app: &App,
    user: &UserRow,
    referral: Option<&str>,
    rows: &[NewDocument<'_>],
    doc_number: Option<&str>,
) -> Vec<PendingEvent> {
    if !event_api::enabled(app) {
        return Vec::new();
    }
    let now = iso8601(app.clock.now());
    let mut events = Vec::new();
    for r in rows {
        let fields = serde_json::json!({
            "upload": r.upload,
            "doc_type": r.doc_type,
            "doc_number": doc_number,
            "doc_expire": r.doc_expire,
            "doc_category": r.doc_category,
            "identificator": r.identificator,
            "metadata": r.metadata,
            "created_at": now,
            "updated_at": now,
        });
        events.extend(event_api::model_of_user_event_of(app, "model.document.created", user, referral, fields));
    }
    events
}

/// All or nothing: files under temporary names, then one transaction with the rows (re-checking
/// the limit under a lock), the KYC label `step` (set to `pending`) and every event, which
/// renames the files into place just before it commits; a failed commit takes them back.
async fn save(
    app: &App,
    user: &UserRow,
    rows: &[NewDocument<'_>],
    files: &[Accepted],
    step: Option<&str>,
    doc_number: Option<&str>,
    limit: i64,
) -> ServiceResult<()> {
    let staged = Staged::write(&app.files, files.to_vec()).await?;
    let pending = CheckState::Pending.as_str();
    let step = match step {
        Some(key) => Some(LabelChange::prepare(app, user, key, pending, LabelScope::Private).await?),
        None => None,
    };
    let referral = match &step {
        Some(s) => s.referral.clone(),
        None if event_api::enabled(app) => event_api::referral_uid(app, user.referral_id).await,
        None => None,
    };
    let events = |label: Option<&LabelRow>| {
        let mut events = created_events(app, user, referral.as_deref(), rows, doc_number);
        if let (Some(step), Some(label)) = (&step, label) {
            events.extend(step.events(app, user, label));
        }
        events
    };
    let write = step.as_ref().map(LabelChange::write);
    let batch = DocumentBatch {
        user_id: user.id,
        rows,
        limit,
        now: app.clock.now(),
        label: write.as_ref(),
        events: &events,
        before_commit: &|| staged.place(),
    };
    match app.store.insert_document_batch(&batch).await {
        Ok(true) => {}
        Ok(false) => return Err(limit_will_be_reached()),
        Err(e) => {
            staged.withdraw();
            return Err(e.into());
        }
    }
    if let Some(step) = step {
        step.finish(app, user).await?;
    }
    Ok(())
}

/// Barong's default identificator: 32 random hex characters per batch.
fn random_identificator() -> String {
    let mut b = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    hex::encode(b)
}

pub(crate) fn signed_message(row: &DocumentRow, expires: i64) -> String {
    format!("document-upload:{}:{}:{}", row.user_id, row.id, expires)
}

/// `GET documents`: the user's documents, number masked when `api_data_masking_enabled`, each
/// with a download link valid for `upload_auth_url_expiration` minutes.
pub async fn list(app: &App, user: &UserRow) -> ServiceResult<Vec<Document>> {
    let rows = app.store.documents_of(user.id).await?;
    let expires = app.clock.now() + app.config.upload_auth_url_expiration * 60;
    let mask = app.config.api_data_masking_enabled;
    Ok(rows
        .iter()
        .map(|r| {
            let number = r.doc_number_sealed.as_deref().and_then(|s| app.sealer.open_string(s).ok());
            let signature = app.sealer.sign_url(&signed_message(r, expires));
            Document {
                upload: UploadUrl {
                    url: format!("{UPLOAD_PATH_PREFIX}/{}/upload?expires={expires}&signature={signature}", r.id),
                },
                doc_type: r.doc_type.clone(),
                doc_number: if mask { number.map(|n| mask_doc_number(&n)) } else { number },
                doc_expire: r.doc_expire.clone(),
            }
        })
        .collect())
}

/// A stored file to send: its kind (for the content type) and bytes.
pub struct Download {
    pub kind: FileKind,
    pub extension: String,
    pub bytes: Vec<u8>,
}

/// `GET documents/{id}/upload?expires=..&signature=..`: the owner's own document only (another
/// user's is `record.not_found`, as if absent), with an untampered, unexpired link.
pub async fn download(
    app: &App,
    user: &UserRow,
    id: &str,
    expires: Option<&str>,
    signature: Option<&str>,
) -> ServiceResult<Download> {
    let not_found = || ServiceError::not_found("record.not_found");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let row = app.store.document_of(user.id, id).await?.ok_or_else(not_found)?;
    let invalid = || ServiceError::forbidden("resource.documents.upload_url_invalid");
    let expires: i64 = expires.and_then(|e| e.parse().ok()).ok_or_else(invalid)?;
    if !app.sealer.verify_url(&signed_message(&row, expires), signature.unwrap_or_default()) {
        return Err(invalid());
    }
    if expires < app.clock.now() {
        return Err(ServiceError::forbidden("resource.documents.upload_url_expired"));
    }
    let (kind, bytes) = uploads::read(app, &row.upload).await?;
    let extension = row.upload.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default();
    Ok(Download { kind, extension, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_numbers_keep_two_characters_each_end() {
        assert_eq!(mask_doc_number("AB123456CD"), "AB******CD");
        assert_eq!(mask_doc_number("ABCDE"), "AB*DE");
        assert_eq!(mask_doc_number("ABCD"), "ABCD");
    }

    #[test]
    fn dates_are_strict() {
        assert_eq!(parse_date("2030-01-31"), NaiveDate::from_ymd_opt(2030, 1, 31));
        for bad in ["2030-1-31", "31/01/2030", "2030-02-30", "", "tomorrow", "2030-01-31T00:00"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
