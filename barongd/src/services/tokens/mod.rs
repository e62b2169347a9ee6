//! JWTs: the signing key ring (stored sealed in the database, shared by every daemon) and
//! Barong's token rules — claims `iat exp sub iss aud jti`, checked in Barong's order
//! exp → nbf → iss → iat → jti → aud → sub, with Barong's error words
//! (`jwt.decode_and_verify.<word>`).

use std::sync::{Arc, RwLock};

use common::jwt::JwtAlgorithm;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::model::SigningKeyState;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::random::random_hex;
use crate::services::seal::Sealer;
use crate::store::{DynStore, SigningKeyRow};

pub type Claims = Map<String, Value>;

/// One key of the ring, ready to sign and verify. Its algorithm is fixed here, when the key is
/// loaded: a token's header never chooses how it is checked.
struct LoadedKey {
    kid: String,
    algorithm: JwtAlgorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    public_pem: String,
    /// The public half as a JSON Web Key (RFC 7517/7518/8037).
    jwk: Value,
}

#[derive(Clone)]
pub struct Tokens {
    keys: Arc<RwLock<Vec<Arc<LoadedKey>>>>,
    expire: i64,
}

impl Tokens {
    /// Loads the key ring from the database, creating the first key (of `algorithm`) when there is
    /// none. `import_pem` (Barong's `JWT_PRIVATE_KEY_PATH`: RSA, P-256 or Ed25519) seeds the first
    /// key instead of a fresh one. When the active key's algorithm is not `algorithm` (the setting
    /// changed, or the imported key is of another kind), a fresh key of `algorithm` takes over; the
    /// old one verifies until its tokens expire, as after any rotation.
    pub async fn load(
        store: &DynStore,
        sealer: &Sealer,
        import_pem: Option<String>,
        algorithm: JwtAlgorithm,
        expire: i64,
        now: i64,
    ) -> Result<Self, String> {
        let mut rows = store.signing_keys().await.map_err(|e| e.to_string())?;
        if !rows.iter().any(|r| r.state == SigningKeyState::Active) {
            let key = match import_pem {
                Some(pem) => SigningKey::from_pem(&zeroize::Zeroizing::new(pem))?,
                None => SigningKey::generate_blocking(algorithm).await?,
            };
            store.insert_first_signing_key(&key.row(sealer, now)?).await.map_err(|e| e.to_string())?;
            rows = store.signing_keys().await.map_err(|e| e.to_string())?;
        }
        let tokens = Tokens { keys: Arc::new(RwLock::new(ring(rows, sealer)?)), expire };
        let active = tokens.active().map_err(|_| "no active signing key in the database".to_string())?;
        if active.algorithm != algorithm {
            let kid = tokens.rotate(store, sealer, algorithm, now).await?;
            tracing::info!(
                from = %active.algorithm,
                to = %algorithm,
                %kid,
                "jwt_algorithm differs from the active signing key: a fresh key signs from now on, \
                 the old one verifies until its tokens expire"
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

    /// Makes a fresh key of `algorithm` the active one. The previous key keeps verifying until the
    /// tokens it signed have expired; every daemon picks the new key up from the change feed.
    pub async fn rotate(
        &self,
        store: &DynStore,
        sealer: &Sealer,
        algorithm: JwtAlgorithm,
        now: i64,
    ) -> Result<String, String> {
        let row = SigningKey::generate_blocking(algorithm).await?.row(sealer, now)?;
        store.rotate_signing_key(&row, now - self.expire).await.map_err(|e| e.to_string())?;
        self.reload(store, sealer).await?;
        Ok(row.kid)
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
        let mut header = Header::new(jose(key.algorithm));
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, &payload, &key.encoding).map_err(ServiceError::internal)
    }

    /// Signs `payload` exactly as given (no default claims): Event API messages.
    pub fn sign_exact(&self, payload: &Claims) -> ServiceResult<String> {
        let key = self.active()?;
        let mut header = Header::new(jose(key.algorithm));
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, payload, &key.encoding).map_err(ServiceError::internal)
    }

    /// A jwt-multisig signature by the active key over `payload` (base64url, as received): the
    /// protected header `{"alg":…,"typ":typ}` and the signature, both base64url. The `typ` keeps
    /// such a signature from passing as one of our own JWTs (W3; `verify` refuses other types).
    pub fn sign_detached(&self, payload: &str, typ: &str) -> ServiceResult<(String, String)> {
        use base64::Engine;
        let key = self.active()?;
        let header = json!({"alg": key.algorithm.as_str(), "typ": typ});
        let protected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(header.to_string());
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
        keys.push(Arc::new(key.loaded(r.kid)?));
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

/// A private signing key of one of the supported algorithms: generated, or read from PEM (the
/// algorithm is the key's kind), and written back as PKCS#8.
enum SigningKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl SigningKey {
    fn generate(algorithm: JwtAlgorithm) -> Result<Self, String> {
        let mut rng = rand::rngs::OsRng;
        Ok(match algorithm {
            JwtAlgorithm::Rs256 => SigningKey::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut rng, 2048).map_err(|e| format!("RSA key generation: {e}"))?,
            )),
            JwtAlgorithm::Es256 => SigningKey::P256(p256::SecretKey::random(&mut rng)),
            JwtAlgorithm::EdDsa => SigningKey::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut rng))),
        })
    }

    /// Generation off the async threads (an RSA key takes a while).
    async fn generate_blocking(algorithm: JwtAlgorithm) -> Result<Self, String> {
        tokio::task::spawn_blocking(move || Self::generate(algorithm))
            .await
            .map_err(|e| format!("key generation: {e}"))?
    }

    /// An RSA (PKCS#8 or PKCS#1), P-256 (PKCS#8 or SEC1) or Ed25519 (PKCS#8) private key. Other
    /// blocks of the file (`EC PARAMETERS` from `openssl ecparam -genkey`, a public key after the
    /// private one) are skipped. The error never quotes the input.
    fn from_pem(file: &str) -> Result<Self, String> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let pem = private_key_block(file)?;
        let pem = pem.as_str();
        if let Ok(k) = rsa::RsaPrivateKey::from_pkcs8_pem(pem).or_else(|_| rsa::RsaPrivateKey::from_pkcs1_pem(pem)) {
            return Ok(SigningKey::Rsa(Box::new(k)));
        }
        if let Ok(k) = p256::SecretKey::from_pkcs8_pem(pem).or_else(|_| p256::SecretKey::from_sec1_pem(pem)) {
            return Ok(SigningKey::P256(k));
        }
        if let Ok(k) = ed25519_dalek::SigningKey::from_pkcs8_pem(pem) {
            return Ok(SigningKey::Ed25519(Box::new(k)));
        }
        Err("JWT private key: not an unencrypted RSA, P-256 or Ed25519 private key in PEM \
             (PKCS#8, PKCS#1 or SEC1)"
            .into())
    }

    fn algorithm(&self) -> JwtAlgorithm {
        match self {
            SigningKey::Rsa(_) => JwtAlgorithm::Rs256,
            SigningKey::P256(_) => JwtAlgorithm::Es256,
            SigningKey::Ed25519(_) => JwtAlgorithm::EdDsa,
        }
    }

    fn private_pem(&self) -> Result<zeroize::Zeroizing<String>, String> {
        match self {
            SigningKey::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningKey::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| format!("private key encoding: {e}"))
    }

    /// The public half as SPKI PEM.
    fn public_pem(&self) -> Result<String, String> {
        match self {
            SigningKey::Rsa(k) => k.to_public_key().to_public_key_pem(LineEnding::LF),
            SigningKey::P256(k) => k.public_key().to_public_key_pem(LineEnding::LF),
            SigningKey::Ed25519(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
        }
        .map_err(|e| format!("public key encoding: {e}"))
    }

    /// The database row: the private half sealed, the kid derived from the public half.
    fn row(&self, sealer: &Sealer, now: i64) -> Result<SigningKeyRow, String> {
        let public_pem = self.public_pem()?;
        Ok(SigningKeyRow {
            kid: hex::encode(&Sha256::digest(public_pem.as_bytes())[..10]),
            algorithm: self.algorithm().as_str().into(),
            private_sealed: sealer.seal(self.private_pem()?.as_bytes()),
            public_pem,
            state: SigningKeyState::Active,
            created_at: now,
        })
    }

    fn loaded(&self, kid: String) -> Result<LoadedKey, String> {
        use base64::Engine;
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let fail = |e: &dyn std::fmt::Display| format!("signing key {kid}: {e}");
        let algorithm = self.algorithm();
        let (encoding, decoding, jwk) = match self {
            SigningKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                use rsa::traits::PublicKeyParts;
                let der = k.to_pkcs1_der().map_err(|e| fail(&e))?;
                let (n, e) = (k.n().to_bytes_be(), k.e().to_bytes_be());
                let jwk = json!({"kty": "RSA", "n": b64(&n), "e": b64(&e)});
                (EncodingKey::from_rsa_der(der.as_bytes()), DecodingKey::from_rsa_raw_components(&n, &e), jwk)
            }
            SigningKey::P256(k) => {
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                let der = k.to_pkcs8_der().map_err(|e| fail(&e))?;
                let point = k.public_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err(fail(&"P-256 public key without coordinates"));
                };
                let jwk = json!({"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y)});
                (EncodingKey::from_ec_der(der.as_bytes()), DecodingKey::from_ec_der(point.as_bytes()), jwk)
            }
            SigningKey::Ed25519(k) => {
                let der = k.to_pkcs8_der().map_err(|e| fail(&e))?;
                let x = k.verifying_key().to_bytes();
                let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(&x)});
                (EncodingKey::from_ed_der(der.as_bytes()), DecodingKey::from_ed_der(&x), jwk)
            }
        };
        let mut jwk = jwk;
        if let Value::Object(m) = &mut jwk {
            m.insert("use".into(), json!("sig"));
            m.insert("alg".into(), json!(algorithm.as_str()));
            m.insert("kid".into(), json!(kid));
        }
        Ok(LoadedKey { kid, algorithm, encoding, decoding, public_pem: self.public_pem()?, jwk })
    }
}

/// The one `... PRIVATE KEY` block of a PEM file.
fn private_key_block(file: &str) -> Result<zeroize::Zeroizing<String>, String> {
    let mut found: Option<zeroize::Zeroizing<String>> = None;
    let mut current: Option<(&str, zeroize::Zeroizing<String>)> = None;
    for line in file.lines().map(str::trim) {
        if let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
            current = Some((label, zeroize::Zeroizing::new(String::with_capacity(file.len()))));
        }
        let Some((label, text)) = current.as_mut() else { continue };
        text.push_str(line);
        text.push('\n');
        if line.strip_prefix("-----END ").and_then(|l| l.strip_suffix("-----")) == Some(*label) {
            if label.ends_with("PRIVATE KEY") {
                if found.is_some() {
                    return Err("JWT private key: the PEM file holds more than one private key".into());
                }
                found = current.take().map(|(_, t)| t);
            }
            current = None;
        }
    }
    found.ok_or_else(|| "JWT private key: no PRIVATE KEY block in the PEM file".into())
}

#[cfg(test)]
mod tests;
