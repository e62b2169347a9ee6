//! Barong's `management_api.yml`, read unchanged: the keychain of signers' public keys, ruby-jwt's
//! decode options and the scopes' signer lists. ERB is limited to reading the environment. Every
//! problem that makes a scope unusable or a signature forgeable stops start-up (spec §4.3, §4.6,
//! §7); the rest are warnings.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

use crate::config::yaml;

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

/// The loaded file.
pub struct ManagementFile {
    pub keychain: BTreeMap<String, SignerKey>,
    pub jwt: JwtOptions,
    pub scopes: BTreeMap<String, ScopeSigners>,
    /// Problems that do not stop start-up, logged once.
    pub warnings: Vec<String>,
}

/// One signer's public key and the algorithms its signatures may use.
pub struct SignerKey {
    /// `RSA-2048`, `EC-P256`, …
    pub kind: String,
    pub accepted: Vec<Algorithm>,
    pub key: DecodingKey,
}

#[derive(Debug, Clone, Default)]
pub struct ScopeSigners {
    pub permitted: Vec<String>,
    pub mandatory: Vec<String>,
}

/// ruby-jwt 2.2.2's decode options, with its defaults; an unknown option is an error.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Deserialize)]
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

/// Reads and checks the file at `path`; the error is one line naming the file.
pub fn load(path: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ManagementFile, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("management_api.file {path}: {e}"))?;
    parse(&text, env).map_err(|e| format!("management_api.file {path}: {e}"))
}

/// The file's text, checked.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<ManagementFile, String> {
    let expanded = expand_erb(text, env)?;
    let raw: RawFile = if expanded.trim().is_empty() { RawFile::default() } else { yaml::from_str(&expanded)? };
    let (mut errors, mut warnings) = (Vec::new(), Vec::new());
    let mut keychain = BTreeMap::new();
    for (id, k) in raw.keychain.unwrap_or_default() {
        match signer_key(&id, k.algorithm.as_deref(), &k.value, &mut warnings) {
            Ok(key) => {
                keychain.insert(id, key);
            }
            Err(e) => errors.push(e),
        }
    }
    let mut scopes = BTreeMap::new();
    for (name, s) in raw.scopes.unwrap_or_default() {
        let s = ScopeSigners {
            permitted: s.permitted_signers.unwrap_or_default(),
            mandatory: s.mandatory_signers.unwrap_or_default(),
        };
        if s.mandatory.is_empty() {
            errors.push(format!("scope {name}: mandatory_signers is missing or empty"));
        }
        for m in s.mandatory.iter().filter(|m| !s.permitted.contains(m)) {
            errors
                .push(format!("scope {name}: mandatory signer '{m}' is not in permitted_signers (never satisfiable)"));
        }
        for id in s.permitted.iter().chain(&s.mandatory) {
            if !keychain.contains_key(id) && !errors.iter().any(|e| e.starts_with(&format!("key {id}:"))) {
                errors.push(format!("scope {name}: signer '{id}' is not in the keychain"));
            }
        }
        if !KNOWN_SCOPES.contains(&name.as_str()) {
            warnings.push(format!("scope {name}: no endpoint uses this scope"));
        }
        scopes.insert(name, s);
    }
    if !errors.is_empty() {
        return Err(errors.join("; "));
    }
    let jwt = raw.jwt.unwrap_or_default();
    advice(&scopes, &jwt, &mut warnings);
    Ok(ManagementFile { keychain, jwt, scopes, warnings })
}

/// Warnings of `barongctl management check` (spec §7) about a file that loads.
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

/// A keychain value: base64 (URL-safe or standard) of a PEM public key. The accepted algorithms
/// come from the key itself, never from the token's header alone (W2: Barong let `HS256` with
/// the public key's PEM as secret pass as a signature).
fn signer_key(
    id: &str,
    configured: Option<&str>,
    value: &str,
    warnings: &mut Vec<String>,
) -> Result<SignerKey, String> {
    let invalid = || format!("key {id}: Invalid public key format for key {id}");
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD.decode(compact).or_else(|_| STANDARD_NO_PAD.decode(compact)).map_err(|_| invalid())?;
    let pem = String::from_utf8(bytes).map_err(|_| invalid())?;
    if pem.contains("PRIVATE KEY") {
        return Err(format!("key {id}: a private key; the keychain holds public keys only"));
    }
    let (kind, accepted, key) = key_kind(&pem).ok_or_else(invalid)??;
    let accepted = match configured {
        None => accepted,
        Some(a) if a.to_ascii_uppercase().starts_with("HS") => {
            warnings.push(format!(
                "key {id}: algorithm {a} is HMAC; ignored, the {kind} key's algorithms are accepted instead (W2)"
            ));
            accepted
        }
        Some(a) => match a.parse::<Algorithm>() {
            Ok(alg) if accepted.contains(&alg) => vec![alg],
            _ => {
                warnings.push(format!("key {id}: algorithm {a} does not fit a {kind} key; ignored"));
                accepted
            }
        },
    };
    Ok(SignerKey { kind, accepted, key })
}

type Kind = (String, Vec<Algorithm>, DecodingKey);

/// The key type of a PEM public key: `None` when it is no key we know, `Some(Err)` when it is
/// one we refuse (short RSA).
fn key_kind(pem: &str) -> Option<Result<Kind, String>> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_pem(pem).or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem)) {
        let bits = k.n().bits();
        if bits < 2048 {
            return Some(Err(format!("RSA key of {bits} bits; at least 2048 are required")));
        }
        let all = vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ];
        return Some(
            DecodingKey::from_rsa_pem(pem.as_bytes())
                .ok()
                .map(|d| (format!("RSA-{bits}"), all, d))
                .ok_or_else(|| "unreadable RSA key".to_string()),
        );
    }
    let ec = |name: &str, alg: Algorithm| {
        DecodingKey::from_ec_pem(pem.as_bytes())
            .map(|d| (name.to_string(), vec![alg], d))
            .map_err(|_| "unreadable EC key".to_string())
    };
    if p256::PublicKey::from_public_key_pem(pem).is_ok() {
        return Some(ec("EC-P256", Algorithm::ES256));
    }
    if p384::PublicKey::from_public_key_pem(pem).is_ok() {
        return Some(ec("EC-P384", Algorithm::ES384));
    }
    if pem.contains("PUBLIC KEY") {
        return Some(Err("unsupported key type or curve (RSA of at least 2048 bits, EC P-256 or P-384)".into()));
    }
    None
}

/// Expands the ERB Barong's files use for secrets: `<%= ENV['X'] %>` (unset: empty, as Ruby's
/// `nil.to_s`) and `<%= ENV.fetch('X', 'default') %>`. Anything else would need Ruby: refused.
pub fn expand_erb(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let plain = regex::Regex::new(r#"^=\s*ENV\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)(['"])\s*\]\s*$"#)
        .map_err(|e| e.to_string())?;
    let fetch = regex::Regex::new(
        r#"^=\s*ENV\.fetch\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)(['"])\s*(?:,\s*(['"])([^'"]*)(['"])\s*)?\)\s*$"#,
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<%") {
        out.push_str(&rest[..start]);
        let line = text[..text.len() - rest.len() + start].lines().count().max(1);
        let after = &rest[start + 2..];
        let end = after.find("%>").ok_or_else(|| format!("line {line}: unterminated ERB tag"))?;
        let inner = after[..end].trim_end_matches('-');
        if let Some(c) = plain.captures(inner) {
            out.push_str(&env(&c[2]).unwrap_or_default());
        } else if let Some(c) = fetch.captures(inner) {
            match (env(&c[2]), c.get(5)) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d.as_str()),
                (None, None) => return Err(format!("line {line}: environment variable {} is not set", &c[2])),
            }
        } else {
            return Err(format!(
                "line {line}: unsupported ERB (only <%= ENV['X'] %> and <%= ENV.fetch('X', 'default') %> are read)"
            ));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
#[path = "management_file_tests.rs"]
mod tests;
