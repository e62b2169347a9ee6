//! `barongctl keys import|activate|export-public` and `JWT_PRIVATE_KEY_PATH`: Barong's own RSA
//! key (PKCS#1 PEM, as Barong wrote it) becomes the signing key of running daemons, consumers that
//! pin it verify the new tokens, and the tokens of the old key keep working until they expire.

use base64::Engine;
use reqwest::Method;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use sha2::Digest;

use super::*;

const PEATIO: &str = "api/v2/peatio/account/balances";

/// A fresh RSA key as Barong's `config/rsa-key` holds it (`BEGIN RSA PRIVATE KEY`), and its SPKI
/// PEM (what Peatio's `JWT_PUBLIC_KEY` decodes to).
fn barong_key(bits: usize) -> (String, String) {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).expect("rsa");
    let pem = key.to_pkcs1_pem(LineEnding::LF).expect("pkcs1").to_string();
    assert!(pem.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    (pem, key.to_public_key().to_public_key_pem(LineEnding::LF).expect("spki"))
}

fn write_key(dir: &tempfile::TempDir, name: &str, pem: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, pem).expect("write key");
    path.display().to_string()
}

/// The upstream JWT the gateway hands out for this client's session.
async fn gateway_token(srv: &TestServer, c: &reqwest::Client) -> String {
    let r = authz_call(c, Method::GET, &auth_url(srv, PEATIO), &[]).await;
    assert_eq!(r.0, 200, "gateway: {:?}", r.2);
    r.1.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string()
}

async fn login(srv: &TestServer, email: &str) -> reqwest::Client {
    let c = srv.client();
    let (s, b) = post(&c, &srv.url("identity/sessions"), json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(s, 200, "login: {b}");
    c
}

fn kid_of(token: &str) -> String {
    jsonwebtoken::decode_header(token).expect("header").kid.expect("kid")
}

/// Verifies `token` as Peatio does: RS256 with the pinned public key alone (no kid, no JWKS).
fn verify_as_peatio(token: &str, spki: &str) -> Value {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(spki.as_bytes()).expect("public key");
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&["peatio"]);
    v.set_issuer(&["barong"]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap_or_else(|e| panic!("does not verify with the key: {e}"))
        .claims
}

/// RFC 7638 thumbprint of an RSA public key, computed here from its modulus and exponent.
fn thumbprint(spki: &str) -> String {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::traits::PublicKeyParts;
    let public = rsa::RsaPublicKey::from_public_key_pem(spki).expect("spki");
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let canonical =
        format!(r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#, b64(public.e().to_bytes_be()), b64(public.n().to_bytes_be()));
    b64(sha2::Sha256::digest(canonical.as_bytes()).to_vec())
}

both!(
    an_imported_key_signs_at_once_and_the_old_one_still_verifies,
    options = Options::unpinned(),
    |srv: TestServer| async move {
        let (c, _) = active_user(&srv, "import@example.com").await;
        let before = gateway_token(&srv, &c).await;
        let old_kid = kid_of(&before);

        let dir = tempfile::tempdir().expect("tmp");
        let (pem, spki) = barong_key(2048);
        let path = write_key(&dir, "rsa-key", &pem);
        let imported = ctl_json(&srv, &["keys", "import", &path, "--activate"]);
        let kid = thumbprint(&spki);
        assert_eq!(imported["kid"], kid.as_str(), "the kid is the RFC 7638 thumbprint: {imported}");
        assert_eq!((imported["algorithm"].as_str(), imported["size"].as_u64()), (Some("RS256"), Some(2048)));
        assert_eq!((imported["state"].as_str(), imported["already_present"].as_bool()), (Some("active"), Some(false)));
        let spki_der = {
            use rsa::pkcs8::DecodePublicKey;
            rsa::RsaPublicKey::from_public_key_pem(&spki).expect("spki").to_public_key_der().expect("der")
        };
        assert_eq!(imported["fingerprint"], hex::encode(sha2::Sha256::digest(spki_der.as_bytes())).as_str());
        let peatio = base64::engine::general_purpose::URL_SAFE.encode(spki.as_bytes());
        assert_eq!(imported["public_key"], peatio.as_str(), "Peatio's JWT_PUBLIC_KEY form");
        assert!(imported["warnings"][0].as_str().is_some_and(|w| w.contains("JWT_PUBLIC_KEY")), "{imported}");

        // New tokens carry the new kid and verify with the pinned public key alone, as Peatio checks.
        let c2 = login(&srv, "import@example.com").await;
        let fresh = gateway_token(&srv, &c2).await;
        assert_eq!(kid_of(&fresh), kid);
        let claims = verify_as_peatio(&fresh, &spki);
        assert_eq!((claims["email"].as_str(), claims["sub"].as_str()), (Some("import@example.com"), Some("session")));
        verify_with_jwks(&srv, &fresh).await;
        // The old session's cached token was dropped: it is signed again by the new key.
        assert_eq!(kid_of(&gateway_token(&srv, &c).await), kid);
        // A token of the previous key still verifies (kept as `previous`) until it expires.
        verify_with_jwks(&srv, &before).await;
        let me = reqwest::Client::new()
            .get(srv.url("resource/users/me"))
            .header("Authorization", format!("Bearer {before}"));
        assert_eq!(me.send().await.expect("me").status().as_u16(), 200);
        let listed = ctl_json(&srv, &["keys", "list"]);
        assert_eq!((listed[0]["kid"].as_str(), listed[0]["state"].as_str()), (Some(kid.as_str()), Some("active")));
        assert_eq!(
            (listed[1]["kid"].as_str(), listed[1]["state"].as_str()),
            (Some(old_kid.as_str()), Some("previous"))
        );

        // export-public: the key's SPKI, in every form.
        let (code, out, err) = srv.ctl(&["keys", "export-public"], None);
        assert_eq!((code, out.as_str()), (0, spki.as_str()), "{err}");
        let (code, out, _) = srv.ctl(&["keys", "export-public", &kid, "--format", "peatio"], None);
        assert_eq!((code, out.trim()), (0, peatio.as_str()));
        let jwk: Value =
            serde_json::from_str(&srv.ctl(&["keys", "export-public", "--format", "jwk"], None).1).expect("jwk");
        assert_eq!((jwk["kid"].as_str(), jwk["alg"].as_str()), (Some(kid.as_str()), Some("RS256")));
        let set: Value =
            serde_json::from_str(&srv.ctl(&["keys", "export-public", "--format", "jwks"], None).1).expect("jwks");
        let (_, served) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
        assert_eq!(set, served, "the JWKS export is what /.well-known/jwks.json serves");
        let old = ctl_json(&srv, &["keys", "export-public", &old_kid, "--format", "pem"]);
        assert!(old["text"].as_str().is_some_and(|t| t.starts_with("-----BEGIN PUBLIC KEY-----")), "{old}");
        let (code, _, err) = srv.ctl(&["keys", "export-public", "nope"], None);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("keys.not_found"), "{err}");

        // The same key again (PKCS#8 this time): already present, same kid, nothing added.
        let (code, out, err) = srv.ctl(&["keys", "import", &path], None);
        assert_eq!(code, 0, "{err}");
        assert!(out.contains(&format!("already present: {kid}")), "{out}");
        let key: rsa::RsaPrivateKey = rsa::pkcs1::DecodeRsaPrivateKey::from_pkcs1_pem(&pem).expect("pem");
        let pkcs8 = write_key(&dir, "pkcs8.pem", &key.to_pkcs8_pem(LineEnding::LF).expect("pkcs8"));
        let again = ctl_json(&srv, &["keys", "import", &pkcs8, "--activate"]);
        assert_eq!((again["kid"].as_str(), again["already_present"].as_bool()), (Some(kid.as_str()), Some(true)));
        assert_eq!(again.get("warnings"), None, "already active: nothing for consumers to do");
        assert_eq!(ctl_json(&srv, &["keys", "list"]).as_array().map(Vec::len), Some(2));

        // Refused: too short an RSA key, another curve, not a key. Nothing is echoed or stored.
        let (small, _) = barong_key(1024);
        let p384 = p384::SecretKey::random(&mut rand::rngs::OsRng);
        let p384 = p384.to_pkcs8_pem(LineEnding::LF).expect("pem").to_string();
        let cases = [
            (small.as_str(), "keys.rsa_too_small", "1024 bits"),
            (p384.as_str(), "keys.unsupported_curve", "P-256"),
            ("not a key\n", "keys.invalid_key", "no PRIVATE KEY block"),
        ];
        for (i, (pem, code_word, text)) in cases.iter().enumerate() {
            let path = write_key(&dir, &format!("bad{i}.pem"), pem);
            let (code, out, err) = srv.ctl(&["keys", "import", &path, "--activate"], None);
            assert_eq!(code, 1, "{out}{err}");
            assert!(err.contains(code_word) && err.contains(text), "{err}");
            let body = pem.lines().nth(1).unwrap_or("not a key");
            assert!(!err.contains(body) && !out.contains(body), "the key is never echoed: {err}");
        }
        assert_eq!(ctl_json(&srv, &["keys", "list"]).as_array().map(Vec::len), Some(2));
        let (code, _, err) = srv.ctl(&["keys", "import", "/nonexistent/rsa-key"], None);
        assert_eq!(code, 2, "{err}");
        // The daemon never logs a key.
        let logs = srv.logs();
        assert!(!logs.contains(pem.lines().nth(1).expect("line")), "private key in the log");
        assert!(!logs.contains(small.lines().nth(1).expect("line")), "refused key in the log");
    }
);

both!(an_encrypted_key_needs_its_passphrase, options = Options::unpinned(), |srv: TestServer| async move {
    let dir = tempfile::tempdir().expect("tmp");
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa");
    let encrypted = key.to_pkcs8_encrypted_pem(&mut rand::rngs::OsRng, "s3cret-pass", LineEnding::LF).expect("pem");
    assert!(encrypted.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let path = write_key(&dir, "enc.pem", &encrypted);
    let (code, _, err) = srv.ctl(&["keys", "import", &path], None);
    assert_eq!(code, 1);
    assert!(err.contains("keys.passphrase_required"), "{err}");
    let (code, _, err) = srv.ctl(&["keys", "import", &path, "--passphrase-stdin"], Some("wrong\n"));
    assert_eq!(code, 1);
    assert!(err.contains("keys.wrong_passphrase") && !err.contains("wrong\n"), "{err}");
    let (code, out, err) = srv.ctl(&["--json", "keys", "import", &path, "--passphrase-stdin"], Some("s3cret-pass\n"));
    assert_eq!(code, 0, "{err}");
    let imported: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(imported["state"], "previous", "without --activate: published, verify-only");
    assert!(!srv.logs().contains("s3cret-pass"), "the passphrase is never logged");
    // Activation by kid: published only now, so it signs after jwt_key_activation_delay, or at
    // once with --now.
    let kid = imported["kid"].as_str().expect("kid").to_string();
    let planned = ctl_json(&srv, &["keys", "activate", &kid]);
    assert_eq!((planned["kid"].as_str(), planned["state"].as_str()), (Some(kid.as_str()), Some("next")));
    let activated = ctl_json(&srv, &["keys", "activate", &kid, "--now"]);
    assert_eq!((activated["kid"].as_str(), activated["state"].as_str()), (Some(kid.as_str()), Some("active")));
    let (c, _) = active_user(&srv, "enc@example.com").await;
    assert_eq!(kid_of(&gateway_token(&srv, &c).await), kid);
});

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_signs_with_the_imported_key() {
    let Some(a) = TestServer::spawn_with(Backend::Postgres, Options::unpinned()).await else { return };
    active_user(&a, "twin-key@example.com").await;
    let b = a.sibling("").await;
    let dir = tempfile::tempdir().expect("tmp");
    let (pem, spki) = barong_key(2048);
    let imported = ctl_json(&a, &["keys", "import", &write_key(&dir, "rsa-key", &pem), "--activate"]);
    let kid = imported["kid"].as_str().expect("kid").to_string();
    // B learns of the new active key through the change feed, within a second.
    eventually(Duration::from_secs(1), || async {
        let (_, jwks) = get(&reqwest::Client::new(), &format!("{}/.well-known/jwks.json", b.base)).await;
        jwks["keys"][0]["kid"] == kid.as_str()
    })
    .await;
    let c = login(&b, "twin-key@example.com").await;
    let token = gateway_token(&b, &c).await;
    assert_eq!(kid_of(&token), kid);
    verify_as_peatio(&token, &spki);
}

/// Stops a daemon and gives it back, still owning its directory and database.
async fn stop(mut srv: TestServer) -> TestServer {
    tokio::task::spawn_blocking(move || {
        assert_eq!(srv.terminate(), Some(0), "clean exit");
        srv
    })
    .await
    .expect("join")
}

/// The same data dir and database with `JWT_PRIVATE_KEY_PATH` = `key_path` ("" for none).
async fn start_again(srv: &TestServer, key_path: &str) -> TestServer {
    let opts = Options {
        env: vec![("JWT_PRIVATE_KEY_PATH".into(), key_path.to_string())],
        data_dir: Some(srv.data_dir.clone()),
        database_url: Some(srv.database_url.clone()),
        ..Default::default()
    };
    TestServer::spawn_with(srv.backend, opts).await.expect("restarted")
}

async fn active_kid(srv: &TestServer) -> String {
    let (_, jwks) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
    jwks["keys"][0]["kid"].as_str().expect("kid").to_string()
}

both!(jwt_private_key_path_signs_at_every_start, per_backend = jwt_private_key_path_signs_at_every_start);

async fn jwt_private_key_path_signs_at_every_start(backend: Backend) {
    let dir = tempfile::tempdir().expect("tmp");
    let (pem, spki) = barong_key(2048);
    let path = write_key(&dir, "rsa-key", &pem);
    let kid = thumbprint(&spki);
    let opts = Options { env: vec![("JWT_PRIVATE_KEY_PATH".into(), path.clone())], ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        assert!(srv.logs().contains("JWT_PRIVATE_KEY_PATH") && srv.logs().contains(&kid), "{}", srv.logs());
        assert_eq!(active_kid(&srv).await, kid);
        let (c, _) = active_user(&srv, "pinned@example.com").await;
        verify_as_peatio(&gateway_token(&srv, &c).await, &spki);
        // While it is set, the operator cannot make another key active.
        for args in [&["keys", "rotate"][..], &["keys", "activate", "some-kid"]] {
            let (code, out, err) = srv.ctl(args, None);
            assert_eq!(code, 1, "{args:?}: {out}");
            assert!(err.contains("unset JWT_PRIVATE_KEY_PATH first") && err.contains("keys.pinned"), "{err}");
        }
        let (other, _) = barong_key(2048);
        let (code, _, err) = srv.ctl(&["keys", "import", &write_key(&dir, "other", &other), "--activate"], None);
        assert_eq!(code, 1);
        assert!(err.contains("unset JWT_PRIVATE_KEY_PATH first"), "{err}");
        let srv = stop(srv).await;

        // A run without it: the ring decides, and the operator rotates.
        let free = start_again(&srv, "").await;
        assert_eq!(active_kid(&free).await, kid, "the ring keeps the last active key");
        let rotated = ctl_json(&free, &["keys", "rotate", "--now"]);
        let rotated_kid = rotated["kid"].as_str().expect("kid").to_string();
        assert_ne!(rotated_kid, kid);
        assert_eq!(active_kid(&free).await, rotated_kid);
        let free = stop(free).await;

        // Set again: the file's key signs again at start, the rotated one verifies.
        let pinned = start_again(&srv, &path).await;
        assert_eq!(active_kid(&pinned).await, kid);
        let c = login(&pinned, "pinned@example.com").await;
        let token = gateway_token(&pinned, &c).await;
        assert_eq!(kid_of(&token), kid);
        verify_as_peatio(&token, &spki);
        let listed = ctl_json(&pinned, &["keys", "list"]);
        assert_eq!(listed[1]["kid"], rotated_kid.as_str());
        drop(free);
    })
    .await;
}
