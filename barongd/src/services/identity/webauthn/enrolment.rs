//! A user's own credentials (`resource/webauthn/...`): enrolment (a recent login, and the TOTP
//! code when TOTP is on), listing, renaming and deleting. Deleting the last second factor needs
//! the password. Every change is an `otp` activity and a `model.user.updated` event.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::entities::WebauthnCredential;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use webauthn_rs::prelude::{RegisterPublicKeyCredential, Uuid};

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::events::event_api as events;
use crate::services::identity::webauthn::assertion::{Challenge, seal};
use crate::services::identity::webauthn::ceremony::{self, Purpose};
use crate::services::identity::webauthn::relying_party::Registration;
use crate::services::identity::{attempts, sessions, totp};
use crate::store::outbox::PendingEvent;
use crate::store::webauthn::{CredentialRow, NewCredential};
use crate::store::{StoreError, UserRow};

const ENROL: &str = "webauthn::enrol";
const DELETE: &str = "webauthn::delete";
const NAME_MAX: usize = 64;

/// `POST resource/webauthn/registrations`: options for `navigator.credentials.create()`.
pub async fn begin(
    app: &App,
    user: &UserRow,
    ctx: &RequestContext,
    otp_code: Option<&str>,
) -> ServiceResult<Challenge> {
    let rp = super::relying_party(app)?;
    recent_login(app, user, ctx).await?;
    if user.otp {
        let code = otp_code.map(str::trim).filter(|c| !c.is_empty());
        let Some(code) = code else {
            return Err(refuse(app, ctx, user, "OTP code is missing", "resource.webauthn.missing_otp_code").await);
        };
        if !totp::verify_code(app, user, code, &ctx.ip).await? {
            return Err(refuse(app, ctx, user, "OTP code is invalid", "resource.webauthn.invalid_otp").await);
        }
    }
    let rows = app.store.webauthn_credentials(user.id).await?;
    if rows.len() as i64 >= app.config.webauthn_max_credentials {
        return Err(ServiceError::rejected("resource.webauthn.limit_reached"));
    }
    let exclude = rows.iter().filter_map(|r| URL_SAFE_NO_PAD.decode(&r.credential_id).ok()).collect();
    let (public_key, state) =
        rp.start_registration(user_handle(&user.uid), &user.email, exclude).map_err(ServiceError::internal)?;
    let challenge_id = ceremony::save(app, user.id, Purpose::Register, &state).await?;
    Ok(Challenge { challenge_id, public_key })
}

/// `POST resource/webauthn/registrations/finish`: checks the authenticator's answer and stores
/// the credential. A user's first second factor ends their other sessions, as enabling TOTP does.
pub async fn finish(
    app: &App,
    user: &UserRow,
    ctx: &RequestContext,
    challenge_id: &str,
    name: &str,
    credential: &Value,
) -> ServiceResult<WebauthnCredential> {
    let rp = super::relying_party(app)?;
    recent_login(app, user, ctx).await?;
    let name = valid_name(name)?;
    let Some(state) = ceremony::take::<Registration>(app, challenge_id, user.id, Purpose::Register).await? else {
        return Err(refuse(
            app,
            ctx,
            user,
            "WebAuthn challenge unknown, used or expired",
            "resource.webauthn.invalid_challenge",
        )
        .await);
    };
    let registered =
        serde_json::from_value::<RegisterPublicKeyCredential>(credential.clone()).ok().and_then(|answer| {
            rp.finish_registration(&answer, &state)
                .map_err(|e| tracing::debug!(error = %e, "WebAuthn registration refused"))
                .ok()
        });
    let Some(registered) = registered else {
        return Err(
            refuse(app, ctx, user, "WebAuthn credential is invalid", "resource.webauthn.invalid_credential").await
        );
    };
    let before = app.store.count_webauthn_credentials(user.id).await?;
    let credential_id = URL_SAFE_NO_PAD.encode(&registered.cred_id);
    let new = NewCredential {
        user_id: user.id,
        credential_id: &credential_id,
        name,
        credential_sealed: &seal(app, &registered)?,
        sign_count: i64::from(registered.counter),
        now: app.clock.now(),
    };
    let events = factor_event(app, user, before, before + 1).await;
    let row = match app.store.insert_webauthn_credential(&new, app.config.webauthn_max_credentials, &events).await {
        Ok(Some(row)) => row,
        Ok(None) => return Err(ServiceError::rejected("resource.webauthn.limit_reached")),
        Err(StoreError::Unique(_)) => return Err(ServiceError::conflict("resource.webauthn.already_registered")),
        Err(e) => return Err(e.into()),
    };
    activity::record(app, ctx, user.id, "otp", ENROL, Outcome::Succeed, None).await;
    if before == 0 && !user.otp {
        // Sessions opened before the first second factor did not pass one.
        let keep = ctx.session_id.as_deref().map(sessions::hash_id).unwrap_or_default();
        app.store.delete_other_sessions(user.id, &keep).await?;
    }
    tracing::info!(uid = %user.uid, credential = row.id, "WebAuthn credential enrolled");
    Ok(entity(&row))
}

/// `GET resource/webauthn/credentials` (and `barongctl user webauthn list`), oldest first.
pub async fn list(app: &App, user_id: i64) -> ServiceResult<Vec<WebauthnCredential>> {
    Ok(app.store.webauthn_credentials(user_id).await?.iter().map(entity).collect())
}

/// `PATCH resource/webauthn/credentials/:id`.
pub async fn rename(app: &App, user: &UserRow, id: i64, name: &str) -> ServiceResult<WebauthnCredential> {
    let name = valid_name(name)?;
    let row = app.store.rename_webauthn_credential(user.id, id, name).await?;
    row.map(|r| entity(&r)).ok_or_else(|| ServiceError::not_found("record.not_found"))
}

/// `DELETE resource/webauthn/credentials/:id`. The user's last second factor (no TOTP, no other
/// credential) goes only with the password, and takes the user's API keys with it (they need a
/// second factor, as when TOTP is turned off).
pub async fn delete(
    app: &App,
    user: &UserRow,
    ctx: &RequestContext,
    id: i64,
    password: Option<&str>,
) -> ServiceResult<()> {
    let rows = app.store.webauthn_credentials(user.id).await?;
    if !rows.iter().any(|r| r.id == id) {
        return Err(ServiceError::not_found("record.not_found"));
    }
    let last = !user.otp && rows.len() == 1;
    if last {
        let Some(password) = password.filter(|p| !p.is_empty()) else {
            return Err(
                refuse_delete(app, ctx, user, "Password is missing", "resource.webauthn.missing_password").await
            );
        };
        let attempt = attempts::reserve(app, &user.email, &ctx.ip, "resource.webauthn.too_many_attempts").await?;
        if !app.hasher.verify(password, Some(&user.password_digest)).await? {
            return Err(refuse_delete(app, ctx, user, "Invalid password", "resource.webauthn.invalid_password").await);
        }
        attempt.succeeded(app).await?;
    }
    let before = rows.len() as i64;
    let events = factor_event(app, user, before, before - 1).await;
    if !app.store.delete_webauthn_credential(user.id, id, &events).await? {
        return Err(ServiceError::not_found("record.not_found"));
    }
    if last {
        let keys = app.store.disable_api_keys_of_user(user.id, app.clock.now()).await?;
        tracing::info!(uid = %user.uid, api_keys_disabled = keys, "last second factor removed by its owner");
    }
    let reason = last.then_some("Last second factor removed");
    activity::record(app, ctx, user.id, "otp", DELETE, Outcome::Succeed, reason).await;
    Ok(())
}

/// Removes one credential for the operator (support's "lost my key"); the caller records the
/// admin action. Returns whether it existed.
pub async fn remove(app: &App, user: &UserRow, id: i64) -> ServiceResult<bool> {
    let before = app.store.count_webauthn_credentials(user.id).await?;
    let events = factor_event(app, user, before, (before - 1).max(0)).await;
    Ok(app.store.delete_webauthn_credential(user.id, id, &events).await?)
}

/// The credential as clients see it: never its key.
pub fn entity(row: &CredentialRow) -> WebauthnCredential {
    WebauthnCredential {
        id: row.id,
        name: row.name.clone(),
        created_at: iso8601(row.created_at),
        last_used_at: row.last_used_at.map(iso8601),
    }
}

/// The WebAuthn user handle: stable per account, opaque (no email or uid in an authenticator).
fn user_handle(uid: &str) -> Uuid {
    let digest = Sha256::digest(format!("barong webauthn user handle\0{uid}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn valid_name(name: &str) -> ServiceResult<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ServiceError::invalid("resource.webauthn.empty_name"));
    }
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(ServiceError::invalid("resource.webauthn.invalid_name"));
    }
    Ok(name)
}

/// Enrolment needs a session of this user opened within `webauthn_enrol_window`: a stolen
/// long-lived session (or an API key, or an upstream JWT) cannot add a factor.
async fn recent_login(app: &App, user: &UserRow, ctx: &RequestContext) -> ServiceResult<()> {
    let reauth = || ServiceError::unauthenticated("resource.webauthn.reauth_required");
    let Some(sid) = &ctx.session_id else { return Err(reauth()) };
    let session = app.store.session(&sessions::hash_id(sid)).await?;
    let since = app.clock.now() - app.config.webauthn_enrol_window;
    match session {
        Some(s) if s.user_id == user.id && s.created_at >= since => Ok(()),
        _ => Err(reauth()),
    }
}

async fn refuse(app: &App, ctx: &RequestContext, user: &UserRow, reason: &str, key: &'static str) -> ServiceError {
    activity::record(app, ctx, user.id, "otp", ENROL, Outcome::Failed, Some(reason)).await;
    ServiceError::invalid(key)
}

async fn refuse_delete(
    app: &App,
    ctx: &RequestContext,
    user: &UserRow,
    reason: &str,
    key: &'static str,
) -> ServiceError {
    activity::record(app, ctx, user.id, "otp", DELETE, Outcome::Failed, Some(reason)).await;
    ServiceError::invalid(key)
}

/// `model.user.updated` naming the changed factor: the count of WebAuthn credentials, before in
/// `changes` as Barong lists previous values.
async fn factor_event(app: &App, user: &UserRow, before: i64, after: i64) -> Vec<PendingEvent> {
    if !events::enabled(app) {
        return Vec::new();
    }
    let mut record = events::compact(events::user_of(app, user).await);
    record["webauthn_credentials"] = json!(after);
    events::pending(app, "model.user.updated", &json!({"record": record, "changes": {"webauthn_credentials": before}}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_bounded_and_printable() {
        assert_eq!(valid_name("  My key ").ok(), Some("My key"));
        assert_eq!(valid_name(" ").map_err(|e| e.key().to_string()), Err("resource.webauthn.empty_name".into()));
        assert!(valid_name(&"k".repeat(65)).is_err());
        assert!(valid_name("a\nb").is_err());
        assert!(valid_name(&"é".repeat(64)).is_ok());
    }

    #[test]
    fn user_handles_are_stable_and_distinct() {
        assert_eq!(user_handle("ID0000000001"), user_handle("ID0000000001"));
        assert_ne!(user_handle("ID0000000001"), user_handle("ID0000000002"));
    }
}
