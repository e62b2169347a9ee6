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
    /// `off`, `active` or `seed_missing`.
    #[serde(default)]
    pub totp: TotpStatus,
}

/// A user's second factor as the operator sees it (`user show`'s `totp`).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum TotpStatus {
    /// 2FA off.
    #[default]
    Off,
    /// 2FA on with a seed on file.
    Active,
    /// 2FA on, but the seed was not carried from Barong: the account cannot sign in until the
    /// operator resets its 2FA (migration spec §2.8.5).
    SeedMissing,
}

impl TotpStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TotpStatus::Off => "off",
            TotpStatus::Active => "active",
            TotpStatus::SeedMissing => "seed_missing",
        }
    }
}

/// What `user reset-2fa` changed.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TwoFactorReset {
    pub uid: String,
    pub email: String,
    /// The second factor before the reset (`active` or `seed_missing`).
    pub totp_before: TotpStatus,
    /// 2FA after the reset: always false.
    pub otp: bool,
    /// Whether the private `otp` label was there and is gone.
    pub otp_label_removed: bool,
    pub level_before: i64,
    pub level: i64,
    pub state_before: String,
    pub state: String,
    /// Kids of the keys (the user's and its service accounts') that were active and are disabled.
    pub api_keys_disabled: Vec<String>,
    pub sessions_ended: u64,
    pub reason: String,
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
    /// Imported from Barong without its secret: disabled for good (migration spec §2.8.5).
    #[serde(default)]
    pub secret_unavailable: bool,
}
