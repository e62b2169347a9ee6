use base64::engine::general_purpose::STANDARD;
use p256::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::Algorithm;

use super::*;

fn no_env(_: &str) -> Option<String> {
    None
}

fn b64(pem: &str) -> String {
    URL_SAFE_NO_PAD.encode(pem)
}

fn p256_public() -> String {
    p256::SecretKey::random(&mut rand::rngs::OsRng).public_key().to_public_key_pem(LineEnding::LF).expect("pem")
}

fn one_key(value: &str, algorithm: &str) -> String {
    format!(
        "keychain:\n  k1:\n    algorithm: {algorithm}\n    value: {value}\nscopes:\n  tools: {{permitted_signers: [k1], mandatory_signers: [k1]}}\n"
    )
}

#[test]
fn keys_give_their_algorithms_and_hmac_is_ignored_with_a_warning() {
    let f = parse(&one_key(&b64(&p256_public()), "ES256"), &no_env).expect("p256");
    assert_eq!(f.keychain["k1"].accepted, [Algorithm::ES256]);
    let f = parse(&one_key(&b64(&p256_public()), "HS256"), &no_env).expect("p256 with HS256");
    assert_eq!(f.keychain["k1"].accepted, [Algorithm::ES256]);
    assert!(f.warnings[0].contains("HMAC"), "{:?}", f.warnings);
    let p384 =
        p384::SecretKey::random(&mut rand::rngs::OsRng).public_key().to_public_key_pem(LineEnding::LF).expect("pem");
    // Standard base64 with padding is read too.
    let f = parse(&one_key(&STANDARD.encode(&p384), "RS256"), &no_env).expect("p384");
    assert_eq!((f.keychain["k1"].kind.as_str(), &f.keychain["k1"].accepted[..]), ("EC-P384", &[Algorithm::ES384][..]));
    assert!(f.warnings[0].contains("does not fit"), "{:?}", f.warnings);
    assert!(parse("", &no_env).expect("empty file").scopes.is_empty());
    assert!(parse("keychain:\njwt:\nscopes:\n", &no_env).expect("Barong's shipped file").keychain.is_empty());
}

#[test]
fn unusable_keys_stop_start_up() {
    let sk = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let private = sk.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
    let e = parse(&one_key(&b64(&private), "ES256"), &no_env).err().expect("private key refused");
    assert!(e.contains("private key") && !e.contains(&private[30..60]), "{e}");
    let e = parse(&one_key("bm90IGEga2V5", "RS256"), &no_env).err().expect("not a key");
    assert!(e.contains("Invalid public key format for key k1"), "{e}");
    let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("rsa");
    let pem = rsa::pkcs8::EncodePublicKey::to_public_key_pem(&small.to_public_key(), LineEnding::LF).expect("pem");
    let e = parse(&one_key(&b64(&pem), "RS256"), &no_env).err().expect("short RSA refused");
    assert!(e.contains("1024 bits"), "{e}");
    let ed = ed25519_dalek::SigningKey::from_bytes(&[7; 32]).verifying_key();
    let pem = ed25519_dalek::pkcs8::EncodePublicKey::to_public_key_pem(&ed, LineEnding::LF).expect("pem");
    let e = parse(&one_key(&b64(&pem), "EdDSA"), &no_env).err().expect("ed25519 refused");
    assert!(e.contains("unsupported key type"), "{e}");
}

#[test]
fn scopes_must_be_satisfiable() {
    let key = b64(&p256_public());
    let head = format!("keychain:\n  k1:\n    algorithm: ES256\n    value: {key}\nscopes:\n");
    let e = parse(&format!("{head}  tools: {{permitted_signers: [k1]}}\n"), &no_env).err().expect("no mandatory");
    assert!(e.contains("mandatory_signers is missing"), "{e}");
    let e = parse(&format!("{head}  tools: {{permitted_signers: [k1], mandatory_signers: [k2]}}\n"), &no_env)
        .err()
        .expect("mandatory not permitted");
    assert!(e.contains("'k2' is not in permitted_signers") && e.contains("'k2' is not in the keychain"), "{e}");
    let f = parse(&format!("{head}  typo_scope: {{permitted_signers: [k1], mandatory_signers: [k1]}}\n"), &no_env)
        .expect("unknown scope is a warning");
    assert!(f.warnings.iter().any(|w| w.contains("typo_scope")));
    let e = parse(&format!("{head}jwt:\n  verify_expiry: true\n"), &no_env).err().expect("unknown jwt option");
    assert!(e.contains("verify_expiry"), "{e}");
    let f = parse("jwt:\n  verify_iss: true\n  iss: applogic\n  leeway: 30\n", &no_env).expect("jwt options");
    assert!(f.jwt.verify_iss && f.jwt.verify_expiration && f.jwt.leeway == 30);
}

#[test]
fn erb_reads_the_environment_only() {
    let env = |k: &str| (k == "MGN_KEY").then(|| "abc".to_string());
    let t = "a: <%= ENV['MGN_KEY'] %>\nb: <%= ENV[\"NOPE\"] %>\nc: <%= ENV.fetch('NOPE', 'dflt') %>\nd: <%= ENV.fetch(\"MGN_KEY\") %>";
    assert_eq!(expand_erb(t, &env).expect("expands"), "a: abc\nb: \nc: dflt\nd: abc");
    assert!(expand_erb("a: <%= ENV.fetch('NOPE') %>", &env).is_err(), "fetch without default");
    let e = expand_erb("x: 1\na: <%= `rm -rf /` %>", &env).expect_err("other ERB");
    assert!(e.contains("line 2") && e.contains("unsupported ERB"), "{e}");
    assert!(expand_erb("a: <% if true %>", &env).is_err());
}

#[test]
fn risky_but_valid_files_get_warnings() {
    let key = b64(&p256_public());
    let text = format!(
        "keychain:\n  k1:\n    algorithm: ES256\n    value: {key}\njwt:\n  verify_expiration: false\nscopes:\n  write_users: {{permitted_signers: [k1], mandatory_signers: [k1]}}\n"
    );
    let f = parse(&text, &no_env).expect("loads");
    let all = f.warnings.join("\n");
    assert!(all.contains("write_users has a single mandatory signer"), "{all}");
    assert!(all.contains("verify_expiration is false"), "{all}");
    assert!(all.contains("not configured") && all.contains("read_users") && !all.contains("write_users,"), "{all}");
}
