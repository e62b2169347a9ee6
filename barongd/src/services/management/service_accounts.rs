//! `/service_accounts/get`, `/list`, `/update` and `/delete` (spec §4.10 #18, #19, #21, #22);
//! `/create` is in `service_account_create`.

use serde::Serialize;
use serde_json::{Map, Value};

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::identity::email_address::email_key;
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::params::Grape;
use crate::services::management::user_list::{self, User};
use crate::store::service_accounts::ServiceAccountRow;

/// `ServiceAccounts`, field order as Barong emits it; `user` is the owner.
#[derive(Serialize)]
pub struct ServiceAccount {
    pub email: String,
    pub uid: String,
    pub role: String,
    pub level: i64,
    pub state: String,
    pub user: Option<User>,
    pub created_at: String,
    pub updated_at: String,
}

fn internal<E: std::fmt::Display>(e: E) -> MgmtError {
    MgmtError::internal(e)
}

pub(crate) async fn entity(app: &App, sa: &ServiceAccountRow) -> MgmtResult<ServiceAccount> {
    let owner = match sa.owner_id {
        Some(id) => app.store.user_by_id(id).await.map_err(internal)?,
        None => None,
    };
    let user = match &owner {
        Some(o) => Some(user_list::user(app, o).await?),
        None => None,
    };
    Ok(ServiceAccount {
        email: sa.email.clone(),
        uid: sa.uid.clone(),
        role: sa.role.to_string(),
        level: sa.level,
        state: sa.state.to_string(),
        user,
        created_at: iso8601(sa.created_at),
        updated_at: iso8601(sa.updated_at),
    })
}

/// #18: by `uid` or `email`, exactly one → 200, or 404.
pub async fn get(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.optional("uid");
    let email = p.optional("email");
    match (&uid, &email) {
        (None, None) => p.error("uid, email are missing, exactly one parameter must be provided"),
        (Some(_), Some(_)) => p.error("uid, email are mutually exclusive"),
        _ => {}
    }
    p.finish()?;
    let sa = match (uid, email) {
        (Some(uid), _) => app.store.service_account_by_uid(&uid).await.map_err(internal)?,
        (_, Some(email)) => app.store.service_account_by_email(&email).await.map_err(internal)?,
        _ => None,
    };
    to_json(&entity(app, &sa.ok_or_else(MgmtError::not_found)?).await?)
}

/// #19: every service account, or an owner's (by `owner_uid`, else `owner_email`); an owner
/// that does not exist has none (Barong listed every account then).
pub async fn list(app: &App, data: &Map<String, Value>) -> MgmtResult<user_list::Page> {
    let mut p = Grape::new(data);
    let (page, limit) = p.paging();
    let owner_uid = p.optional("owner_uid");
    let owner_email = p.optional("owner_email");
    p.finish()?;
    let owner = match (owner_uid, owner_email) {
        (Some(uid), _) => Some(app.store.user_by_uid(&uid).await.map_err(internal)?),
        (_, Some(email)) => Some(app.store.user_by_email_key(&email_key(&email)).await.map_err(internal)?),
        _ => None,
    };
    let rows = match owner {
        Some(None) => Vec::new(),
        Some(Some(o)) => app.store.service_accounts(Some(o.id)).await.map_err(internal)?,
        None => app.store.service_accounts(None).await.map_err(internal)?,
    };
    let total = rows.len() as i64;
    let offset = usize::try_from((page - 1).saturating_mul(limit)).unwrap_or(usize::MAX);
    let mut out = Vec::new();
    for sa in rows.iter().skip(offset).take(limit as usize) {
        out.push(entity(app, sa).await?);
    }
    Ok(user_list::Page { body: to_json(&out)?, total, page, limit })
}

/// #22: disables the service account and its active keys (one transaction) → 200, or 404.
pub async fn delete(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.required("uid");
    p.finish()?;
    let sa = app.store.service_account_by_uid(&uid).await.map_err(internal)?.ok_or_else(MgmtError::not_found)?;
    let row = app
        .store
        .set_service_account_state(sa.id, &crate::model::AccountState::Disabled, app.clock.now())
        .await
        .map_err(internal)?
        .ok_or_else(MgmtError::not_found)?;
    tracing::info!(uid = %row.uid, "service account disabled through the Management API");
    to_json(&entity(app, &row).await?)
}

/// #21: moves the service account to `owner_uid` (an unknown owner changes nothing) and copies
/// the owner's state and level onto it, as Barong does on every update → 201.
pub async fn update(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.required("uid");
    let owner_uid = p.optional("owner_uid");
    p.finish()?;
    let sa = app
        .store
        .service_account_by_uid(&uid)
        .await
        .map_err(internal)?
        .ok_or_else(|| MgmtError::message(422, "Service account doesnt exist"))?;
    let owner = match (owner_uid, sa.owner_id) {
        (Some(o), _) => app.store.user_by_uid(&o).await.map_err(internal)?,
        (None, Some(id)) => app.store.user_by_id(id).await.map_err(internal)?,
        (None, None) => None,
    };
    let Some(owner) = owner else { return to_json(&entity(app, &sa).await?) };
    let now = app.clock.now();
    app.store.set_service_account_owner(sa.id, owner.id, owner.level, now).await.map_err(internal)?;
    let row = app
        .store
        .set_service_account_state(sa.id, &owner.state, now)
        .await
        .map_err(internal)?
        .ok_or_else(|| MgmtError::message(422, "Service account doesnt exist"))?;
    to_json(&entity(app, &row).await?)
}
