//! The operator's changes to the key ring: rotation, import, activation, and the public halves in
//! the forms consumers pin. Every change is a database write; the change feed brings it to every
//! daemon (and drops their cached upstream JWTs), and this daemon reloads before answering.

use common::admin::PublicKeyFormat;
use common::jwt::JwtAlgorithm;
use serde_json::json;
use zeroize::Zeroizing;

use super::Tokens;
use super::key::{SigningKey, peatio_form};
use crate::model::SigningKeyState;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::seal::Sealer;
use crate::store::{DynStore, SigningKeyRow};

/// What `keys import` stored (or found already stored).
#[derive(Debug, Clone)]
pub struct Imported {
    pub kid: String,
    pub algorithm: JwtAlgorithm,
    pub bits: usize,
    pub fingerprint: String,
    pub public_pem: String,
    pub state: SigningKeyState,
    pub already_present: bool,
}

/// A public key in one of the consumers' forms.
#[derive(Debug, Clone)]
pub struct PublicKey {
    /// None for the whole JWKS.
    pub kid: Option<String>,
    pub text: String,
}

/// The row of `key`: the stored one when the ring holds the same public key already (its kid kept,
/// whatever form it has), else a new one in `state`.
pub(super) async fn stored_or_new(
    store: &DynStore,
    sealer: &Sealer,
    key: &SigningKey,
    state: SigningKeyState,
    now: i64,
) -> Result<SigningKeyRow, String> {
    let public_pem = key.public_pem()?;
    let rows = store.all_signing_keys().await.map_err(|e| e.to_string())?;
    match rows.into_iter().find(|r| r.public_pem == public_pem) {
        Some(row) => Ok(row),
        None => key.row(sealer, state, now),
    }
}

fn internal(e: String) -> ServiceError {
    ServiceError::internal(e)
}

impl Tokens {
    /// The kid `JWT_PRIVATE_KEY_PATH` pins, if set.
    pub fn pinned(&self) -> Option<&str> {
        self.pinned.as_deref()
    }

    /// While `JWT_PRIVATE_KEY_PATH` is set its key signs: another cannot be made active (the next
    /// start would switch back, and consumers pinning it would break twice).
    fn refuse_when_pinned(&self, kid: Option<&str>) -> ServiceResult<()> {
        match (&self.pinned, kid) {
            (Some(pinned), Some(kid)) if pinned == kid => Ok(()),
            (Some(_), _) => Err(ServiceError::rejected(
                "keys.pinned: unset JWT_PRIVATE_KEY_PATH first (its key is made the signing key at every start)",
            )),
            (None, _) => Ok(()),
        }
    }

    /// A fresh key of `algorithm`, published at once and signing after `activation_delay` (or at
    /// once with `at_once`, or when the delay is 0): returns its kid and when it takes over. The
    /// previous key keeps verifying until the tokens it signed have expired; every daemon picks the
    /// change up from the change feed, and the first to see the time come activates it.
    pub async fn rotate(
        &self,
        store: &DynStore,
        sealer: &Sealer,
        algorithm: JwtAlgorithm,
        now: i64,
        at_once: bool,
    ) -> ServiceResult<(String, i64)> {
        self.refuse_when_pinned(None)?;
        let key = SigningKey::generate_blocking(algorithm).await.map_err(internal)?;
        let mut row = key.row(sealer, SigningKeyState::Active, now).map_err(internal)?;
        row.takes_over_at = if at_once { now } else { now + self.activation_delay };
        if row.takes_over_at <= now {
            store.rotate_signing_key(&row, now - self.expire).await?;
        } else {
            store.schedule_signing_key(&row).await?;
        }
        self.reload(store, sealer).await.map_err(internal)?;
        Ok((row.kid, row.takes_over_at))
    }

    /// Activates the `next` key whose time has come, if any (every daemon asks every second; the
    /// first one to see it does it, the others find it done). Returns its kid.
    pub async fn activate_due(&self, store: &DynStore, sealer: &Sealer, now: i64) -> ServiceResult<Option<String>> {
        let due = self.scheduled().filter(|k| k.takes_over_at <= now);
        let Some(due) = due else { return Ok(None) };
        let row =
            store.all_signing_keys().await?.into_iter().find(|r| r.kid == due.kid && r.state == SigningKeyState::Next);
        if let Some(row) = row {
            store.activate_signing_key(&row, now - self.expire).await?;
            tracing::info!(kid = %row.kid, "the published next signing key signs from now on");
        }
        self.reload(store, sealer).await.map_err(internal)?;
        Ok(Some(due.kid.clone()))
    }

    /// Adds an operator's private key (PEM; `passphrase` opens an encrypted PKCS#8 one) to the
    /// ring: as the signing key with `activate`, else verify-only (`previous`, published in the
    /// JWKS). The same public key stored before is reported, not added twice (and activated
    /// when asked).
    pub async fn import(
        &self,
        store: &DynStore,
        sealer: &Sealer,
        pem: Zeroizing<String>,
        passphrase: Option<Zeroizing<String>>,
        activate: bool,
        now: i64,
    ) -> ServiceResult<Imported> {
        // Off the async threads: an encrypted key's KDF (scrypt, PBKDF2) is slow on purpose.
        let key =
            tokio::task::spawn_blocking(move || SigningKey::import(&pem, passphrase.as_ref().map(|p| p.as_str())))
                .await
                .map_err(|e| ServiceError::internal(format!("key import: {e}")))?
                .map_err(|r| ServiceError::invalid(format!("{}: {}", r.code, r.message)))?;
        let state = if activate { SigningKeyState::Active } else { SigningKeyState::Previous };
        let row = stored_or_new(store, sealer, &key, state, now).await.map_err(internal)?;
        let already_present = store_has(store, &row.kid).await?;
        if activate {
            self.refuse_when_pinned(Some(&row.kid))?;
            let row = SigningKeyRow { takes_over_at: now, ..row.clone() };
            store.activate_signing_key(&row, now - self.expire).await?;
        } else if !already_present {
            store.add_signing_key(&row).await?;
        }
        self.reload(store, sealer).await.map_err(internal)?;
        let state = store
            .all_signing_keys()
            .await?
            .into_iter()
            .find(|r| r.kid == row.kid)
            .map(|r| r.state)
            .ok_or_else(|| ServiceError::internal("imported key not stored"))?;
        Ok(Imported {
            kid: row.kid,
            algorithm: key.algorithm(),
            bits: key.bits(),
            fingerprint: key.fingerprint().map_err(internal)?,
            public_pem: row.public_pem,
            state,
            already_present,
        })
    }

    /// Makes the stored key `kid` the signing key on every daemon, once it has been published for
    /// `activation_delay` (a retired key is published again first), or at once with `at_once`.
    /// The active one stays verify-only as `previous` until its tokens expire. Returns when the
    /// key takes over.
    pub async fn activate(
        &self,
        store: &DynStore,
        sealer: &Sealer,
        kid: &str,
        now: i64,
        at_once: bool,
    ) -> ServiceResult<i64> {
        self.refuse_when_pinned(Some(kid))?;
        let row = store
            .all_signing_keys()
            .await?
            .into_iter()
            .find(|r| r.kid == kid)
            .ok_or_else(|| ServiceError::not_found("keys.not_found"))?;
        let published_since = if row.state == SigningKeyState::Retired { now } else { row.created_at };
        let takes_over_at = if at_once { now } else { now.max(published_since + self.activation_delay) };
        let row = SigningKeyRow { takes_over_at, ..row };
        if row.state == SigningKeyState::Active {
            return Ok(row.takes_over_at.min(now));
        }
        if takes_over_at <= now {
            store.activate_signing_key(&row, now - self.expire).await?;
        } else {
            store.schedule_signing_key(&row).await?;
        }
        self.reload(store, sealer).await.map_err(internal)?;
        Ok(takes_over_at)
    }

    /// A published key's public half (the active one when `kid` is none) in `format`; `jwks`
    /// without a kid is the whole set `/.well-known/jwks.json` serves.
    pub fn export_public(&self, kid: Option<&str>, format: PublicKeyFormat) -> ServiceResult<PublicKey> {
        if kid.is_none() && format == PublicKeyFormat::Jwks {
            return Ok(PublicKey { kid: None, text: self.jwks().to_string() });
        }
        let ring = self.keys.read().map_err(|_| ServiceError::internal("key ring lock poisoned"))?;
        let key = match kid {
            Some(kid) => ring.iter().find(|k| k.kid == kid),
            None => ring.first(),
        }
        .ok_or_else(|| ServiceError::not_found("keys.not_found"))?;
        let text = match format {
            PublicKeyFormat::Pem => key.public_pem.clone(),
            PublicKeyFormat::Peatio => peatio_form(&key.public_pem),
            PublicKeyFormat::Jwk => key.jwk.to_string(),
            PublicKeyFormat::Jwks => json!({ "keys": [key.jwk] }).to_string(),
        };
        Ok(PublicKey { kid: Some(key.kid.clone()), text })
    }
}

async fn store_has(store: &DynStore, kid: &str) -> ServiceResult<bool> {
    Ok(store.all_signing_keys().await?.iter().any(|r| r.kid == kid))
}
