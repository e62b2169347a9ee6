//! `barongctl management check`: what a Management API file configures and what is wrong with
//! it (spec §7), from the daemon (the file it loaded) or linted offline.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ManagementReport {
    /// The file's path; `None` when the daemon runs without one (Management API disabled).
    pub file: Option<String>,
    /// SHA-256 (hex) of the file's bytes as read.
    pub sha256: Option<String>,
    /// The daemon's `management_api` settings; `None` offline (they live in barongd's config).
    pub settings: Option<ManagementSettings>,
    /// ruby-jwt's options as one line (`leeway=30 verify_iss=true iss=applogic`).
    pub jwt: String,
    pub keys: Vec<SignerInfo>,
    pub scopes: Vec<ScopeInfo>,
    pub problems: Vec<Problem>,
}

impl ManagementReport {
    /// Whether any problem is an error (the daemon would refuse to start).
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ManagementSettings {
    pub allowed_networks: Vec<String>,
    pub require_exp: bool,
    pub max_token_lifetime: i64,
    pub jti_single_use: bool,
}

/// One keychain entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SignerInfo {
    pub id: String,
    /// `RSA-2048`, `EC-P256`, …
    pub kind: String,
    /// SHA-256 (hex) of the key's SubjectPublicKeyInfo.
    pub fingerprint: String,
    /// The `algorithm` the file names, if any.
    pub configured: Option<String>,
    /// The algorithms signatures by this key are accepted with.
    pub accepted: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScopeInfo {
    pub name: String,
    pub permitted: Vec<String>,
    pub mandatory: Vec<String>,
    /// The Management API routes this scope opens (`POST /labels`).
    pub endpoints: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Warning,
    Error,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Problem {
    pub severity: Severity,
    pub text: String,
}
