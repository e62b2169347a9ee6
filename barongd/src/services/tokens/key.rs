//! Signing key material: generated, or read from PEM (PKCS#1, PKCS#8 — encrypted too — or SEC1);
//! its kid (RFC 7638 thumbprint), public forms (SPKI PEM, JWK, Peatio's Base64) and fingerprint.
//! Errors never quote the input.

use base64::Engine;
use common::jwt::JwtAlgorithm;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::model::SigningKeyState;
use crate::services::seal::Sealer;
use crate::store::SigningKeyRow;

/// Barong's RSA keys are 2048 bits; anything shorter is refused (NIST SP 800-131A).
pub const MIN_RSA_BITS: usize = 2048;

const B64URL: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why a PEM file cannot become a signing key: a stable key (the admin socket's error code) and a
/// sentence for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRefusal {
    pub code: &'static str,
    pub message: String,
}

impl KeyRefusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        KeyRefusal { code, message: message.into() }
    }
}

impl std::fmt::Display for KeyRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// One key of the ring, ready to sign and verify. Its algorithm is fixed here, when the key is
/// loaded: a token's header never chooses how it is checked.
pub(super) struct LoadedKey {
    pub kid: String,
    pub algorithm: JwtAlgorithm,
    pub state: SigningKeyState,
    /// When it took over, or (a `next` key) takes over.
    pub takes_over_at: i64,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    pub public_pem: String,
    /// The public half as a JSON Web Key (RFC 7517/7518/8037).
    pub jwk: Value,
}

/// A private signing key of one of the supported algorithms: generated, or read from PEM (the
/// algorithm is the key's kind), and written back as PKCS#8.
pub(super) enum SigningKey {
    Rsa(Box<rsa::RsaPrivateKey>),
    P256(p256::SecretKey),
    Ed25519(Box<ed25519_dalek::SigningKey>),
}

impl SigningKey {
    pub fn generate(algorithm: JwtAlgorithm) -> Result<Self, String> {
        let mut rng = rand::rngs::OsRng;
        Ok(match algorithm {
            JwtAlgorithm::Rs256 => SigningKey::Rsa(Box::new(
                rsa::RsaPrivateKey::new(&mut rng, MIN_RSA_BITS).map_err(|e| format!("RSA key generation: {e}"))?,
            )),
            JwtAlgorithm::Es256 => SigningKey::P256(p256::SecretKey::random(&mut rng)),
            JwtAlgorithm::EdDsa => SigningKey::Ed25519(Box::new(ed25519_dalek::SigningKey::generate(&mut rng))),
        })
    }

    /// Generation off the async threads (an RSA key takes a while).
    pub async fn generate_blocking(algorithm: JwtAlgorithm) -> Result<Self, String> {
        tokio::task::spawn_blocking(move || Self::generate(algorithm))
            .await
            .map_err(|e| format!("key generation: {e}"))?
    }

    /// An unencrypted RSA (PKCS#8 or PKCS#1), P-256 (PKCS#8 or SEC1) or Ed25519 (PKCS#8) private
    /// key, as stored in the database.
    pub fn from_pem(file: &str) -> Result<Self, String> {
        Self::parse(file, None).map_err(|e| format!("JWT private key: {e}"))
    }

    /// A private key as an operator hands it over (`keys import`, `JWT_PRIVATE_KEY_PATH`):
    /// [`SigningKey::from_pem`]'s forms, or an encrypted PKCS#8 key opened with `passphrase`.
    /// RSA keys under 2048 bits and EC keys on other curves than P-256 are refused.
    pub fn import(file: &str, passphrase: Option<&str>) -> Result<Self, KeyRefusal> {
        let key = Self::parse(file, passphrase)?;
        if matches!(key, SigningKey::Rsa(_)) && key.bits() < MIN_RSA_BITS {
            return Err(KeyRefusal::new(
                "keys.rsa_too_small",
                format!("RSA key of {} bits: at least {MIN_RSA_BITS} bits are required", key.bits()),
            ));
        }
        Ok(key)
    }

    /// Other blocks of the file (`EC PARAMETERS` from `openssl ecparam -genkey`, a public key
    /// after the private one) are skipped.
    fn parse(file: &str, passphrase: Option<&str>) -> Result<Self, KeyRefusal> {
        use rsa::pkcs1::DecodeRsaPrivateKey;
        let (label, pem) = private_key_block(file)?;
        let key = match label.as_str() {
            "ENCRYPTED PRIVATE KEY" => {
                let Some(passphrase) = passphrase else {
                    return Err(KeyRefusal::new(
                        "keys.passphrase_required",
                        "the key is encrypted: give its passphrase on stdin (--passphrase-stdin)",
                    ));
                };
                let (_, doc) = pkcs8::SecretDocument::from_pem(&pem).map_err(|_| unreadable())?;
                let encrypted = pkcs8::EncryptedPrivateKeyInfo::try_from(doc.as_bytes()).map_err(|_| unreadable())?;
                let der = encrypted.decrypt(passphrase.as_bytes()).map_err(|_| {
                    KeyRefusal::new(
                        "keys.wrong_passphrase",
                        "the passphrase does not open the key (or its cipher is not supported)",
                    )
                })?;
                Self::from_pkcs8_der(der.as_bytes())?
            }
            "PRIVATE KEY" => {
                let (_, doc) = pkcs8::SecretDocument::from_pem(&pem).map_err(|_| unreadable())?;
                Self::from_pkcs8_der(doc.as_bytes())?
            }
            "RSA PRIVATE KEY" => {
                SigningKey::Rsa(Box::new(rsa::RsaPrivateKey::from_pkcs1_pem(&pem).map_err(|_| unreadable())?))
            }
            "EC PRIVATE KEY" => SigningKey::P256(p256::SecretKey::from_sec1_pem(&pem).map_err(|_| {
                KeyRefusal::new("keys.unsupported_curve", "only EC keys on P-256 (prime256v1) sign ES256")
            })?),
            other => {
                return Err(KeyRefusal::new(
                    "keys.unsupported_key",
                    format!("a `{other}` block is not a supported private key"),
                ));
            }
        };
        Ok(key)
    }

    /// PKCS#8 by its algorithm identifier: RSA, EC on P-256, Ed25519.
    fn from_pkcs8_der(der: &[u8]) -> Result<Self, KeyRefusal> {
        const RSA: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
        const EC: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
        const P256: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
        const ED25519: pkcs8::ObjectIdentifier = pkcs8::ObjectIdentifier::new_unwrap("1.3.101.112");
        let info = pkcs8::PrivateKeyInfo::try_from(der).map_err(|_| unreadable())?;
        let oid = info.algorithm.oid;
        if oid == RSA {
            rsa::RsaPrivateKey::from_pkcs8_der(der).map(|k| SigningKey::Rsa(Box::new(k))).map_err(|_| unreadable())
        } else if oid == EC {
            if info.algorithm.parameters_oid().ok() != Some(P256) {
                return Err(KeyRefusal::new("keys.unsupported_curve", "only EC keys on P-256 (prime256v1) sign ES256"));
            }
            p256::SecretKey::from_pkcs8_der(der).map(SigningKey::P256).map_err(|_| unreadable())
        } else if oid == ED25519 {
            ed25519_dalek::SigningKey::from_pkcs8_der(der)
                .map(|k| SigningKey::Ed25519(Box::new(k)))
                .map_err(|_| unreadable())
        } else {
            Err(KeyRefusal::new(
                "keys.unsupported_key",
                format!("key algorithm {oid} is not supported: RSA, EC P-256 or Ed25519"),
            ))
        }
    }

    pub fn algorithm(&self) -> JwtAlgorithm {
        match self {
            SigningKey::Rsa(_) => JwtAlgorithm::Rs256,
            SigningKey::P256(_) => JwtAlgorithm::Es256,
            SigningKey::Ed25519(_) => JwtAlgorithm::EdDsa,
        }
    }

    /// The key's size in bits (the modulus for RSA).
    pub fn bits(&self) -> usize {
        match self {
            SigningKey::Rsa(k) => rsa::traits::PublicKeyParts::size(k.as_ref()) * 8,
            SigningKey::P256(_) | SigningKey::Ed25519(_) => 256,
        }
    }

    pub fn private_pem(&self) -> Result<Zeroizing<String>, String> {
        match self {
            SigningKey::Rsa(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningKey::P256(k) => k.to_pkcs8_pem(LineEnding::LF),
            SigningKey::Ed25519(k) => k.to_pkcs8_pem(LineEnding::LF),
        }
        .map_err(|e| format!("private key encoding: {e}"))
    }

    /// The public half as SPKI PEM.
    pub fn public_pem(&self) -> Result<String, String> {
        match self {
            SigningKey::Rsa(k) => k.to_public_key().to_public_key_pem(LineEnding::LF),
            SigningKey::P256(k) => k.public_key().to_public_key_pem(LineEnding::LF),
            SigningKey::Ed25519(k) => k.verifying_key().to_public_key_pem(LineEnding::LF),
        }
        .map_err(|e| format!("public key encoding: {e}"))
    }

    /// The public half as SPKI DER.
    fn public_der(&self) -> Result<Vec<u8>, String> {
        match self {
            SigningKey::Rsa(k) => k.to_public_key().to_public_key_der(),
            SigningKey::P256(k) => k.public_key().to_public_key_der(),
            SigningKey::Ed25519(k) => k.verifying_key().to_public_key_der(),
        }
        .map(|d| d.into_vec())
        .map_err(|e| format!("public key encoding: {e}"))
    }

    /// SHA-256 of the SPKI DER, lower-case hex (`openssl pkey -pubout -outform DER | sha256sum`).
    pub fn fingerprint(&self) -> Result<String, String> {
        Ok(hex::encode(Sha256::digest(self.public_der()?)))
    }

    /// The public JWK members (no `use`, `alg` or `kid`).
    fn public_jwk(&self) -> Result<Value, String> {
        Ok(match self {
            SigningKey::Rsa(k) => {
                use rsa::traits::PublicKeyParts;
                json!({"kty": "RSA", "n": B64URL.encode(k.n().to_bytes_be()), "e": B64URL.encode(k.e().to_bytes_be())})
            }
            SigningKey::P256(k) => {
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                let point = k.public_key().to_encoded_point(false);
                let (Some(x), Some(y)) = (point.x(), point.y()) else {
                    return Err("P-256 public key without coordinates".into());
                };
                json!({"kty": "EC", "crv": "P-256", "x": B64URL.encode(x), "y": B64URL.encode(y)})
            }
            SigningKey::Ed25519(k) => {
                json!({"kty": "OKP", "crv": "Ed25519", "x": B64URL.encode(k.verifying_key().to_bytes())})
            }
        })
    }

    /// The RFC 7638 JWK thumbprint of the public half.
    pub fn thumbprint(&self) -> Result<String, String> {
        Ok(thumbprint(&self.public_jwk()?))
    }

    /// The database row (in `state`): the private half sealed, the kid its thumbprint.
    pub fn row(&self, sealer: &Sealer, state: SigningKeyState, now: i64) -> Result<SigningKeyRow, String> {
        Ok(SigningKeyRow {
            kid: self.thumbprint()?,
            algorithm: self.algorithm().as_str().into(),
            private_sealed: sealer.seal(self.private_pem()?.as_bytes()),
            public_pem: self.public_pem()?,
            state,
            created_at: now,
            takes_over_at: now,
        })
    }

    pub fn loaded(&self, kid: String, state: SigningKeyState, takes_over_at: i64) -> Result<LoadedKey, String> {
        let fail = |e: &dyn std::fmt::Display| format!("signing key {kid}: {e}");
        let algorithm = self.algorithm();
        let mut jwk = self.public_jwk().map_err(|e| fail(&e))?;
        let (encoding, decoding) = match self {
            SigningKey::Rsa(k) => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                use rsa::traits::PublicKeyParts;
                let der = k.to_pkcs1_der().map_err(|e| fail(&e))?;
                let (n, e) = (k.n().to_bytes_be(), k.e().to_bytes_be());
                (EncodingKey::from_rsa_der(der.as_bytes()), DecodingKey::from_rsa_raw_components(&n, &e))
            }
            SigningKey::P256(k) => {
                use p256::elliptic_curve::sec1::ToEncodedPoint;
                let der = k.to_pkcs8_der().map_err(|e| fail(&e))?;
                let point = k.public_key().to_encoded_point(false);
                (EncodingKey::from_ec_der(der.as_bytes()), DecodingKey::from_ec_der(point.as_bytes()))
            }
            SigningKey::Ed25519(k) => {
                let der = k.to_pkcs8_der().map_err(|e| fail(&e))?;
                (EncodingKey::from_ed_der(der.as_bytes()), DecodingKey::from_ed_der(&k.verifying_key().to_bytes()))
            }
        };
        if let Value::Object(m) = &mut jwk {
            m.insert("use".into(), json!("sig"));
            m.insert("alg".into(), json!(algorithm.as_str()));
            m.insert("kid".into(), json!(kid));
        }
        Ok(LoadedKey { kid, algorithm, state, takes_over_at, encoding, decoding, public_pem: self.public_pem()?, jwk })
    }
}

/// Peatio's `JWT_PUBLIC_KEY` (and the Barong mailer keychain's `value`): URL-safe Base64, padded
/// as Ruby's `Base64.urlsafe_encode64`, of the SPKI PEM.
pub fn peatio_form(public_pem: &str) -> String {
    base64::engine::general_purpose::URL_SAFE.encode(public_pem.as_bytes())
}

/// RFC 7638: base64url SHA-256 of the JWK's required members (RSA `e kty n`, EC `crv kty x y`,
/// OKP `crv kty x`) in lexicographic order, without whitespace.
pub fn thumbprint(jwk: &Value) -> String {
    let members: &[&str] = match jwk["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical: Vec<String> = members
        .iter()
        .map(|m| format!("{}:{}", Value::from(*m), Value::from(jwk[*m].as_str().unwrap_or_default())))
        .collect();
    B64URL.encode(Sha256::digest(format!("{{{}}}", canonical.join(",")).as_bytes()))
}

fn unreadable() -> KeyRefusal {
    KeyRefusal::new(
        "keys.invalid_key",
        "not a readable RSA, EC P-256 or Ed25519 private key in PEM (PKCS#1, PKCS#8 or SEC1)",
    )
}

/// The one `... PRIVATE KEY` block of a PEM file: its label and its text.
fn private_key_block(file: &str) -> Result<(String, Zeroizing<String>), KeyRefusal> {
    let mut found: Option<(String, Zeroizing<String>)> = None;
    let mut current: Option<(&str, Zeroizing<String>)> = None;
    for line in file.lines().map(str::trim) {
        if let Some(label) = line.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")) {
            current = Some((label, Zeroizing::new(String::with_capacity(file.len()))));
        }
        let Some((label, text)) = current.as_mut() else { continue };
        text.push_str(line);
        text.push('\n');
        if line.strip_prefix("-----END ").and_then(|l| l.strip_suffix("-----")) == Some(*label) {
            if label.ends_with("PRIVATE KEY") {
                if found.is_some() {
                    return Err(KeyRefusal::new("keys.invalid_key", "the PEM file holds more than one private key"));
                }
                found = current.take().map(|(l, t)| (l.to_string(), t));
            }
            current = None;
        }
    }
    found.ok_or_else(|| KeyRefusal::new("keys.invalid_key", "no PRIVATE KEY block in the PEM file"))
}
