//! Keychain values: base64 (URL-safe or standard) of a PEM public key. The accepted algorithms
//! come from the key itself, never from a token's header alone (W2: Barong let `HS256` with the
//! public key's PEM as secret pass as a signature).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// A readable signer key.
#[derive(Debug, Clone, PartialEq)]
pub struct LintedKey {
    /// `RSA-2048`, `EC-P256`, `EC-P384`.
    pub kind: String,
    /// The algorithm the file names, if any.
    pub configured: Option<String>,
    /// JWS algorithm names signatures by this key are accepted with.
    pub accepted: Vec<String>,
    /// The key as PEM, for the verifier.
    pub pem: String,
    /// SHA-256 (hex) of its SubjectPublicKeyInfo.
    pub fingerprint: String,
}

const RSA_ALGORITHMS: [&str; 6] = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512"];

/// The key `id` of the file, or the error that stops start-up; warnings about a configured
/// algorithm that is ignored go to `warnings`.
pub fn signer_key(
    id: &str,
    configured: Option<&str>,
    value: &str,
    warnings: &mut Vec<String>,
) -> Result<LintedKey, String> {
    let invalid = || format!("key {id}: Invalid public key format for key {id}");
    let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
    let compact = compact.trim_end_matches('=');
    let bytes = URL_SAFE_NO_PAD.decode(compact).or_else(|_| STANDARD_NO_PAD.decode(compact)).map_err(|_| invalid())?;
    let pem = String::from_utf8(bytes).map_err(|_| invalid())?;
    if pem.contains("PRIVATE KEY") {
        return Err(format!("key {id}: a private key; the keychain holds public keys only"));
    }
    let (kind, accepted, der) = key_kind(&pem).ok_or_else(invalid)?.map_err(|e| format!("key {id}: {e}"))?;
    let accepted = match configured {
        None => accepted,
        Some(a) if a.to_ascii_uppercase().starts_with("HS") => {
            warnings.push(format!(
                "key {id}: algorithm {a} is HMAC; ignored, the {kind} key's algorithms are accepted instead (W2)"
            ));
            accepted
        }
        Some(a) if accepted.iter().any(|x| x == a) => vec![a.to_string()],
        Some(a) => {
            warnings.push(format!("key {id}: algorithm {a} does not fit a {kind} key; ignored"));
            accepted
        }
    };
    Ok(LintedKey {
        kind,
        configured: configured.map(str::to_string),
        accepted,
        pem,
        fingerprint: hex::encode(Sha256::digest(&der)),
    })
}

type Kind = (String, Vec<String>, Vec<u8>);

/// The key type of a PEM public key with its accepted algorithms and SPKI DER: `None` when it is
/// no key we know, `Some(Err)` when it is one we refuse (short RSA, another curve).
fn key_kind(pem: &str) -> Option<Result<Kind, String>> {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
    use rsa::traits::PublicKeyParts;
    let names = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    if let Ok(k) = rsa::RsaPublicKey::from_public_key_pem(pem).or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(pem)) {
        let bits = k.n().bits();
        if bits < 2048 {
            return Some(Err(format!("RSA key of {bits} bits; at least 2048 are required")));
        }
        return Some(
            k.to_public_key_der()
                .map(|d| (format!("RSA-{bits}"), names(&RSA_ALGORITHMS), d.as_bytes().to_vec()))
                .map_err(|_| "unreadable RSA key".to_string()),
        );
    }
    if let Ok(k) = p256::PublicKey::from_public_key_pem(pem) {
        let der = p256::pkcs8::EncodePublicKey::to_public_key_der(&k).map_err(|_| "unreadable EC key".to_string());
        return Some(der.map(|d| ("EC-P256".to_string(), names(&["ES256"]), d.as_bytes().to_vec())));
    }
    if let Ok(k) = p384::PublicKey::from_public_key_pem(pem) {
        let der = p384::pkcs8::EncodePublicKey::to_public_key_der(&k).map_err(|_| "unreadable EC key".to_string());
        return Some(der.map(|d| ("EC-P384".to_string(), names(&["ES384"]), d.as_bytes().to_vec())));
    }
    if pem.contains("PUBLIC KEY") {
        return Some(Err("unsupported key type or curve (RSA of at least 2048 bits, EC P-256 or P-384)".into()));
    }
    None
}
