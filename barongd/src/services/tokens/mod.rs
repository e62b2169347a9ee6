//! JWTs: the signing key ring (stored sealed in the database, shared by every daemon) and
//! Barong's token rules — claims `iat exp sub iss aud jti`, checked in Barong's order
//! exp → nbf → iss → iat → jti → aud → sub, with Barong's error words
//! (`jwt.decode_and_verify.<word>`).

mod key;
mod keyring;

use std::sync::{Arc, RwLock};

use common::jwt::JwtAlgorithm;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Map, Value, json};

pub use key::peatio_form;
use key::{LoadedKey, SigningKey};
pub use keyring::{Imported, PublicKey};

use crate::model::SigningKeyState;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::random::random_hex;
use crate::services::seal::Sealer;
use crate::store::{DynStore, SigningKeyRow};

pub type Claims = Map<String, Value>;

/// The protected-header member of a jwt-multisig signature that names its key in the JWKS.
pub const JWKS_KID: &str = "jwks_kid";

#[derive(Clone)]
pub struct Tokens {
    keys: Arc<RwLock<Vec<Arc<LoadedKey>>>>,
    expire: i64,
    /// How long a new key is published before it signs (`jwt_key_activation_delay`).
    activation_delay: i64,
    /// The kid of `JWT_PRIVATE_KEY_PATH`'s key: it is made active at every start, and the
    /// operator cannot activate or rotate to another while it is set.
    pinned: Option<String>,
}

impl Tokens {
    /// Loads the key ring from the database. `pinned_pem` (Barong's `JWT_PRIVATE_KEY_PATH`: RSA,
    /// P-256 or Ed25519) is made the active key, added to the ring when absent, at every start, as
    /// Barong signed with that file. Without it the ring decides: the first key (of `algorithm`)
    /// is created when there is none, and when the active key's algorithm is not `algorithm` (the
    /// setting changed), a fresh key of `algorithm` is published and takes over after
    /// `activation_delay` (unless one is already on its way); the old one verifies until its
    /// tokens expire, as after any rotation. A `next` key whose time came while no daemon ran
    /// takes over at once.
    pub async fn load(
        store: &DynStore,
        sealer: &Sealer,
        pinned_pem: Option<zeroize::Zeroizing<String>>,
        algorithm: JwtAlgorithm,
        expire: i64,
        activation_delay: i64,
        now: i64,
    ) -> Result<Self, String> {
        if let Some(pem) = pinned_pem {
            let key = SigningKey::import(&pem, None).map_err(|e| format!("JWT_PRIVATE_KEY_PATH: {e}"))?;
            let mut row = keyring::stored_or_new(store, sealer, &key, SigningKeyState::Active, now).await?;
            row.takes_over_at = now;
            store.activate_signing_key(&row, now - expire).await.map_err(|e| e.to_string())?;
            let rows = store.signing_keys().await.map_err(|e| e.to_string())?;
            let keys = Arc::new(RwLock::new(ring(rows, sealer)?));
            let tokens = Tokens { keys, expire, activation_delay, pinned: Some(row.kid) };
            let kid = tokens.pinned.as_deref().unwrap_or_default();
            tracing::info!(%kid, algorithm = %key.algorithm(), "JWT_PRIVATE_KEY_PATH: this key signs");
            if key.algorithm() != algorithm {
                tracing::warn!(
                    %kid,
                    key = %key.algorithm(),
                    jwt_algorithm = %algorithm,
                    "jwt_algorithm is ignored while JWT_PRIVATE_KEY_PATH is set: its key decides the algorithm"
                );
            }
            return Ok(tokens);
        }
        let mut rows = store.signing_keys().await.map_err(|e| e.to_string())?;
        if !rows.iter().any(|r| r.state == SigningKeyState::Active) {
            let key = SigningKey::generate_blocking(algorithm).await?;
            store
                .insert_first_signing_key(&key.row(sealer, SigningKeyState::Active, now)?)
                .await
                .map_err(|e| e.to_string())?;
            rows = store.signing_keys().await.map_err(|e| e.to_string())?;
        }
        let tokens =
            Tokens { keys: Arc::new(RwLock::new(ring(rows, sealer)?)), expire, activation_delay, pinned: None };
        tokens.activate_due(store, sealer, now).await.map_err(|e| e.to_string())?;
        let active = tokens.active().map_err(|_| "no active signing key in the database".to_string())?;
        if active.algorithm != algorithm && tokens.scheduled().is_none_or(|k| k.algorithm != algorithm) {
            let (kid, at) = tokens.rotate(store, sealer, algorithm, now, false).await.map_err(|e| e.to_string())?;
            tracing::info!(
                from = %active.algorithm,
                to = %algorithm,
                %kid,
                signs_from = %crate::services::clock::iso8601(at),
                "jwt_algorithm differs from the active signing key: a fresh key is published and signs from \
                 signs_from on, the old one verifies until its tokens expire"
            );
        }
        Ok(tokens)
    }

    /// Re-reads the key ring (after a rotation here or on another daemon).
    pub async fn reload(&self, store: &DynStore, sealer: &Sealer) -> Result<(), String> {
        let rows = store.signing_keys().await.map_err(|e| e.to_string())?;
        let keys = ring(rows, sealer)?;
        if keys.is_empty() {
            return Err("no signing key in the database".into());
        }
        *self.keys.write().map_err(|_| "key ring lock poisoned".to_string())? = keys;
        Ok(())
    }

    /// The JSON Web Key Set of every key that still verifies (RFC 7517), active first.
    pub fn jwks(&self) -> Value {
        let keys: Vec<Value> =
            self.keys.read().map(|ring| ring.iter().map(|k| k.jwk.clone()).collect()).unwrap_or_default();
        json!({ "keys": keys })
    }

    /// When a token signed now expires.
    pub fn expire(&self) -> i64 {
        self.expire
    }

    fn active(&self) -> ServiceResult<Arc<LoadedKey>> {
        let keys = self.keys.read().map_err(|_| ServiceError::internal("key ring lock poisoned"))?;
        keys.first()
            .filter(|k| k.state == SigningKeyState::Active)
            .cloned()
            .ok_or_else(|| ServiceError::internal("no signing key"))
    }

    /// The key published as `next`, if any.
    fn scheduled(&self) -> Option<Arc<LoadedKey>> {
        let keys = self.keys.read().ok()?;
        keys.iter().find(|k| k.state == SigningKeyState::Next).cloned()
    }

    /// Whether a key is loaded to sign with (readiness).
    pub fn has_signing_key(&self) -> bool {
        self.active().is_ok()
    }

    /// The active public key (PEM), for operators and tests.
    #[allow(dead_code)]
    pub fn public_pem(&self) -> ServiceResult<String> {
        Ok(self.active()?.public_pem.clone())
    }

    /// Signs `payload` after adding Barong's default claims where the payload has none.
    pub fn sign(&self, mut payload: Claims, now: i64) -> ServiceResult<String> {
        let defaults = [
            ("iat", json!(now)),
            ("exp", json!(now + self.expire)),
            ("sub", json!("session")),
            ("iss", json!("barong")),
            ("aud", json!(["peatio", "barong"])),
            ("jti", json!(random_hex(10))),
        ];
        for (k, v) in defaults {
            payload.entry(k).or_insert(v);
        }
        let key = self.active()?;
        let mut header = Header::new(jose(key.algorithm));
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &payload, &key.encoding).map_err(ServiceError::internal)
    }

    /// A jwt-multisig signature by the active key over `payload` (base64url, as sent): the
    /// protected header and the signature, both base64url. The signer id (`barong`) goes in the
    /// unprotected header, so the key's JWKS id travels in the protected one as `jwks_kid`: a
    /// header name in both sets is invalid JWS (RFC 7515 §7.2.1) and strict JOSE libraries drop
    /// the message. `typ` (`barong-otp` for `otp/sign`) keeps such a signature from passing as one
    /// of our own JWTs (W3; `verify` refuses other types); events go without, as Barong's did.
    pub fn sign_detached(&self, payload: &str, typ: Option<&str>) -> ServiceResult<(String, String)> {
        use base64::Engine;
        let key = self.active()?;
        let mut header = Map::new();
        header.insert("alg".into(), json!(key.algorithm.as_str()));
        if let Some(typ) = typ {
            header.insert("typ".into(), json!(typ));
        }
        header.insert(JWKS_KID.into(), json!(key.kid));
        let protected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
        let input = format!("{protected}.{payload}");
        let signature = jsonwebtoken::crypto::sign(input.as_bytes(), &key.encoding, jose(key.algorithm))
            .map_err(ServiceError::internal)?;
        Ok((protected, signature))
    }

    /// Verifies signature and claims; `Err` carries the `jwt.decode_and_verify.<word>` key (422).
    pub fn verify(&self, token: &str, expected_sub: &str, now: i64) -> ServiceResult<Claims> {
        let fail = |word: &str| ServiceError::invalid(format!("jwt.decode_and_verify.{word}"));
        if token.split('.').count() != 3 {
            return Err(fail("segments"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| fail("encoding"))?;
        // Only JWTs: a signature made for another purpose with the same key (the Management
        // API's `otp/sign` marks its own `barong-otp`) must never pass as a session (W3).
        if header.typ.as_deref().is_some_and(|t| !t.eq_ignore_ascii_case("JWT")) {
            return Err(fail("typ"));
        }
        let keys: Vec<Arc<LoadedKey>> =
            self.keys.read().map_err(|_| ServiceError::internal("key ring lock poisoned"))?.clone();
        // The key decides the algorithm, never the token: a header naming another algorithm than
        // its key's (HS256 with the public key as the secret, or any other switch) is refused here.
        let candidates: Vec<&Arc<LoadedKey>> = match &header.kid {
            Some(kid) => match keys.iter().find(|k| &k.kid == kid) {
                Some(k) if jose(k.algorithm) == header.alg => vec![k],
                Some(_) => return Err(fail("algorithm")),
                None => Vec::new(),
            },
            // Tokens without `kid` (Barong's own) are tried with the keys of the header's algorithm.
            None => {
                let same: Vec<&Arc<LoadedKey>> = keys.iter().filter(|k| jose(k.algorithm) == header.alg).collect();
                if same.is_empty() {
                    return Err(fail("algorithm"));
                }
                same
            }
        };
        let mut claims = None;
        let mut last = fail("raised");
        for k in candidates {
            let mut validation = Validation::new(jose(k.algorithm));
            validation.validate_exp = false;
            validation.validate_nbf = false;
            validation.validate_aud = false;
            validation.required_spec_claims.clear();
            match jsonwebtoken::decode::<Claims>(token, &k.decoding, &validation) {
                Ok(data) => {
                    claims = Some(data.claims);
                    break;
                }
                Err(e) => {
                    use jsonwebtoken::errors::ErrorKind as K;
                    last = match e.kind() {
                        K::InvalidSignature => fail("raised"),
                        K::InvalidAlgorithm => fail("algorithm"),
                        K::Base64(_) | K::Json(_) | K::Utf8(_) => fail("encoding"),
                        _ => fail("raised"),
                    };
                }
            }
        }
        let claims = claims.ok_or(last)?;
        let int = |k: &str| claims.get(k).and_then(Value::as_i64);
        if int("exp").is_some_and(|exp| now >= exp) {
            return Err(fail("expired"));
        }
        if int("nbf").is_some_and(|nbf| now < nbf) {
            return Err(fail("reached"));
        }
        match claims.get("iss").and_then(Value::as_str) {
            Some("barong") => {}
            other => return Err(fail(other.unwrap_or("iss"))),
        }
        if int("iat").is_some_and(|iat| iat > now) {
            return Err(fail("iat"));
        }
        if claims.get("jti").and_then(Value::as_str).is_none_or(str::is_empty) {
            return Err(fail("jti"));
        }
        let aud_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == "peatio" || a == "barong",
            Some(Value::Array(a)) => a.iter().any(|v| v == "peatio" || v == "barong"),
            _ => false,
        };
        if !aud_ok {
            return Err(fail("aud"));
        }
        match claims.get("sub").and_then(Value::as_str) {
            Some(s) if s == expected_sub => Ok(claims),
            Some(s) => Err(fail(s)),
            None => Err(fail("sub")),
        }
    }
}

/// Opens the private halves; the active key comes first: it signs, the others only verify until
/// their tokens expire.
fn ring(mut rows: Vec<SigningKeyRow>, sealer: &Sealer) -> Result<Vec<Arc<LoadedKey>>, String> {
    // (Newest first otherwise: a `next` key follows the active one in the JWKS.)
    let mut keys = Vec::new();
    rows.sort_by_key(|r| r.state != SigningKeyState::Active);
    for r in rows {
        let pem = zeroize::Zeroizing::new(
            sealer
                .open_string(&r.private_sealed)
                .map_err(|e| format!("signing key {}: {e} (is BARONG_MASTER_KEY the same on every daemon?)", r.kid))?,
        );
        let key = SigningKey::from_pem(&pem).map_err(|e| format!("signing key {}: {e}", r.kid))?;
        if key.algorithm().as_str() != r.algorithm {
            return Err(format!(
                "signing key {}: stored as {} but holds a {} key",
                r.kid,
                r.algorithm,
                key.algorithm()
            ));
        }
        keys.push(Arc::new(key.loaded(r.kid, r.state, r.takes_over_at)?));
    }
    Ok(keys)
}

/// jsonwebtoken's name of an algorithm.
fn jose(algorithm: JwtAlgorithm) -> Algorithm {
    match algorithm {
        JwtAlgorithm::Rs256 => Algorithm::RS256,
        JwtAlgorithm::Es256 => Algorithm::ES256,
        JwtAlgorithm::EdDsa => Algorithm::EdDSA,
    }
}

#[cfg(test)]
mod tests;
