//! The API-key headers (`X-Auth-Apikey`, `X-Auth-Nonce`, `X-Auth-Signature`) as the gateway and
//! the resource API read them, before any key is looked up: pure, so they are fuzzed alone.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The three headers, trimmed and non-empty.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyHeaders {
    pub kid: String,
    pub nonce: String,
    pub signature: String,
}

impl ApiKeyHeaders {
    /// `None` unless all three headers are present and not blank.
    pub fn parse(apikey: Option<&str>, nonce: Option<&str>, signature: Option<&str>) -> Option<ApiKeyHeaders> {
        let filled = |h: Option<&str>| h.map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
        Some(ApiKeyHeaders { kid: filled(apikey)?, nonce: filled(nonce)?, signature: filled(signature)? })
    }

    /// The nonce in milliseconds as Ruby's `to_i` reads it: its leading digits, anything else
    /// (or a number too large) is 0, which the caller refuses as not a timestamp.
    pub fn nonce_ms(&self) -> i64 {
        let digits = self.nonce.bytes().take_while(u8::is_ascii_digit).count();
        self.nonce[..digits].parse().unwrap_or(0)
    }

    /// Whether the signature is the hex HMAC-SHA256 of nonce then kid under `secret` (either
    /// case), compared in constant time.
    pub fn signed_by(&self, secret: &[u8]) -> bool {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else { return false };
        mac.update(self.nonce.as_bytes());
        mac.update(self.kid.as_bytes());
        let expected = hex::encode(mac.finalize().into_bytes());
        subtle::ConstantTimeEq::ct_eq(self.signature.to_ascii_lowercase().as_bytes(), expected.as_bytes()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_trimmed_and_all_required() {
        let h = ApiKeyHeaders::parse(Some(" k "), Some("12x"), Some("S")).expect("all three");
        assert_eq!((h.kid.as_str(), h.nonce_ms()), ("k", 12));
        assert_eq!(ApiKeyHeaders::parse(Some("k"), Some("  "), Some("s")), None);
        assert_eq!(ApiKeyHeaders::parse(Some("k"), Some("1"), None), None);
        let h = ApiKeyHeaders::parse(Some("k"), Some("99999999999999999999"), Some("s")).expect("parsed");
        assert_eq!(h.nonce_ms(), 0, "too large is not a timestamp");
    }

    #[test]
    fn signature_is_hmac_of_nonce_and_kid_in_either_case() {
        let mut mac = Hmac::<Sha256>::new_from_slice(b"secret").expect("any key length");
        mac.update(b"1700000000000kid1");
        let sig = hex::encode(mac.finalize().into_bytes());
        let h = |s: &str| ApiKeyHeaders::parse(Some("kid1"), Some("1700000000000"), Some(s)).expect("parsed");
        assert!(h(&sig).signed_by(b"secret"));
        assert!(h(&sig.to_ascii_uppercase()).signed_by(b"secret"));
        assert!(!h(&sig).signed_by(b"other"));
        assert!(!h(&sig[1..]).signed_by(b"secret"));
    }
}
