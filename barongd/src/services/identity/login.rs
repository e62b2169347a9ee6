//! Login and logout (`POST` and `DELETE identity/sessions`), with two departures from Barong:
//! the password is checked before the account state (Barong told anyone who knew an email that
//! the account was banned), and failed attempts are throttled per account and per IP
//! (docs/barong-weaknesses-fixed.md#w-login-enumeration and #w-brute-force). Barong's bcrypt
//! digests sign in too, and become argon2id on their first use (migration spec §2.7).

use std::time::Instant;

use common::admin::TotpStatus;

use crate::model::AccountState;
use crate::services::App;
use crate::services::account::full_info;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::events::event_api as events;
use crate::services::identity::attempts::{self, Attempt};
use crate::services::identity::captcha::{Answer, Endpoint};
use crate::services::identity::email_address::{email_key, too_long};
use crate::services::identity::legacy_passwords;
use crate::services::identity::sessions::{self, WithSession};
use crate::services::identity::totp;
use crate::services::identity::webauthn;
use crate::services::identity::webauthn::assertion::{self, Challenge, Proof, Verdict};
use crate::services::identity::webauthn::ceremony::Purpose;
use crate::services::telemetry::{access, record};
use crate::store::UserRow;

pub struct Credentials {
    pub email: String,
    pub password: String,
    pub otp_code: Option<String>,
    /// A WebAuthn assertion answering the challenge of an earlier call, in place of `otp_code`.
    pub webauthn: Option<Proof>,
    pub captcha: Option<Answer>,
}

/// The second factor sent with a login.
#[derive(Debug, Clone, Copy, Default)]
pub struct SecondFactor<'a> {
    pub otp_code: Option<&'a str>,
    pub webauthn: Option<&'a Proof>,
}

/// How a login ended, when it was not refused.
pub enum Signed {
    /// A session is open.
    In(WithSession),
    /// The first factor was right; the second is missing, and the user may answer this WebAuthn
    /// challenge (or send a TOTP code, if TOTP is on): answered as a missing `otp_code`, plus it.
    Due(Challenge),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("email", &self.email).finish_non_exhaustive()
    }
}

fn invalid() -> ServiceError {
    ServiceError::unauthenticated("identity.session.invalid_params")
}

pub async fn login(app: &App, c: Credentials, ctx: &RequestContext) -> ServiceResult<Signed> {
    let result = attempt_login(app, c, ctx).await;
    record::login(&result);
    if let Ok(Signed::In(done)) = &result {
        access::note_uid(&done.user.uid);
    }
    result
}

async fn attempt_login(app: &App, c: Credentials, ctx: &RequestContext) -> ServiceResult<Signed> {
    // Longer than any stored email: no account, and no work (nor a huge throttle key) for it.
    if too_long(&c.email) {
        return Err(invalid());
    }
    app.captcha.verify(Endpoint::SessionCreate, c.captcha.as_ref()).await?;
    let key = email_key(&c.email);
    // Reserved before the hash; it covers the second factor too, and only a full success clears
    // the account's window.
    let attempt = attempts::reserve(app, &key, &ctx.ip, "identity.session.too_many_attempts").await?;

    // The password step: its time must not tell which accounts still have a slow bcrypt digest.
    let started = Instant::now();
    let user = app.store.user_by_email_key(&key).await?;
    let digest = user.as_ref().map(|u| u.password_digest.as_str());
    if digest.is_some_and(legacy_passwords::accepted) && app.legacy_passwords.remaining() == 0 {
        // Imported since the last count: the floor must hold from this sign-in on.
        if let Err(e) = app.legacy_passwords.refresh(&app.store).await {
            tracing::warn!(error = %e, "counting bcrypt digests failed");
        }
    }
    let ok = app.hasher.verify(&c.password, digest).await?;
    app.legacy_passwords.hold(started).await;
    let Some(user) = user.filter(|_| ok) else {
        if let Some(u) = app.store.user_by_email_key(&key).await? {
            let reason = Some("Invalid Email or Password");
            activity::record(app, ctx, u.id, "session", "login", Outcome::Failed, reason).await;
        }
        return Err(invalid());
    };
    migrate_legacy(app, &user, &c.password).await;
    let second = SecondFactor { otp_code: c.otp_code.as_deref(), webauthn: c.webauthn.as_ref() };
    signed_in(app, user, attempt, second, ctx).await
}

/// The rest of a login once the first factor is proven (the password, or an Auth0 ID token):
/// the account's state, its second factor, then the session with `system.session.create`.
pub(crate) async fn signed_in(
    app: &App,
    user: UserRow,
    attempt: Attempt<'_>,
    second: SecondFactor<'_>,
    ctx: &RequestContext,
) -> ServiceResult<Signed> {
    let refusal = match user.state {
        AccountState::Active | AccountState::Pending => None,
        AccountState::Banned => Some(("identity.session.banned", "Your account is banned")),
        AccountState::Deleted => Some(("identity.session.deleted", "Your account is deleted")),
        _ => Some(("identity.session.not_active", "Your account is not active")),
    };
    if let Some((key, reason)) = refusal {
        // The first factor was right: no guess to count.
        attempt.succeeded(app).await?;
        activity::record(app, ctx, user.id, "session", "login", Outcome::Failed, Some(reason)).await;
        return Err(ServiceError::unauthenticated(key));
    }

    if totp::status(&user) == TotpStatus::SeedMissing {
        return Err(seed_missing(app, attempt, &user, ctx).await);
    }
    let has_webauthn = webauthn::enrolled(app, user.id).await?;
    let code = second.otp_code.map(str::trim).filter(|c| !c.is_empty());
    // Either factor the user has will do; an assertion wins when both are sent.
    let (action, amr) = match (second.webauthn.filter(|_| has_webauthn), code.filter(|_| user.otp)) {
        (Some(proof), _) => {
            webauthn_factor(app, &user, proof, ctx).await?;
            ("login::webauthn", "pwd,webauthn")
        }
        (None, Some(code)) => {
            second_factor(app, &user, code, ctx).await?;
            ("login::2fa", "pwd,otp")
        }
        (None, None) if user.otp || has_webauthn => {
            // The right first factor without a second is how a 2FA login starts: not a guess either.
            attempt.succeeded(app).await?;
            if has_webauthn {
                return Ok(Signed::Due(assertion::begin(app, &user, Purpose::Login).await?));
            }
            return Err(ServiceError::unauthenticated("identity.session.missing_otp"));
        }
        (None, None) => ("login", "pwd"),
    };
    attempt.login_succeeded(app).await?;
    activity::record(app, ctx, user.id, "session", action, Outcome::Succeed, None).await;
    let created = if events::enabled(app) {
        let record = serde_json::json!({
            "record": { "user": events::user_of(app, &user).await, "user_ip": ctx.ip, "user_agent": ctx.user_agent },
        });
        events::pending(app, "system.session.create", &record)
    } else {
        Vec::new()
    };
    let session = sessions::open_proven(app, &user, ctx, &created, amr).await?;
    let mut entity = full_info::user_with_full_info(app, &user).await?;
    entity.csrf_token = Some(session.csrf_token.clone());
    Ok(Signed::In(WithSession { user: entity, session: Some(session) }))
}

/// Replaces a bcrypt digest the password just matched by barong-rs's argon2id. Done once the
/// password is proven, whatever the account's state or second factor, so every account that
/// still signs in leaves bcrypt (and the time floor goes once all have). The login's writes are
/// not one transaction, so this is one conditional UPDATE: a password changed meanwhile is kept.
/// A failure only postpones the migration to the next sign-in.
async fn migrate_legacy(app: &App, user: &UserRow, password: &str) {
    let legacy = &user.password_digest;
    // A password longer than bcrypt's 72 bytes matched only by truncation: storing it would make
    // the long form the password, so it stays bcrypt.
    if !legacy_passwords::is_legacy(legacy) || !legacy_passwords::rehashable(password) {
        return;
    }
    let migrated = async {
        let digest = app.hasher.hash(password).await?;
        if app.store.rehash_legacy_password(user.id, legacy, &digest, app.clock.now()).await? {
            app.legacy_passwords.refresh(&app.store).await?;
        }
        Ok::<(), ServiceError>(())
    };
    if let Err(e) = migrated.await {
        tracing::warn!(uid = %user.uid, error = %e, "rehashing a bcrypt password failed; kept until the next sign-in");
    }
}

/// The right password of an account whose 2FA seed was not carried from Barong (migration spec
/// §2.8.5): no code can be checked, and neither the password alone nor any other factor may stand
/// in for it, so the account waits for the operator's `user reset-2fa`, whatever `otp_code` says.
/// The attempt stays counted in the account's window (repeating it gains nothing) but not in the
/// network's: it guessed nothing.
async fn seed_missing(app: &App, attempt: Attempt<'_>, user: &UserRow, ctx: &RequestContext) -> ServiceError {
    if let Err(e) = attempt.counted_for_account(app).await {
        return e;
    }
    activity::record(app, ctx, user.id, "session", "login::2fa", Outcome::Failed, Some("2FA seed not migrated")).await;
    ServiceError::forbidden("identity.session.otp_reset_required")
}

/// The second factor at login, inside the login's own reservation (a wrong code keeps it).
async fn second_factor(app: &App, user: &UserRow, code: &str, ctx: &RequestContext) -> ServiceResult<()> {
    if totp::check_reserved(app, user, code).await? {
        Ok(())
    } else {
        activity::record(app, ctx, user.id, "session", "login::2fa", Outcome::Failed, Some("OTP code is invalid"))
            .await;
        Err(ServiceError::forbidden("identity.session.invalid_otp"))
    }
}

/// A WebAuthn assertion at login, inside the login's own reservation (a wrong one keeps it).
async fn webauthn_factor(app: &App, user: &UserRow, proof: &Proof, ctx: &RequestContext) -> ServiceResult<()> {
    let reason = match assertion::check_reserved(app, user, proof, Purpose::Login, ctx).await? {
        Verdict::Valid => return Ok(()),
        Verdict::Invalid(reason) => reason,
        Verdict::Cloned => "Signature counter did not advance",
    };
    activity::record(app, ctx, user.id, "session", "login::webauthn", Outcome::Failed, Some(reason)).await;
    Err(ServiceError::forbidden("identity.session.invalid_webauthn"))
}

/// `DELETE identity/sessions`.
pub async fn logout(app: &App, ctx: &RequestContext) -> ServiceResult<()> {
    let not_found = || ServiceError::not_found("identity.session.not_found");
    let Some(sid) = &ctx.session_id else { return Err(not_found()) };
    let id_hash = sessions::hash_id(sid);
    let Some(session) = app.store.session(&id_hash).await? else { return Err(not_found()) };
    let Some(user) = app.store.user_by_id(session.user_id).await? else { return Err(not_found()) };
    activity::record(app, ctx, user.id, "session", "logout", Outcome::Succeed, None).await;
    app.store.delete_session(&id_hash).await?;
    Ok(())
}
