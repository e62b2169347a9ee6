//! `admin/permissions`: list, create, update and delete the gateway's permissions.

use std::sync::Arc;

use common::admin::PermissionSpec;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::abilities::require;
use crate::services::admin::permissions::{self, Change};
use crate::services::error::ServiceResult;
use crate::store::UserRow;

const SCOPE: &str = "admin.permission";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, path, post, put};
    let p = || path("permissions");
    crate::admin_endpoint!(app, inc, get(), p(), list)
        .or(crate::admin_endpoint!(app, inc, post(), p(), create))
        .unify()
        .or(crate::admin_endpoint!(app, inc, put(), p(), update))
        .unify()
        .or(crate::admin_endpoint!(app, inc, delete(), p(), remove))
        .unify()
        .boxed()
}

/// `GET permissions` → `[Permission]` by id, paginated (read Permission).
async fn list(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "Permission")?;
    let (items, total) = permissions::list(app, page, limit).await?;
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}

/// `POST permissions` → 200 `200` (create Permission).
async fn create(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let role = c.required_filled("role");
    let verb = c.required_filled("verb");
    let path = c.required_filled("path");
    let action = c.required_filled("action");
    let topic = c.optional_filled("topic");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "create", "Permission")?;
    let spec = PermissionSpec {
        role: role.unwrap_or_default(),
        verb: verb.unwrap_or_default(),
        path: path.unwrap_or_default(),
        action: action.unwrap_or_default(),
        topic,
    };
    permissions::create(app, spec).await?;
    Ok(reply::status_only(200))
}

/// `PUT permissions` → 200 `200` (update Permission).
async fn update(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let id = c.required_integer("id");
    let change = Change {
        role: c.optional_filled("role"),
        verb: c.optional_filled("verb"),
        path: c.optional_filled("path"),
        action: c.optional_filled("action"),
        topic: c.optional_filled("topic"),
    };
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "Permission")?;
    permissions::update(app, id.unwrap_or_default(), change).await?;
    Ok(reply::status_only(200))
}

/// `DELETE permissions` → 200 `200` (destroy Permission).
async fn remove(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let id = c.required_integer("id");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "destroy", "Permission")?;
    permissions::delete(app, id.unwrap_or_default()).await?;
    Ok(reply::status_only(200))
}
