//! `/otp/sign` (spec §4.10 #15, W3, W20): after one TOTP code of an active 2FA user (or, in its
//! place, the user's WebAuthn assertion relayed as `webauthn`), adds a
//! `barong` signature with our own signing key to a caller's jwt-multisig JWS (Peatio and
//! Applogic use it to prove the user confirmed a withdrawal).
//!
//! Barong signed any claims, which made it a signing oracle for session tokens (W3). Here a
//! payload must not carry the claims a session or an event is made of, must expire within
//! `management_api.max_token_lifetime`, and the protected header says `"typ":"barong-otp"`, a
//! type our own verifiers refuse. The received payload string is signed as is, an existing
//! `barong` signature is replaced, and refusals carry fixed reasons (W20).

use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::model::AccountState;
use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{Refusal, ServiceError};
use crate::services::identity::webauthn::assertion::Proof;
use crate::services::identity::webauthn::factor::{self, Factor};
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::params::Grape;

/// Claims a session JWT or an Event API message is made of: a payload with any of them could
/// be replayed as one (W3).
const FORBIDDEN: [&str; 8] = ["sub", "aud", "uid", "role", "email", "level", "state", "event"];

/// Our signer id in the JWS.
const KID: &str = "barong";

/// The protected header's `typ` of these signatures.
pub const TYP: &str = "barong-otp";

/// What is wrong with a JWS, as the fixed reason answered (W20).
#[derive(Debug, PartialEq)]
enum Invalid {
    Malformed,
    Forbidden,
}

fn refused(why: Invalid) -> MgmtError {
    let reason = match why {
        Invalid::Malformed => "malformed JWT",
        Invalid::Forbidden => "forbidden claims",
    };
    MgmtError::message(422, &format!("JWT is invalid by the reason \"{reason}\""))
}

/// The payload string and the other signatures of `jwt`, when its claims may be signed.
fn check(jwt: &Map<String, Value>, now: i64, max_lifetime: i64) -> Result<(String, Vec<Value>), Invalid> {
    let payload = jwt.get("payload").and_then(Value::as_str).ok_or(Invalid::Malformed)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|_| Invalid::Malformed)?;
    let claims: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| Invalid::Malformed)?;
    let others = match jwt.get("signatures") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(list)) => {
            list.iter().filter(|s| s.pointer("/header/kid").and_then(Value::as_str) != Some(KID)).cloned().collect()
        }
        Some(_) => return Err(Invalid::Malformed),
    };
    if FORBIDDEN.iter().any(|c| claims.contains_key(*c)) {
        return Err(Invalid::Forbidden);
    }
    let exp = claims.get("exp").and_then(Value::as_f64).ok_or(Invalid::Forbidden)?;
    if max_lifetime > 0 && exp - now as f64 > max_lifetime as f64 {
        return Err(Invalid::Forbidden);
    }
    Ok((payload.to_string(), others))
}

/// The answer: the payload as received and the signatures, ours last.
#[derive(Serialize)]
struct Signed {
    payload: String,
    signatures: Vec<Value>,
}

pub async fn sign(app: &App, data: &Map<String, Value>, ip: &str, request_id: &str) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.required("user_uid");
    // The user's WebAuthn assertion (from `resource/webauthn/assertions`), relayed by the caller,
    // stands in for `otp_code`.
    let proof = p.raw("webauthn").filter(|v| !v.is_null()).map(Proof::from_param);
    let code = if proof.is_some() { String::new() } else { p.required("otp_code") };
    if matches!(proof, Some(None)) {
        p.error("webauthn is invalid");
    }
    let jwt = match p.raw("jwt").cloned() {
        Some(Value::Object(m)) => m,
        None | Some(Value::Null) => {
            p.error("jwt is missing");
            Map::new()
        }
        Some(_) => {
            p.error("jwt is invalid");
            Map::new()
        }
    };
    p.finish()?;

    let user = app.store.user_by_uid(&uid).await.map_err(MgmtError::internal)?;
    let user = user.filter(|u| u.state == AccountState::Active).ok_or_else(MgmtError::not_found)?;
    if !factor::has_second_factor(app, &user).await.map_err(MgmtError::from)? {
        return Err(MgmtError::message(422, "Account has not enabled 2FA"));
    }
    let factor = match proof.flatten() {
        Some(proof) => Factor::Webauthn(proof),
        None => Factor::Totp(code),
    };
    let ctx = RequestContext { ip: ip.to_string(), request_id: request_id.to_string(), ..Default::default() };
    match factor::verify(app, &user, &factor, &ctx).await {
        Ok(true) => {}
        Ok(false) => return Err(MgmtError::message(422, "OTP code is invalid")),
        Err(ServiceError::Refused { why: Refusal::Throttled, .. }) => {
            return Err(MgmtError::message(429, "Too many OTP attempts"));
        }
        // A code already used: Barong passed the TOTP backend's own text through (W20).
        Err(ServiceError::Refused { .. }) => return Err(MgmtError::message(422, "OTP code is invalid")),
        Err(ServiceError::Internal(detail)) => return Err(MgmtError::Internal(detail)),
    }
    let (payload, mut signatures) = check(&jwt, app.clock.now(), app.config.management_api.max_token_lifetime)
        .map_err(|why| {
            tracing::warn!(%request_id, uid = %user.uid, reason = ?why, "otp/sign refused the payload");
            refused(why)
        })?;
    let (protected, signature) = app.tokens.sign_detached(&payload, Some(TYP)).map_err(MgmtError::from)?;
    signatures.push(json!({"protected": protected, "header": {"kid": KID}, "signature": signature}));
    to_json(&Signed { payload, signatures })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_718_000_000;

    fn jws(claims: Value, signatures: Value) -> Map<String, Value> {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string());
        json!({"payload": payload, "signatures": signatures}).as_object().cloned().expect("object")
    }

    #[test]
    fn withdrawal_payloads_pass_and_barongs_old_signature_goes() {
        let claims = json!({"data": {"amount": "1"}, "iat": NOW, "exp": NOW + 60, "jti": "a", "iss": "applogic"});
        let sigs = json!([{"header": {"kid": "applogic"}}, {"header": {"kid": "barong"}}]);
        let (_, others) = check(&jws(claims, sigs), NOW, 300).expect("passes");
        assert_eq!(others, vec![json!({"header": {"kid": "applogic"}})]);
    }

    #[test]
    fn session_claims_and_long_or_missing_expiry_are_forbidden() {
        for claim in FORBIDDEN {
            let claims = json!({"exp": NOW + 60, claim: "x"});
            assert_eq!(check(&jws(claims, json!([])), NOW, 300), Err(Invalid::Forbidden), "{claim}");
        }
        assert_eq!(check(&jws(json!({"iat": NOW}), json!([])), NOW, 300), Err(Invalid::Forbidden));
        assert_eq!(check(&jws(json!({"exp": NOW + 301}), json!([])), NOW, 300), Err(Invalid::Forbidden));
        assert!(check(&jws(json!({"exp": NOW + 3600}), json!([])), NOW, 0).is_ok(), "0 = no bound");
    }

    #[test]
    fn unreadable_jws_are_malformed() {
        let bad = |v: Value| check(v.as_object().expect("object"), NOW, 300);
        assert_eq!(bad(json!({})), Err(Invalid::Malformed));
        assert_eq!(bad(json!({"payload": "%%%"})), Err(Invalid::Malformed));
        assert_eq!(bad(json!({"payload": "W10"})), Err(Invalid::Malformed), "a JSON array");
        let mut ok = jws(json!({"exp": NOW + 60}), json!([]));
        ok.insert("signatures".into(), json!("x"));
        assert_eq!(check(&ok, NOW, 300), Err(Invalid::Malformed));
    }
}
