//! JWTs: the signing key ring (stored sealed in the database, shared by every daemon) and
//! Barong's token rules — claims `iat exp sub iss aud jti`, checked in Barong's order
//! exp → nbf → iss → iat → jti → aud → sub, with Barong's error words
//! (`jwt.decode_and_verify.<word>`).

use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::error::{ServiceError, ServiceResult};
use super::seal::Sealer;
use crate::store::{DynStore, SigningKeyRow};

pub type Claims = Map<String, Value>;

struct LoadedKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_pem: String,
}

#[derive(Clone)]
pub struct Tokens {
    keys: Arc<RwLock<Vec<Arc<LoadedKey>>>>,
    expire: i64,
}

impl Tokens {
    /// Loads the key ring from the database, creating the first RS256 key when there is none.
    /// `import_pem` (Barong's `JWT_PRIVATE_KEY_PATH`) seeds the first key instead of a fresh one.
    pub async fn load(
        store: &DynStore,
        sealer: &Sealer,
        import_pem: Option<String>,
        expire: i64,
        now: i64,
    ) -> Result<Self, String> {
        let mut rows = store.signing_keys().await.map_err(|e| e.to_string())?;
        if !rows.iter().any(|r| r.state == "active") {
            let private_pem = match import_pem {
                Some(p) => p,
                None => tokio::task::spawn_blocking(generate_rsa_pem)
                    .await
                    .map_err(|e| format!("key generation: {e}"))??,
            };
            let public_pem = public_pem_of(&private_pem)?;
            let kid = hex::encode(&Sha256::digest(public_pem.as_bytes())[..10]);
            let row = SigningKeyRow {
                kid,
                algorithm: "RS256".into(),
                private_sealed: sealer.seal(private_pem.as_bytes()),
                public_pem,
                state: "active".into(),
                created_at: now,
            };
            store.insert_first_signing_key(&row).await.map_err(|e| e.to_string())?;
            rows = store.signing_keys().await.map_err(|e| e.to_string())?;
        }
        let keys = ring(rows, sealer)?;
        Ok(Tokens { keys: Arc::new(RwLock::new(keys)), expire })
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

    /// Makes a fresh RS256 key the active one. The previous key keeps verifying until the tokens
    /// it signed have expired; every daemon picks the new key up from the change feed.
    pub async fn rotate(&self, store: &DynStore, sealer: &Sealer, now: i64) -> Result<String, String> {
        let private_pem =
            tokio::task::spawn_blocking(generate_rsa_pem).await.map_err(|e| format!("key generation: {e}"))??;
        let public_pem = public_pem_of(&private_pem)?;
        let kid = hex::encode(&Sha256::digest(public_pem.as_bytes())[..10]);
        let row = SigningKeyRow {
            kid: kid.clone(),
            algorithm: "RS256".into(),
            private_sealed: sealer.seal(private_pem.as_bytes()),
            public_pem,
            state: "active".into(),
            created_at: now,
        };
        store.rotate_signing_key(&row, now - self.expire).await.map_err(|e| e.to_string())?;
        self.reload(store, sealer).await?;
        Ok(kid)
    }

    /// The JSON Web Key Set of every key that still verifies (RFC 7517), active first.
    pub fn jwks(&self) -> Value {
        use base64::Engine;
        use rsa::pkcs8::DecodePublicKey;
        use rsa::traits::PublicKeyParts;
        let b64 = |b: Vec<u8>| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let keys: Vec<Value> = self
            .keys
            .read()
            .map(|ring| {
                ring.iter()
                    .filter_map(|k| {
                        let public = rsa::RsaPublicKey::from_public_key_pem(&k.public_pem).ok()?;
                        Some(json!({
                            "kty": "RSA",
                            "use": "sig",
                            "alg": "RS256",
                            "kid": k.kid,
                            "n": b64(public.n().to_bytes_be()),
                            "e": b64(public.e().to_bytes_be()),
                        }))
                    })
                    .collect()
            })
            .unwrap_or_default();
        json!({ "keys": keys })
    }

    /// When a token signed now expires.
    pub fn expire(&self) -> i64 {
        self.expire
    }

    fn active(&self) -> ServiceResult<Arc<LoadedKey>> {
        let keys = self.keys.read().map_err(|_| ServiceError::internal("key ring lock poisoned"))?;
        keys.first().cloned().ok_or_else(|| ServiceError::internal("no signing key"))
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
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &payload, &key.encoding).map_err(ServiceError::internal)
    }

    /// Verifies signature and claims; `Err` carries the `jwt.decode_and_verify.<word>` key (422).
    pub fn verify(&self, token: &str, expected_sub: &str, now: i64) -> ServiceResult<Claims> {
        let fail = |word: &str| ServiceError::unprocessable(format!("jwt.decode_and_verify.{word}"));
        if token.split('.').count() != 3 {
            return Err(fail("segments"));
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| fail("encoding"))?;
        if header.alg != Algorithm::RS256 {
            return Err(fail("algorithm"));
        }
        let keys: Vec<Arc<LoadedKey>> =
            self.keys.read().map_err(|_| ServiceError::internal("key ring lock poisoned"))?.clone();
        let candidates: Vec<&Arc<LoadedKey>> = match &header.kid {
            Some(kid) => keys.iter().filter(|k| &k.kid == kid).collect(),
            None => keys.iter().collect(),
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        let mut claims = None;
        let mut last = fail("raised");
        for k in candidates {
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
    let mut keys = Vec::new();
    rows.sort_by_key(|r| r.state != "active");
    for r in rows {
        let pem = sealer
            .open_string(&r.private_sealed)
            .map_err(|e| format!("signing key {}: {e} (is BARONG_MASTER_KEY the same on every daemon?)", r.kid))?;
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("signing key {}: {e}", r.kid))?;
        let decoding =
            DecodingKey::from_rsa_pem(r.public_pem.as_bytes()).map_err(|e| format!("signing key {}: {e}", r.kid))?;
        keys.push(Arc::new(LoadedKey { kid: r.kid, encoding, decoding, public_pem: r.public_pem }));
    }
    Ok(keys)
}

fn generate_rsa_pem() -> Result<String, String> {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048).map_err(|e| format!("RSA key generation: {e}"))?;
    key.to_pkcs8_pem(LineEnding::LF).map(|p| p.to_string()).map_err(|e| format!("RSA key encoding: {e}"))
}

fn public_pem_of(private_pem: &str) -> Result<String, String> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use rsa::pkcs8::DecodePrivateKey;
    let key = rsa::RsaPrivateKey::from_pkcs8_pem(private_pem)
        .or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(private_pem))
        .map_err(|_| "JWT private key: not an RSA private key in PEM".to_string())?;
    key.to_public_key().to_public_key_pem(LineEnding::LF).map_err(|e| format!("RSA public key encoding: {e}"))
}

/// `n` random bytes as lowercase hex (Barong's jti, csrf and reset tokens).
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
    hex::encode(b)
}
