//! The KYC review queue as the operator sees it.

use serde::{Deserialize, Serialize};

/// One entry of the KYC review queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KycQueueItem {
    pub uid: String,
    pub email: String,
    /// `profile`, `document` or `address`.
    pub check: String,
    pub since: String,
}

/// One decision of the review history (`kyc history`, `kyc show`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KycDecision {
    pub id: i64,
    pub uid: String,
    pub email: String,
    /// `profile`, `document` or `address`.
    pub check: String,
    /// `verified` or `rejected`.
    pub verdict: String,
    pub reason: Option<String>,
    /// `barongctl`, or the uid of the admin who decided through the Admin API.
    pub author: String,
    pub at: String,
}

/// A stored document as the reviewer needs it: its number in clear and its file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KycDocument {
    /// The id `kyc show --export` and `kyc file` name the file by.
    pub id: i64,
    pub doc_type: Option<String>,
    pub doc_number: Option<String>,
    pub doc_expire: Option<String>,
    /// `address` for a proof of address, otherwise as the client sent it.
    pub doc_category: Option<String>,
    /// The batch the document was uploaded in (the pages of one identity document share it).
    pub identificator: Option<String>,
    /// The stored file's name (`<32 hex>.<ext>`).
    pub file: String,
    /// Where the file is on the daemon's disk; none when it is in a bucket (`storage_provider`).
    pub path: Option<String>,
    pub created_at: String,
}

/// Everything a reviewer looks at for one user (`barongctl kyc show USER`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KycCase {
    /// The Admin API's `UserWithKYC`, in clear: profiles, labels (the reason of the latest
    /// decision is the label's description), phones, comments.
    pub user: crate::admin_api::UserWithKyc,
    pub documents: Vec<KycDocument>,
    /// The checks that wait for a decision (`profile`, `document`, `address`).
    pub pending: Vec<String>,
    /// The user's decisions, newest first.
    pub decisions: Vec<KycDecision>,
}

/// One document's file (`barongctl kyc show --export`), base64 in the reply line.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KycFile {
    pub id: i64,
    /// The stored file's name; its extension names the content.
    pub file: String,
    pub content_type: String,
    pub base64: String,
}
