//! `/admin/restrictions`: restrictions as the Admin API lists and edits them. Writes go through
//! the operator's restriction logic (validation, default codes, cache reload, blocklogin
//! sessions), so barongctl and the Admin API agree.

use common::admin_api::Restriction;

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::operator::restrictions::{self as operator, NewRule};
use crate::store::admin::RestrictionFilter;
use crate::store::restrictions::RestrictionRow;

fn entity(r: RestrictionRow) -> Restriction {
    Restriction {
        id: r.id,
        category: r.category,
        scope: r.scope,
        value: r.value,
        code: r.code.unwrap_or(0),
        state: r.state,
        created_at: iso8601(r.created_at),
        updated_at: iso8601(r.updated_at),
    }
}

/// A page of restrictions by id matching `f`, and the total.
pub async fn list(app: &App, f: &RestrictionFilter, page: i64, limit: i64) -> ServiceResult<(Vec<Restriction>, i64)> {
    let (rows, total) = app.store.restrictions_page(f, limit, (page - 1) * limit).await?;
    Ok((rows.into_iter().map(entity).collect(), total))
}

/// `POST /admin/restrictions`.
pub async fn create(app: &App, rule: NewRule) -> ServiceResult<()> {
    operator::add(app, rule).await.map(|_| ())
}

/// The fields `PUT /admin/restrictions` may change; absent ones keep their value.
#[derive(Default)]
pub struct Change {
    pub scope: Option<String>,
    pub category: Option<String>,
    pub value: Option<String>,
    pub state: Option<String>,
    pub code: Option<i64>,
}

/// `PUT /admin/restrictions`: 404 `admin.restriction.doesnt_exist`, then POST's checks on the
/// merged row.
pub async fn update(app: &App, id: i64, c: Change) -> ServiceResult<()> {
    let row = app.store.restriction_by_id(id).await?;
    let row = row.ok_or_else(|| ServiceError::not_found("admin.restriction.doesnt_exist"))?;
    let rule = NewRule {
        category: c.category.unwrap_or(row.category),
        scope: c.scope.unwrap_or(row.scope),
        value: c.value.unwrap_or(row.value),
        code: c.code.or(row.code),
        state: Some(c.state.unwrap_or(row.state)),
    };
    operator::update(app, id, rule).await.map(|_| ())
}

/// `DELETE /admin/restrictions`.
pub async fn delete(app: &App, id: i64) -> ServiceResult<()> {
    operator::remove(app, id).await.map(|_| ())
}
