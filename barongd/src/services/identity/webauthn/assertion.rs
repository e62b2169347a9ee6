//! Assertions: a challenge for a user's credentials, and the check of the signed answer, which
//! stands in for a TOTP code. The answer is good once (its state is taken from the database), from
//! an allowed origin, signed by one of the user's credentials, with a counter past the stored one.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::Value;
use webauthn_rs::prelude::{Credential, PublicKeyCredential};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::identity::webauthn::ceremony::{self, Purpose};
use crate::services::identity::webauthn::relying_party::{self, Authentication, Refused};
use crate::store::UserRow;
use crate::store::webauthn::{CounterUse, CredentialRow};

/// What a client passes to `navigator.credentials.get()`, and the handle to send back.
#[derive(Debug, Clone, Serialize)]
pub struct Challenge {
    pub challenge_id: String,
    #[serde(rename = "publicKey")]
    pub public_key: Value,
}

/// A signed answer: `{"challenge_id": "...", "credential": <PublicKeyCredential.toJSON()>}`.
#[derive(Clone)]
pub struct Proof {
    pub challenge_id: String,
    pub credential: Value,
}

impl std::fmt::Debug for Proof {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Proof([redacted])")
    }
}

impl Proof {
    /// The `webauthn` parameter: an object, or that object as a JSON string (form bodies).
    pub fn from_param(v: &Value) -> Option<Proof> {
        let parsed;
        let v = match v {
            Value::String(s) => {
                parsed = serde_json::from_str::<Value>(s).ok()?;
                &parsed
            }
            v => v,
        };
        let challenge_id = v.get("challenge_id")?.as_str()?.to_string();
        let credential = v.get("credential").filter(|c| c.is_object())?.clone();
        Some(Proof { challenge_id, credential })
    }
}

/// How an answer fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Wrong, replayed, expired, from another origin, or unreadable: a failed guess.
    Invalid(&'static str),
    /// A valid signature whose counter did not move past the stored one: the authenticator may
    /// have been cloned. Refused and recorded.
    Cloned,
}

/// A challenge for every credential of `user`; `resource.webauthn.no_credentials` when it has none.
pub async fn begin(app: &App, user: &UserRow, purpose: Purpose) -> ServiceResult<Challenge> {
    let rp = super::relying_party(app)?;
    let rows = app.store.webauthn_credentials(user.id).await?;
    if rows.is_empty() {
        return Err(ServiceError::rejected("resource.webauthn.no_credentials"));
    }
    let credentials = rows.iter().map(|r| open(app, r)).collect::<ServiceResult<Vec<_>>>()?;
    let (public_key, state) = rp.start_authentication(credentials).map_err(ServiceError::internal)?;
    let challenge_id = ceremony::save(app, user.id, purpose, &state).await?;
    Ok(Challenge { challenge_id, public_key })
}

/// Checks `proof` for `user`, within an attempt the caller reserved in the account's guessing
/// bucket. A cloned authenticator is recorded here (activity and log), whoever asked.
pub async fn check_reserved(
    app: &App,
    user: &UserRow,
    proof: &Proof,
    purpose: Purpose,
    ctx: &RequestContext,
) -> ServiceResult<Verdict> {
    let rp = super::relying_party(app)?;
    let Some(state) = ceremony::take::<Authentication>(app, &proof.challenge_id, user.id, purpose).await? else {
        return Ok(Verdict::Invalid("WebAuthn challenge unknown, used or expired"));
    };
    let Ok(answer) = serde_json::from_value::<PublicKeyCredential>(proof.credential.clone()) else {
        return Ok(Verdict::Invalid("WebAuthn assertion unreadable"));
    };
    let asserted = match rp.finish_authentication(&answer, &state) {
        Ok(a) => a,
        Err(Refused::CounterRegressed) => return Ok(cloned(app, user, ctx).await),
        Err(Refused::Invalid(e)) => {
            tracing::debug!(uid = %user.uid, error = %e, "WebAuthn assertion refused");
            return Ok(Verdict::Invalid("WebAuthn assertion is invalid"));
        }
    };
    let credential_id = URL_SAFE_NO_PAD.encode(&asserted.credential_id);
    let rows = app.store.webauthn_credentials(user.id).await?;
    let Some(row) = rows.into_iter().find(|r| r.credential_id == credential_id) else {
        // Deleted since the challenge was made.
        return Ok(Verdict::Invalid("WebAuthn credential removed"));
    };
    let credential = relying_party::updated(open(app, &row)?, &asserted);
    let count = i64::from(credential.counter);
    let sealed = seal(app, &credential)?;
    match app.store.use_webauthn_credential(row.id, count, &sealed, app.clock.now()).await? {
        CounterUse::Accepted => Ok(Verdict::Valid),
        CounterUse::Regressed => Ok(cloned(app, user, ctx).await),
        CounterUse::Missing => Ok(Verdict::Invalid("WebAuthn credential removed")),
    }
}

async fn cloned(app: &App, user: &UserRow, ctx: &RequestContext) -> Verdict {
    tracing::warn!(uid = %user.uid, ip = %ctx.ip, "WebAuthn signature counter did not advance: possibly a cloned authenticator");
    let reason = Some("Signature counter did not advance: possibly a cloned authenticator");
    activity::record(app, ctx, user.id, "otp", "webauthn::clone_suspected", Outcome::Failed, reason).await;
    Verdict::Cloned
}

/// The library's credential of a stored row.
pub(super) fn open(app: &App, row: &CredentialRow) -> ServiceResult<Credential> {
    let json = app.sealer.open(&row.credential_sealed).map_err(ServiceError::internal)?;
    let mut credential: Credential =
        serde_json::from_slice(&json).map_err(|_| ServiceError::internal("stored WebAuthn credential unreadable"))?;
    // The column is the counter's truth (raised by compare-and-set, never by re-sealing alone).
    credential.counter = u32::try_from(row.sign_count).unwrap_or(u32::MAX);
    Ok(credential)
}

pub(super) fn seal(app: &App, credential: &Credential) -> ServiceResult<String> {
    let json =
        serde_json::to_vec(credential).map_err(|_| ServiceError::internal("WebAuthn credential serialisation"))?;
    Ok(app.sealer.seal(&json))
}
