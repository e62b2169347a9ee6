//! Barong's encrypted PII columns (`encryption_service.rb`, migration spec §1.4):
//! `<salt>.<b64 ciphertext>--<b64 iv>--<b64 tag>`, AES-256-GCM under
//! PBKDF2-HMAC-SHA1(`SECRET_KEY_BASE`, salt, 65 536, 32 bytes), over a Ruby Marshal dump.

use std::collections::HashMap;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::marshal;

/// ActiveSupport's `KeyGenerator` default.
const PBKDF2_ROUNDS: u32 = 65_536;

/// Derived keys per salt. A database holds a few hundred salts (one per week values were written
/// in), and each derivation costs 65 536 SHA-1 rounds, so they are derived once per import.
pub struct KeyCache {
    secret_key_base: Zeroizing<Vec<u8>>,
    keys: HashMap<String, Zeroizing<[u8; 32]>>,
}

impl KeyCache {
    pub fn new(secret_key_base: &[u8]) -> Self {
        KeyCache { secret_key_base: Zeroizing::new(secret_key_base.to_vec()), keys: HashMap::new() }
    }

    /// How many distinct salts have been met.
    pub fn salts(&self) -> usize {
        self.keys.len()
    }

    fn key(&mut self, salt: &str) -> &[u8; 32] {
        let skb = &self.secret_key_base;
        self.keys.entry(salt.to_string()).or_insert_with(|| {
            let mut key = Zeroizing::new([0u8; 32]);
            pbkdf2::pbkdf2_hmac::<sha1::Sha1>(skb, salt.as_bytes(), PBKDF2_ROUNDS, key.as_mut());
            key
        })
    }
}

/// A decrypted value, reduced to what barong-rs stores.
#[derive(Debug, Clone, PartialEq)]
pub enum Clear {
    Text(String),
    /// `YYYY-MM-DD`.
    Date(String),
    /// Decrypted, but neither a String nor a plain Date (the importer reports `pii_bad_type`).
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiError {
    /// Not Barong's stored form, or a Marshal dump that does not parse.
    Malformed,
    /// The GCM tag does not verify: another `SECRET_KEY_BASE`, or damaged data.
    Undecryptable,
}

/// Decrypts one stored column value.
pub fn decrypt(cache: &mut KeyCache, stored: &str) -> Result<Clear, PiiError> {
    let (salt, message) = split_salt(stored).ok_or(PiiError::Malformed)?;
    let mut parts = message.split("--");
    let (Some(ct), Some(iv), Some(tag), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(PiiError::Malformed);
    };
    let decode = |s: &str| STANDARD.decode(s).map_err(|_| PiiError::Malformed);
    let (mut ct, iv, tag) = (decode(ct)?, decode(iv)?, decode(tag)?);
    if iv.len() != 12 || tag.len() != 16 {
        return Err(PiiError::Malformed);
    }
    ct.extend_from_slice(&tag);
    let cipher = Aes256Gcm::new_from_slice(cache.key(salt)).map_err(|_| PiiError::Malformed)?;
    let plain = Zeroizing::new(
        cipher.decrypt(Nonce::from_slice(&iv), Payload { msg: &ct, aad: b"" }).map_err(|_| PiiError::Undecryptable)?,
    );
    match marshal::load(&plain) {
        Ok(marshal::Value::Text(s)) => Ok(Clear::Text(s)),
        Ok(marshal::Value::Date(d)) => Ok(Clear::Date(d)),
        Ok(marshal::Value::Other) => Ok(Clear::Other),
        Err(marshal::Malformed) => Err(PiiError::Malformed),
    }
}

/// Barong parses with the first match of `(\w*)\.(.*)`: the salt is the run of ASCII word
/// characters right before the first dot, the message everything after it.
fn split_salt(stored: &str) -> Option<(&str, &str)> {
    let dot = stored.find('.')?;
    let head = &stored[..dot];
    let start = head.rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(0, |i| i + 1);
    Some((&head[start..], &stored[dot + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SHA-512 hex of "barong-rs migration test vector" (spec §1.4).
    const SKB: &str = "ce418f7006b777fcb53f00ed26bb8a99dd26cae0b838fc650e4bbaa54aae19e85010d1e00856ef37a8a66a48048d149aa46dcf87b03e95b7d9615ac1b467b454";

    #[test]
    fn derived_keys_match_the_spec() {
        let mut c = KeyCache::new(SKB.as_bytes());
        assert_eq!(hex::encode(c.key("202124")), "fe1e54a9e61aac2cfc413ae59579d2a713b6ab597e4f167571a2091fde733119");
        assert_eq!(hex::encode(c.key("201853")), "3dbd4e5a88f6b944f64256124f20fc6278db3f534c403a929e3c450e4e5a6db1");
        let mut empty = KeyCache::new(b"");
        assert_eq!(
            hex::encode(empty.key("202124")),
            "34e97b21337bdbc6c454e26173022d5e051afbefb787e5dee3f5fa41f8f75368"
        );
        assert_eq!(c.salts(), 2);
    }

    #[test]
    fn spec_vectors_decrypt() {
        let mut c = KeyCache::new(SKB.as_bytes());
        let text = |s: &str| Ok(Clear::Text(s.to_string()));
        let date = |s: &str| Ok(Clear::Date(s.to_string()));
        assert_eq!(
            decrypt(&mut c, "202124.lmJ02KpvEeDnX/8oqGVb--AAECAwQFBgcICQoL--uuZpMGWhKuTofb5dFeyizA=="),
            text("Alice")
        );
        assert_eq!(
            decrypt(&mut c, "202124.hTpZytwLsDRu2xFm7zQ=--DA0ODxAREhMUFRYX--5A7uIdCVPieth1Aehi+EQQ=="),
            text("Zoë")
        );
        assert_eq!(
            decrypt(
                &mut c,
                "202124.DlgwLEolDmvsY47/C0WfSdskoFVf2MPwVPiA0A9J+32i--GBkaGxwdHh8gISIj--NEBr247bZ0j1Ty+Buz4Oxw=="
            ),
            date("1990-05-17")
        );
        assert_eq!(
            decrypt(&mut c, "201853.AjZaUBHQUk5w3Y6T1FHxFUXqXROyTQ==--JCUmJygpKissLS4v--QRAR8EicOu9CjVM/Puysag=="),
            text("447418084106")
        );
        assert_eq!(
            decrypt(&mut c, "202124.ZeHIUiVYSKYiWM5B78/3H0mcZ37SVIbiT68=--h8IRH9ezzFnK+QMQ--pvQ8+6ymc8fV8gt223pU9w=="),
            text("Kateryna Łęcka")
        );
        assert_eq!(
            decrypt(
                &mut c,
                "202100.7egKn1TbZPAXcgGrq4j/wFhbaBqdEM6pym4Ob/6+KGG7--gClKDyahRyjehi8o--XHVUxXdB0IcHcvxYQbKcoA=="
            ),
            date("1975-12-31")
        );
        let mut empty = KeyCache::new(b"");
        assert_eq!(
            decrypt(&mut empty, "202124.D+4anqtlVkGA80CSWwjewto2+A==--MDEyMzQ1Njc4OTo7--bRZRmauF041EjOzrzes2Pw=="),
            text("AB1234567")
        );
    }

    #[test]
    fn wrong_key_and_damage_are_told_apart() {
        let vector = "202124.lmJ02KpvEeDnX/8oqGVb--AAECAwQFBgcICQoL--uuZpMGWhKuTofb5dFeyizA==";
        assert_eq!(decrypt(&mut KeyCache::new(b"other"), vector), Err(PiiError::Undecryptable));
        let mut c = KeyCache::new(SKB.as_bytes());
        // Another salt derives another key.
        assert_eq!(decrypt(&mut c, &vector.replacen("202124", "202125", 1)), Err(PiiError::Undecryptable));
        for bad in [
            "",
            "no-dot",
            "202124.",
            "202124.a--b",
            "202124.!!--AAECAwQFBgcICQoL--uuZpMGWhKuTofb5dFeyizA==",
            "202124.lmJ02KpvEeDnX/8oqGVb--AAECAwQF--uuZpMGWhKuTofb5dFeyizA==",
            "202124.a--b--c--d",
        ] {
            assert_eq!(decrypt(&mut c, bad), Err(PiiError::Malformed), "{bad}");
        }
    }

    #[test]
    fn salt_is_the_word_run_before_the_first_dot() {
        assert_eq!(split_salt("202124.abc"), Some(("202124", "abc")));
        assert_eq!(split_salt("x-2021.a.b"), Some(("2021", "a.b")));
        assert_eq!(split_salt(".abc"), Some(("", "abc")));
        assert_eq!(split_salt("abc"), None);
    }
}
