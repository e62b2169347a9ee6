//! A ceremony's state between its two calls: sealed in `webauthn_challenges` under an opaque
//! handle, for one purpose and one user, taken (deleted) by the call that finishes it.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::random::random_hex;
use crate::store::webauthn::NewChallenge;

/// What a state may be finished as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Enrolling a credential.
    Register,
    /// The second factor of `POST identity/sessions`.
    Login,
    /// An action that asks for a second factor (API keys, 2FA off, account deletion, otp/sign).
    Action,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::Action => "action",
        }
    }
}

/// Stores `state` and returns its handle (128 random bits, hex).
pub async fn save<T: Serialize>(app: &App, user_id: i64, purpose: Purpose, state: &T) -> ServiceResult<String> {
    let json = serde_json::to_vec(state).map_err(|_| ServiceError::internal("webauthn state serialisation failed"))?;
    let handle = random_hex(16);
    let challenge = NewChallenge {
        handle: &handle,
        user_id,
        purpose: purpose.as_str(),
        state_sealed: &app.sealer.seal(&json),
        expires_at: app.clock.now() + app.config.webauthn_challenge_lifetime,
    };
    app.store.insert_webauthn_challenge(&challenge).await?;
    Ok(handle)
}

/// Takes the state of `handle` begun for `purpose` by `user_id`; `None` when there is none (never
/// begun, begun for something else or someone else, used already) or it has expired.
pub async fn take<T: DeserializeOwned>(
    app: &App,
    handle: &str,
    user_id: i64,
    purpose: Purpose,
) -> ServiceResult<Option<T>> {
    if handle.is_empty() || handle.len() > 64 {
        return Ok(None);
    }
    let Some((sealed, expires_at)) = app.store.take_webauthn_challenge(handle, purpose.as_str(), user_id).await? else {
        return Ok(None);
    };
    if expires_at <= app.clock.now() {
        return Ok(None);
    }
    let json = app.sealer.open(&sealed).map_err(ServiceError::internal)?;
    serde_json::from_slice(&json).map(Some).map_err(|_| ServiceError::internal("webauthn state unreadable"))
}
