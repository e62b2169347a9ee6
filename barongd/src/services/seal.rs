//! Sealing secrets at rest (TOTP seeds, API-key secrets, JWT private keys, PII) with AES-256-GCM
//! under the master key. The master key comes from `BARONG_MASTER_KEY` (64 hex chars, the same on
//! every daemon sharing a database) or from `<data-dir>/keys/master.key`, generated only for a new
//! SQLite database (`services::operator::master_key::fingerprint`).

use std::io::Write;
use std::path::Path;
use std::sync::{Arc, RwLock};

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD_NO_PAD as B64;

const PREFIX: &str = "v1:";

/// One master key's two uses.
#[derive(Clone)]
struct MasterKey {
    cipher: Aes256Gcm,
    /// HMAC key for lookup indexes, derived from the master key so that one secret still
    /// governs everything at rest, but distinct from the encryption key.
    index_key: [u8; 32],
    id: String,
}

/// The key that seals, and while a master-key rotation runs the key it replaces, which still
/// opens what has not been re-sealed yet.
#[derive(Clone)]
struct Ring {
    current: Arc<MasterKey>,
    previous: Option<Arc<MasterKey>>,
}

/// Clones share one ring, so a rotation that starts or ends reaches every holder at once.
#[derive(Clone)]
pub struct Sealer {
    ring: Arc<RwLock<Ring>>,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([redacted])")
    }
}

impl MasterKey {
    fn new(key: &[u8; 32]) -> Self {
        let index_key = hmac_sha256(key, b"barong-rs lookup index v1");
        MasterKey { cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key)), index_key, id: key_id(key) }
    }

    fn blind_index(&self, domain: &str, value: &str) -> String {
        let mut msg = Vec::with_capacity(domain.len() + 1 + value.len());
        msg.extend_from_slice(domain.as_bytes());
        msg.push(0);
        msg.extend_from_slice(value.as_bytes());
        hex::encode(hmac_sha256(&self.index_key, &msg))
    }

    fn sign_url(&self, message: &str) -> String {
        let key = hmac_sha256(&self.index_key, b"barong-rs signed url v1");
        hex::encode(hmac_sha256(&key, message.as_bytes()))
    }

    fn open(&self, raw: &[u8]) -> Option<Vec<u8>> {
        let (nonce, ct) = raw.split_at(12);
        self.cipher.decrypt(Nonce::from_slice(nonce), ct).ok()
    }
}

/// A public name of a master key (it tells which key a rotation goes from and to, and cannot be
/// turned back into the key).
pub fn key_id(key: &[u8; 32]) -> String {
    hex::encode(&hmac_sha256(key, b"barong-rs master key id v1")[..8])
}

/// A fresh random master key, as hex (what `BARONG_MASTER_KEY` and key files hold).
pub fn new_key_hex() -> zeroize::Zeroizing<String> {
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key[..]);
    zeroize::Zeroizing::new(hex::encode(&key[..]))
}

/// Writes a fresh master key to `path` (0600, never over an existing file).
pub fn write_new_key_file(path: &Path) -> Result<(), String> {
    write_private_file(path, new_key_hex().as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Parses a master key as written in `BARONG_MASTER_KEY` or a key file.
pub fn parse_key(hex_key: &str) -> Result<[u8; 32], String> {
    let bytes = hex::decode(hex_key.trim()).map_err(|_| "master key: expected 64 hex characters".to_string())?;
    bytes.try_into().map_err(|_| "master key: expected 64 hex characters".to_string())
}

impl Sealer {
    pub fn from_key(key: &[u8; 32]) -> Self {
        Sealer { ring: Arc::new(RwLock::new(Ring { current: Arc::new(MasterKey::new(key)), previous: None })) }
    }

    fn ring(&self) -> Ring {
        // A poisoned lock still holds a whole ring: it is only ever replaced in one assignment.
        self.ring.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// From now on seal under `next`; the current key still opens (and its indexes still find)
    /// what is not re-sealed yet.
    pub fn begin_rotation(&self, next: &[u8; 32]) {
        let mut ring = self.ring.write().unwrap_or_else(|e| e.into_inner());
        if ring.current.id == key_id(next) {
            return;
        }
        let previous = std::mem::replace(&mut ring.current, Arc::new(MasterKey::new(next)));
        ring.previous = Some(previous);
    }

    /// Every value is sealed under the current key: the previous one opens nothing any more.
    pub fn end_rotation(&self) {
        self.ring.write().unwrap_or_else(|e| e.into_inner()).previous = None;
    }

    /// The id of the key that seals, and of the previous one while a rotation runs.
    pub fn key_ids(&self) -> (String, Option<String>) {
        let ring = self.ring();
        (ring.current.id.clone(), ring.previous.map(|p| p.id.clone()))
    }

    /// Every index `value` may be stored under: the current key's first, then (during a
    /// rotation) the previous key's, so lookups find rows not re-indexed yet.
    pub fn blind_indexes(&self, domain: &str, value: &str) -> Vec<String> {
        let ring = self.ring();
        std::iter::once(&ring.current).chain(ring.previous.as_ref()).map(|k| k.blind_index(domain, value)).collect()
    }

    /// Whether `sealed` opens with the current key alone (a rotation leaves such values alone).
    pub fn opens_with_current(&self, sealed: &str) -> bool {
        decode(sealed).ok().is_some_and(|raw| self.ring().current.open(&raw).is_some())
    }

    /// A keyed lookup index of a sealed value (a phone number, a document number), so equal
    /// values can be found without storing them in the clear. Barong used `crc32(value + salt)`
    /// with an empty default salt: 32 bits that anyone could recompute
    /// (docs/barong-weaknesses-fixed.md#w-pii-index). `domain` keeps indexes of different kinds apart.
    pub fn blind_index(&self, domain: &str, value: &str) -> String {
        self.ring().current.blind_index(domain, value)
    }

    /// Signs a URL's meaning (`message`, e.g. what it opens and until when) so that links we hand
    /// out cannot be forged or extended. The key is derived from the master key, apart from the
    /// index key's use.
    pub fn sign_url(&self, message: &str) -> String {
        self.ring().current.sign_url(message)
    }

    /// Checks a `sign_url` signature in constant time; during a rotation a link signed under the
    /// previous key stays valid until it expires or the rotation ends.
    pub fn verify_url(&self, message: &str, signature: &str) -> bool {
        use subtle::ConstantTimeEq;
        let ring = self.ring();
        std::iter::once(&ring.current).chain(ring.previous.as_ref()).any(|k| {
            let expected = k.sign_url(message);
            expected.len() == signature.len() && bool::from(expected.as_bytes().ct_eq(signature.as_bytes()))
        })
    }

    /// Loads the master key: the env value if given, else the key file, which must exist (the
    /// start-up decides whether one may be made: `master_key::fingerprint`).
    pub fn load(env_value: Option<&str>, key_file: &Path) -> Result<Self, String> {
        let hex_key = match env_value {
            Some(v) => zeroize::Zeroizing::new(v.trim().to_string()),
            None => zeroize::Zeroizing::new(
                std::fs::read_to_string(key_file)
                    .map_err(|e| format!("cannot read {}: {e}", key_file.display()))?
                    .trim()
                    .to_string(),
            ),
        };
        Ok(Sealer::from_key(&parse_key(&hex_key)?))
    }

    pub fn seal(&self, plaintext: &[u8]) -> String {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        let ct = self.ring().current.cipher.encrypt(&nonce, plaintext).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("{PREFIX}{}", B64.encode(out))
    }

    /// Opens under the current key, else (during a rotation) the previous one: the GCM tag tells
    /// which key sealed a value, so values need not name their key.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, String> {
        let raw = decode(sealed)?;
        let ring = self.ring();
        ring.current
            .open(&raw)
            .or_else(|| ring.previous.as_ref().and_then(|p| p.open(&raw)))
            .ok_or_else(|| "sealed value does not open with this master key".to_string())
    }

    pub fn open_string(&self, sealed: &str) -> Result<String, String> {
        String::from_utf8(self.open(sealed)?).map_err(|_| "sealed value is not UTF-8".to_string())
    }
}

fn decode(sealed: &str) -> Result<Vec<u8>, String> {
    let body = sealed.strip_prefix(PREFIX).ok_or("unknown sealed format")?;
    let raw = B64.decode(body).map_err(|_| "sealed value is not base64")?;
    if raw.len() < 12 + 16 {
        return Err("sealed value too short".into());
    }
    Ok(raw)
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
    fn during_a_rotation_both_keys_open_and_index_and_the_new_one_seals() {
        let s = Sealer::from_key(&[1u8; 32]);
        let old_sealed = s.seal(b"old");
        let old_index = s.blind_index("phone", "1");
        let old_sig = s.sign_url("m");
        s.clone().begin_rotation(&[2u8; 32]);
        assert_eq!(s.open(&old_sealed).expect("old opens"), b"old");
        assert!(!s.opens_with_current(&old_sealed));
        let new_sealed = s.seal(b"new");
        assert!(s.opens_with_current(&new_sealed));
        assert!(Sealer::from_key(&[1u8; 32]).open(&new_sealed).is_err());
        assert_eq!(s.blind_indexes("phone", "1"), vec![s.blind_index("phone", "1"), old_index]);
        assert!(s.verify_url("m", &old_sig));
        assert_eq!(s.key_ids(), (key_id(&[2u8; 32]), Some(key_id(&[1u8; 32]))));
        s.end_rotation();
        assert!(s.open(&old_sealed).is_err());
        assert!(!s.verify_url("m", &old_sig));
        assert_eq!(s.blind_indexes("phone", "1").len(), 1);
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("master.key");
        assert!(Sealer::load(None, &path).is_err(), "a missing file is not made by load");
        write_new_key_file(&path).expect("creates");
        let a = Sealer::load(None, &path).expect("loads");
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(write_new_key_file(&path).is_err(), "never over an existing key");
        let b = Sealer::load(None, &path).expect("reloads");
        assert_eq!(b.open(&a.seal(b"x")).expect("same key"), b"x");
        assert!(Sealer::load(Some("abc"), &path).is_err());
        assert_ne!(*new_key_hex(), *new_key_hex());
    }
}
