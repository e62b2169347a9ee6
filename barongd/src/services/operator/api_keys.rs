//! API keys as the operator sees them (`barongctl apikey`): who holds each, never the secret;
//! and the operator's way to stop a leaked key.

use common::admin::ApiKeySummary;

use crate::model::{HolderKind, KeyState};
use crate::services::App;
use crate::services::account::api_keys::{not_found, scope_of};
use crate::services::clock::iso8601;
use crate::services::error::ServiceResult;
use crate::store::UserRow;
use crate::store::api_keys::{ApiKeyRow, Holder, KeyColumn, KeyPage};

/// The operator's view of a key: who holds it, never the secret.
pub async fn summary(app: &App, row: &ApiKeyRow) -> ServiceResult<ApiKeySummary> {
    let holder_uid = match row.key_holder_account_type {
        HolderKind::ServiceAccount => app.store.service_account_by_id(row.key_holder_account_id).await?.map(|s| s.uid),
        HolderKind::User => app.store.user_by_id(row.key_holder_account_id).await?.map(|u| u.uid),
    };
    Ok(summarise(row, holder_uid.unwrap_or_default()))
}

fn summarise(row: &ApiKeyRow, holder_uid: String) -> ApiKeySummary {
    ApiKeySummary {
        kid: row.kid.clone(),
        holder_type: row.key_holder_account_type.to_string(),
        holder_uid,
        algorithm: row.algorithm.clone(),
        scope: scope_of(row),
        state: row.state.to_string(),
        created_at: iso8601(row.created_at),
        updated_at: iso8601(row.updated_at),
        secret_unavailable: row.secret_unavailable,
    }
}

/// `barongctl apikey list --user`: the user's keys, then those of each of its service accounts.
pub async fn of_user(app: &App, user: &UserRow) -> ServiceResult<Vec<ApiKeySummary>> {
    let page = KeyPage { order_by: KeyColumn::Id, descending: false, limit: i64::MAX, offset: 0 };
    let mut out: Vec<ApiKeySummary> = app
        .store
        .api_keys_of(Holder::User(user.id), page)
        .await?
        .iter()
        .map(|r| summarise(r, user.uid.clone()))
        .collect();
    for sa in app.store.service_accounts(Some(user.id)).await? {
        let rows = app.store.api_keys_of(Holder::ServiceAccount(sa.id), page).await?;
        out.extend(rows.iter().map(|r| summarise(r, sa.uid.clone())));
    }
    Ok(out)
}

/// `barongctl apikey disable KID`: for a key that leaked, whatever its holder.
pub async fn disable_by_kid(app: &App, kid: &str) -> ServiceResult<ApiKeySummary> {
    let key = app.store.api_key_by_kid(kid).await?.ok_or_else(not_found)?;
    let row = app
        .store
        .update_api_key(key.id, None, Some(KeyState::Disabled), app.clock.now())
        .await?
        .ok_or_else(not_found)?;
    tracing::info!(kid = %row.kid, "API key disabled by the operator");
    summary(app, &row).await
}
