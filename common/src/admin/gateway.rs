//! The gateway: permissions, signing keys, restrictions and whitelinks.

use serde::{Deserialize, Serialize};

/// A gateway permission: role × verb × path prefix → action (ACCEPT, DROP or AUDIT).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    pub role: String,
    /// GET, POST, PUT, PATCH, DELETE, HEAD or ALL (any case).
    pub verb: String,
    /// Path prefix without a leading slash, e.g. `api/v2/peatio/admin`.
    pub path: String,
    /// accept, drop or audit (any case).
    pub action: String,
    #[serde(default)]
    pub topic: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PermissionInfo {
    pub id: i64,
    pub role: String,
    pub verb: String,
    pub path: String,
    pub action: String,
    pub topic: Option<String>,
}

/// A JWT signing key (its public half only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub algorithm: String,
    /// `active` (signs) or `previous` (verifies until its tokens expire).
    pub state: String,
    pub created_at: String,
}

/// A restriction as the operator sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RestrictionInfo {
    pub id: i64,
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: i64,
    pub state: String,
    /// Whether the answering daemon enforces it now (enabled, and its cache has caught up).
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A whitelink token for `POST identity/users/access`; only its hash is stored.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Whitelink {
    pub token: String,
    pub expires_at: String,
}

impl std::fmt::Debug for Whitelink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whitelink").field("token", &"[redacted]").field("expires_at", &self.expires_at).finish()
    }
}
