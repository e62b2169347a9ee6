//! Service accounts as their owner sees them: machine identities owned by a user, who lists
//! them and manages their API keys. The operator creates and disables them (`operator::service_accounts`).

use common::entities::ServiceAccount;

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::store::UserRow;
use crate::store::service_accounts::ServiceAccountRow;

/// The raw-model rendering Barong used here: times carry milliseconds (`…T07:01:20.000Z`).
pub fn entity(row: &ServiceAccountRow) -> ServiceAccount {
    let millis = |t: i64| iso8601(t).replacen('Z', ".000Z", 1);
    ServiceAccount {
        id: row.id,
        uid: row.uid.clone(),
        owner_id: row.owner_id,
        email: row.email.clone(),
        role: row.role.to_string(),
        level: row.level,
        state: row.state.to_string(),
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
        .ok_or_else(|| ServiceError::not_found("resource.service_account.doesnt_exist"))
}
