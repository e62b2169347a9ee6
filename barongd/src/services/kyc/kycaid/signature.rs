//! KYCAID's callback signature: header `x-data-integrity` = lowercase hex of
//! HMAC-SHA512(key = the API token, message = base64 of the raw body). Barong accepted the
//! callback from anyone (docs/barong-weaknesses-fixed.md#w-kyc-callback); barongd acts only on a
//! signed one.

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha512;

/// The header KYCAID signs its callbacks in.
pub const HEADER: &str = "x-data-integrity";

/// Whether `signature` (hex) is KYCAID's signature of `body` under `token`, compared in
/// constant time.
pub fn verify(token: &str, body: &[u8], signature: &str) -> bool {
    let Ok(tag) = hex::decode(signature.trim()) else { return false };
    let Ok(mut mac) = Hmac::<Sha512>::new_from_slice(token.as_bytes()) else { return false };
    mac.update(base64::engine::general_purpose::STANDARD.encode(body).as_bytes());
    mac.verify_slice(&tag).is_ok()
}

/// The signature KYCAID would send for `body` (for tests and for operators checking a setup).
pub fn sign(token: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha512>::new_from_slice(token.as_bytes()).expect("HMAC takes any key length");
    mac.update(base64::engine::general_purpose::STANDARD.encode(body).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_tokens_signature_of_these_bytes_passes() {
        let body = br#"{"verification_id":"v1","applicant_id":"a1"}"#;
        let good = sign("tok", body);
        assert_eq!(good.len(), 128);
        assert!(verify("tok", body, &good));
        assert!(verify("tok", body, &good.to_ascii_uppercase()), "hex case does not matter");
        assert!(!verify("other", body, &good));
        assert!(!verify("tok", br#"{"verification_id":"v2","applicant_id":"a1"}"#, &good));
        assert!(!verify("tok", body, &good[..64]));
        assert!(!verify("tok", body, ""));
        assert!(!verify("tok", body, "not hex"));
    }
}
