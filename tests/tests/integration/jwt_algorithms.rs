//! `jwt_algorithm`: ES256 and EdDSA signing keys (fresh or imported through
//! `JWT_PRIVATE_KEY_PATH`), their JWKs, the rotation when a restart brings another algorithm, and
//! tokens whose header names another algorithm than their key's. Every issued token is checked
//! with `verify_with_jwks`, which uses jwt-simple, not the daemon's JWT library.

use jwt_simple::prelude::{
    Base64UrlSafeNoPadding, ECDSAP256PublicKeyLike, ES256KeyPair, ES256PublicKey, Ed25519KeyPair,
};
use jwt_simple::reexports::ct_codecs::{Decoder as _, Encoder as _};
use reqwest::Method;

use super::*;

const PEATIO: &str = "api/v2/peatio/account/balances";

/// A logged-in client of an existing active user.
async fn login(srv: &TestServer, email: &str) -> reqwest::Client {
    let c = srv.client();
    let (s, b) = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(s, 200, "login: {b}");
    c
}

/// The upstream JWT the gateway hands out for this client's session.
async fn gateway_token(srv: &TestServer, c: &reqwest::Client) -> String {
    let r = authz_call(c, Method::GET, &auth_url(srv, PEATIO), &[]).await;
    assert_eq!(r.0, 200, "gateway: {:?}", r.2);
    r.1.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string()
}

fn b64_json(part: &str) -> Value {
    let bytes = Base64UrlSafeNoPadding::decode_to_vec(part, None).expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON")
}

fn b64(bytes: &[u8]) -> String {
    Base64UrlSafeNoPadding::encode_to_string(bytes).expect("base64url")
}

/// The decoded header of a JWT (not verified).
fn header(token: &str) -> Value {
    b64_json(token.split('.').next().expect("header"))
}

/// The token with its header replaced, payload and signature kept.
fn relabelled(token: &str, header: &Value) -> String {
    let rest = token.split_once('.').expect("segments").1;
    format!("{}.{rest}", b64(header.to_string().as_bytes()))
}

async fn jwks(srv: &TestServer) -> Vec<Value> {
    let (s, body) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
    assert_eq!(s, 200, "jwks: {body}");
    body["keys"].as_array().expect("keys").clone()
}

/// `GET resource/users/me` with `Authorization: Bearer <token>`.
async fn me_with(srv: &TestServer, token: &str) -> (u16, Value) {
    let r = reqwest::Client::new().get(srv.url("resource/users/me")).header("Authorization", format!("Bearer {token}"));
    read(r.send().await.expect("me")).await
}

/// The same data dir and database, another configuration, no `JWT_PRIVATE_KEY_PATH` (the ring
/// decides): a restart (`srv` must be stopped and kept alive, since it owns the temporary
/// directory and the PostgreSQL database).
async fn restart(srv: &TestServer, config: &str) -> TestServer {
    // The new algorithm's key signs at once (jwt_key_activation_delay has its own test).
    let opts = Options {
        config: format!("{config}\njwt_key_activation_delay: 0\n"),
        data_dir: Some(srv.data_dir.clone()),
        database_url: Some(srv.database_url.clone()),
        ..Options::unpinned()
    };
    TestServer::spawn_with(srv.backend, opts).await.expect("restarted")
}

/// Stops a daemon (blocking wait off the async threads) and gives it back, still owning its
/// directory and database.
async fn stop(mut srv: TestServer) -> TestServer {
    tokio::task::spawn_blocking(move || {
        assert_eq!(srv.terminate(), Some(0), "clean exit");
        srv
    })
    .await
    .expect("join")
}

/// Every way of pointing the token at another algorithm than its key's is refused by the
/// resource API exactly as any bad bearer token: 401 `jwt.decode_and_verify`.
async fn relabelled_tokens_are_refused(srv: &TestServer, token: &str, jwk: &Value) {
    let h = header(token);
    let own = h["alg"].as_str().expect("alg").to_string();
    for alg in ["HS256", "RS256", "ES256", "EdDSA", "none"] {
        if alg == own {
            continue;
        }
        let mut forged = h.clone();
        forged["alg"] = json!(alg);
        assert_err(&me_with(srv, &relabelled(token, &forged)).await, 401, &["jwt.decode_and_verify"]);
        // Without the kid too: the key is then chosen among those of the claimed algorithm.
        if let Some(m) = forged.as_object_mut() {
            m.remove("kid");
        }
        assert_err(&me_with(srv, &relabelled(token, &forged)).await, 401, &["jwt.decode_and_verify"]);
    }
    // The classic confusion: HS256 keyed with the published public key (PEM and raw JWK text).
    use hmac::Mac;
    let public_pem = match jwk["kty"].as_str() {
        Some("EC") => {
            let point = [&[4u8][..], &b64_bytes(jwk, "x"), &b64_bytes(jwk, "y")].concat();
            ES256PublicKey::from_bytes(&point).expect("EC").to_pem().expect("pem")
        }
        _ => String::new(),
    };
    let hs_header = json!({"alg": "HS256", "typ": "JWT", "kid": h["kid"]});
    let payload = token.split('.').nth(1).expect("payload");
    for secret in [public_pem.as_bytes(), jwk.to_string().as_bytes()] {
        if secret.is_empty() {
            continue;
        }
        let input = format!("{}.{payload}", b64(hs_header.to_string().as_bytes()));
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret).expect("hmac key");
        mac.update(input.as_bytes());
        let forged = format!("{input}.{}", b64(&mac.finalize().into_bytes()));
        assert_err(&me_with(srv, &forged).await, 401, &["jwt.decode_and_verify"]);
    }
    // The right algorithm and kid with a signature by another key.
    let claims = b64_json(payload);
    let other = match own.as_str() {
        "ES256" => {
            use jwt_simple::prelude::ECDSAP256KeyPairLike;
            let k = ES256KeyPair::generate().with_key_id(h["kid"].as_str().expect("kid"));
            k.sign(claims_of(&claims)).expect("sign")
        }
        _ => {
            use jwt_simple::prelude::EdDSAKeyPairLike;
            let k = Ed25519KeyPair::generate().with_key_id(h["kid"].as_str().expect("kid"));
            k.sign(claims_of(&claims)).expect("sign")
        }
    };
    assert_eq!(header(&other)["alg"], own.as_str());
    assert_err(&me_with(srv, &other).await, 401, &["jwt.decode_and_verify"]);
    // And the genuine token still passes.
    assert_eq!(me_with(srv, token).await.0, 200);
}

fn b64_bytes(jwk: &Value, field: &str) -> Vec<u8> {
    Base64UrlSafeNoPadding::decode_to_vec(jwk[field].as_str().expect("field"), None).expect("base64url")
}

/// jwt-simple claims carrying the same JSON as a token of ours.
fn claims_of(payload: &Value) -> jwt_simple::prelude::JWTClaims<serde_json::Map<String, Value>> {
    serde_json::from_value(payload.clone()).expect("claims")
}

/// The JWK of an algorithm, with exactly the RFC 7518/8037 members (and no private part).
#[track_caller]
fn assert_jwk_shape(jwk: &Value, alg: &str) {
    let mut members: Vec<&str> = jwk.as_object().expect("object").keys().map(String::as_str).collect();
    members.sort_unstable();
    let (kty, crv, expected): (&str, Option<&str>, &[&str]) = match alg {
        "RS256" => ("RSA", None, &["alg", "e", "kid", "kty", "n", "use"]),
        "ES256" => ("EC", Some("P-256"), &["alg", "crv", "kid", "kty", "use", "x", "y"]),
        _ => ("OKP", Some("Ed25519"), &["alg", "crv", "kid", "kty", "use", "x"]),
    };
    assert_eq!(members, expected, "{jwk}");
    assert_eq!((jwk["kty"].as_str(), jwk["crv"].as_str(), jwk["alg"].as_str()), (Some(kty), crv, Some(alg)));
    assert_eq!(jwk["use"], "sig");
    for f in ["n", "e", "x", "y"] {
        if let Some(v) = jwk[f].as_str() {
            assert!(!v.contains('=') && !v.contains('+') && !v.contains('/'), "{f} is base64url without padding");
        }
    }
}

both!(a_restart_with_another_algorithm_rotates_once, options = Options::unpinned(), |srv: TestServer| async move {
    // RS256 (the default), a generated key.
    let (c, _) = active_user(&srv, "algs@example.com").await;
    let rs = gateway_token(&srv, &c).await;
    assert_eq!(header(&rs)["alg"], "RS256");
    verify_with_jwks(&srv, &rs).await;
    let rs_kid = header(&rs)["kid"].as_str().expect("kid").to_string();
    let srv = stop(srv).await;

    // ES256: one rotation at start; the RS256 token keeps verifying until it expires.
    let es_srv = restart(&srv, "jwt_algorithm: ES256").await;
    let keys = jwks(&es_srv).await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_jwk_shape(&keys[0], "ES256");
    assert_jwk_shape(&keys[1], "RS256");
    assert_eq!(keys[1]["kid"], rs_kid.as_str());
    assert!(es_srv.logs().contains("jwt_algorithm differs from the active signing key"), "{}", es_srv.logs());
    let c = login(&es_srv, "algs@example.com").await;
    let es = gateway_token(&es_srv, &c).await;
    assert_eq!((header(&es)["alg"].as_str(), header(&es)["kid"].clone()), (Some("ES256"), keys[0]["kid"].clone()));
    let claims = verify_with_jwks(&es_srv, &es).await;
    assert_eq!((claims["email"].as_str(), claims["sub"].as_str()), (Some("algs@example.com"), Some("session")));
    verify_with_jwks(&es_srv, &rs).await;
    let (s, me) = me_with(&es_srv, &rs).await;
    assert_eq!((s, me["email"].as_str()), (200, Some("algs@example.com")), "the old token still works");
    relabelled_tokens_are_refused(&es_srv, &es, &keys[0]).await;
    let (code, out, err) = es_srv.ctl(&["--json", "keys", "list"], None);
    assert_eq!(code, 0, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("json");
    assert_eq!((listed[0]["algorithm"].as_str(), listed[0]["state"].as_str()), (Some("ES256"), Some("active")));
    assert_eq!((listed[1]["algorithm"].as_str(), listed[1]["state"].as_str()), (Some("RS256"), Some("previous")));
    let es_srv = stop(es_srv).await;

    // The same algorithm again: no rotation.
    let again = restart(&srv, "jwt_algorithm: ES256").await;
    assert_eq!(jwks(&again).await, keys, "no rotation when the algorithm is unchanged");
    assert!(!again.logs().contains("jwt_algorithm differs"), "{}", again.logs());
    let again = stop(again).await;

    // EdDSA: the ES256 and RS256 tokens both keep verifying.
    let ed_srv = restart(&srv, "jwt_algorithm: EdDSA").await;
    let keys = jwks(&ed_srv).await;
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_jwk_shape(&keys[0], "EdDSA");
    let c = login(&ed_srv, "algs@example.com").await;
    let ed = gateway_token(&ed_srv, &c).await;
    assert_eq!((header(&ed)["alg"].as_str(), header(&ed)["kid"].clone()), (Some("EdDSA"), keys[0]["kid"].clone()));
    verify_with_jwks(&ed_srv, &ed).await;
    for old in [&rs, &es] {
        verify_with_jwks(&ed_srv, old).await;
        assert_eq!(me_with(&ed_srv, old).await.0, 200);
    }
    relabelled_tokens_are_refused(&ed_srv, &ed, &keys[0]).await;

    // The operator may rotate to another algorithm for a while; the next start returns to the setting.
    let (code, out, err) = ed_srv.ctl(&["--json", "keys", "rotate", "--algorithm", "ES256", "--now"], None);
    assert_eq!(code, 0, "{err}");
    let rotated: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(rotated["algorithm"], "ES256");
    let (code, _, err) = ed_srv.ctl(&["keys", "rotate", "--algorithm", "HS256"], None);
    assert_ne!(code, 0, "HS256 is not a signing algorithm");
    assert!(err.contains("HS256"), "{err}");
    let c = login(&ed_srv, "algs@example.com").await;
    let es2 = gateway_token(&ed_srv, &c).await;
    assert_eq!(header(&es2)["kid"], rotated["kid"]);
    verify_with_jwks(&ed_srv, &es2).await;
    drop((es_srv, again));
});

// Fresh databases whose first key is imported: the algorithm comes from the key itself.
both!(imported_keys, per_backend = signs_with_the_imported_key);

/// Starts a daemon configured for `alg` whose `JWT_PRIVATE_KEY_PATH` holds `pem`.
async fn spawn_with_key(backend: Backend, alg: &str, pem: &str) -> Option<(TestServer, tempfile::TempDir)> {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("jwt.pem");
    std::fs::write(&path, pem).expect("write key");
    let opts = Options {
        config: format!("jwt_algorithm: {alg}"),
        env: vec![("JWT_PRIVATE_KEY_PATH".into(), path.display().to_string())],
        ..Default::default()
    };
    Some((TestServer::spawn_with(backend, opts).await?, dir))
}

async fn signs_with_the_imported_key(backend: Backend) {
    let es = ES256KeyPair::generate();
    let ed = Ed25519KeyPair::generate();
    let cases = [
        ("ES256", es.to_pem().expect("pem"), es.public_key().public_key().to_bytes_uncompressed()[1..].to_vec()),
        ("EdDSA", ed.to_pem(), ed.public_key().to_bytes()),
    ];
    for (alg, pem, public) in cases {
        let Some((srv, _dir)) = spawn_with_key(backend, alg, &pem).await else { return };
        let keys = jwks(&srv).await;
        assert_eq!(keys.len(), 1, "the imported key signs, no rotation: {keys:?}");
        assert_jwk_shape(&keys[0], alg);
        let published = match alg {
            "ES256" => [b64_bytes(&keys[0], "x"), b64_bytes(&keys[0], "y")].concat(),
            _ => b64_bytes(&keys[0], "x"),
        };
        assert_eq!(published, public, "the JWKS publishes the imported key");
        let (c, _) = active_user(&srv, "import@example.com").await;
        let token = gateway_token(&srv, &c).await;
        assert_eq!(header(&token)["alg"], alg);
        let claims = verify_with_jwks(&srv, &token).await;
        assert_eq!(claims["email"], "import@example.com");
        relabelled_tokens_are_refused(&srv, &token, &keys[0]).await;
        // The key is stored (sealed) with its algorithm.
        let stored = srv.sql_texts("SELECT algorithm FROM signing_keys WHERE state = 'active'").await;
        assert_eq!(stored, vec![alg.to_string()]);
    }
}

#[tokio::test]
async fn an_unknown_jwt_algorithm_stops_start_up() {
    let dir = tempfile::tempdir().expect("tmp");
    let out = std::process::Command::new(binary("barongd"))
        .args(["config", "check"])
        .current_dir(dir.path())
        .env("BARONG_JWT_ALGORITHM", "HS256")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("jwt_algorithm") && err.contains("HS256") && err.contains("RS256, ES256 or EdDSA"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
