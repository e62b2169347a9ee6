//! Barong's `management_api.yml`, read unchanged and linted (spec §4.3, §4.6, §7): the keychain
//! of signers' public keys, ruby-jwt's decode options and the scopes' signer lists. ERB is
//! limited to reading the environment. Errors are what makes a scope unusable or a signature
//! forgeable (barongd refuses to start); warnings are risky but working choices.
//!
//! Pure: no I/O but what the caller hands in, so barongd (start-up, `config check`) and
//! barongctl (`management check --file`, offline) read a file the same way.

mod erb;
mod keys;
mod report;

use std::collections::BTreeMap;

use serde::Deserialize;

pub use erb::expand_erb;
pub use keys::LintedKey;
pub use report::{ENDPOINTS, report};

/// The scope of each Management API route (§4.4).
pub const KNOWN_SCOPES: [&str; 12] = [
    "read_users",
    "write_users",
    "read_labels",
    "write_labels",
    "read_phones",
    "write_phones",
    "otp_sign",
    "tools",
    "write_documents",
    "read_service_accounts",
    "write_service_accounts",
    "write_apikeys",
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScopeSigners {
    pub permitted: Vec<String>,
    pub mandatory: Vec<String>,
}

/// ruby-jwt 2.2.2's decode options, with its defaults; an unknown option is an error.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct JwtOptions {
    pub verify_expiration: bool,
    pub verify_not_before: bool,
    pub verify_iat: bool,
    pub verify_jti: bool,
    pub iss: Option<OneOrMany>,
    pub verify_iss: bool,
    pub aud: Option<OneOrMany>,
    pub verify_aud: bool,
    pub sub: Option<String>,
    pub verify_sub: bool,
    pub leeway: i64,
    pub exp_leeway: Option<i64>,
    pub nbf_leeway: Option<i64>,
}

impl Default for JwtOptions {
    fn default() -> Self {
        JwtOptions {
            verify_expiration: true,
            verify_not_before: true,
            verify_iat: false,
            verify_jti: false,
            iss: None,
            verify_iss: false,
            aud: None,
            verify_aud: false,
            sub: None,
            verify_sub: false,
            leeway: 0,
            exp_leeway: None,
            nbf_leeway: None,
        }
    }
}

/// A string or a list of strings (`iss`, `aud`).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn items(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(s) => vec![s.as_str()],
            OneOrMany::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// A file read and checked: what loads, and every problem found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lint {
    pub keychain: BTreeMap<String, LintedKey>,
    pub jwt: JwtOptions,
    pub scopes: BTreeMap<String, ScopeSigners>,
    /// Problems that stop barongd's start-up.
    pub errors: Vec<String>,
    /// Problems that do not.
    pub warnings: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct RawFile {
    keychain: Option<BTreeMap<String, RawKey>>,
    jwt: Option<JwtOptions>,
    scopes: Option<BTreeMap<String, RawScope>>,
}

#[derive(Deserialize)]
struct RawKey {
    algorithm: Option<String>,
    value: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawScope {
    permitted_signers: Option<Vec<String>>,
    mandatory_signers: Option<Vec<String>>,
}

/// The file's text, read and checked. A text that is no such file at all (bad ERB, bad YAML)
/// gives one error and nothing else.
pub fn lint(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Lint {
    let raw = match expand_erb(text, env).and_then(|t| read_yaml(&t)) {
        Ok(raw) => raw,
        Err(e) => return Lint { errors: vec![e], ..Lint::default() },
    };
    let mut lint = Lint::default();
    for (id, k) in raw.keychain.unwrap_or_default() {
        match keys::signer_key(&id, k.algorithm.as_deref(), &k.value, &mut lint.warnings) {
            Ok(key) => {
                lint.keychain.insert(id, key);
            }
            Err(e) => lint.errors.push(e),
        }
    }
    for (name, s) in raw.scopes.unwrap_or_default() {
        let s = ScopeSigners {
            permitted: s.permitted_signers.unwrap_or_default(),
            mandatory: s.mandatory_signers.unwrap_or_default(),
        };
        scope_errors(&name, &s, &mut lint);
        if !KNOWN_SCOPES.contains(&name.as_str()) {
            lint.warnings.push(format!("scope {name}: no endpoint uses this scope"));
        }
        lint.scopes.insert(name, s);
    }
    lint.jwt = raw.jwt.unwrap_or_default();
    if lint.errors.is_empty() {
        advice(&lint.scopes, &lint.jwt, &mut lint.warnings);
    }
    lint
}

/// The one YAML read of this crate (serde_norway, as barongd's `config::yaml`); one line of error.
fn read_yaml(text: &str) -> Result<RawFile, String> {
    if text.trim().is_empty() {
        return Ok(RawFile::default());
    }
    serde_norway::from_str(text).map_err(|e| e.to_string().lines().collect::<Vec<_>>().join(" "))
}

fn scope_errors(name: &str, s: &ScopeSigners, lint: &mut Lint) {
    if s.mandatory.is_empty() {
        lint.errors.push(format!("scope {name}: mandatory_signers is missing or empty"));
    }
    for m in s.mandatory.iter().filter(|m| !s.permitted.contains(m)) {
        lint.errors
            .push(format!("scope {name}: mandatory signer '{m}' is not in permitted_signers (never satisfiable)"));
    }
    for id in s.permitted.iter().chain(&s.mandatory) {
        let reported = lint.errors.iter().any(|e| e.starts_with(&format!("key {id}:")));
        if !lint.keychain.contains_key(id) && !reported {
            lint.errors.push(format!("scope {name}: signer '{id}' is not in the keychain"));
        }
    }
}

/// Warnings about a file that loads (spec §7).
fn advice(scopes: &BTreeMap<String, ScopeSigners>, jwt: &JwtOptions, warnings: &mut Vec<String>) {
    let missing: Vec<&str> = KNOWN_SCOPES.iter().copied().filter(|s| !scopes.contains_key(*s)).collect();
    if !missing.is_empty() {
        warnings.push(format!("scopes not configured (their endpoints always answer 401): {}", missing.join(", ")));
    }
    for (name, s) in scopes {
        let writes = name.starts_with("write_") || name == "otp_sign";
        if writes && s.mandatory.len() == 1 {
            warnings.push(format!("scope {name} has a single mandatory signer (one stolen key is enough)"));
        }
    }
    if !jwt.verify_expiration {
        warnings.push("jwt.verify_expiration is false: expired tokens are accepted".into());
    }
}
