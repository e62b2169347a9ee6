//! `/otp/sign` (W3, W20): our signature added to a caller's JWS after one TOTP code, verified
//! here with jwcrypto against the daemon's published key; it never opens the APIs as a session.

use base64::Engine;

use super::*;

fn b64(v: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

/// Verifies the `barong` signature of `signed` with the daemon's active JWK (jwcrypto).
async fn verify_ours(srv: &TestServer, keys: &Keys, signed: &Value) -> Value {
    let (_, jwks) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
    let jwk = jwks["keys"][0].to_string();
    let script = workspace_root().join("tests/tools/jws_verify.py");
    let mut cmd = Command::new(&keys.py);
    cmd.arg(script).arg(signed.to_string()).arg(jwk).arg("barong");
    serde_json::from_str(&run(&mut cmd)).expect("the verifier prints JSON")
}

async fn otp_sign(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let ask = |data: Value| keys.sign(&claims(data), &app);
    let (_, _, totp) = two_factor_user(&srv, "otp-signer@example.com").await;
    let uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'otp-signer@example.com'").await.remove(0);
    // What Applogic asks Barong to co-sign: a withdrawal, already signed by Applogic.
    let withdrawal = json!({"data": {"rid": "0x1", "amount": "1.5"}, "iat": now(), "exp": now() + 60,
                            "jti": "w-1", "iss": "applogic"});
    let payload = b64(&withdrawal);
    let stale = json!({"protected": "e30", "header": {"kid": "barong"}, "signature": "old"});
    let applogic_sig = json!({"protected": "e30", "header": {"kid": "applogic"}, "signature": "theirs"});
    let jwt = json!({"payload": payload, "signatures": [applogic_sig, stale]});

    let code = fresh_code(&srv, &totp).await;
    let (s, b) = post_signed(&srv, "otp/sign", &ask(json!({"user_uid": uid, "otp_code": code, "jwt": jwt}))).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["payload"].as_str(), Some(payload.as_str()), "the payload as received");
    let sigs = b["signatures"].as_array().expect("signatures");
    assert_eq!(sigs.len(), 2, "the old barong signature is replaced: {b}");
    assert_eq!(sigs[0], applogic_sig);
    assert_eq!(sigs[1]["header"], json!({"kid": "barong"}));
    let verified = verify_ours(&srv, &keys, &b).await;
    let (_, jwks) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
    let kid = jwks["keys"][0]["kid"].clone();
    assert_eq!(verified["protected"], json!({"alg": "RS256", "typ": "barong-otp", "jwks_kid": kid}));
    assert_eq!(verified["payload"], withdrawal);

    // The signature with its payload is no session token: refused by the Admin and resource APIs.
    let protected = sigs[1]["protected"].as_str().expect("protected");
    let compact = format!("{protected}.{payload}.{}", sigs[1]["signature"].as_str().expect("signature"));
    let bare = reqwest::Client::new();
    for path in ["api/v2/barong/admin/levels", "api/v2/barong/resource/users/me"] {
        let r = bare.get(format!("{}/{path}", srv.base)).bearer_auth(&compact).send().await.expect("get");
        let (s, b) = read(r).await;
        assert_eq!(s, 401, "{path}: {b}");
    }

    // The code is single use.
    let again = ask(json!({"user_uid": uid, "otp_code": code, "jwt": jwt}));
    assert_eq!(post_signed(&srv, "otp/sign", &again).await, (422, error("OTP code is invalid")));
    // Session or event claims, or a long or missing expiry: refused with a fixed reason (W3).
    let forbidden = error("JWT is invalid by the reason \"forbidden claims\"");
    for claims_of in [
        json!({"uid": uid, "role": "superadmin", "sub": "session", "iss": "barong", "aud": ["peatio", "barong"],
               "iat": now(), "exp": now() + 60, "jti": "x"}),
        json!({"data": {}, "exp": now() + 3600, "jti": "y"}),
        json!({"data": {}, "jti": "z"}),
        json!({"event": {"name": "model.user.created"}, "exp": now() + 60}),
    ] {
        let jwt = json!({"payload": b64(&claims_of), "signatures": []});
        let code = fresh_code(&srv, &totp).await;
        let signed = ask(json!({"user_uid": uid, "otp_code": code, "jwt": jwt}));
        assert_eq!(post_signed(&srv, "otp/sign", &signed).await, (422, forbidden.clone()), "{claims_of}");
    }
    let malformed = error("JWT is invalid by the reason \"malformed JWT\"");
    for jwt in [json!({"payload": "%%%"}), json!({"signatures": []}), json!({"payload": payload, "signatures": "x"})] {
        let code = fresh_code(&srv, &totp).await;
        let signed = ask(json!({"user_uid": uid, "otp_code": code, "jwt": jwt}));
        assert_eq!(post_signed(&srv, "otp/sign", &signed).await, (422, malformed.clone()), "{jwt}");
    }

    let wrong = ask(json!({"user_uid": uid, "otp_code": wrong_code(&totp), "jwt": jwt}));
    assert_eq!(post_signed(&srv, "otp/sign", &wrong).await, (422, error("OTP code is invalid")));
    let (_, _) = active_user(&srv, "no-2fa@example.com").await;
    let plain = srv.sql_texts("SELECT uid FROM users WHERE email = 'no-2fa@example.com'").await.remove(0);
    let no_2fa = ask(json!({"user_uid": plain, "otp_code": "123456", "jwt": jwt}));
    assert_eq!(post_signed(&srv, "otp/sign", &no_2fa).await, (422, error("Account has not enabled 2FA")));
    srv.sql(&format!("UPDATE users SET state = 'banned' WHERE uid = '{uid}'")).await;
    let banned = ask(json!({"user_uid": uid, "otp_code": "123456", "jwt": jwt}));
    assert_eq!(post_signed(&srv, "otp/sign", &banned).await, (404, error("Record is not found")));
    assert_eq!(
        post_signed(&srv, "otp/sign", &ask(json!({"user_uid": uid, "jwt": "x"}))).await,
        (422, error("otp_code is missing, otp_code is empty, jwt is invalid"))
    );
}

both!(otp_sign_cosigns_without_becoming_an_oracle, per_backend = |b| with_management(b, SCOPES, "", otp_sign));

/// The user's WebAuthn assertion, relayed by the caller, in place of `otp_code`; a user with
/// WebAuthn and no TOTP counts as having 2FA. The assertion is good once.
async fn otp_sign_with_webauthn(srv: TestServer, keys: Keys) {
    let Some(auth) = crate::webauthn::Authenticator::new() else { return };
    let app = [("applogic", "RS256", "rsa.pem")];
    let ask = |data: Value| keys.sign(&claims(data), &app);
    let email = "passkey-signer@example.com";
    let (c, csrf) = active_user(&srv, email).await;
    assert_eq!(crate::webauthn::enrol(&srv, &c, &csrf, &auth, "key").await.0, 201);
    let uid = srv.sql_texts(&format!("SELECT uid FROM users WHERE email = '{email}'")).await.remove(0);
    let withdrawal = json!({"data": {"amount": "2"}, "iat": now(), "exp": now() + 60, "jti": "w-2", "iss": "applogic"});
    let jwt = json!({"payload": b64(&withdrawal), "signatures": []});

    let assertion = crate::webauthn::proof(&srv, &c, &csrf, &auth).await;
    let signed = ask(json!({"user_uid": uid, "webauthn": assertion.clone(), "jwt": jwt}));
    let (s, b) = post_signed(&srv, "otp/sign", &signed).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(verify_ours(&srv, &keys, &b).await["payload"], withdrawal);
    let replay = ask(json!({"user_uid": uid, "webauthn": assertion, "jwt": jwt}));
    assert_eq!(post_signed(&srv, "otp/sign", &replay).await, (422, error("OTP code is invalid")));
    let malformed = ask(json!({"user_uid": uid, "webauthn": "x", "jwt": jwt}));
    assert_eq!(post_signed(&srv, "otp/sign", &malformed).await, (422, error("webauthn is invalid")));
}

both!(
    otp_sign_takes_a_webauthn_assertion,
    per_backend = |b| with_management(b, SCOPES, crate::webauthn::CONFIG, otp_sign_with_webauthn)
);
