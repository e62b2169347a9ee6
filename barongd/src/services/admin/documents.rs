//! Document images for admins (W8). Barong's admin entities carried the storage URL of each
//! upload; barong-rs's files are private and the owner's signed link needs the owner's own
//! session, so Tower could show no image. The admin entities carry an admin link instead: signed
//! and short-lived like the owner's (a link copied out of a log or a screenshot soon dies),
//! opened with the admin's own credentials through the admin pipeline, by roles with `read
//! Document` or `manage User`, each opening logged as a PII read naming the user.

use crate::services::App;
use crate::services::admin::abilities::can;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::documents::Download;
use crate::services::kyc::uploads;
use crate::store::UserRow;
use crate::store::documents::DocumentRow;

/// Where the Admin API serves a document's file (under the public `/api/v2/barong` prefix).
pub const ADMIN_UPLOAD_PATH_PREFIX: &str = "/api/v2/barong/admin/users/documents";

/// What an admin link signs. Distinct from the owner's message, so neither link opens the other
/// route.
fn signed_message(row: &DocumentRow, expires: i64) -> String {
    format!("admin-document-upload:{}:{}:{}", row.user_id, row.id, expires)
}

/// The admin download link of `r`, valid for `upload_auth_url_expiration` minutes.
pub fn upload_link(app: &App, r: &DocumentRow) -> String {
    let expires = app.clock.now() + app.config.upload_auth_url_expiration * 60;
    let signature = app.sealer.sign_url(&signed_message(r, expires));
    format!("{ADMIN_UPLOAD_PATH_PREFIX}/{}/upload?expires={expires}&signature={signature}", r.id)
}

/// Whether `role` may open document images: `read Document` (compliance's review role) or
/// `manage User`.
pub fn may_open(app: &App, role: &str) -> bool {
    let file = &app.config.abilities;
    can(file, role, "read", "Document") || can(file, role, "manage", "User")
}

/// `GET /admin/users/documents/{id}/upload?expires=..&signature=..`: the file and its owner.
/// The ability first (401 `admin.ability.not_permitted`), then the document (404
/// `record.not_found`), then an untampered, unexpired link (403).
pub async fn download(
    app: &App,
    caller: &UserRow,
    id: &str,
    expires: Option<&str>,
    signature: Option<&str>,
) -> ServiceResult<(Download, UserRow)> {
    if !may_open(app, caller.role.as_str()) {
        return Err(ServiceError::unauthenticated("admin.ability.not_permitted"));
    }
    let not_found = || ServiceError::not_found("record.not_found");
    let id: i64 = id.parse().map_err(|_| not_found())?;
    let row = app.store.document_by_id(id).await?.ok_or_else(not_found)?;
    let invalid = || ServiceError::forbidden("admin.documents.upload_url_invalid");
    let expires: i64 = expires.and_then(|e| e.parse().ok()).ok_or_else(invalid)?;
    if !app.sealer.verify_url(&signed_message(&row, expires), signature.unwrap_or_default()) {
        return Err(invalid());
    }
    if expires < app.clock.now() {
        return Err(ServiceError::forbidden("admin.documents.upload_url_expired"));
    }
    let owner = app.store.user_by_id(row.user_id).await?.ok_or_else(not_found)?;
    let (kind, bytes) = uploads::read(app, &row.upload).await?;
    let extension = row.upload.rsplit_once('.').map(|(_, e)| e.to_string()).unwrap_or_default();
    Ok((Download { kind, extension, bytes }, owner))
}
