//! What a KYC reviewer looks at (`barongctl kyc show`): a user's profiles, documents with their
//! numbers in clear and their files, labels, and earlier decisions. The operator holds the host
//! and the master key, so nothing is masked here; each look is recorded as a PII read.

use base64::Engine;
use common::admin::{KycCase, KycDocument, KycFile};

use crate::model::labels::keys as label_keys;
use crate::model::{CheckState, LabelScope, ProfileState};
use crate::services::App;
use crate::services::admin::users::with_kyc_as;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::file_store::FileStore;
use crate::services::kyc::{review, uploads};
use crate::store::UserRow;
use crate::store::documents::DocumentRow;

/// Decisions `kyc show` lists; `kyc history USER` pages further back.
const CASE_DECISIONS: i64 = 50;

pub async fn show(app: &App, user: &UserRow) -> ServiceResult<KycCase> {
    let kyc = with_kyc_as(app, true, user).await?;
    let rows = app.store.documents_of(user.id).await?;
    let documents = rows.iter().map(|d| document(app, d)).collect();
    let mut pending = Vec::new();
    if kyc.profiles.iter().any(|p| p.state == ProfileState::Submitted.name()) {
        pending.push(label_keys::PROFILE.to_string());
    }
    for l in &kyc.labels {
        let check = [label_keys::DOCUMENT, label_keys::ADDRESS].contains(&l.key.as_str());
        if check && l.scope == LabelScope::Private.as_str() && l.value == CheckState::Pending.as_str() {
            pending.push(l.key.clone());
        }
    }
    let decisions = review::history(app, Some(user), CASE_DECISIONS).await?;
    Ok(KycCase { user: kyc, documents, pending, decisions })
}

fn document(app: &App, d: &DocumentRow) -> KycDocument {
    let doc_number = d.doc_number_sealed.as_deref().and_then(|s| app.sealer.open_string(s).ok());
    // A path only where the file is on this machine's disk; in a bucket, `--export` fetches it.
    let path = match &app.files {
        FileStore::Local(dir) => std::path::absolute(dir.join(&d.upload)).ok().map(|p| p.display().to_string()),
        FileStore::Bucket(_) => None,
    };
    KycDocument {
        id: d.id,
        doc_type: d.doc_type.clone(),
        doc_number,
        doc_expire: d.doc_expire.clone(),
        doc_category: d.doc_category.clone(),
        identificator: d.identificator.clone(),
        file: d.upload.clone(),
        path,
        created_at: iso8601(d.created_at),
    }
}

/// The file of `user`'s document `id` (`record.not_found` when the document is another
/// user's: an id alone never opens a stranger's file).
pub async fn file(app: &App, user: &UserRow, id: i64) -> ServiceResult<KycFile> {
    let not_found = || ServiceError::not_found("record.not_found");
    let row = app.store.document_by_id(id).await?.filter(|r| r.user_id == user.id).ok_or_else(not_found)?;
    let (kind, bytes) = uploads::read(app, &row.upload).await?;
    Ok(KycFile {
        id: row.id,
        file: row.upload,
        content_type: kind.mime().to_string(),
        base64: base64::engine::general_purpose::STANDARD.encode(bytes),
    })
}
