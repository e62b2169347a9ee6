//! The `management check` report of a linted file.

use common::admin::{ManagementReport, Problem, ScopeInfo, Severity, SignerInfo};
use sha2::{Digest, Sha256};

use crate::{Lint, OneOrMany};

/// The Management API routes of each scope (spec §4.9), for the report's ENDPOINTS column.
pub const ENDPOINTS: [(&str, &[&str]); 12] = [
    ("tools", &["POST /timestamp"]),
    ("read_labels", &["POST /labels/list"]),
    ("write_labels", &["POST /labels", "PUT /labels", "POST /labels/delete"]),
    ("read_users", &["POST /users/get", "POST /users/list", "POST /labels/filter/users"]),
    ("write_users", &["POST /users", "POST /users/update", "POST /users/import", "POST /profiles"]),
    ("read_phones", &["POST /phones/get"]),
    ("write_phones", &["POST /phones", "POST /phones/delete"]),
    ("otp_sign", &["POST /otp/sign"]),
    ("write_documents", &["POST /documents"]),
    ("read_service_accounts", &["POST /service_accounts/get", "POST /service_accounts/list"]),
    (
        "write_service_accounts",
        &["POST /service_accounts/create", "POST /service_accounts/delete", "POST /service_accounts/update"],
    ),
    ("write_apikeys", &["POST /api_keys", "POST /api_keys/update"]),
];

/// The report of `lint` for the file `path` whose bytes are `bytes` (`None`: no file).
pub fn report(lint: &Lint, file: Option<(&str, &[u8])>) -> ManagementReport {
    let endpoints = |scope: &str| -> Vec<String> {
        ENDPOINTS
            .iter()
            .find(|(s, _)| *s == scope)
            .map(|(_, e)| e.iter().map(|x| x.to_string()).collect())
            .unwrap_or_default()
    };
    let problems = lint
        .errors
        .iter()
        .map(|t| Problem { severity: Severity::Error, text: t.clone() })
        .chain(lint.warnings.iter().map(|t| Problem { severity: Severity::Warning, text: t.clone() }))
        .collect();
    ManagementReport {
        file: file.map(|(p, _)| p.to_string()),
        sha256: file.map(|(_, b)| hex::encode(Sha256::digest(b))),
        settings: None,
        jwt: jwt_line(lint),
        keys: lint
            .keychain
            .iter()
            .map(|(id, k)| SignerInfo {
                id: id.clone(),
                kind: k.kind.clone(),
                fingerprint: k.fingerprint.clone(),
                configured: k.configured.clone(),
                accepted: k.accepted.clone(),
            })
            .collect(),
        scopes: lint
            .scopes
            .iter()
            .map(|(name, s)| ScopeInfo {
                name: name.clone(),
                permitted: s.permitted.clone(),
                mandatory: s.mandatory.clone(),
                endpoints: endpoints(name),
            })
            .collect(),
        problems,
    }
}

/// ruby-jwt's options that matter, as `leeway=30 verify_iss=true iss=applogic`.
fn jwt_line(lint: &Lint) -> String {
    let j = &lint.jwt;
    let list = |v: &Option<OneOrMany>| v.as_ref().map(|x| x.items().join(",")).unwrap_or_default();
    let mut parts = vec![
        format!("leeway={}", j.leeway),
        format!("verify_expiration={}", j.verify_expiration),
        format!("verify_iss={}", j.verify_iss),
    ];
    if j.iss.is_some() {
        parts.push(format!("iss={}", list(&j.iss)));
    }
    parts.push(format!("verify_aud={}", j.verify_aud));
    if j.aud.is_some() {
        parts.push(format!("aud={}", list(&j.aud)));
    }
    parts.join(" ")
}
