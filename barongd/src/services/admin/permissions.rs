//! `/admin/permissions`: the gateway's rules as the Admin API edits them, with Barong's keys.
//! Rows are written through the operator's permission logic and store, so barongctl and the
//! Admin API agree; every write lands in the change feed (triggers), which every daemon applies
//! within a second and this one before it answers. Unlike Barong, PUT runs POST's checks (W12).

use common::admin::PermissionSpec;
use common::admin_api::Permission;

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::poller;
use crate::services::operator::gateway as operator;
use crate::store::StoreError;
use crate::store::admin::{AdminPermissionRow, PermissionUpdate};

/// The verbs and actions the Admin API accepts (Barong's lists, any case).
const VERBS: [&str; 7] = ["get", "post", "delete", "put", "head", "patch", "all"];
const ACTIONS: [&str; 3] = ["accept", "drop", "audit"];

fn entity(r: AdminPermissionRow) -> Permission {
    Permission {
        id: r.id,
        action: r.action,
        role: r.role,
        verb: r.verb,
        path: r.path,
        topic: r.topic,
        created_at: iso8601(r.created_at),
        updated_at: iso8601(r.updated_at),
    }
}

/// A page of permissions by id, and the total.
pub async fn list(app: &App, page: i64, limit: i64) -> ServiceResult<(Vec<Permission>, i64)> {
    let (rows, total) = app.store.permissions_page(limit, (page - 1) * limit).await?;
    Ok((rows.into_iter().map(entity).collect(), total))
}

/// Barong's checks in its order (verb, action, role), then the path; the spec normalised.
async fn check(app: &App, p: &PermissionSpec) -> ServiceResult<PermissionSpec> {
    if !VERBS.contains(&p.verb.to_ascii_lowercase().as_str()) {
        return Err(ServiceError::invalid("admin.permissions.invalid_verb"));
    }
    if !ACTIONS.contains(&p.action.to_ascii_lowercase().as_str()) {
        return Err(ServiceError::invalid("admin.permissions.invalid_action"));
    }
    if !app.store.role_exists(&p.role).await? {
        return Err(ServiceError::invalid("admin.permission.role_doesnt_exist"));
    }
    let path =
        operator::normalise_path(&p.path).ok_or_else(|| ServiceError::invalid("admin.permissions.invalid_path"))?;
    Ok(PermissionSpec {
        role: p.role.clone(),
        verb: p.verb.to_ascii_uppercase(),
        path,
        action: p.action.to_ascii_uppercase(),
        topic: p.topic.clone(),
    })
}

/// `POST /admin/permissions`.
pub async fn create(app: &App, p: PermissionSpec) -> ServiceResult<()> {
    let p = check(app, &p).await?;
    operator::add(app, p).await.map_err(|e| match e.key() {
        "permission.already_exists" => ServiceError::conflict("permission.taken"),
        _ => e,
    })?;
    Ok(())
}

/// The fields `PUT /admin/permissions` may change; absent ones keep their value.
#[derive(Default)]
pub struct Change {
    pub role: Option<String>,
    pub verb: Option<String>,
    pub path: Option<String>,
    pub action: Option<String>,
    pub topic: Option<String>,
}

/// `PUT /admin/permissions`: 404 `admin.permission.doesnt_exist`, then POST's checks on the
/// merged row.
pub async fn update(app: &App, id: i64, c: Change) -> ServiceResult<()> {
    let row = app.store.permission_by_id(id).await?;
    let row = row.ok_or_else(|| ServiceError::not_found("admin.permission.doesnt_exist"))?;
    let merged = PermissionSpec {
        role: c.role.unwrap_or(row.role),
        verb: c.verb.unwrap_or(row.verb),
        path: c.path.unwrap_or(row.path),
        action: c.action.unwrap_or(row.action),
        topic: c.topic.or(row.topic),
    };
    let p = check(app, &merged).await?;
    let new =
        PermissionUpdate { action: &p.action, role: &p.role, verb: &p.verb, path: &p.path, topic: p.topic.as_deref() };
    match app.store.update_permission(id, &new, app.clock.now()).await {
        Ok(Some(_)) => {}
        Ok(None) => return Err(ServiceError::not_found("admin.permission.doesnt_exist")),
        Err(StoreError::Unique(_)) => return Err(ServiceError::conflict("permission.taken")),
        Err(e) => return Err(e.into()),
    }
    poller::catch_up(app).await;
    Ok(())
}

/// `DELETE /admin/permissions`.
pub async fn delete(app: &App, id: i64) -> ServiceResult<()> {
    if app.store.permission_by_id(id).await?.is_none() {
        return Err(ServiceError::not_found("admin.permission.doesnt_exist"));
    }
    operator::remove(app, id).await.map_err(|e| match e.key() {
        "permission.doesnt_exist" => ServiceError::not_found("admin.permission.doesnt_exist"),
        _ => e,
    })?;
    Ok(())
}
