//! `POST admin/users/labels`, `POST admin/users/labels/update`, `PUT admin/users/labels` and
//! `DELETE admin/users/labels` (its params in the query string, as Tower sends them). Barong's
//! parameter keys first, then the ability, then the service.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::abilities::require;
use crate::services::admin::labels::{self, LabelInput, OnUpdate};
use crate::services::error::ServiceResult;
use crate::store::UserRow;

const SCOPE: &str = "admin.user";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, path, post, put};
    let labels = || path("users").and(path("labels"));
    crate::admin_endpoint!(app, inc, post(), labels(), create)
        .or(crate::admin_endpoint!(app, inc, post(), labels().and(path("update")), update))
        .unify()
        .or(crate::admin_endpoint!(app, inc, put(), labels(), update_put))
        .unify()
        .or(crate::admin_endpoint!(app, inc, delete(), labels(), remove))
        .unify()
        .boxed()
}

/// The label parameters in Barong's declaration order (`scope` before `value` on the update
/// endpoints, after `description` on create, where it defaults to `public`).
fn label_input(c: &mut Check<'_>, create: bool) -> LabelInput {
    let uid = c.required_filled("uid");
    let key = c.required_filled("key");
    let mut scope = if create { None } else { c.required_filled("scope") };
    let value = c.required_filled("value");
    let description = c.optional_filled("description");
    if create {
        scope = c.optional_filled("scope");
    }
    LabelInput {
        uid: uid.unwrap_or_default(),
        key: key.unwrap_or_default(),
        value: value.unwrap_or_default(),
        scope: scope.unwrap_or_else(|| "public".to_string()),
        description,
    }
}

/// `POST users/labels {uid, key, value, description?, scope?}` → `200` (create Label).
async fn create(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let l = label_input(&mut c, true);
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "create", "Label")?;
    labels::create(app, caller, &l).await?;
    Ok(reply::status_only(200))
}

/// `POST users/labels/update {uid, key, scope, value, description?, replace?}` → `200` (update
/// Label): Tower's document approval.
async fn update(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let l = label_input(&mut c, false);
    let replace = c.boolean("replace", "admin.user.non_boolean_replace").unwrap_or(true);
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "Label")?;
    labels::update(app, caller, &l, OnUpdate::Replace { create_missing: replace }).await?;
    Ok(reply::status_only(200))
}

/// `PUT users/labels {uid, key, scope, value, description?}` → `200` (update Label).
async fn update_put(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let l = label_input(&mut c, false);
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "Label")?;
    labels::update(app, caller, &l, OnUpdate::Patch).await?;
    Ok(reply::status_only(200))
}

/// `DELETE users/labels?uid=&key=&scope=` → `200` (destroy Label).
async fn remove(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let uid = c.required_filled("uid");
    let key = c.required_filled("key");
    let scope = c.required_filled("scope");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "destroy", "Label")?;
    let (uid, key, scope) = (uid.unwrap_or_default(), key.unwrap_or_default(), scope.unwrap_or_default());
    labels::delete(app, caller, &uid, &key, &scope).await?;
    Ok(reply::status_only(200))
}
