//! The secrets export (migration spec §2.8): TOTP seeds and API-key secrets that Barong kept in
//! Vault, as an operator extracts them. JSON or YAML. A file-level problem refuses the file (with
//! the entry's index); a malformed entry only makes that uid or kid "invalid", so one bad line does
//! not block a cut-over. Error and warning texts never carry a seed or a secret.

use std::collections::HashMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_norway::{Mapping, Value};
use zeroize::Zeroizing;

use crate::vault::check_secret;

/// A seed Barong could have made and barong-rs verifies: SHA1, 6 digits, 30 s.
#[derive(Clone, PartialEq, Eq)]
pub enum TotpSecret {
    Seed(Zeroizing<Vec<u8>>),
    /// Not Base32, or not 10–64 bytes, or an unreadable `otpauth://` URL.
    Invalid,
    /// Well formed, but another algorithm, digit count or period.
    Unsupported,
    /// Two files (or entries) disagree about this uid.
    Conflict,
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TotpSecret::Seed(s) => write!(f, "Seed([{} bytes])", s.len()),
            TotpSecret::Invalid => f.write_str("Invalid"),
            TotpSecret::Unsupported => f.write_str("Unsupported"),
            TotpSecret::Conflict => f.write_str("Conflict"),
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum KeySecret {
    Secret(Zeroizing<String>),
    Invalid,
    Conflict,
}

impl fmt::Debug for KeySecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeySecret::Secret(_) => "Secret([redacted])",
            KeySecret::Invalid => "Invalid",
            KeySecret::Conflict => "Conflict",
        })
    }
}

/// Whom a TOTP entry belongs to, before `merge` knows the application name.
#[derive(Debug, Clone)]
enum Owner {
    Uid(String),
    VaultKey(String),
}

/// One parsed file.
#[derive(Debug, Clone)]
pub struct SecretsFile {
    pub vault_app_name: Option<String>,
    pub warnings: Vec<String>,
    totp: Vec<(usize, Owner, TotpSecret)>,
    api_keys: Vec<(String, KeySecret)>,
}

/// Every file merged: uid → seed, kid → secret.
#[derive(Debug, Default)]
pub struct Secrets {
    pub totp: HashMap<String, TotpSecret>,
    pub api_keys: HashMap<String, KeySecret>,
}

const TOP: &[&str] = &["format", "version", "vault_app_name", "exported_at", "totp", "api_keys"];
const TOTP_KEYS: &[&str] =
    &["uid", "vault_key", "key", "url", "algorithm", "digits", "period", "issuer", "account_name"];
const KEY_KEYS: &[&str] = &["kid", "secret", "plaintext_b64"];

pub fn parse(text: &str) -> Result<SecretsFile, String> {
    if text.contains("!ruby/") {
        return Err("Ruby YAML tags are not accepted".into());
    }
    let root: Value = serde_norway::from_str(text).map_err(|e| format!("neither JSON nor YAML: {e}"))?;
    let Value::Mapping(root) = root else { return Err("the file is not a mapping".into()) };
    if str_of(&root, "format") != Some("barong-secrets") {
        return Err("`format: barong-secrets` is required".into());
    }
    if root.get("version").and_then(Value::as_u64) != Some(1) {
        return Err("`version: 1` is required".into());
    }
    let mut warnings = unknown_keys(&root, TOP, "");
    let vault_app_name = str_of(&root, "vault_app_name").map(str::to_string);
    let mut totp = Vec::new();
    for (i, entry) in list(&root, "totp")?.iter().enumerate() {
        let Value::Mapping(e) = entry else { return Err(format!("totp[{i}]: not a mapping")) };
        warnings.extend(unknown_keys(e, TOTP_KEYS, &format!("totp[{i}]")));
        let owner = match (str_of(e, "uid"), str_of(e, "vault_key")) {
            (Some(uid), _) => Owner::Uid(uid.to_string()),
            (None, Some(key)) => Owner::VaultKey(key.to_string()),
            (None, None) => return Err(format!("totp[{i}]: needs `uid` or `vault_key`")),
        };
        totp.push((i, owner, totp_secret(e)));
    }
    let mut api_keys = Vec::new();
    for (i, entry) in list(&root, "api_keys")?.iter().enumerate() {
        let Value::Mapping(e) = entry else { return Err(format!("api_keys[{i}]: not a mapping")) };
        warnings.extend(unknown_keys(e, KEY_KEYS, &format!("api_keys[{i}]")));
        let kid = str_of(e, "kid").ok_or(format!("api_keys[{i}]: needs `kid`"))?;
        api_keys.push((kid.to_string(), key_secret(e)));
    }
    Ok(SecretsFile { vault_app_name, warnings, totp, api_keys })
}

/// Merges files: an identical duplicate is fine, a different one makes the entry `Conflict`.
pub fn merge(files: &[SecretsFile], vault_app_name: &str) -> Result<Secrets, String> {
    let mut out = Secrets::default();
    let prefix = format!("{vault_app_name}_");
    for (n, file) in files.iter().enumerate() {
        if let Some(app) = file.vault_app_name.as_deref().filter(|a| *a != vault_app_name) {
            return Err(format!("secrets file {}: vault_app_name `{app}`, expected `{vault_app_name}`", n + 1));
        }
        for (i, owner, secret) in &file.totp {
            let uid = match owner {
                Owner::Uid(uid) => uid.clone(),
                Owner::VaultKey(key) => key
                    .strip_prefix(&prefix)
                    .ok_or(format!("secrets file {}: totp[{i}]: vault_key does not start with `{prefix}`", n + 1))?
                    .to_string(),
            };
            add(&mut out.totp, uid, secret.clone(), TotpSecret::Conflict);
        }
        for (kid, secret) in &file.api_keys {
            add(&mut out.api_keys, kid.clone(), secret.clone(), KeySecret::Conflict);
        }
    }
    Ok(out)
}

fn add<T: PartialEq>(map: &mut HashMap<String, T>, id: String, value: T, conflict: T) {
    match map.get_mut(&id) {
        Some(existing) if *existing != value => *existing = conflict,
        Some(_) => {}
        None => {
            map.insert(id, value);
        }
    }
}

fn totp_secret(e: &Mapping) -> TotpSecret {
    let mut params: HashMap<String, String> = HashMap::new();
    let key = match (str_of(e, "key"), str_of(e, "url")) {
        (Some(key), None) => key.to_string(),
        (None, Some(url)) => match otpauth_params(url) {
            Some(p) => {
                params = p;
                match params.remove("secret") {
                    Some(secret) => secret,
                    None => return TotpSecret::Invalid,
                }
            }
            None => return TotpSecret::Invalid,
        },
        _ => return TotpSecret::Invalid,
    };
    let field = |name: &str| match e.get(name) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => params.get(name).cloned(),
    };
    let algorithm = field("algorithm").unwrap_or_else(|| "SHA1".into());
    let digits = field("digits").unwrap_or_else(|| "6".into());
    let period = field("period").unwrap_or_else(|| "30".into());
    totp_from_parts(&key, &algorithm, &digits, &period)
}

/// A seed from its Base32 key and parameters as text (`"SHA1"`, `"6"`, `"30"`): what a secrets
/// file entry and a Vault answer both come down to.
pub fn totp_from_parts(key: &str, algorithm: &str, digits: &str, period: &str) -> TotpSecret {
    let Some(seed) = base32_seed(key) else { return TotpSecret::Invalid };
    if !algorithm.eq_ignore_ascii_case("SHA1") || digits != "6" || period != "30" {
        return TotpSecret::Unsupported;
    }
    TotpSecret::Seed(seed)
}

/// Base32 in any case, padding optional; Vault's seeds are 20 bytes, 10–64 are accepted.
fn base32_seed(key: &str) -> Option<Zeroizing<Vec<u8>>> {
    let clean = Zeroizing::new(key.trim().trim_end_matches('=').to_ascii_uppercase());
    let bytes = Zeroizing::new(base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &clean)?);
    (10..=64).contains(&bytes.len()).then_some(bytes)
}

/// The query of `otpauth://totp/LABEL?secret=…&algorithm=…`, percent-decoded.
fn otpauth_params(url: &str) -> Option<HashMap<String, String>> {
    let rest = url.strip_prefix("otpauth://totp/")?;
    let (_, query) = rest.split_once('?')?;
    let mut out = HashMap::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let v = percent_encoding::percent_decode_str(v).decode_utf8().ok()?;
        out.insert(k.to_ascii_lowercase(), v.into_owned());
    }
    Some(out)
}

fn key_secret(e: &Mapping) -> KeySecret {
    let clear = match (str_of(e, "secret"), str_of(e, "plaintext_b64")) {
        (Some(s), None) => Zeroizing::new(s.to_string()),
        (None, Some(b64)) => match STANDARD.decode(b64).ok().and_then(|b| String::from_utf8(b).ok()) {
            Some(s) => Zeroizing::new(s),
            None => return KeySecret::Invalid,
        },
        _ => return KeySecret::Invalid,
    };
    match check_secret(&clear) {
        Ok(()) => KeySecret::Secret(clear),
        Err(_) => KeySecret::Invalid,
    }
}

fn str_of<'a>(m: &'a Mapping, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str)
}

fn list<'a>(root: &'a Mapping, key: &str) -> Result<&'a [Value], String> {
    match root.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Sequence(items)) => Ok(items),
        Some(_) => Err(format!("`{key}` must be a list")),
    }
}

fn unknown_keys(m: &Mapping, known: &[&str], at: &str) -> Vec<String> {
    m.keys()
        .map(|k| k.as_str().map_or_else(|| format!("{k:?}"), str::to_string))
        .filter(|k| !known.contains(&k.as_str()))
        .map(|k| {
            if at.is_empty() {
                format!("unknown key `{k}`, ignored")
            } else {
                format!("{at}: unknown key `{k}`, ignored")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_B32: &str = "FLAVOJXOPVVQV5VLCPBY5EWK4DIVAV5R";

    fn seed() -> TotpSecret {
        TotpSecret::Seed(Zeroizing::new(
            base32::decode(base32::Alphabet::Rfc4648 { padding: false }, SEED_B32).expect("b32"),
        ))
    }

    #[test]
    fn yaml_file_of_the_spec() {
        let text = format!(
            "format: barong-secrets\nversion: 1\nvault_app_name: barong\nexported_at: 2021-06-20T10:00:00Z\n\
             totp:\n  - uid: ID9395650CF9\n    key: {SEED_B32}\n    algorithm: SHA1\n    digits: 6\n    period: 30\n    issuer: Barong\n    account_name: user@example.com\n\
             api_keys:\n  - kid: faa4dd17b2d84284\n    secret: 5de82a5bc539888ac78054a2399ccfc9\n"
        );
        let file = parse(&text).expect("parse");
        assert!(file.warnings.is_empty(), "{:?}", file.warnings);
        let s = merge(&[file], "barong").expect("merge");
        assert_eq!(s.totp.get("ID9395650CF9"), Some(&seed()));
        assert_eq!(
            s.api_keys.get("faa4dd17b2d84284"),
            Some(&KeySecret::Secret(Zeroizing::new("5de82a5bc539888ac78054a2399ccfc9".into())))
        );
    }

    #[test]
    fn json_with_urls_vault_keys_and_b64_plaintexts() {
        let lower = SEED_B32.to_ascii_lowercase();
        let text = format!(
            r#"{{"format":"barong-secrets","version":1,"extra":1,"totp":[
              {{"vault_key":"barong_IDAAAAAAAAAA","url":"otpauth://totp/Barong:a%40b.c?secret={SEED_B32}&issuer=Barong"}},
              {{"uid":"IDBBBBBBBBBB","key":"{lower}===="}},
              {{"uid":"IDCCCCCCCCCC","key":"{SEED_B32}","digits":8}},
              {{"uid":"IDDDDDDDDDDD","key":"not base32!"}},
              {{"uid":"IDEEEEEEEEEE","key":"AAAA"}}],
             "api_keys":[{{"kid":"k1","plaintext_b64":"{}"}},{{"kid":"k2","secret":"has space"}},{{"kid":"k3"}}]}}"#,
            STANDARD.encode("0123456789abcdef0123456789abcdef")
        );
        let file = parse(&text).expect("parse");
        assert_eq!(file.warnings, vec!["unknown key `extra`, ignored".to_string()]);
        let s = merge(&[file], "barong").expect("merge");
        assert_eq!(s.totp.get("IDAAAAAAAAAA"), Some(&seed()));
        assert_eq!(s.totp.get("IDBBBBBBBBBB"), Some(&seed()));
        assert_eq!(s.totp.get("IDCCCCCCCCCC"), Some(&TotpSecret::Unsupported));
        assert_eq!(s.totp.get("IDDDDDDDDDDD"), Some(&TotpSecret::Invalid));
        assert_eq!(s.totp.get("IDEEEEEEEEEE"), Some(&TotpSecret::Invalid));
        assert!(matches!(s.api_keys.get("k1"), Some(KeySecret::Secret(_))));
        assert_eq!(s.api_keys.get("k2"), Some(&KeySecret::Invalid));
        assert_eq!(s.api_keys.get("k3"), Some(&KeySecret::Invalid));
    }

    #[test]
    fn merging_files() {
        let a = parse(&format!("format: barong-secrets\nversion: 1\ntotp:\n  - uid: U1\n    key: {SEED_B32}\n  - uid: U2\n    key: {SEED_B32}\n"))
            .expect("a");
        let b = parse("format: barong-secrets\nversion: 1\ntotp:\n  - uid: U1\n    key: flavojxopvvqv5vlcpby5ewk4divav5r\n  - uid: U2\n    key: AAAAAAAAAAAAAAAAAAAA\n")
            .expect("b");
        let s = merge(&[a, b], "barong").expect("merge");
        assert_eq!(s.totp.get("U1"), Some(&seed()), "identical duplicates are fine");
        assert_eq!(s.totp.get("U2"), Some(&TotpSecret::Conflict));
        let other = parse("format: barong-secrets\nversion: 1\nvault_app_name: peatio\n").expect("other");
        assert!(merge(&[other], "barong").is_err());
        let stray = parse("format: barong-secrets\nversion: 1\ntotp:\n  - vault_key: other_U1\n    key: AAAA\n")
            .expect("stray");
        assert!(merge(&[stray], "barong").is_err());
    }

    #[test]
    fn refused_files_name_the_entry_and_no_secret() {
        for (text, needle) in [
            ("version: 1\n", "format"),
            ("format: barong-secrets\nversion: 2\n", "version"),
            ("format: barong-secrets\nversion: 1\ntotp: {}\n", "totp"),
            ("format: barong-secrets\nversion: 1\ntotp:\n  - key: SECRETSEEDVALUEAA\n", "totp[0]"),
            ("format: barong-secrets\nversion: 1\napi_keys:\n  - secret: topsecretvalue\n", "api_keys[0]"),
            ("- a\n", "mapping"),
            ("format: barong-secrets\nversion: 1\nx: !ruby/object:Foo {}\n", "Ruby"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains("SECRETSEED") && !err.contains("topsecret"), "{err}");
        }
    }

    #[test]
    fn debug_output_hides_secrets() {
        let shown = format!("{:?} {:?}", seed(), KeySecret::Secret(Zeroizing::new("abcdef".into())));
        assert!(!shown.contains("abcdef") && shown.contains("20 bytes"), "{shown}");
    }
}
