//! `/service_accounts/create` (spec §4.10 #20): a service account for an owner, or for nobody
//! when the owner is not found [COMPAT]. Defaults as Barong: uid `SI` + 10 upper-case hex
//! (unique across users and service accounts), e-mail `<owner local>+<uid>@<owner domain>`,
//! level the owner's; with an owner the state is always the owner's, without one the given
//! state or `pending`. No owner and no e-mail was a 500 in Barong (W17): 422 here.

use serde_json::{Map, Value};

use crate::model::AccountState;
use crate::services::App;
use crate::services::identity::email_address::{email_key, is_valid_email};
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::model_errors;
use crate::services::management::params::Grape;
use crate::services::management::service_accounts::entity;
use crate::services::random::random_hex;
use crate::store::StoreError;
use crate::store::management::NewManagedServiceAccount;

/// Barong's `UIDGenerator.generate("SI")` prefix.
const UID_PREFIX: &str = "SI";

fn internal<E: std::fmt::Display>(e: E) -> MgmtError {
    MgmtError::internal(e)
}

/// `<owner local>+<uid>@<owner domain>`.
fn default_email(owner_email: &str, uid: &str) -> String {
    match owner_email.split_once('@') {
        Some((name, domain)) => format!("{name}+{uid}@{domain}"),
        None => format!("{owner_email}+{uid}"),
    }
}

/// Whether `uid` names a user or a service account already.
async fn uid_used(app: &App, uid: &str) -> MgmtResult<bool> {
    Ok(app.store.user_by_uid(uid).await.map_err(internal)?.is_some()
        || app.store.service_account_by_uid(uid).await.map_err(internal)?.is_some())
}

/// A fresh `SI…` uid used by no user and no service account.
async fn fresh_uid(app: &App) -> MgmtResult<String> {
    for _ in 0..5 {
        let uid = format!("{UID_PREFIX}{}", random_hex(5).to_uppercase());
        if !uid_used(app, &uid).await? {
            return Ok(uid);
        }
    }
    Err(MgmtError::internal("no free service-account uid after 5 draws"))
}

pub async fn create(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let role = p.required("service_account_role");
    let owner_uid = p.optional_blank("owner_uid");
    let given_uid = p.optional_blank("service_account_uid");
    let given_email = p.optional_blank("service_account_email");
    let given_state = p.optional_blank("service_account_state");
    let given_level = p.integer("service_account_level", "is invalid");
    p.finish()?;

    let owner = match &owner_uid {
        Some(uid) => app.store.user_by_uid(uid).await.map_err(internal)?,
        None => None,
    };
    let uid = match given_uid {
        Some(uid) => uid.trim().to_string(),
        None => fresh_uid(app).await?,
    };
    let email = match (given_email, &owner) {
        (Some(e), _) => Some(e.trim().to_string()),
        (None, Some(o)) => Some(default_email(&o.email, &uid)),
        (None, None) => None,
    };
    let (state, level) = match &owner {
        Some(o) => (o.state.clone(), given_level.unwrap_or(o.level)),
        None => {
            (given_state.as_deref().map(AccountState::from).unwrap_or(AccountState::Pending), given_level.unwrap_or(0))
        }
    };

    // The model's checks, all reported at once in its order.
    let mut errors: Vec<String> = Vec::new();
    match &email {
        None => errors.push("email.blank".into()),
        Some(e) if !is_valid_email(e) => errors.push("email.invalid".into()),
        Some(e) if app.store.service_account_email_taken(e).await.map_err(internal)? => {
            errors.push("email.taken".into())
        }
        Some(_) => {}
    }
    if app.store.service_account_by_uid(&uid).await.map_err(internal)?.is_some() {
        errors.push("uid.taken".into());
    }
    if owner.is_none() && matches!(state, AccountState::Other(_)) {
        errors.push("state.inclusion".into());
    }
    if !app.store.role_exists(&role).await.map_err(internal)? {
        errors.push("role.doesnt_exist".into());
    }
    let user_email_taken = match &email {
        Some(e) => app.store.user_by_email_key(&email_key(e)).await.map_err(internal)?.is_some(),
        None => false,
    };
    if user_email_taken || app.store.user_by_uid(&uid).await.map_err(internal)?.is_some() {
        errors.push("email_or_uid.not_uniq".into());
    }
    let Some(email) = email.filter(|_| errors.is_empty()) else { return Err(model_errors::list(&errors)) };

    let new = NewManagedServiceAccount {
        uid: &uid,
        owner_id: owner.as_ref().map(|o| o.id),
        email: &email,
        role: &role,
        level,
        state: state.as_str(),
        now: app.clock.now(),
    };
    let row = match app.store.insert_managed_service_account(&new).await {
        Ok(row) => row,
        // A concurrent create took the uid or the e-mail between the checks and the insert.
        Err(StoreError::Unique(what)) if what.contains("email") => {
            return Err(model_errors::list(&["email.taken".to_string()]));
        }
        Err(StoreError::Unique(_)) => return Err(model_errors::list(&["uid.taken".to_string()])),
        Err(e) => return Err(internal(e)),
    };
    tracing::info!(uid = %row.uid, owner = ?owner.as_ref().map(|o| &o.uid), "service account created through the Management API");
    to_json(&entity(app, &row).await?)
}

#[cfg(test)]
mod tests {
    use super::default_email;

    #[test]
    fn default_email_puts_the_uid_after_a_plus() {
        assert_eq!(default_email("bob@example.com", "SI0123456789"), "bob+SI0123456789@example.com");
    }
}
