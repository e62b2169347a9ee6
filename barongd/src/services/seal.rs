//! Sealing secrets at rest (TOTP seeds, API-key secrets, JWT private keys, PII) with AES-256-GCM
//! under the master key. The master key comes from `BARONG_MASTER_KEY` (64 hex chars, the same on
//! every daemon sharing a database) or from `<data-dir>/keys/master.key`, generated when absent.

use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;

const PREFIX: &str = "v1:";

#[derive(Clone)]
pub struct Sealer {
    cipher: Aes256Gcm,
    /// HMAC key for lookup indexes, derived from the master key so that one secret still
    /// governs everything at rest, but distinct from the encryption key.
    index_key: [u8; 32],
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl Sealer {
    pub fn from_key(key: &[u8; 32]) -> Self {
        let index_key = hmac_sha256(key, b"barong-rs lookup index v1");
        Sealer { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)), index_key }
    }

    /// A keyed lookup index of a sealed value (a phone number, a document number), so equal
    /// values can be found without storing them in the clear. Barong used `crc32(value + salt)`
    /// with an empty default salt: 32 bits that anyone could recompute
    /// (docs/barong-weaknesses-fixed.md#w-pii-index). `domain` keeps indexes of different kinds apart.
    pub fn blind_index(&self, domain: &str, value: &str) -> String {
        let mut msg = Vec::with_capacity(domain.len() + 1 + value.len());
        msg.extend_from_slice(domain.as_bytes());
        msg.push(0);
        msg.extend_from_slice(value.as_bytes());
        hex::encode(hmac_sha256(&self.index_key, &msg))
    }

    /// Signs a URL's meaning (`message`, e.g. what it opens and until when) so that links we hand
    /// out cannot be forged or extended. The key is derived from the master key, apart from the
    /// index key's use.
    pub fn sign_url(&self, message: &str) -> String {
        let key = hmac_sha256(&self.index_key, b"barong-rs signed url v1");
        hex::encode(hmac_sha256(&key, message.as_bytes()))
    }

    /// Checks a `sign_url` signature in constant time.
    pub fn verify_url(&self, message: &str, signature: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.sign_url(message);
        expected.len() == signature.len() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
    }

    /// Loads the master key: env value if given, else the key file (created 0600 when absent).
    pub fn load(env_value: Option<&str>, key_file: &Path) -> Result<Self, String> {
        let hex_key = match env_value {
            Some(v) => v.trim().to_string(),
            None => {
                if !key_file.exists() {
                    let mut key = [0u8; 32];
                    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
                    write_private_file(key_file, hex::encode(key).as_bytes())
                        .map_err(|e| format!("cannot write {}: {e}", key_file.display()))?;
                }
                std::fs::read_to_string(key_file)
                    .map_err(|e| format!("cannot read {}: {e}", key_file.display()))?
                    .trim()
                    .to_string()
            }
        };
        let bytes = hex::decode(&hex_key).map_err(|_| "master key: expected 64 hex characters".to_string())?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| "master key: expected 64 hex characters".to_string())?;
        Ok(Sealer::from_key(&key))
    }

    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        let ct = self.cipher.encrypt(&nonce, plaintext).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", B64.encode(out))
    }

    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, String> {
        let body = sealed.strip_prefix(PREFIX).ok_or("unknown sealed format")?;
        let raw = B64.decode(body).map_err(|_| "sealed value is not base64")?;
        if raw.len() < 12 + 16 {
            return Err("sealed value too short".into());
        }
        let (nonce, ct) = raw.split_at(12);
        self.cipher
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| "sealed value does not open with this master key".to_string())
    }

    pub fn open_string(&self, sealed: &str) -> Result<String, String> {
        String::from_utf8(self.open(sealed)?).map_err(|_| "sealed value is not UTF-8".to_string())
    }
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(msg);
    mac.finalize().into_bytes().into()
}

/// Writes a file readable by its owner only; the mode is set at creation, never widened.
pub fn write_private_file(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blind_indexes_are_keyed_and_separated_by_domain() {
        let s = Sealer::from_key(&[7u8; 32]);
        let a = s.blind_index("phone", "447418084106");
        assert_eq!(a, s.blind_index("phone", "447418084106"));
        assert_eq!(a.len(), 64);
        assert_ne!(a, s.blind_index("document", "447418084106"));
        assert_ne!(a, Sealer::from_key(&[8u8; 32]).blind_index("phone", "447418084106"));
    }

    #[test]
    fn url_signatures_are_keyed_and_checked() {
        let s = Sealer::from_key(&[7u8; 32]);
        let sig = s.sign_url("document:1:100");
        assert!(s.verify_url("document:1:100", &sig));
        assert!(!s.verify_url("document:1:101", &sig));
        assert!(!s.verify_url("document:1:100", &sig[1..]));
        assert!(!Sealer::from_key(&[8u8; 32]).verify_url("document:1:100", &sig));
        assert_ne!(sig, s.blind_index("document", "1:100"));
    }

    #[test]
    fn seal_round_trips_and_hides_the_plaintext() {
        let s = Sealer::from_key(&[7u8; 32]);
        let sealed = s.seal(b"JBSWY3DPEHPK3PXP");
        assert!(!sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_eq!(s.open(&sealed).expect("opens"), b"JBSWY3DPEHPK3PXP");
        assert_ne!(sealed, s.seal(b"JBSWY3DPEHPK3PXP"), "nonces differ");
    }

    #[test]
    fn wrong_key_or_tampering_is_refused() {
        let a = Sealer::from_key(&[1u8; 32]);
        let b = Sealer::from_key(&[2u8; 32]);
        let sealed = a.seal(b"secret");
        assert!(b.open(&sealed).is_err());
        let mut t = sealed.clone();
        t.pop();
        t.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(a.open(&t).is_err());
        assert!(a.open("garbage").is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        let a = Sealer::load(None, &path).expect("creates");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let b = Sealer::load(None, &path).expect("reloads");
        assert_eq!(b.open(&a.seal(b"x")).expect("same key"), b"x");
        assert!(Sealer::load(Some("abc"), &path).is_err());
    }
}
