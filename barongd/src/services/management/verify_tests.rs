use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::json;

use super::*;
use crate::config::management_file::parse;

/// Spec §4.7: the keychain value, payload and RS256 signature of the worked example.
const VECTOR_KEY: &str = "LS0tLS1CRUdJTiBQVUJMSUMgS0VZLS0tLS0KTUlJQklqQU5CZ2txaGtpRzl3MEJBUUVGQUFPQ0FROEFNSUlCQ2dLQ0FRRUFuY2VBRXlIRTgrU1pMeVBoSENqUAo3OXB1elUwL0JNbEcrclcyYVBUd05Oczd6U3pFU1A2QjUvdk50VXNpWEJKZysrVkNSTHlHUndRWlkrSWFENVNUCkgyT2hONjg0eEtieVNIaUhSdUN2YWtURVNzNGxlR1Njb015MmdPWUFxREpzUXNxT1hCQXI4WUtjU0ZuS2hEUkgKbzZodHJubkYvdXI4VXJTYWV6TGs1OGVmeGhNeFBlUDUva01pSldpWFRGWVViNEErOEsrZmFhaUdsSTRkN1U5cgo4OStXZWpmYWszMHB4ajR1aWsxSklJSWJ0R2NZWE9hcmlBRTNSUGtPNFJwb2pDTFBYZVJPWmpmT0d1cXZidFV6CmlUQTczeG43S2RUdjNuemVONHZmZG1JT0FGZmN2Y2o2UTQvdDEwU1FBNGJXUHVSNEhMZjNjN1N5SVgyL1E1KzAKeXdJREFRQUIKLS0tLS1FTkQgUFVCTElDIEtFWS0tLS0tCg==";
const PAYLOAD: &str = "eyJkYXRhIjp7InVzZXJfdWlkIjoiSUQxQTJCM0M0RDVFIiwia2V5IjoiZG9jdW1lbnQiLCJ2YWx1ZSI6InZlcmlmaWVkIn0sImlhdCI6MTcxODAwMDAwMCwiZXhwIjoxNzE4MDAwMDYwLCJqdGkiOiI2ZjFjMGE5ZTNiMmQ0YzVlOGY3YTliMGMiLCJpc3MiOiJhcHBsb2dpYyJ9";
const RS256: &str = "eyJhbGciOiJSUzI1NiJ9";
const SIG: &str = "ftVJbWvhw1LsXIGgvNCxpAydEEFioN_TuWPJAA2ZzXyMZ1JtLVGR513t2BCTs39LyhhrMc6h0QVXcVtKyqTd5oVDyjhcV5spysbyfE_rGA05wcRQejQpGmePjlBjEjLPB1AOm50X8UAOIdy6eKWjb4z3ygMXuXbUqQD7Vt7jHyVmmQMpb3btSwTPXtVN654eQ9cDWXPbkgk7ZFQcq-QDHaMc9TkRW3dyp92Az4o5hMgsCLxzogvyRZTxhHJfZXyvZInPoG2_hmoqGmS0fxPw82PtZiUP1fkXDaSOFH66c_0ukXg3R9PKsFXELMHcXQKccgroFRtnKfN3Xlm-92LBFQ";
const HS256: &str = "eyJhbGciOiJIUzI1NiJ9";
const HS_SIG: &str = "EEhDESGXmvLfFcgW5__7f2-QSd8xgW4MvZQYArQe2GU";
/// Inside the vector's iat..exp.
const NOW: i64 = 1_718_000_030;

fn no_env(_: &str) -> Option<String> {
    None
}

/// An EC P-256 signer: (keychain value, private PKCS#8 PEM).
fn ec_signer() -> (String, String) {
    let sk = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let public = sk.public_key().to_public_key_pem(LineEnding::LF).expect("pem");
    let private = sk.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
    (URL_SAFE_NO_PAD.encode(public), private)
}

fn es256(private: &str, payload: &str) -> (String, String) {
    let protected = URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#);
    let key = jsonwebtoken::EncodingKey::from_ec_pem(private.as_bytes()).expect("key");
    let sig =
        jsonwebtoken::crypto::sign(format!("{protected}.{payload}").as_bytes(), &key, jsonwebtoken::Algorithm::ES256)
            .expect("sign");
    (protected, sig)
}

fn file(ec_value: &str, scope: &str) -> ManagementFile {
    let text = format!(
        "keychain:\n  applogic:\n    algorithm: RS256\n    value: {VECTOR_KEY}\n  ec1:\n    algorithm: ES256\n    value: {ec_value}\nscopes:\n  {scope}\n"
    );
    parse(&text, &no_env).expect("parses")
}

fn body(payload: &str, sigs: &[(&str, &str, &str)]) -> Value {
    let sigs: Vec<Value> =
        sigs.iter().map(|(kid, p, s)| json!({"protected": p, "header": {"kid": kid}, "signature": s})).collect();
    json!({"payload": payload, "signatures": sigs})
}

fn payload(claims: Value) -> String {
    URL_SAFE_NO_PAD.encode(claims.to_string())
}

fn labels_scope() -> &'static str {
    "write_labels: { permitted_signers: [applogic, ec1], mandatory_signers: [applogic] }"
}

fn is_failed(r: Result<Verified, Refused>) -> bool {
    let r = &r;
    matches!(r, Err(Refused::Failed(_)))
}

#[test]
fn the_spec_vector_verifies_inside_its_lifetime_only() {
    let (ec, _) = ec_signer();
    let f = file(&ec, labels_scope());
    let s = ManagementApiSettings::default();
    let b = body(PAYLOAD, &[("applogic", RS256, SIG)]);
    let v = verify(&b, "write_labels", Some(&f), &s, NOW).expect("the vector verifies");
    assert_eq!(v.data["user_uid"], "ID1A2B3C4D5E");
    assert_eq!(v.signers, ["applogic"]);
    assert_eq!(v.jti, Some(("6f1c0a9e3b2d4c5e8f7a9b0c".to_string(), 1_718_000_060)));
    assert!(is_failed(verify(&b, "write_labels", Some(&f), &s, 1_718_000_060)), "at exp");
    assert!(is_failed(verify(&b, "write_users", Some(&f), &s, NOW)), "scope not configured");
    assert!(is_failed(verify(&b, "write_labels", None, &s, NOW)), "no file");
}

#[test]
fn hs256_keyed_with_the_public_pem_is_refused() {
    // The vector really is Barong's forgery: HMAC-SHA256 keyed with the PEM text.
    let pem = STANDARD.decode(VECTOR_KEY).expect("b64");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&pem).expect("hmac");
    mac.update(format!("{HS256}.{PAYLOAD}").as_bytes());
    assert_eq!(URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()), HS_SIG);
    let (ec, _) = ec_signer();
    let f = file(&ec, labels_scope());
    let r = verify(&body(PAYLOAD, &[("applogic", HS256, HS_SIG)]), "write_labels", Some(&f), &Default::default(), NOW);
    assert!(matches!(r, Err(Refused::Failed(_))), "{r:?}");
    let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let r = verify(&body(PAYLOAD, &[("applogic", &none, "")]), "write_labels", Some(&f), &Default::default(), NOW);
    assert!(is_failed(r));
}

#[test]
fn a_tampered_payload_fails() {
    let (ec, _) = ec_signer();
    let f = file(&ec, labels_scope());
    let json = String::from_utf8(URL_SAFE_NO_PAD.decode(PAYLOAD).expect("b64")).expect("utf8");
    let tampered = URL_SAFE_NO_PAD.encode(json.replace("verified", "rejected"));
    let r = verify(&body(&tampered, &[("applogic", RS256, SIG)]), "write_labels", Some(&f), &Default::default(), NOW);
    assert!(is_failed(r));
}

#[test]
fn unknown_kids_are_ignored_and_mandatory_signers_are_required() {
    let (ec, private) = ec_signer();
    let f = file(&ec, labels_scope());
    let s = ManagementApiSettings::default();
    let r = verify(&body(PAYLOAD, &[("backoffice", RS256, SIG)]), "write_labels", Some(&f), &s, NOW);
    assert!(matches!(r, Err(Refused::NotEnough(_))), "{r:?}");
    let r = verify(&body(PAYLOAD, &[]), "write_labels", Some(&f), &s, NOW);
    assert!(matches!(r, Err(Refused::NotEnough(_))), "{r:?}");
    // ec1 is permitted but not mandatory: its signature alone is not enough.
    let (p, sig) = es256(&private, PAYLOAD);
    let r = verify(&body(PAYLOAD, &[("ec1", &p, &sig)]), "write_labels", Some(&f), &s, NOW);
    assert!(matches!(r, Err(Refused::NotEnough(_))), "{r:?}");
    // Both: verified, in array order.
    let both = body(PAYLOAD, &[("ec1", &p, &sig), ("applogic", RS256, SIG)]);
    assert_eq!(verify(&both, "write_labels", Some(&f), &s, NOW).expect("two signers").signers, ["ec1", "applogic"]);
    let f2 = file(&ec, "write_labels: { permitted_signers: [applogic, ec1], mandatory_signers: [applogic, ec1] }");
    let r = verify(&body(PAYLOAD, &[("applogic", RS256, SIG)]), "write_labels", Some(&f2), &s, NOW);
    assert!(matches!(r, Err(Refused::NotEnough(_))), "{r:?}");
    assert!(verify(&both, "write_labels", Some(&f2), &s, NOW).is_ok());
}

#[test]
fn an_algorithm_outside_the_keys_set_fails() {
    let (ec, private) = ec_signer();
    let f = file(&ec, "write_labels: { permitted_signers: [ec1], mandatory_signers: [ec1] }");
    let (_, sig) = es256(&private, PAYLOAD);
    // The same ES256 signature announced as RS256 (the header is part of the input, so re-sign).
    let r = verify(&body(PAYLOAD, &[("ec1", RS256, &sig)]), "write_labels", Some(&f), &Default::default(), NOW);
    assert!(is_failed(r));
}

/// Signs `claims` with a fresh EC signer that alone makes up the scope.
fn signed(claims: Value) -> (ManagementFile, Value) {
    let (ec, private) = ec_signer();
    let f = file(&ec, "tools: { permitted_signers: [ec1], mandatory_signers: [ec1] }");
    let p = payload(claims);
    let (prot, sig) = es256(&private, &p);
    (f, body(&p, &[("ec1", &prot, &sig)]))
}

#[test]
fn lifetime_and_jti_are_enforced() {
    let s = ManagementApiSettings::default();
    let check = |claims: Value| {
        let (f, b) = signed(claims);
        verify(&b, "tools", Some(&f), &s, NOW)
    };
    assert!(check(json!({"iat": NOW, "exp": NOW + 60, "jti": "a1"})).is_ok());
    assert!(is_failed(check(json!({"iat": NOW, "exp": NOW - 1, "jti": "a2"}))), "expired");
    assert!(is_failed(check(json!({"exp": NOW + 301, "jti": "a3"}))), "exp too far");
    assert!(is_failed(check(json!({"iat": NOW - 250, "exp": NOW + 100, "jti": "a4"}))), "exp - iat too long");
    assert!(is_failed(check(json!({"iat": NOW + 120, "exp": NOW + 150, "jti": "a5"}))), "iat in the future");
    assert!(is_failed(check(json!({"iat": NOW, "jti": "a6"}))), "no exp");
    assert!(is_failed(check(json!({"iat": NOW, "exp": NOW + 60}))), "no jti");
    assert!(is_failed(check(json!({"iat": NOW, "exp": NOW + 60, "jti": " "}))), "blank jti");
    assert!(is_failed(check(json!({"exp": NOW + 60, "jti": "x".repeat(256)}))), "long jti");
    assert!(is_failed(check(json!({"exp": NOW + 60, "jti": "a7", "nbf": NOW + 10}))), "nbf");
    assert!(is_failed(check(json!({"exp": NOW + 60, "jti": "a8", "data": [1]}))), "data not an object");
    let relaxed = ManagementApiSettings { require_exp: false, jti_single_use: false, ..Default::default() };
    let (f, b) = signed(json!({"data": {"a": 1}}));
    let v = verify(&b, "tools", Some(&f), &relaxed, NOW).expect("relaxed settings");
    assert_eq!((v.jti, v.data["a"].clone()), (None, json!(1)));
}

#[test]
fn ruby_jwt_options_are_honoured() {
    let o = JwtOptions {
        verify_iss: true,
        iss: Some(serde_json::from_value(json!("applogic")).expect("iss")),
        ..Default::default()
    };
    let ok = json!({"iss": "applogic", "exp": NOW + 10});
    let claims = |v: Value| v.as_object().cloned().expect("object");
    assert!(ruby_jwt_claims(&claims(ok), &o, NOW).is_ok());
    assert!(ruby_jwt_claims(&claims(json!({"iss": "peatio"})), &o, NOW).is_err());
    let o = JwtOptions {
        verify_aud: true,
        aud: Some(serde_json::from_value(json!(["barong"])).expect("aud")),
        ..Default::default()
    };
    assert!(ruby_jwt_claims(&claims(json!({"aud": ["peatio", "barong"]})), &o, NOW).is_ok());
    assert!(ruby_jwt_claims(&claims(json!({"aud": "peatio"})), &o, NOW).is_err());
    let o = JwtOptions { verify_iat: true, verify_jti: true, ..Default::default() };
    assert!(ruby_jwt_claims(&claims(json!({"iat": NOW + 1, "jti": "j"})), &o, NOW).is_err(), "iat future, no leeway");
    assert!(ruby_jwt_claims(&claims(json!({"iat": NOW})), &o, NOW).is_err(), "jti missing");
    let o = JwtOptions { leeway: 30, ..Default::default() };
    assert!(ruby_jwt_claims(&claims(json!({"exp": NOW - 10})), &o, NOW).is_ok(), "within leeway");
}
