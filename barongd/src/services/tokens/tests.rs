//! Signing and verification with every algorithm, JWKS members, imported keys, rotation.

use super::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use zeroize::Zeroizing;

const NOW: i64 = 1_700_000_000;

fn key(algorithm: JwtAlgorithm) -> SigningKey {
    SigningKey::generate(algorithm).expect("generates")
}

/// A ring without a database: kids `k0`, `k1`, ... in order, the first one active.
fn ring_of(keys: &[&SigningKey]) -> Tokens {
    let state = |i: usize| if i == 0 { SigningKeyState::Active } else { SigningKeyState::Previous };
    let loaded = keys
        .iter()
        .enumerate()
        .map(|(i, k)| Arc::new(k.loaded(format!("k{i}"), state(i), NOW).expect("loads")))
        .collect();
    Tokens { keys: Arc::new(RwLock::new(loaded)), expire: 3600, activation_delay: 0, pinned: None }
}

fn claims() -> Claims {
    let mut c = Claims::new();
    c.insert("uid".into(), json!("ID0000000001"));
    c
}

fn header_of(token: &str) -> Value {
    let part = token.split('.').next().expect("header");
    serde_json::from_slice(&B64.decode(part).expect("base64url")).expect("JSON")
}

/// The token with another header; payload and signature unchanged.
fn with_header(token: &str, header: &Value) -> String {
    let rest = token.split_once('.').expect("segments").1;
    format!("{}.{rest}", B64.encode(header.to_string()))
}

fn refusal(r: ServiceResult<Claims>) -> String {
    r.err().map(|e| e.key().to_string()).unwrap_or_else(|| "accepted".into())
}

#[test]
fn every_algorithm_signs_and_verifies_with_its_own_header() {
    for algorithm in JwtAlgorithm::ALL {
        let k = key(algorithm);
        let tokens = ring_of(&[&k]);
        let token = tokens.sign(claims(), NOW).expect("signs");
        let header = header_of(&token);
        assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some(algorithm.as_str()), Some("k0")));
        let got = tokens.verify(&token, "session", NOW + 1).expect("verifies");
        assert_eq!(got["uid"], "ID0000000001");
        assert_eq!(refusal(tokens.verify(&token, "session", NOW + 3600)), "jwt.decode_and_verify.expired");
        // Another key of the same algorithm under the same kid: the signature fails.
        let other = ring_of(&[&key(algorithm)]);
        assert_eq!(refusal(other.verify(&token, "session", NOW + 1)), "jwt.decode_and_verify.raised");
    }
}

#[test]
fn a_header_naming_another_algorithm_than_its_key_is_refused() {
    let (es, rs, ed) = (key(JwtAlgorithm::Es256), key(JwtAlgorithm::Rs256), key(JwtAlgorithm::EdDsa));
    let tokens = ring_of(&[&es, &rs, &ed]);
    let token = tokens.sign(claims(), NOW).expect("signs");
    let header = header_of(&token);
    for alg in ["RS256", "EdDSA", "HS256", "PS256", "ES384"] {
        let mut h = header.clone();
        h["alg"] = json!(alg);
        assert_eq!(refusal(tokens.verify(&with_header(&token, &h), "session", NOW)), "jwt.decode_and_verify.algorithm");
    }
    // Relabelled for another key of the ring: that key's check fails.
    for (kid, alg) in [("k1", "RS256"), ("k2", "EdDSA")] {
        let h = json!({"alg": alg, "kid": kid, "typ": "JWT"});
        assert_eq!(refusal(tokens.verify(&with_header(&token, &h), "session", NOW)), "jwt.decode_and_verify.raised");
    }
    // HS256 keyed with the public key (the classic confusion) gets nowhere near an HMAC check.
    use hmac::Mac;
    let h = json!({"alg": "HS256", "kid": "k0", "typ": "JWT"});
    let input = format!("{}.{}", B64.encode(h.to_string()), token.split('.').nth(1).expect("payload"));
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(es.public_pem().expect("pem").as_bytes()).expect("key");
    mac.update(input.as_bytes());
    let forged = format!("{input}.{}", B64.encode(mac.finalize().into_bytes()));
    assert_eq!(refusal(tokens.verify(&forged, "session", NOW)), "jwt.decode_and_verify.algorithm");
    // Without a kid (Barong's tokens): tried with the keys of the header's algorithm only.
    let mut payload = claims();
    for (k, v) in [("sub", json!("session")), ("iss", json!("barong")), ("aud", json!("peatio")), ("jti", json!("j"))] {
        payload.insert(k.into(), v);
    }
    let active = tokens.active().expect("active");
    let kidless = jsonwebtoken::encode(&Header::new(Algorithm::ES256), &payload, &active.encoding).expect("signs");
    assert!(tokens.verify(&kidless, "session", NOW).is_ok(), "kid-less ES256 verifies");
    let mut h = header_of(&kidless);
    h["alg"] = json!("HS256");
    assert_eq!(refusal(tokens.verify(&with_header(&kidless, &h), "session", NOW)), "jwt.decode_and_verify.algorithm");
    h["alg"] = json!("EdDSA");
    assert_eq!(refusal(tokens.verify(&with_header(&kidless, &h), "session", NOW)), "jwt.decode_and_verify.raised");
}

#[test]
fn jwks_members_follow_rfc_7518_and_8037() {
    let (rs, es, ed) = (key(JwtAlgorithm::Rs256), key(JwtAlgorithm::Es256), key(JwtAlgorithm::EdDsa));
    let jwks = ring_of(&[&rs, &es, &ed]).jwks();
    let members = |i: usize| {
        let mut m: Vec<String> = jwks["keys"][i].as_object().expect("jwk").keys().cloned().collect();
        m.sort();
        m.join(",")
    };
    assert_eq!(members(0), "alg,e,kid,kty,n,use");
    assert_eq!(members(1), "alg,crv,kid,kty,use,x,y");
    assert_eq!(members(2), "alg,crv,kid,kty,use,x");
    let k = &jwks["keys"];
    assert_eq!(
        (k[0]["kty"].as_str(), k[0]["alg"].as_str(), k[0]["e"].as_str()),
        (Some("RSA"), Some("RS256"), Some("AQAB"))
    );
    assert_eq!(
        (k[1]["kty"].as_str(), k[1]["crv"].as_str(), k[1]["alg"].as_str()),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert_eq!(
        (k[2]["kty"].as_str(), k[2]["crv"].as_str(), k[2]["alg"].as_str()),
        (Some("OKP"), Some("Ed25519"), Some("EdDSA"))
    );
    for (i, f) in [(1, "x"), (1, "y"), (2, "x")] {
        let raw = B64.decode(k[i][f].as_str().expect("coordinate")).expect("base64url without padding");
        assert_eq!(raw.len(), 32, "{f} of key {i}");
    }
    assert_eq!(k.as_array().map(|a| a.iter().all(|j| j["use"] == "sig")), Some(true));
}

#[test]
fn imported_pem_keys_bring_their_algorithm() {
    use p256::pkcs8::EncodePrivateKey as _;
    use rsa::pkcs1::EncodeRsaPrivateKey;
    let rsa = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa");
    let p256 = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let ed = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let pems = [
        (rsa.to_pkcs8_pem(LineEnding::LF).expect("pkcs8").to_string(), JwtAlgorithm::Rs256),
        (rsa.to_pkcs1_pem(LineEnding::LF).expect("pkcs1").to_string(), JwtAlgorithm::Rs256),
        (p256.to_pkcs8_pem(LineEnding::LF).expect("pkcs8").to_string(), JwtAlgorithm::Es256),
        (p256.to_sec1_pem(LineEnding::LF).expect("sec1").to_string(), JwtAlgorithm::Es256),
        (ed.to_pkcs8_pem(LineEnding::LF).expect("pkcs8").to_string(), JwtAlgorithm::EdDsa),
    ];
    for (pem, algorithm) in &pems {
        let k = SigningKey::from_pem(pem).expect("imports");
        assert_eq!(k.algorithm(), *algorithm);
        // Stored as PKCS#8, which reads back as the same key.
        let again = SigningKey::from_pem(&k.private_pem().expect("pkcs8")).expect("reads back");
        assert_eq!(again.public_pem().ok(), k.public_pem().ok());
        assert!(k.private_pem().expect("pkcs8").starts_with("-----BEGIN PRIVATE KEY-----"));
    }
    // What `openssl ecparam -genkey` writes (parameters first), and a key followed by its public half.
    let sec1 = &pems[3].0;
    let with_params = format!("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{sec1}");
    assert_eq!(SigningKey::from_pem(&with_params).map(|k| k.algorithm()).ok(), Some(JwtAlgorithm::Es256));
    let ed_public = SigningKey::Ed25519(Box::new(ed.clone())).public_pem().expect("spki");
    let with_public = format!("{}{ed_public}", pems[4].0);
    assert_eq!(SigningKey::from_pem(&with_public).map(|k| k.algorithm()).ok(), Some(JwtAlgorithm::EdDsa));
    let two = format!("{}{}", pems[0].0, pems[4].0);
    assert!(SigningKey::from_pem(&two).err().unwrap_or_default().contains("more than one"));
    let public = SigningKey::P256(p256).public_pem().expect("spki");
    assert!(public.starts_with("-----BEGIN PUBLIC KEY-----"));
    for bad in [public.as_str(), "secret"] {
        let e = SigningKey::from_pem(bad).err().unwrap_or_default();
        assert!(e.contains("no PRIVATE KEY block") && !e.contains("secret"), "{e}");
    }
    let e = SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n").err();
    let e = e.unwrap_or_default();
    assert!(e.contains("RSA, EC P-256 or Ed25519") && !e.contains("AAAA"), "{e}");
}

#[tokio::test]
async fn load_rotates_once_when_the_configured_algorithm_changes() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = crate::store::open(&format!("sqlite://{}/t.db", dir.path().display()), 2).await.expect("store");
    store.migrate(NOW).await.expect("migrate");
    let sealer = Sealer::from_key(&[7u8; 32]);
    let algorithms = |t: &Tokens| -> Vec<String> {
        t.jwks()["keys"].as_array().map(|a| a.iter().map(|k| k["alg"].to_string()).collect()).unwrap_or_default()
    };
    let first = Tokens::load(&store, &sealer, None, JwtAlgorithm::EdDsa, 3600, 0, NOW).await.expect("loads");
    assert_eq!(algorithms(&first), ["\"EdDSA\""]);
    let old = first.sign(claims(), NOW).expect("signs");
    let second = Tokens::load(&store, &sealer, None, JwtAlgorithm::Es256, 3600, 0, NOW + 10).await.expect("loads");
    assert_eq!(algorithms(&second), ["\"ES256\"", "\"EdDSA\""]);
    assert!(second.verify(&old, "session", NOW + 20).is_ok(), "the old key verifies until its tokens expire");
    assert_eq!(header_of(&second.sign(claims(), NOW + 20).expect("signs"))["alg"], "ES256");
    let third = Tokens::load(&store, &sealer, None, JwtAlgorithm::Es256, 3600, 0, NOW + 30).await.expect("loads");
    assert_eq!(third.jwks(), second.jwks(), "no second rotation");
    // An operator rotation with an explicit algorithm.
    third.rotate(&store, &sealer, JwtAlgorithm::Rs256, NOW + 40, true).await.expect("rotates");
    assert_eq!(algorithms(&third), ["\"RS256\"", "\"ES256\"", "\"EdDSA\""]);
    let rows = store.signing_keys().await.expect("rows");
    let stored: Vec<(&str, &str)> = rows.iter().map(|r| (r.algorithm.as_str(), r.state.as_str())).collect();
    assert_eq!(stored, [("RS256", "active"), ("ES256", "previous"), ("EdDSA", "previous")]);
}

async fn fresh_store(dir: &tempfile::TempDir) -> DynStore {
    let store = crate::store::open(&format!("sqlite://{}/t.db", dir.path().display()), 2).await.expect("store");
    store.migrate(NOW).await.expect("migrate");
    store
}

#[tokio::test]
async fn the_pinned_key_signs_at_every_start_whatever_the_ring_or_the_setting() {
    use p256::pkcs8::EncodePrivateKey as _;
    let dir = tempfile::tempdir().expect("tmp");
    let store = fresh_store(&dir).await;
    let sealer = Sealer::from_key(&[7u8; 32]);
    let p256 = p256::SecretKey::random(&mut rand::rngs::OsRng);
    let pem = || Some(Zeroizing::new(p256.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string()));
    // Unpinned first: a key of the setting.
    let free = Tokens::load(&store, &sealer, None, JwtAlgorithm::EdDsa, 3600, 0, NOW).await.expect("loads");
    assert_eq!(free.jwks()["keys"][0]["alg"], "EdDSA");
    // Pinned, with another algorithm configured: the file's key signs, nothing is rotated away.
    let pinned = Tokens::load(&store, &sealer, pem(), JwtAlgorithm::EdDsa, 3600, 0, NOW + 10).await.expect("loads");
    let jwks = pinned.jwks();
    assert_eq!((jwks["keys"][0]["alg"].as_str(), jwks["keys"][1]["alg"].as_str()), (Some("ES256"), Some("EdDSA")));
    let kid = pinned.pinned().expect("pinned").to_string();
    assert_eq!(jwks["keys"][0]["kid"], kid.as_str(), "the kid is the RFC 7638 thumbprint");
    assert_eq!(kid, key::thumbprint(&jwks["keys"][0]));
    let point = p256::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&p256.public_key(), false);
    assert_eq!(jwks["keys"][0]["x"].as_str(), point.x().map(|x| B64.encode(x)).as_deref(), "the imported key");
    // Rotation and activation of another key are refused while pinned.
    let refused = pinned.rotate(&store, &sealer, JwtAlgorithm::Rs256, NOW + 20, true).await.expect_err("refused");
    assert!(refused.key().starts_with("keys.pinned: unset JWT_PRIVATE_KEY_PATH first"), "{}", refused.key());
    let other = jwks["keys"][1]["kid"].as_str().expect("kid").to_string();
    let refused = pinned.activate(&store, &sealer, &other, NOW + 20, true).await.expect_err("refused");
    assert!(refused.key().starts_with("keys.pinned"), "{}", refused.key());
    // Without the pin (and the setting matching the key) the ring decides: the operator
    // activates the other key...
    let free = Tokens::load(&store, &sealer, None, JwtAlgorithm::Es256, 3600, 0, NOW + 30).await.expect("loads");
    assert_eq!(free.jwks()["keys"][0]["kid"], kid.as_str(), "unpinned, the active key stays");
    free.activate(&store, &sealer, &other, NOW + 40, true).await.expect("activates");
    assert_eq!(free.jwks()["keys"][0]["kid"], other.as_str());
    // ...and the next pinned start makes the file's key active again, without a second copy.
    let again = Tokens::load(&store, &sealer, pem(), JwtAlgorithm::EdDsa, 3600, 0, NOW + 50).await.expect("loads");
    assert_eq!(again.jwks()["keys"][0]["kid"], kid.as_str());
    let all = store.all_signing_keys().await.expect("rows");
    assert_eq!(all.iter().filter(|r| r.kid == kid).count(), 1);
    assert_eq!(all.iter().filter(|r| r.state == SigningKeyState::Active).count(), 1);
}

#[tokio::test]
async fn import_checks_the_key_and_reports_one_already_there() {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use sha2::Digest as _;
    let dir = tempfile::tempdir().expect("tmp");
    let store = fresh_store(&dir).await;
    let sealer = Sealer::from_key(&[7u8; 32]);
    let tokens = Tokens::load(&store, &sealer, None, JwtAlgorithm::EdDsa, 3600, 0, NOW).await.expect("loads");
    let first = tokens.jwks()["keys"][0]["kid"].as_str().expect("kid").to_string();
    let rsa = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa");
    let pkcs1 = || Zeroizing::new(rsa.to_pkcs1_pem(LineEnding::LF).expect("pkcs1").to_string());
    // Verify-only first: published, not signing.
    let standby = tokens.import(&store, &sealer, pkcs1(), None, false, NOW + 1).await.expect("imports");
    assert_eq!((standby.state, standby.already_present, standby.bits), (SigningKeyState::Previous, false, 2048));
    assert_eq!(standby.algorithm, JwtAlgorithm::Rs256);
    assert_eq!(tokens.jwks()["keys"][0]["kid"], first.as_str());
    assert_eq!(tokens.jwks()["keys"][1]["kid"], standby.kid.as_str());
    // Again, activated: the same kid, already present, now signing.
    let active = tokens.import(&store, &sealer, pkcs1(), None, true, NOW + 2).await.expect("imports");
    assert_eq!((active.kid.as_str(), active.already_present), (standby.kid.as_str(), true));
    assert_eq!(active.state, SigningKeyState::Active);
    let token = tokens.sign(claims(), NOW + 3).expect("signs");
    assert_eq!(header_of(&token)["kid"], active.kid.as_str());
    use rsa::pkcs8::EncodePublicKey as _;
    let spki = rsa.to_public_key().to_public_key_pem(LineEnding::LF).expect("spki");
    let exported = tokens.export_public(None, common::admin::PublicKeyFormat::Pem).expect("exports");
    assert_eq!(exported.text, spki);
    let peatio = tokens.export_public(Some(&first), common::admin::PublicKeyFormat::Peatio).expect("exports");
    assert_eq!(peatio.kid.as_deref(), Some(first.as_str()));
    let expected_fp = hex::encode(sha2::Sha256::digest(rsa.to_public_key().to_public_key_der().expect("der")));
    assert_eq!(active.fingerprint, expected_fp);
    // Refusals name the reason and never quote the key.
    let small = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 1024).expect("rsa");
    let small = Zeroizing::new(small.to_pkcs1_pem(LineEnding::LF).expect("pem").to_string());
    let e = tokens.import(&store, &sealer, small, None, true, NOW + 4).await.expect_err("refused");
    assert!(e.key().starts_with("keys.rsa_too_small: RSA key of 1024 bits"), "{}", e.key());
    let p384 = p384::SecretKey::random(&mut rand::rngs::OsRng);
    for pem in [
        p384.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string(),
        p384.to_sec1_pem(LineEnding::LF).expect("pem").to_string(),
    ] {
        let e = tokens.import(&store, &sealer, Zeroizing::new(pem), None, false, NOW + 5).await.expect_err("no");
        assert!(e.key().starts_with("keys.unsupported_curve"), "{}", e.key());
    }
    assert_eq!(tokens.jwks()["keys"].as_array().map(Vec::len), Some(2), "nothing refused was stored");
}

#[test]
fn encrypted_pkcs8_keys_open_with_their_passphrase_only() {
    let ed = ed25519_dalek::SigningKey::generate(&mut rand::rngs::OsRng);
    let der = ed.to_pkcs8_der().expect("der");
    let info = pkcs8::PrivateKeyInfo::try_from(der.as_bytes()).expect("info");
    let encrypted = info.encrypt(rand::rngs::OsRng, b"correct horse").expect("encrypts");
    let pem = encrypted.to_pem("ENCRYPTED PRIVATE KEY", LineEnding::LF).expect("pem");
    let k = SigningKey::import(&pem, Some("correct horse")).expect("opens");
    assert_eq!(k.algorithm(), JwtAlgorithm::EdDsa);
    assert_eq!(SigningKey::import(&pem, Some("wrong")).err().map(|e| e.code), Some("keys.wrong_passphrase"));
    assert_eq!(SigningKey::import(&pem, None).err().map(|e| e.code), Some("keys.passphrase_required"));
}

#[test]
fn thumbprints_follow_rfc_7638() {
    // RFC 7638 §3.1's example key and thumbprint.
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    let jwk = json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"});
    assert_eq!(key::thumbprint(&jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
}

#[test]
fn otp_signatures_never_pass_as_session_tokens() {
    let k = key(JwtAlgorithm::Rs256);
    let tokens = ring_of(&[&k]);
    // The claims of a session, as a signing oracle's victim would submit them (W3).
    let mut c = claims();
    for (name, value) in [
        ("iat", json!(NOW)),
        ("exp", json!(NOW + 60)),
        ("sub", json!("session")),
        ("iss", json!("barong")),
        ("aud", json!(["peatio", "barong"])),
        ("jti", json!("abc")),
    ] {
        c.insert(name.into(), value);
    }
    let payload = B64.encode(serde_json::to_vec(&c).expect("json"));
    let (protected, signature) = tokens.sign_detached(&payload, Some("barong-otp")).expect("signs");
    let kid = tokens.jwks()["keys"][0]["kid"].clone();
    assert_eq!(header_of(&format!("{protected}.x")), json!({"alg": "RS256", "typ": "barong-otp", "jwks_kid": kid}));
    let forged = format!("{protected}.{payload}.{signature}");
    assert_eq!(refusal(tokens.verify(&forged, "session", NOW)), "jwt.decode_and_verify.typ");
    // Our own tokens (typ JWT) and Barong's (no typ) still pass.
    let ours = tokens.sign(claims(), NOW).expect("signs");
    assert_eq!(header_of(&ours)["typ"], json!("JWT"));
    assert!(tokens.verify(&ours, "session", NOW).is_ok());
    let mut bare = header_of(&ours);
    bare.as_object_mut().expect("object").remove("typ");
    let kid = bare["kid"].clone();
    let no_typ = jsonwebtoken::encode(
        &Header { kid: kid.as_str().map(str::to_string), typ: None, ..Header::new(Algorithm::RS256) },
        &claims_with_defaults(&tokens),
        &k.loaded("k0".into(), SigningKeyState::Active, NOW).expect("loads").encoding,
    )
    .expect("signs");
    assert!(tokens.verify(&no_typ, "session", NOW).is_ok());
}

fn claims_with_defaults(tokens: &Tokens) -> Claims {
    let t = tokens.sign(claims(), NOW).expect("signs");
    let part = t.split('.').nth(1).expect("payload");
    serde_json::from_slice(&B64.decode(part).expect("base64url")).expect("JSON")
}
