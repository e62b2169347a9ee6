//! Barong's `management_api.yml`, read unchanged: the keychain of signers' public keys, ruby-jwt's
//! decode options and the scopes' signer lists. Reading and linting are the `mgmtlint` crate's
//! (barongctl lints files offline with it); here the keys become verifiers. Every problem that
//! makes a scope unusable or a signature forgeable stops start-up (spec §4.3, §4.6, §7); the
//! rest are warnings.

use std::collections::BTreeMap;

use jsonwebtoken::{Algorithm, DecodingKey};

pub use mgmtlint::{JwtOptions, KNOWN_SCOPES, Lint, OneOrMany, ScopeSigners, expand_erb};

/// The loaded file.
pub struct ManagementFile {
    pub keychain: BTreeMap<String, SignerKey>,
    pub jwt: JwtOptions,
    pub scopes: BTreeMap<String, ScopeSigners>,
    /// Problems that do not stop start-up, logged once.
    pub warnings: Vec<String>,
    /// Where it was read from and its bytes' lint, for `barongctl management check`.
    pub report: common::admin::ManagementReport,
}

/// One signer's public key and the algorithms its signatures may use.
pub struct SignerKey {
    /// `RSA-2048`, `EC-P256`, …
    pub kind: String,
    pub accepted: Vec<Algorithm>,
    pub key: DecodingKey,
}

/// Reads and checks the file at `path`; the error is one line naming the file.
pub fn load(path: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ManagementFile, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("management_api.file {path}: {e}"))?;
    let text = String::from_utf8(bytes.clone()).map_err(|_| format!("management_api.file {path}: not UTF-8 text"))?;
    let mut file = parse(&text, env).map_err(|e| format!("management_api.file {path}: {e}"))?;
    let lint = mgmtlint::lint(&text, env);
    file.report = mgmtlint::report(&lint, Some((path, &bytes)));
    Ok(file)
}

/// The file's text, checked (the lint is `mgmtlint`'s, shared with barongctl); any error stops
/// start-up.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ManagementFile, String> {
    let lint = mgmtlint::lint(text, env);
    if !lint.errors.is_empty() {
        return Err(lint.errors.join("; "));
    }
    let mut keychain = BTreeMap::new();
    for (id, k) in &lint.keychain {
        let key = if k.kind.starts_with("RSA") {
            DecodingKey::from_rsa_pem(k.pem.as_bytes())
        } else {
            DecodingKey::from_ec_pem(k.pem.as_bytes())
        }
        .map_err(|_| format!("key {id}: Invalid public key format for key {id}"))?;
        let accepted = k.accepted.iter().filter_map(|a| a.parse::<Algorithm>().ok()).collect();
        keychain.insert(id.clone(), SignerKey { kind: k.kind.clone(), accepted, key });
    }
    let report = mgmtlint::report(&lint, None);
    Ok(ManagementFile { keychain, jwt: lint.jwt, scopes: lint.scopes, warnings: lint.warnings, report })
}

#[cfg(test)]
#[path = "management_file_tests.rs"]
mod tests;
