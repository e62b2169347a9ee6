//! API entities as Barong's Grape entities render them (field order and names are the contract).

use serde::{Deserialize, Serialize};

/// `API_V2_Entities_Label`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Label {
    pub key: String,
    pub value: String,
    pub scope: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `API_V2_Entities_Phone` (number masked on the resource API).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Phone {
    pub country: String,
    pub number: String,
    pub validated_at: Option<String>,
}

/// `API_V2_Entities_Profile` (last_name and dob masked on the resource API).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Profile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub dob: Option<String>,
    pub address: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub state: String,
    pub metadata: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// `API_V2_Entities_Document` as the resource API renders it: these four keys only
/// (as Barong's `GET documents`), `doc_number` masked `AA****BB`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Document {
    pub upload: UploadUrl,
    pub doc_type: Option<String>,
    pub doc_number: Option<String>,
    pub doc_expire: Option<String>,
}

/// CarrierWave's `{"url": ...}` rendering of an upload; here a short-lived signed link.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UploadUrl {
    pub url: String,
}

/// `API_V2_Entities_DataStorage`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataStorage {
    pub title: String,
    pub data: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `API_V2_Entities_Activity`: one row of the user's own activity history.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Activity {
    pub id: i64,
    pub user_ip: String,
    pub user_ip_country: Option<String>,
    pub user_agent: Option<String>,
    pub topic: String,
    pub action: String,
    pub result: String,
    /// The row's JSON text as stored (`{"reason":..}`), as Barong returns it.
    pub data: Option<String>,
    pub created_at: String,
}

/// `API_V2_Entities_UserWithFullInfo`. `csrf_token` is present only when the request opened a session.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserWithFullInfo {
    pub email: String,
    pub uid: String,
    pub role: String,
    pub level: i64,
    pub otp: bool,
    pub state: String,
    pub referral_uid: Option<String>,
    pub data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub csrf_token: Option<String>,
    pub username: Option<String>,
    pub labels: Vec<Label>,
    pub phones: Vec<Phone>,
    pub profiles: Vec<Profile>,
    pub data_storages: Vec<DataStorage>,
    pub created_at: String,
    pub updated_at: String,
}

/// A short user row for operator listings (`barongctl user list`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserSummary {
    pub uid: String,
    pub email: String,
    pub username: Option<String>,
    pub role: String,
    pub level: i64,
    pub state: String,
    pub otp: bool,
    pub created_at: String,
}

/// `API_V2_Entities_APIKey`. `secret` is present only in the reply that created the key.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiKey {
    pub kid: String,
    pub algorithm: String,
    pub scope: Vec<String>,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub secret: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Only on a key imported from Barong without its secret (always `true` when present): it
    /// stays disabled and tells its owner why the bot stopped. Absent otherwise, so every other
    /// key keeps Barong's entity shape.
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    pub secret_unavailable: bool,
}

impl std::fmt::Debug for ApiKey {
    // The secret is shown to its owner once, in the HTTP reply; never in a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("scope", &self.scope)
            .field("state", &self.state)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("secret_unavailable", &self.secret_unavailable)
            .finish_non_exhaustive()
    }
}

/// A service account as Barong returns it from `GET resource/service_accounts`: the raw model
/// JSON (column order, times with milliseconds), not a Grape entity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceAccount {
    pub id: i64,
    pub uid: String,
    pub owner_id: Option<i64>,
    pub email: String,
    pub role: String,
    pub level: i64,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A WebAuthn credential (passkey or security key) of a user, as `resource/webauthn/credentials`
/// and `barongctl user webauthn list` show it: never its public key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WebauthnCredential {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}
