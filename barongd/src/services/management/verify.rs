//! Verification of a Management API request (spec §4.2, §4.5, §4.6): the scope's permitted
//! signers' signatures in array order, ruby-jwt's claim checks, the mandatory signers, then the
//! barong-rs hardening (W2: algorithms from the key, never HMAC; W4: `exp` required, lifetime
//! bounded, `jti` present for single use). Every refusal carries a reason for the log only.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use crate::config::management::ManagementApiSettings;
use crate::config::management_file::{JwtOptions, ManagementFile};

/// `jti` rows of a token without `exp` (only when `max_token_lifetime` is 0) are kept this long.
const NO_EXP_JTI_SECONDS: i64 = 10 * 365 * 24 * 3600;

/// Why a request was refused; the text is logged with the request id, never returned.
#[derive(Debug, PartialEq)]
pub enum Refused {
    /// 401 `Failed to verify JWT.`
    Failed(String),
    /// 401 `Not enough signatures for the action.`
    NotEnough(String),
}

/// A request whose signatures and claims hold.
#[derive(Debug)]
pub struct Verified {
    /// `payload.data`: the request's parameters.
    pub data: Map<String, Value>,
    /// The `jti` to record once, with the time its row may be purged.
    pub jti: Option<(String, i64)>,
    pub signers: Vec<String>,
}

fn failed(reason: impl Into<String>) -> Refused {
    Refused::Failed(reason.into())
}

fn b64_json(part: &str, what: &str) -> Result<Map<String, Value>, Refused> {
    let bytes =
        URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).map_err(|_| failed(format!("{what}: not base64url")))?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(failed(format!("{what}: not a JSON object"))),
    }
}

/// Checks `body` (the parsed request body) for the route's `scope` at `now` (unix seconds).
pub fn verify(
    body: &Value,
    scope: &str,
    file: Option<&ManagementFile>,
    settings: &ManagementApiSettings,
    now: i64,
) -> Result<Verified, Refused> {
    let file = file.ok_or_else(|| failed("management_api.file is not set"))?;
    let signers = file.scopes.get(scope).ok_or_else(|| failed(format!("scope {scope} is not configured")))?;
    let payload = body.get("payload").and_then(Value::as_str).ok_or_else(|| failed("no payload"))?;
    let signatures = body.get("signatures").and_then(Value::as_array).ok_or_else(|| failed("no signatures"))?;
    let claims = b64_json(payload, "payload")?;
    let mut verified: Vec<String> = Vec::new();
    for (i, sig) in signatures.iter().enumerate() {
        let kid = sig
            .get("header")
            .and_then(|h| h.get("kid"))
            .and_then(Value::as_str)
            .ok_or_else(|| failed(format!("signature {i}: no header.kid")))?;
        if !signers.permitted.iter().any(|p| p == kid) {
            continue;
        }
        let key = file.keychain.get(kid).ok_or_else(|| failed(format!("signer {kid} has no key")))?;
        let protected =
            sig.get("protected").and_then(Value::as_str).ok_or_else(|| failed(format!("{kid}: no protected")))?;
        let signature =
            sig.get("signature").and_then(Value::as_str).ok_or_else(|| failed(format!("{kid}: no signature")))?;
        let header = b64_json(protected, "protected header")?;
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("none");
        let alg = alg
            .parse::<jsonwebtoken::Algorithm>()
            .ok()
            .filter(|a| key.accepted.contains(a))
            .ok_or_else(|| failed(format!("{kid}: algorithm {alg} is not accepted for a {} key", key.kind)))?;
        let input = format!("{protected}.{payload}");
        if !jsonwebtoken::crypto::verify(signature, input.as_bytes(), &key.key, alg).unwrap_or(false) {
            return Err(failed(format!("{kid}: bad signature")));
        }
        ruby_jwt_claims(&claims, &file.jwt, now).map_err(|e| failed(format!("{kid}: {e}")))?;
        verified.push(kid.to_string());
    }
    if let Some(m) = signers.mandatory.iter().find(|m| !verified.contains(m)) {
        return Err(Refused::NotEnough(format!("mandatory signer {m} did not sign (verified: {verified:?})")));
    }
    lifetime(&claims, &file.jwt, settings, now).map_err(failed)?;
    let jti = if settings.jti_single_use { Some(single_use_jti(&claims, &file.jwt, settings, now)?) } else { None };
    let data = match claims.get("data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(failed("data is not an object")),
    };
    Ok(Verified { data, jti, signers: verified })
}

fn number(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, String> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| format!("{name} is not a number")),
    }
}

/// ruby-jwt 2.2.2's checks, in its order: exp, nbf, iss, iat, jti, aud, sub.
fn ruby_jwt_claims(claims: &Map<String, Value>, o: &JwtOptions, now: i64) -> Result<(), String> {
    let now = now as f64;
    if o.verify_expiration
        && let Some(exp) = number(claims, "exp")?
        && exp <= now - o.exp_leeway.unwrap_or(o.leeway) as f64
    {
        return Err("expired".into());
    }
    if o.verify_not_before
        && let Some(nbf) = number(claims, "nbf")?
        && nbf > now + o.nbf_leeway.unwrap_or(o.leeway) as f64
    {
        return Err("not yet valid (nbf)".into());
    }
    if o.verify_iss
        && let Some(iss) = &o.iss
    {
        let got = claims.get("iss").and_then(Value::as_str).unwrap_or("");
        if !iss.items().contains(&got) {
            return Err("wrong iss".into());
        }
    }
    if o.verify_iat && claims.contains_key("iat") && number(claims, "iat").ok().flatten().is_none_or(|iat| iat > now) {
        return Err("invalid iat".into());
    }
    if o.verify_jti && claims.get("jti").map(jti_text).unwrap_or_default().trim().is_empty() {
        return Err("missing jti".into());
    }
    if o.verify_aud
        && let Some(aud) = &o.aud
    {
        let got: Vec<&str> = match claims.get("aud") {
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        if !aud.items().iter().any(|a| got.contains(a)) {
            return Err("wrong aud".into());
        }
    }
    if o.verify_sub
        && let Some(sub) = &o.sub
        && claims.get("sub").and_then(Value::as_str) != Some(sub.as_str())
    {
        return Err("wrong sub".into());
    }
    Ok(())
}

fn jti_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// W4: a numeric `exp` (with `require_exp`), a bounded lifetime, no `iat` far in the future.
fn lifetime(claims: &Map<String, Value>, o: &JwtOptions, s: &ManagementApiSettings, now: i64) -> Result<(), String> {
    let exp = number(claims, "exp")?;
    let iat = claims.get("iat").and_then(Value::as_f64);
    if s.require_exp && exp.is_none() {
        return Err("exp is required".into());
    }
    let now_f = now as f64;
    if let Some(iat) = iat
        && iat > now_f + (o.leeway + 60) as f64
    {
        return Err("iat is in the future".into());
    }
    if s.max_token_lifetime > 0
        && let Some(exp) = exp
    {
        let max = s.max_token_lifetime as f64;
        if exp - now_f > max || iat.is_some_and(|iat| exp - iat > max) {
            return Err(format!("lifetime longer than max_token_lifetime ({max} s)"));
        }
    }
    Ok(())
}

/// The `jti` to record and when its row may go: `exp` + leeway, or now + `max_token_lifetime`.
fn single_use_jti(
    claims: &Map<String, Value>,
    o: &JwtOptions,
    s: &ManagementApiSettings,
    now: i64,
) -> Result<(String, i64), Refused> {
    let jti = match claims.get("jti") {
        Some(Value::String(j)) if !j.trim().is_empty() && j.len() <= 255 => j.clone(),
        _ => return Err(failed("jti must be a non-empty string of at most 255 bytes")),
    };
    let until = match claims.get("exp").and_then(Value::as_f64) {
        Some(exp) => exp as i64 + o.exp_leeway.unwrap_or(o.leeway).max(0),
        None if s.max_token_lifetime > 0 => now + s.max_token_lifetime,
        None => now + NO_EXP_JTI_SECONDS,
    };
    Ok((jti, until))
}

#[cfg(test)]
#[path = "verify_tests.rs"]
mod tests;
