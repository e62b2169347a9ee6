//! Service accounts (resource-admin-kyc §2.4, §6): machine identities owned by a user, created by
//! the operator (Barong's management API), listed by their owner, who manages their API keys.

use common::entities::ServiceAccount;

use super::accounts::email_key;
use super::clock::iso8601;
use super::email_format::is_valid_email;
use super::error::{ServiceError, ServiceResult};
use super::tokens::random_hex;
use super::{App, admin_users};
use crate::store::api_keys::{NewServiceAccount, ServiceAccountRow};
use crate::store::{StoreError, UserRow};

/// Barong's `UIDGenerator.generate("SI")` prefix for service accounts.
const UID_PREFIX: &str = "SI";

/// The raw-model rendering Barong used here: times carry milliseconds (`…T07:01:20.000Z`).
pub fn entity(row: &ServiceAccountRow) -> ServiceAccount {
    let millis = |t: i64| iso8601(t).replacen('Z', ".000Z", 1);
    ServiceAccount {
        id: row.id,
        uid: row.uid.clone(),
        owner_id: row.owner_id,
        email: row.email.clone(),
        role: row.role.clone(),
        level: row.level,
        state: row.state.clone(),
        created_at: millis(row.created_at),
        updated_at: millis(row.updated_at),
    }
}

/// `GET service_accounts`: the owner's service accounts, every state, no paging (as Barong).
pub async fn list_owned(app: &App, owner: &UserRow) -> ServiceResult<Vec<ServiceAccount>> {
    Ok(app.store.service_accounts(Some(owner.id)).await?.iter().map(entity).collect())
}

/// The owner's service account `uid`; anyone else's is as unknown as a missing one.
pub async fn owned(app: &App, owner: &UserRow, uid: &str) -> ServiceResult<ServiceAccountRow> {
    app.store
        .service_account_by_uid(&uid.to_ascii_uppercase())
        .await?
        .filter(|sa| sa.owner_id == Some(owner.id))
        .ok_or_else(|| ServiceError::new(404, "resource.service_account.doesnt_exist"))
}

/// `barongctl service-account create`: Barong's model rules — the role must have permissions,
/// the email defaults to `<owner name>+<uid>@<owner domain>`, neither email nor uid may belong
/// to a user, the level is the owner's. It starts `active` (design decision: the operator
/// vouches for it; Barong copied the owner's state).
pub async fn create(app: &App, owner: &str, role: &str, email: Option<&str>) -> ServiceResult<ServiceAccount> {
    let owner = admin_users::find(app, owner).await?;
    if !app.store.role_exists(role).await? {
        return Err(ServiceError::unprocessable("role.doesnt_exist"));
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
            return Err(ServiceError::unprocessable("email.invalid"));
        }
        if app.store.user_by_email_key(&email_key(&email)).await?.is_some() {
            return Err(ServiceError::unprocessable("email_or_uid.not_uniq"));
        }
        if app.store.service_account_email_taken(&email).await? {
            return Err(ServiceError::unprocessable("email.taken"));
        }
        let new = NewServiceAccount {
            uid: &uid,
            owner_id: owner.id,
            email: &email,
            role,
            level: owner.level,
            state: "active",
            now: app.clock.now(),
        };
        return match app.store.insert_service_account(&new).await {
            Ok(row) => {
                tracing::info!(uid = %row.uid, owner = %owner.uid, role = %row.role, "service account created");
                Ok(entity(&row))
            }
            Err(StoreError::Unique(what)) if what.contains("email") => Err(ServiceError::unprocessable("email.taken")),
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
        Some(who) => Some(admin_users::find(app, who).await?.id),
        None => None,
    };
    Ok(app.store.service_accounts(owner_id).await?.iter().map(entity).collect())
}

/// `barongctl service-account disable UID`: the account and its active keys stop working.
pub async fn disable(app: &App, uid: &str) -> ServiceResult<ServiceAccount> {
    let not_found = || ServiceError::new(404, "record.not_found");
    let sa = app.store.service_account_by_uid(&uid.to_ascii_uppercase()).await?.ok_or_else(not_found)?;
    let row = app.store.set_service_account_state(sa.id, "disabled", app.clock.now()).await?.ok_or_else(not_found)?;
    tracing::info!(uid = %row.uid, "service account disabled by the operator");
    Ok(entity(&row))
}

/// §6's cascade after a user's state changed: unless the user is `active`, its service accounts
/// take the same state, and the active keys of the user and of those accounts are disabled.
pub async fn cascade_owner_state(app: &App, user: &UserRow) -> ServiceResult<()> {
    if user.state == "active" {
        return Ok(());
    }
    let disabled = app.store.cascade_owner_state(user.id, &user.state, app.clock.now()).await?;
    if disabled > 0 {
        tracing::info!(uid = %user.uid, state = %user.state, api_keys_disabled = disabled, "owner left active");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::default_email;

    #[test]
    fn default_email_follows_barong() {
        assert_eq!(default_email("alice@example.com", "SI0123456789"), "alice+SI0123456789@example.com");
    }
}
