//! `POST identity/sessions/auth0` (spec §7.10) against a fake Auth0 tenant: a JWKS server on
//! loopback serving the public half of an RSA key the test generates, and ID tokens the test
//! signs. Unlike Barong, only verified emails sign in, and account state and 2FA apply.

use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::traits::PublicKeyParts;

use super::*;

const DOMAIN: &str = "barong-test.eu.auth0.com";
const CLIENT_ID: &str = "b4r0ngT3stCl1ent";
const KID: &str = "tenant-key-1";

/// The fake tenant: its signing key, a key it never published, and how often its JWKS was read.
struct Tenant {
    key: EncodingKey,
    stranger: EncodingKey,
    jwks_url: String,
    fetches: Arc<AtomicUsize>,
}

fn rsa_key() -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).expect("rsa")
}

fn encoding(key: &rsa::RsaPrivateKey) -> EncodingKey {
    let pem = key.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).expect("pem");
    EncodingKey::from_rsa_pem(pem.as_bytes()).expect("encoding key")
}

async fn tenant() -> Tenant {
    use base64::Engine as _;
    let key = rsa_key();
    let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let jwks = json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
        "n": b64(key.n().to_bytes_be()), "e": b64(key.e().to_bytes_be()),
    }]})
    .to_string();
    let fetches = Arc::new(AtomicUsize::new(0));
    let counter = fetches.clone();
    let base = fake_router(move |req: &FakeRequest| {
        if req.path == "/.well-known/jwks.json" {
            counter.fetch_add(1, Ordering::SeqCst);
            (200, jwks.clone())
        } else {
            (404, "{}".into())
        }
    })
    .await;
    let stranger = encoding(&rsa_key());
    Tenant { key: encoding(&key), stranger, jwks_url: format!("{base}/.well-known/jwks.json"), fetches }
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// The claims of an Auth0 ID token for `email`, as the tenant issues them.
fn claims(email: &str) -> Value {
    json!({
        "iss": format!("https://{DOMAIN}/"), "aud": CLIENT_ID, "sub": "auth0|5f7c8ec7c33c6c004bbafe82",
        "iat": now(), "exp": now() + 600, "email": email, "email_verified": true,
    })
}

fn sign(key: &EncodingKey, kid: Option<&str>, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = kid.map(str::to_string);
    jsonwebtoken::encode(&header, claims, key).expect("sign")
}

async fn auth0_login(srv: &TestServer, c: &reqwest::Client, body: Value) -> (u16, Value) {
    post(c, &srv.url("identity/sessions/auth0"), body).await
}

fn config(t: &Tenant) -> String {
    format!("auth0_domain: {DOMAIN}\nauth0_client_id: {CLIENT_ID}\nauth0_jwks_url: {}\n", t.jwks_url)
}

/// A daemon whose Auth0 tenant is `t`.
async fn daemon(backend: Backend, t: &Tenant) -> Option<TestServer> {
    TestServer::spawn_with(backend, Options { config: config(t), ..Default::default() }).await
}

both!(
    auth0_login_signs_in_verified_emails,
    per_backend = |backend| async move {
        let t = tenant().await;
        let Some(srv) = daemon(backend, &t).await else { return };
        within_limit(srv, |srv| async move {
            // A new verified email: an active account with email=verified, signed in (201).
            let c = srv.client();
            let token = sign(&t.key, Some(KID), &claims("ada@example.com"));
            let (s, body) = auth0_login(&srv, &c, json!({"id_token": token})).await;
            assert_eq!(s, 201, "{body}");
            assert_eq!((body["email"].as_str(), body["state"].as_str()), (Some("ada@example.com"), Some("active")));
            assert!(body["csrf_token"].as_str().is_some_and(|t| t.len() == 20), "{body}");
            let labels = body["labels"].as_array().expect("labels");
            assert!(labels.iter().any(|l| l["key"] == "email" && l["value"] == "verified" && l["scope"] == "private"));
            assert_eq!(body["level"], 1, "{body}");
            let (s, me) = get(&c, &srv.url("resource/users/me")).await;
            assert_eq!((s, me["email"].as_str()), (200, Some("ada@example.com")), "{me}");
            // The same email again: the same account.
            let again = srv.client();
            let (s, body2) = auth0_login(&srv, &again, json!({"id_token": token})).await;
            assert_eq!((s, &body2["uid"]), (201, &body["uid"]), "{body2}");
            assert_eq!(t.fetches.load(Ordering::SeqCst), 1, "the JWKS is cached");
            // Each sign-in is a `login` activity, as a password login.
            let q = "SELECT a.result FROM activities a JOIN users u ON u.id = a.user_id \
                 WHERE u.email = 'ada@example.com' AND a.topic = 'session' AND a.action = 'login'";
            assert_eq!(srv.sql_texts(q).await, ["succeed", "succeed"]);

            // Tokens that do not verify: Barong's 422.
            let refused = |claims: Value| sign(&t.key, Some(KID), &claims);
            let mut cases: Vec<(&str, String)> = Vec::new();
            let with = |k: &str, v: Value| {
                let mut c = claims("ada@example.com");
                c[k] = v;
                c
            };
            cases.push(("wrong audience", refused(with("aud", json!("another-client")))));
            cases.push(("wrong issuer", refused(with("iss", json!("https://evil.auth0.com/")))));
            cases.push(("issuer without the slash", refused(with("iss", json!(format!("https://{DOMAIN}"))))));
            cases.push(("expired", refused(with("exp", json!(now() - 5)))));
            cases.push(("unknown kid", sign(&t.key, Some("tenant-key-2"), &claims("ada@example.com"))));
            cases.push(("no kid", sign(&t.key, None, &claims("ada@example.com"))));
            cases.push(("bad signature", sign(&t.stranger, Some(KID), &claims("ada@example.com"))));
            let hs = jsonwebtoken::encode(
                &Header { kid: Some(KID.into()), ..Header::new(Algorithm::HS256) },
                &claims("ada@example.com"),
                &EncodingKey::from_secret(b"the client secret"),
            )
            .expect("hs256");
            cases.push(("HS256", hs));
            cases.push(("not a JWT", "not.a.jwt".into()));
            let mut tampered = token.split('.').map(str::to_string).collect::<Vec<_>>();
            tampered[1] = {
                use base64::Engine as _;
                let c = with("email", json!("eve@example.com"));
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string())
            };
            cases.push(("tampered payload", tampered.join(".")));
            for (what, token) in cases {
                let got = auth0_login(&srv, &srv.client(), json!({"id_token": token})).await;
                assert_eq!(
                    (got.0, errors(&got.1)),
                    (422, vec!["identity.session.auth0.invalid_params".to_string()]),
                    "{what}"
                );
            }
            // The unknown kid did not make barongd fetch again at once (rate-limited refetch).
            assert_eq!(t.fetches.load(Ordering::SeqCst), 1);

            // Verified tokens that name no usable email.
            let mut unverified = claims("bob@example.com");
            unverified["email_verified"] = json!(false);
            let got = auth0_login(&srv, &srv.client(), json!({"id_token": refused(unverified)})).await;
            assert_err(&got, 401, &["identity.session.auth0.invalid_params"]);
            let mut no_email = claims("bob@example.com");
            no_email.as_object_mut().expect("object").remove("email");
            let got = auth0_login(&srv, &srv.client(), json!({"id_token": refused(no_email)})).await;
            assert_err(&got, 401, &["identity.session.auth0.invalid_params"]);
            let mut no_claim = claims("bob@example.com");
            no_claim.as_object_mut().expect("object").remove("email_verified");
            let got = auth0_login(&srv, &srv.client(), json!({"id_token": refused(no_claim)})).await;
            assert_err(&got, 422, &["identity.session.auth0.invalid_params"]);
            // An existing account is not taken over by an unverified email (Barong signed it in).
            operator_user(&srv, "carol@example.com");
            let mut takeover = claims("carol@example.com");
            takeover["email_verified"] = json!(false);
            let got = auth0_login(&srv, &srv.client(), json!({"id_token": refused(takeover)})).await;
            assert_err(&got, 401, &["identity.session.auth0.invalid_params"]);
            assert_eq!(srv.sql_texts("SELECT email FROM users WHERE email = 'bob@example.com'").await.len(), 0);

            // Parameters.
            let got = auth0_login(&srv, &srv.client(), json!({})).await;
            assert_err(&got, 422, &["identity.session.missing_id_token", "identity.session.empty_id_token"]);
            let got = auth0_login(&srv, &srv.client(), json!({"id_token": " "})).await;
            assert_err(&got, 422, &["identity.session.empty_id_token"]);
        })
        .await;
    }
);

both!(
    auth0_login_keeps_account_state_and_2fa,
    per_backend = |backend| async move {
        let t = tenant().await;
        let Some(srv) = daemon(backend, &t).await else { return };
        within_limit(srv, |srv| async move {
            let login = |email: &str, otp: Option<String>| {
                let mut body = json!({"id_token": sign(&t.key, Some(KID), &claims(email))});
                if let Some(code) = otp {
                    body["otp_code"] = json!(code);
                }
                let (srv, c) = (&srv, srv.client());
                async move { auth0_login(srv, &c, body).await }
            };
            // Banned, locked and deleted accounts: the password login's keys.
            for (email, state, key) in [
                ("banned@example.com", "banned", "identity.session.banned"),
                ("locked@example.com", "locked", "identity.session.not_active"),
                ("deleted@example.com", "deleted", "identity.session.deleted"),
            ] {
                operator_user(&srv, email);
                srv.sql(&format!("UPDATE users SET state = '{state}' WHERE email = '{email}'")).await;
                assert_err(&login(email, None).await, 401, &[key]);
            }
            // An account with 2FA needs the code, exactly as at the password login.
            let (_, _, totp) = two_factor_user(&srv, "otto@example.com").await;
            assert_err(&login("otto@example.com", None).await, 401, &["identity.session.missing_otp"]);
            assert_err(
                &login("otto@example.com", Some(wrong_code(&totp))).await,
                403,
                &["identity.session.invalid_otp"],
            );
            let (s, body) = login("otto@example.com", Some(fresh_code(&srv, &totp).await)).await;
            assert_eq!((s, body["otp"].as_bool()), (201, Some(true)), "{body}");
        })
        .await;
    }
);

both!(auth0_login_is_off_unless_configured, |srv: TestServer| async move {
    let c = srv.client();
    let got = auth0_login(&srv, &c, json!({"id_token": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"})).await;
    assert_err(&got, 422, &["identity.session.auth0.invalid_params"]);
    let got = auth0_login(&srv, &c, json!({})).await;
    assert_err(&got, 422, &["identity.session.missing_id_token", "identity.session.empty_id_token"]);
    let (s, cfg) = get(&c, &srv.url("public/configs/auth0")).await;
    assert_eq!((s, cfg), (200, json!({"auth0_domain": "", "auth0_client_id": ""})));
});
