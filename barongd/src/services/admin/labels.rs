//! Admin label writes (`POST /users/labels`, `POST /users/labels/update`, `PUT /users/labels`,
//! `DELETE /users/labels`): how Tower approves and rejects documents and bans users. Each goes
//! through the label engine (`services/kyc/levels`), so the label, its description, the level
//! and state it leaves and its events are one transaction, as for every other label write.
//!
//! Guards in Appendix B's order: the user (404), a superadmin target, the caller itself (W10:
//! Barong let admins approve or unban themselves), then W5's rule that an admin-role account's
//! labels are a superadmin's to change (a `ban` label is a state change), then the label.

use crate::model::LabelScope;
use crate::services::App;
use crate::services::account::labels::{field_errors, is_reserved, normalize};
use crate::services::admin::actor::Actor;
use crate::services::admin::user_changes::{guard, guard_privileged};
use crate::services::admin::users::target;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::levels::{self, LabelChange, Reviewer};
use crate::services::kyc::review;
use crate::store::labels::LabelMode;
use crate::store::{LabelRow, UserRow};

/// A label as the admin sent it (key and value not yet normalised, scope as given).
#[derive(Debug, Clone)]
pub struct LabelInput {
    pub uid: String,
    pub key: String,
    pub value: String,
    pub scope: String,
    pub description: Option<String>,
}

/// What `POST /users/labels/update` and `PUT /users/labels` do with the description of an
/// existing label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnUpdate {
    /// `POST update`: the description sent, an omitted one clearing it [COMPAT]; a missing
    /// label is created when `replace` is true.
    Replace { create_missing: bool },
    /// `PUT`: the description only when given; a missing label is 404.
    Patch,
}

fn label_missing() -> ServiceError {
    ServiceError::not_found("admin.label.doesnt_exist")
}

/// The target `uid` once Appendix B's guards pass.
async fn guarded(app: &App, caller: &UserRow, uid: &str) -> ServiceResult<UserRow> {
    let user = target(app, uid).await?;
    let actor = Actor::Admin(caller);
    guard(&actor, &user)?;
    guard_privileged(app, &actor, user.role.as_str())?;
    Ok(user)
}

/// The user's label (key, scope), if the scope is one and the label exists.
async fn existing(app: &App, user: &UserRow, key: &str, scope: &str) -> ServiceResult<Option<LabelRow>> {
    let Some(scope) = LabelScope::parse(scope) else { return Ok(None) };
    Ok(app.store.labels_of(user.id).await?.into_iter().find(|l| l.key == key && l.scope == scope))
}

/// The label model's checks of a new label, all at once in the model's order (key, value,
/// scope): the shared key/value rules, `key.reserved` for a *public* label with a key the
/// system writes (users may delete public labels, so an admin's `ban` there would be theirs
/// to lift), and `key.taken` beside other errors as Rails lists it (alone, the insert's unique
/// key decides). Gives the scope.
async fn check_new(app: &App, user: &UserRow, key: &str, value: &str, scope: &str) -> ServiceResult<LabelScope> {
    let parsed = LabelScope::parse(scope);
    let mut errors = Vec::new();
    field_errors("key", key, &mut errors);
    let key_valid = errors.is_empty();
    if key_valid && parsed == Some(LabelScope::Public) && is_reserved(app, key).await? {
        errors.push("key.reserved".to_string());
    }
    let mut rest = Vec::new();
    field_errors("value", value, &mut rest);
    if parsed.is_none() {
        rest.push("scope.inclusion".to_string());
    }
    if !errors.is_empty() || !rest.is_empty() {
        if key_valid && existing(app, user, key, scope).await?.is_some() {
            errors.push("key.taken".to_string());
        }
        errors.extend(rest);
        return Err(ServiceError::invalid_all(errors));
    }
    parsed.ok_or_else(|| ServiceError::invalid("scope.inclusion"))
}

/// Creates the label; 422 `key.taken` when (user, key, scope) exists.
async fn create_for(app: &App, caller: &UserRow, user: &UserRow, l: &LabelInput) -> ServiceResult<()> {
    let (key, value) = (normalize(&l.key), normalize(&l.value));
    let scope = check_new(app, user, &key, &value, &l.scope).await?;
    let description = l.description.clone().map(Some);
    let change = LabelChange::prepare_as(app, user, &key, &value, scope, description, LabelMode::Create).await?;
    apply_recorded(app, caller, user, change, l.description.as_deref()).await?;
    Ok(())
}

/// Applies `change`; a KYC decision (Tower's approve and reject) is recorded in the review
/// history under the admin's uid with the label's new description as its reason, and a
/// rejected user is told, as a decision made with `barongctl kyc` is.
async fn apply_recorded(
    app: &App,
    caller: &UserRow,
    user: &UserRow,
    change: LabelChange,
    reason: Option<&str>,
) -> ServiceResult<Option<(LabelRow, UserRow)>> {
    if !change.is_review_decision() {
        return levels::apply(app, user, change, &|_, _| Vec::new()).await;
    }
    let (key, value) = (change.key_value().0.to_string(), change.key_value().1.to_string());
    let reviewer = Reviewer { author: caller.uid.clone(), reason: reason.map(str::to_string) };
    let applied = levels::apply(app, user, change.recorded_by(reviewer), &|_, _| Vec::new()).await?;
    if let Some((_, after)) = &applied {
        review::notify(app, after, &key, &value, reason).await;
    }
    Ok(applied)
}

/// `POST /users/labels`: a new label (scope `public` unless given).
pub async fn create(app: &App, caller: &UserRow, l: &LabelInput) -> ServiceResult<()> {
    let user = guarded(app, caller, &l.uid).await?;
    create_for(app, caller, &user, l).await
}

/// `POST /users/labels/update` and `PUT /users/labels`: a new value for the label (key,
/// scope), and its description as `how` says.
pub async fn update(app: &App, caller: &UserRow, l: &LabelInput, how: OnUpdate) -> ServiceResult<()> {
    let user = guarded(app, caller, &l.uid).await?;
    let key = normalize(&l.key);
    let Some(label) = existing(app, &user, &key, &l.scope).await? else {
        return match how {
            OnUpdate::Replace { create_missing: true } => create_for(app, caller, &user, l).await,
            _ => Err(label_missing()),
        };
    };
    let value = normalize(&l.value);
    let mut errors = Vec::new();
    field_errors("value", &value, &mut errors);
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let description = match how {
        OnUpdate::Replace { .. } => Some(l.description.clone()),
        OnUpdate::Patch => l.description.clone().map(Some),
    };
    let change = LabelChange::prepare_as(app, &user, &key, &value, label.scope, description, LabelMode::Update).await?;
    // Deleted since it was read: as if it had not been there.
    apply_recorded(app, caller, &user, change, l.description.as_deref()).await?.ok_or_else(label_missing)?;
    Ok(())
}

/// `DELETE /users/labels`: removes the label (key, scope); a private one's removal recomputes
/// level and state (deleting `ban` lifts the ban). No label or document event (Barong re-sent
/// `system.document.*` for a deleted decided label).
pub async fn delete(app: &App, caller: &UserRow, uid: &str, key: &str, scope: &str) -> ServiceResult<()> {
    let user = guarded(app, caller, uid).await?;
    let key = normalize(key);
    let scope = LabelScope::parse(scope).ok_or_else(label_missing)?;
    levels::remove_label(app, &user, &key, scope).await?.ok_or_else(label_missing)?;
    Ok(())
}
