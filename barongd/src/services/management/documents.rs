//! `/documents` (spec §4.10 #17): a KYC document pushed by a trusted system, its file as strict
//! base64. The file goes where users' uploads go and is served the same way. Barong's 500s for
//! an unknown uid and for bad base64 are 422s here (W17), and `update_labels=false` really skips
//! the KYC label step (Barong ignored it).

use base64::Engine;
use serde_json::{Map, Value};

use crate::services::App;
use crate::services::kyc::documents::{self, DocumentInput, FileInput, parse_date};
use crate::services::management::error::{MgmtError, MgmtResult};
use crate::services::management::model_errors;
use crate::services::management::params::Grape;

pub async fn create(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.required("uid");
    let doc_type = p.required("doc_type");
    let doc_number = p.required("doc_number");
    let filename = p.required("filename");
    let file_ext = p.required("file_ext");
    let upload = p.required_blank("upload");
    let expire_text = p.optional_blank("doc_expire");
    let doc_expire = expire_text.as_deref().and_then(parse_date);
    if expire_text.is_some() && doc_expire.is_none() {
        p.error("doc_expire management.documents.expire_not_a_date");
    }
    let update_labels = p.boolean("update_labels", true);
    let metadata = p.optional("metadata");
    p.finish()?;

    let user = app
        .store
        .user_by_uid(&uid)
        .await
        .map_err(MgmtError::internal)?
        .ok_or_else(|| MgmtError::message(422, "user.doesnt_exist"))?;
    // Ruby's strict_decode64: padded standard alphabet, no whitespace.
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(upload.as_bytes())
        .map_err(|_| MgmtError::message(422, "upload is invalid"))?;
    // Barong named the file `<filename><random><file_ext>`; only the extension matters here.
    let file =
        FileInput { filename: format!("{filename}.{}", file_ext.trim().trim_start_matches('.')), bytes: bytes.into() };
    let input = DocumentInput { doc_type, doc_number, doc_expire, doc_category: None, identificator: None, metadata };
    documents::create_pushed(app, &user, input, file, update_labels).await.map_err(model_errors::as_sentence)?;
    Ok("201".to_string())
}
