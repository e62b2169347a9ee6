//! API-key secrets as vault-rails stored them in `apikeys.secret_encrypted` (migration spec §1.7):
//! `vault:dev:` (non-production Barong, decryptable without Vault) and `vault:vN:` (Vault transit,
//! decryptable only with Vault or an exported transit key).

use std::collections::BTreeMap;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use md5::{Digest, Md5};
use zeroize::Zeroizing;

/// What a `secret_encrypted` value is, by its prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ciphertext {
    Dev,
    Transit { version: u32 },
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VaultError {
    /// Not a value of the expected form.
    Malformed,
    /// The key does not open it (wrong key, damaged value).
    Undecryptable,
    /// A transit key version the export does not hold.
    NoKeyVersion,
    /// It opened, but the clear value is not a secret Barong could have made (§2.8.2).
    NotASecret,
}

pub fn classify(stored: &str) -> Ciphertext {
    if stored.starts_with("vault:dev:") {
        return Ciphertext::Dev;
    }
    match transit_parts(stored) {
        Some((version, _)) => Ciphertext::Transit { version },
        None => Ciphertext::Unknown,
    }
}

/// vault-rails' development mode: AES-128-CBC, key MD5("transit" + key name), zero IV, PKCS#7.
pub fn decrypt_dev(stored: &str, key_name: &str) -> Result<String, VaultError> {
    let body = stored.strip_prefix("vault:dev:").ok_or(VaultError::Malformed)?;
    let mut data = Zeroizing::new(STANDARD.decode(body).map_err(|_| VaultError::Malformed)?);
    let key: Zeroizing<[u8; 16]> =
        Zeroizing::new(Md5::new().chain_update(b"transit").chain_update(key_name.as_bytes()).finalize().into());
    let cipher = cbc::Decryptor::<aes::Aes128>::new_from_slices(key.as_slice(), &[0u8; 16])
        .map_err(|_| VaultError::Malformed)?;
    let plain = cipher.decrypt_padded_mut::<Pkcs7>(&mut data[..]).map_err(|_| VaultError::Undecryptable)?;
    let secret = String::from_utf8(plain.to_vec()).map_err(|_| VaultError::NotASecret)?;
    check_secret(&secret)?;
    Ok(secret)
}

/// The versions of a transit key, as `GET transit/export/encryption-key/<name>` returns them.
pub struct TransitKeys {
    keys: BTreeMap<u32, Zeroizing<[u8; 32]>>,
}

impl TransitKeys {
    /// Accepts Vault's whole response (`{"data": {"keys": {...}}}`) or its `data` object.
    pub fn from_export_json(json: &str) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| format!("not JSON: {e}"))?;
        let keys = v
            .get("data")
            .unwrap_or(&v)
            .get("keys")
            .and_then(|k| k.as_object())
            .ok_or("no `keys` object (expected the output of transit/export/encryption-key)")?;
        let mut out = BTreeMap::new();
        for (version, b64) in keys {
            let n: u32 = version.parse().map_err(|_| format!("key version `{version}` is not a number"))?;
            let bytes = Zeroizing::new(
                b64.as_str().and_then(|s| STANDARD.decode(s).ok()).ok_or(format!("key version {n}: not Base64"))?,
            );
            let key: [u8; 32] = bytes
                .as_slice()
                .try_into()
                .map_err(|_| format!("key version {n}: {} bytes, an aes256-gcm96 key has 32", bytes.len()))?;
            out.insert(n, Zeroizing::new(key));
        }
        if out.is_empty() {
            return Err("the export holds no key version".into());
        }
        Ok(TransitKeys { keys: out })
    }
}

/// Offline transit decryption: `vault:vN:` + Base64(12-byte nonce ‖ ciphertext ‖ tag).
pub fn decrypt_transit(stored: &str, keys: &TransitKeys) -> Result<String, VaultError> {
    let (version, body) = transit_parts(stored).ok_or(VaultError::Malformed)?;
    let key = keys.keys.get(&version).ok_or(VaultError::NoKeyVersion)?;
    let data = STANDARD.decode(body).map_err(|_| VaultError::Malformed)?;
    if data.len() < 12 + 16 {
        return Err(VaultError::Malformed);
    }
    let cipher = Aes256Gcm::new_from_slice(key.as_slice()).map_err(|_| VaultError::Malformed)?;
    let plain = Zeroizing::new(
        cipher.decrypt(Nonce::from_slice(&data[..12]), &data[12..]).map_err(|_| VaultError::Undecryptable)?,
    );
    let secret = String::from_utf8(plain.to_vec()).map_err(|_| VaultError::NotASecret)?;
    check_secret(&secret)?;
    Ok(secret)
}

/// A secret Barong could have issued, for the HMAC check to use unchanged: printable ASCII, at
/// most 128 bytes (Barong's are 32 hex characters).
pub fn check_secret(clear: &str) -> Result<(), VaultError> {
    if clear.is_empty() || clear.len() > 128 || !clear.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err(VaultError::NotASecret);
    }
    Ok(())
}

fn transit_parts(stored: &str) -> Option<(u32, &str)> {
    let rest = stored.strip_prefix("vault:v")?;
    let (version, body) = rest.split_once(':')?;
    if version.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((version.parse().ok()?, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn dev_vector() {
        let stored = "vault:dev:eG5d33A+pmutzvmQymwUh4/JRAdwXhdvbW8kTdqpnKITv1+GN84kOmJD0LgRocvL";
        assert_eq!(classify(stored), Ciphertext::Dev);
        assert_eq!(decrypt_dev(stored, "barong_apikeys_secret").as_deref(), Ok(SECRET));
        // Another application name derives another key: the padding no longer checks.
        assert!(decrypt_dev(stored, "other_apikeys_secret").is_err());
        assert_eq!(decrypt_dev("vault:dev:***", "barong_apikeys_secret"), Err(VaultError::Malformed));
    }

    #[test]
    fn transit_vector() {
        let stored = "vault:v1:AAAAAAAAAAAAAAAAPo2H7YEZtYowkchXe0j0/+JyZGActFYYuKfS4aabODDA/2x87YisxcAKqA0lTCR2";
        assert_eq!(classify(stored), Ciphertext::Transit { version: 1 });
        let key: Vec<u8> = (0u8..32).collect();
        let export =
            format!(r#"{{"data":{{"name":"barong_apikeys_secret","keys":{{"1":"{}"}}}}}}"#, STANDARD.encode(&key));
        let keys = TransitKeys::from_export_json(&export).expect("export");
        assert_eq!(decrypt_transit(stored, &keys).as_deref(), Ok(SECRET));
        assert_eq!(decrypt_transit(&stored.replacen("v1", "v2", 1), &keys), Err(VaultError::NoKeyVersion));
        let other = TransitKeys::from_export_json(&format!(r#"{{"keys":{{"1":"{}"}}}}"#, STANDARD.encode([7u8; 32])))
            .expect("export");
        assert_eq!(decrypt_transit(stored, &other), Err(VaultError::Undecryptable));
    }

    #[test]
    fn exports_and_values_that_are_refused() {
        for bad in ["", "[]", r#"{"keys":{}}"#, r#"{"keys":{"x":"AA=="}}"#, r#"{"keys":{"1":"AAAA"}}"#] {
            assert!(TransitKeys::from_export_json(bad).is_err(), "{bad}");
        }
        assert_eq!(classify("vault:vx:abc"), Ciphertext::Unknown);
        assert_eq!(classify("plain"), Ciphertext::Unknown);
        assert_eq!(check_secret("has space"), Err(VaultError::NotASecret));
        assert_eq!(check_secret(&"a".repeat(129)), Err(VaultError::NotASecret));
        assert_eq!(check_secret(""), Err(VaultError::NotASecret));
        assert_eq!(check_secret(SECRET), Ok(()));
    }
}
