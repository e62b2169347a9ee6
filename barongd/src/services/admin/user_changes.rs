//! Admin writes on a user: state, 2FA reset, e-mail and role. Barong's `POST /users/update`
//! wrote whatever raw parameter came first to the user row (W1); here each change is its own
//! service fed by a typed request, and changes to privileged accounts need a superadmin (W5).
//! The Admin API and barongctl (the operator, see `actor`) call the same functions.

use common::admin::TwoFactorReset;

use crate::model::{AccountState, LabelScope, Role};
use crate::services::App;
use crate::services::admin::actor::{Actor, SUPERADMIN};
use crate::services::admin::users::target;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api;
use crate::services::events::mail::MailKind;
use crate::services::identity::totp;
use crate::services::kyc::levels;
use crate::store::UserRow;
use crate::store::api_keys::OtpReset;

/// What `POST /users/update` and `PUT /users` may change: exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserChange {
    State(String),
    /// `otp=false`; `otp=true` is refused (`admin.user.enable_2fa`).
    Otp(bool),
    Email(String),
}

/// The value of the private trigger label that holds a restrictive state an admin set.
const SET_BY_ADMIN: &str = "admin";
/// The same, set by the operator (barongctl); distinct so the log of labels tells them apart.
const SET_BY_OPERATOR: &str = "operator";

/// Whether `role` has an `admin_permissions` entry (an admin-role account).
fn privileged(app: &App, role: &str) -> bool {
    app.config.abilities.roles.iter().any(|(r, _)| r == role)
}

/// Appendix B's guards after the lookup: superadmin target, then the caller itself. The
/// operator has no account to change, and confirms a change to a superadmin instead.
pub fn guard(actor: &Actor<'_>, user: &UserRow) -> ServiceResult<()> {
    let caller = match actor {
        Actor::Admin(caller) => caller,
        Actor::Operator(op) if user.role.as_str() == SUPERADMIN => return op.confirm(),
        Actor::Operator(_) => return Ok(()),
    };
    if user.role.as_str() == SUPERADMIN && caller.role.as_str() != SUPERADMIN {
        return Err(ServiceError::invalid("admin.user.superadmin_change"));
    }
    if user.id == caller.id {
        return Err(ServiceError::invalid("admin.user.update_himself"));
    }
    Ok(())
}

/// W5: an admin-role account's state, 2FA, e-mail or role is a superadmin's to change; the
/// operator confirms it.
pub(crate) fn guard_privileged(app: &App, actor: &Actor<'_>, role: &str) -> ServiceResult<()> {
    if !privileged(app, role) {
        return Ok(());
    }
    match actor {
        Actor::Operator(op) => op.confirm(),
        Actor::Admin(_) if actor.is_superadmin() => Ok(()),
        Actor::Admin(_) => Err(ServiceError::invalid("admin.user.superadmin_change")),
    }
}

/// `POST /users/update` / `PUT /users`.
pub async fn update(app: &App, actor: &Actor<'_>, uid: &str, change: UserChange) -> ServiceResult<()> {
    let user = target(app, uid).await?;
    guard(actor, &user)?;
    if let UserChange::Email(_) = change
        && !actor.is_superadmin()
    {
        return Err(ServiceError::invalid("superadmin.user.update_email"));
    }
    guard_privileged(app, actor, user.role.as_str())?;
    match change {
        UserChange::State(state) => set_state(app, actor, &user, &state).await,
        UserChange::Otp(true) => Err(ServiceError::invalid("admin.user.enable_2fa")),
        UserChange::Otp(false) => reset_otp(app, &user).await.map(|_| ()),
        UserChange::Email(email) => change_email(app, &user, &email).await,
    }
}

/// The first label key of the `state_triggers` entry that yields `state`, if any.
fn trigger_label(app: &App, state: &AccountState) -> Option<String> {
    app.config.state_triggers.iter().find(|t| AccountState::from(t.state.as_str()) == *state)?.labels.first().cloned()
}

/// Sets `pending`, `active` or a `state_triggers` state (W13: no free text). A restrictive state
/// is stored as its trigger label, so label recomputation cannot lift it until an admin sets
/// another state, which removes it.
async fn set_state(app: &App, actor: &Actor<'_>, user: &UserRow, state: &str) -> ServiceResult<()> {
    let wanted = AccountState::from(state);
    let trigger = trigger_label(app, &wanted);
    if !matches!(wanted, AccountState::Pending | AccountState::Active) && trigger.is_none() {
        return Err(ServiceError::invalid("admin.user.invalid_state"));
    }
    if wanted == user.state {
        return Err(ServiceError::invalid("admin.user.state_no_change"));
    }
    // Lift what earlier state changes pinned, whether an admin or the operator set them (W13).
    let mut user = user.clone();
    for l in app.store.labels_of(user.id).await? {
        let pinned = l.scope == LabelScope::Private && [SET_BY_ADMIN, SET_BY_OPERATOR].contains(&l.value.as_str());
        if pinned && app.config.state_triggers.iter().any(|t| t.labels.contains(&l.key)) {
            app.store.delete_label(user.id, &l.key, LabelScope::Private).await?;
        }
    }
    if let Some(key) = trigger {
        let by = if matches!(actor, Actor::Operator(_)) { SET_BY_OPERATOR } else { SET_BY_ADMIN };
        levels::set_private_label(app, &user, &key, by).await?;
        return Ok(());
    }
    let now = app.clock.now();
    let after = UserRow { state: wanted, updated_at: now, ..user.clone() };
    let updated = event_api::user_updated_events(app, &user, &after).await;
    app.store.update_state_level_with_events(user.id, &after.state, after.level, now, &updated).await?;
    user = after;
    levels::cascade_owner_state(app, &user).await
}

/// `barongctl user reset-2fa UID --reason TEXT`: the W11 reset below, then every session of the
/// user ended, reported field by field. The way out of the safe state of an account whose seed
/// was not carried from Barong (migration spec §2.8.5), and the operator's reset of any other.
/// The caller validates and records `reason` with the admin activity.
pub async fn reset_2fa(app: &App, actor: &Actor<'_>, uid: &str, reason: &str) -> ServiceResult<TwoFactorReset> {
    let user = target(app, uid).await?;
    guard(actor, &user)?;
    guard_privileged(app, actor, user.role.as_str())?;
    let (changed, after) = reset_otp(app, &user).await?;
    // After the reset: a session opened before it, by whoever held the account, must not outlive
    // the second factor support just took away.
    let sessions_ended = app.store.delete_user_sessions(user.id).await?;
    tracing::info!(uid = %user.uid, sessions_ended, "2FA reset by the operator");
    Ok(TwoFactorReset {
        uid: user.uid.clone(),
        email: user.email.clone(),
        totp_before: totp::status(&user),
        otp: after.otp,
        otp_label_removed: changed.label_removed,
        level_before: user.level,
        level: after.level,
        state_before: user.state.to_string(),
        state: after.state.to_string(),
        api_keys_disabled: changed.keys_disabled,
        sessions_ended,
        reason: reason.to_string(),
    })
}

/// W11: 2FA off with the TOTP seed discarded in the same transaction (Barong kept it, so
/// re-enabling needed no new enrolment), the `otp` label removed with a recompute, the active
/// keys of the user and its service accounts disabled, and the user told by e-mail. Answers
/// what the store changed and the user after the recompute.
async fn reset_otp(app: &App, user: &UserRow) -> ServiceResult<(OtpReset, UserRow)> {
    if !user.otp {
        return Err(ServiceError::invalid("admin.user.otp_no_change"));
    }
    let now = app.clock.now();
    let off = UserRow { otp: false, updated_at: now, ..user.clone() };
    let updated = event_api::user_updated_events(app, user, &off).await;
    let Some(changed) = app.store.reset_otp_with_events(user.id, now, &updated).await? else {
        return Err(ServiceError::invalid("admin.user.otp_no_change"));
    };
    let after = levels::recompute(app, &off).await?;
    tracing::info!(uid = %user.uid, "2FA reset by an admin or the operator");
    // The reset is done; a mail that cannot be queued is logged, not turned into a failure
    // that would invite a retry against a user whose 2FA is already off.
    if let Err(e) = app.mailer.send(&user.email, &user.language, MailKind::OtpReset, now).await {
        tracing::error!(uid = %user.uid, error = %e, "2FA reset mail not queued");
    }
    Ok((changed, after))
}

/// A new e-mail (superadmin only), unique case-insensitively.
async fn change_email(app: &App, user: &UserRow, email: &str) -> ServiceResult<()> {
    use crate::services::identity::email_address;
    let email = email.trim();
    if !email_address::is_valid_email(email) {
        return Err(ServiceError::invalid("email.invalid"));
    }
    let key = email_address::email_key(email);
    if key == user.email_key {
        return Err(ServiceError::invalid("admin.user.email_no_change"));
    }
    let now = app.clock.now();
    let after = UserRow { email: email.to_string(), email_key: key, updated_at: now, ..user.clone() };
    let updated = event_api::user_updated_events(app, user, &after).await;
    match app.store.update_email_with_events(user.id, &after.email, &after.email_key, now, &updated).await {
        Err(crate::store::StoreError::Unique(_)) => Err(ServiceError::invalid("email.taken")),
        r => Ok(r?),
    }
}

/// `POST /users/role`: guards, then W5's hierarchy (granting or removing an admin role needs a
/// superadmin), then Barong's checks.
pub async fn set_role(app: &App, actor: &Actor<'_>, uid: &str, role: &str) -> ServiceResult<()> {
    let user = target(app, uid).await?;
    guard(actor, &user)?;
    guard_privileged(app, actor, user.role.as_str())?;
    guard_privileged(app, actor, role)?;
    if user.role.as_str() == role {
        return Err(ServiceError::invalid("admin.user.role_no_change"));
    }
    if !app.store.role_exists(role).await? {
        return Err(ServiceError::invalid("role.doesnt_exist"));
    }
    let now = app.clock.now();
    let after = UserRow { role: Role::from(role), updated_at: now, ..user.clone() };
    let updated = event_api::user_updated_events(app, &user, &after).await;
    app.store.update_role_with_events(user.id, &after.role, now, &updated).await?;
    Ok(())
}
