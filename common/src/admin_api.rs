//! Entities of Barong's Admin API (`/api/v2/admin`), fields in the order Barong emits them;
//! timestamps ISO-8601 UTC with a `Z`.

use serde::{Deserialize, Serialize};

/// A gateway permission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub id: i64,
    /// `ACCEPT`, `DROP` or `AUDIT`.
    pub action: String,
    pub role: String,
    /// An HTTP method in upper case, or `ALL`.
    pub verb: String,
    pub path: String,
    pub topic: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A restriction (whitelist, maintenance, blacklist, blocklogin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restriction {
    pub id: i64,
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: i64,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A KYC level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub id: i64,
    pub key: String,
    pub value: String,
}
