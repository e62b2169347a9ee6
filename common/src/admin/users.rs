//! Users, API keys and their holders as the operator sees them.

use serde::{Deserialize, Serialize};

use crate::entities::{ServiceAccount, UserWithFullInfo};

/// A user as the operator sees it: the API entity plus what only the operator lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserWithFullInfo,
    pub api_keys: Vec<ApiKeySummary>,
    pub service_accounts: Vec<ServiceAccount>,
}

/// An API key for the operator: its holder, never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiKeySummary {
    pub kid: String,
    /// `User` or `ServiceAccount`.
    pub holder_type: String,
    pub holder_uid: String,
    pub algorithm: String,
    pub scope: Vec<String>,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
}
