//! `/api_keys` and `/api_keys/update` (spec §4.10 #23, #24): keys of users or service accounts,
//! made through the same API-key service as the user API, each holder kind only when its
//! setting (`mgn_api_keys_user`, `mgn_api_keys_sa`) allows it.

use serde_json::{Map, Value};

use crate::services::App;
use crate::services::account::api_keys::{self, KeyHolder};
use crate::services::error::{Refusal, ServiceError};
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::params::Grape;
use crate::store::UserRow;
use crate::store::service_accounts::ServiceAccountRow;

enum Holder {
    User(UserRow),
    ServiceAccount(ServiceAccountRow),
}

impl Holder {
    fn key_holder(&self) -> KeyHolder<'_> {
        match self {
            Holder::User(u) => KeyHolder::User(u),
            Holder::ServiceAccount(sa) => KeyHolder::ServiceAccount(sa),
        }
    }
}

fn refused(text: &str) -> MgmtError {
    MgmtError::message(422, text)
}

/// The holder named by `uid`: its prefix says the kind (case-sensitive, as Barong).
async fn holder(app: &App, uid: &str) -> MgmtResult<Holder> {
    let internal = MgmtError::internal;
    if uid.starts_with(&app.config.uid_prefix) {
        if !app.config.mgn_api_keys_user {
            return Err(refused("disabled_management_endpoint"));
        }
        let user = app.store.user_by_uid(uid).await.map_err(internal)?;
        return user.map(Holder::User).ok_or_else(|| refused("user_doesnt_exist"));
    }
    if uid.starts_with("SI") {
        if !app.config.mgn_api_keys_sa {
            return Err(refused("disabled_management_endpoint"));
        }
        let sa = app.store.service_account_by_uid(uid).await.map_err(internal)?;
        return sa.map(Holder::ServiceAccount).ok_or_else(|| refused("service_account_doesnt_exist"));
    }
    Err(refused("uid_prefix_doesnt_exist"))
}

/// `scopes` trimmed, empty items dropped (Barong kept `" trade"` and `""` as scopes).
fn clean_scopes(scopes: Option<String>) -> Option<String> {
    scopes.map(|s| s.split(',').map(str::trim).filter(|x| !x.is_empty()).collect::<Vec<_>>().join(","))
}

/// #23: a new HS* key with its secret (shown in this reply only).
pub async fn create(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let algorithm = p.required("algorithm");
    let uid = p.required("uid");
    let scopes = clean_scopes(p.optional("scopes"));
    p.finish()?;
    let h = holder(app, &uid).await?;
    let key = api_keys::create(app, h.key_holder(), &algorithm, scopes.as_deref()).await?;
    tracing::info!(uid, kid = %key.kid, "API key created through the Management API");
    to_json(&key)
}

/// #24: new scopes and/or state of a holder's key; omitted `scopes` keep the key's scope.
pub async fn update(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let kid = p.required("kid");
    let uid = p.required("uid");
    let scopes = clean_scopes(p.optional("scopes"));
    // Barong's management clients write `inactive` (its own cascades' word); the key model's
    // one non-active state is `disabled`.
    let state = p.optional("state").map(|s| if s == "inactive" { "disabled".to_string() } else { s });
    p.finish()?;
    let h = holder(app, &uid).await?;
    match api_keys::update(app, h.key_holder(), &kid, scopes.as_deref(), state.as_deref()).await {
        Ok(key) => to_json(&key),
        Err(ServiceError::Refused { why: Refusal::NotFound, .. }) => Err(refused("api_key_doesnt_exist")),
        Err(e) => Err(e.into()),
    }
}
