//! WebAuthn (passkeys and security keys) as a second factor beside TOTP: enrolment and
//! management of a user's credentials, and assertions that stand in for a TOTP code at login and
//! on every action that asks one. webauthn-rs does the protocol; this module keeps its states in
//! the database between the two calls of a ceremony (any daemon finishes what another began,
//! once), seals credentials like TOTP seeds, and checks the signature counter against the stored
//! one with a compare-and-set.

pub mod assertion;
pub mod ceremony;
pub mod enrolment;
pub mod factor;
pub mod relying_party;

use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};

/// The relying party, or `resource.webauthn.disabled` when `webauthn_rp_id`/`webauthn_origins`
/// are not set.
pub fn relying_party(app: &App) -> ServiceResult<&relying_party::RelyingParty> {
    app.webauthn.as_ref().ok_or_else(|| ServiceError::invalid("resource.webauthn.disabled"))
}

/// Whether the user has any WebAuthn credential (none when WebAuthn is off: a credential enrolled
/// before the operator turned it off cannot be checked, so it does not count).
pub async fn enrolled(app: &App, user_id: i64) -> ServiceResult<bool> {
    if app.webauthn.is_none() {
        return Ok(false);
    }
    Ok(app.store.count_webauthn_credentials(user_id).await? > 0)
}
