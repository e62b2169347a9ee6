//! The API-key headers: all three are needed and come out trimmed; the nonce is its leading
//! digits or 0; the signature is accepted exactly when it is the HMAC of nonce and kid, in
//! either case.
#![no_main]

use barongd::services::gateway::api_key_headers::ApiKeyHeaders;
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;

fn filled(h: Option<&str>) -> bool {
    h.is_some_and(|s| !s.trim().is_empty())
}

fuzz_target!(|input: (Option<&str>, Option<&str>, Option<&str>, &[u8])| {
    let (apikey, nonce, signature, secret) = input;
    let parsed = ApiKeyHeaders::parse(apikey, nonce, signature);
    assert_eq!(parsed.is_some(), filled(apikey) && filled(nonce) && filled(signature));
    let Some(h) = parsed else { return };
    for field in [&h.kid, &h.nonce, &h.signature] {
        assert!(!field.is_empty() && field.trim() == field.as_str());
    }
    let nonce_ms = h.nonce_ms();
    assert!(nonce_ms >= 0);
    if nonce_ms > 0 {
        let digits = h.nonce.trim_start_matches('0');
        assert!(digits.starts_with(&nonce_ms.to_string()), "{:?} -> {nonce_ms}", h.nonce);
    }

    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(h.nonce.as_bytes());
    mac.update(h.kid.as_bytes());
    let expected = hex::encode(mac.finalize().into_bytes());
    assert_eq!(h.signed_by(secret), h.signature.to_ascii_lowercase() == expected);
    for sig in [expected.clone(), expected.to_ascii_uppercase()] {
        let good = ApiKeyHeaders { signature: sig, ..h.clone() };
        assert!(good.signed_by(secret));
    }
});
