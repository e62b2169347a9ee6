//! `GET /admin/levels`: the KYC levels, unpaged (a handful of rows).

use common::admin_api::Level;

use crate::services::App;
use crate::services::error::ServiceResult;

pub async fn list(app: &App) -> ServiceResult<Vec<Level>> {
    let rows = app.store.levels().await?;
    Ok(rows.into_iter().map(|l| Level { id: l.id, key: l.key, value: l.value }).collect())
}
