//! The second factor an action asks for: a TOTP code, or a WebAuthn assertion in its place
//! (field `webauthn` beside the endpoint's code field). Both count in the account's guessing
//! bucket (`login_throttle`), shared with passwords and login.

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::ServiceResult;
use crate::services::events::activity::{self, Outcome};
use crate::services::identity::webauthn::assertion::{self, Proof, Verdict};
use crate::services::identity::webauthn::ceremony::Purpose;
use crate::services::identity::{attempts, totp};
use crate::store::UserRow;

/// What the caller sent as its second factor.
#[derive(Debug, Clone)]
pub enum Factor {
    Totp(String),
    Webauthn(Proof),
}

/// Whether the user has a second factor an action can check: TOTP on, or a WebAuthn credential.
pub async fn has_second_factor(app: &App, user: &UserRow) -> ServiceResult<bool> {
    Ok(user.otp || super::enrolled(app, user.id).await?)
}

/// Checks an action's factor in a reservation of its own. `Ok(false)`: wrong (a counted guess);
/// `Err`: throttled, a TOTP code already used, or an internal failure. A TOTP code for a user
/// without TOTP, or an assertion for one without credentials, is simply wrong.
pub async fn verify(app: &App, user: &UserRow, factor: &Factor, ctx: &RequestContext) -> ServiceResult<bool> {
    match factor {
        // A seed generated but never enabled is no factor.
        Factor::Totp(_) if !user.otp => Ok(false),
        Factor::Totp(code) => totp::verify_code(app, user, code, &ctx.ip).await,
        Factor::Webauthn(proof) => {
            let attempt = attempts::reserve(app, &user.email, &ctx.ip, "totp.too_many_attempts").await?;
            match assertion::check_reserved(app, user, proof, Purpose::Action, ctx).await? {
                Verdict::Valid => {
                    attempt.succeeded(app).await?;
                    activity::record(app, ctx, user.id, "otp", "webauthn::assert", Outcome::Succeed, None).await;
                    Ok(true)
                }
                Verdict::Invalid(reason) => {
                    activity::record(app, ctx, user.id, "otp", "webauthn::assert", Outcome::Failed, Some(reason)).await;
                    Ok(false)
                }
                Verdict::Cloned => Ok(false),
            }
        }
    }
}
