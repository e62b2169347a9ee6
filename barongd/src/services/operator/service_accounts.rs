//! Service accounts as the operator manages them (`barongctl service-account`): created for an
//! owner, listed, disabled.

use common::entities::ServiceAccount;

use crate::model::{AccountState, Role};
use crate::services::App;
use crate::services::account::service_accounts::entity;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::email_address::{email_key, is_valid_email};
use crate::services::operator::users;
use crate::services::random::random_hex;
use crate::store::StoreError;
use crate::store::service_accounts::NewServiceAccount;

/// Barong's `UIDGenerator.generate("SI")` prefix for service accounts.
const UID_PREFIX: &str = "SI";

/// `barongctl service-account create`: Barong's model rules — the role must have permissions,
/// the email defaults to `<owner name>+<uid>@<owner domain>`, neither email nor uid may belong
/// to a user, the level is the owner's. It starts `active` (the operator vouches for it; Barong
/// copied the owner's state: docs/compatibility.md#service-account-active).
pub async fn create(app: &App, owner: &str, role: &str, email: Option<&str>) -> ServiceResult<ServiceAccount> {
    let owner = users::find(app, owner).await?;
    if !app.store.role_exists(role).await? {
        return Err(ServiceError::invalid("role.doesnt_exist"));
    }
    for _ in 0..3 {
        let uid = format!("{UID_PREFIX}{}", random_hex(5).to_uppercase());
        if app.store.user_by_uid(&uid).await?.is_some() || app.store.service_account_by_uid(&uid).await?.is_some() {
            continue;
        }
        let email = match email {
            Some(e) => e.trim().to_string(),
            None => default_email(&owner.email, &uid),
        };
        if !is_valid_email(&email) {
            return Err(ServiceError::invalid("email.invalid"));
        }
        if app.store.user_by_email_key(&email_key(&email)).await?.is_some() {
            return Err(ServiceError::conflict("email_or_uid.not_uniq"));
        }
        if app.store.service_account_email_taken(&email).await? {
            return Err(ServiceError::conflict("email.taken"));
        }
        let new = NewServiceAccount {
            uid: &uid,
            owner_id: owner.id,
            email: &email,
            role: &Role::from(role),
            level: owner.level,
            state: &AccountState::Active,
            now: app.clock.now(),
        };
        return match app.store.insert_service_account(&new).await {
            Ok(row) => {
                tracing::info!(uid = %row.uid, owner = %owner.uid, role = %row.role, "service account created");
                Ok(entity(&row))
            }
            Err(StoreError::Unique(what)) if what.contains("email") => Err(ServiceError::conflict("email.taken")),
            Err(e) => Err(e.into()),
        };
    }
    Err(ServiceError::internal("no free service-account uid after 3 draws"))
}

fn default_email(owner_email: &str, uid: &str) -> String {
    match owner_email.split_once('@') {
        Some((name, domain)) => format!("{name}+{uid}@{domain}"),
        None => format!("{owner_email}+{uid}"),
    }
}

/// `barongctl service-account list [--owner]`.
pub async fn list(app: &App, owner: Option<&str>) -> ServiceResult<Vec<ServiceAccount>> {
    let owner_id = match owner {
        Some(who) => Some(users::find(app, who).await?.id),
        None => None,
    };
    Ok(app.store.service_accounts(owner_id).await?.iter().map(entity).collect())
}

/// `barongctl service-account disable UID`: the account and its active keys stop working.
pub async fn disable(app: &App, uid: &str) -> ServiceResult<ServiceAccount> {
    let not_found = || ServiceError::not_found("record.not_found");
    let sa = app.store.service_account_by_uid(&uid.to_ascii_uppercase()).await?.ok_or_else(not_found)?;
    let row = app
        .store
        .set_service_account_state(sa.id, &AccountState::Disabled, app.clock.now())
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(uid = %row.uid, "service account disabled by the operator");
    Ok(entity(&row))
}

#[cfg(test)]
mod tests {
    use super::default_email;

    #[test]
    fn default_email_follows_barong() {
        assert_eq!(default_email("alice@example.com", "SI0123456789"), "alice+SI0123456789@example.com");
    }
}
