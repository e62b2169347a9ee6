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
    /// `active` (signs), `next` (published, signs from `takes_over_at`) or `previous` (verifies
    /// until its tokens expire).
    pub state: String,
    pub created_at: String,
    /// When the key became (`active`) or becomes (`next`) the signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub takes_over_at: Option<String>,
    /// What the operator must do after this change (`keys rotate`, `keys activate`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `keys import`: the key as stored (never its private half).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImportedKeyInfo {
    /// RFC 7638 JWK thumbprint (base64url SHA-256), or the kid the key already had.
    pub kid: String,
    /// RS256, ES256 or EdDSA, by key type.
    pub algorithm: String,
    /// Bits (the modulus for RSA).
    pub size: u32,
    /// SHA-256 of the public key's SPKI DER, lower-case hex.
    pub fingerprint: String,
    /// The public key as Peatio's `JWT_PUBLIC_KEY` holds it (URL-safe Base64 of the SPKI PEM).
    pub public_key: String,
    /// `active` or `previous` (verifies, published in the JWKS, does not sign).
    pub state: String,
    /// The keyring held this key already; nothing was added.
    pub already_present: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// `keys export-public --format`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PublicKeyFormat {
    /// SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    #[default]
    Pem,
    /// One JSON Web Key.
    Jwk,
    /// A JSON Web Key Set: the one key asked for, or every published key.
    Jwks,
    /// URL-safe Base64 of the SPKI PEM: Peatio's `JWT_PUBLIC_KEY`, the mailer keychain's `value`.
    Peatio,
}

/// `keys export-public`: the text to hand to consumers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PublicKeyExport {
    /// The key exported; none for the whole JWKS.
    pub kid: Option<String>,
    pub format: PublicKeyFormat,
    pub text: String,
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
