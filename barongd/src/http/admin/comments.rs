//! `POST`, `PUT` and `DELETE admin/users/comments`; `DELETE admin/users/data_storage`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::abilities::require;
use crate::services::admin::actor::Actor;
use crate::services::admin::comments;
use crate::services::error::ServiceResult;
use crate::store::UserRow;

const SCOPE: &str = "admin.user";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, path, post, put};
    let p = || path("users").and(path("comments"));
    crate::admin_endpoint!(app, inc, post(), p(), add)
        .or(crate::admin_endpoint!(app, inc, put(), p(), edit))
        .unify()
        .or(crate::admin_endpoint!(app, inc, delete(), p(), remove))
        .unify()
        .or(crate::admin_endpoint!(app, inc, delete(), path("users").and(path("data_storage")), delete_storage))
        .unify()
        .boxed()
}

/// Barong's limits, as the service states them.
fn limits(c: &mut Check<'_>, title: &Option<String>, data: &Option<String>) {
    for key in comments::limit_errors(title.as_deref(), data.as_deref()) {
        c.refuse(key);
    }
}

/// `POST users/comments {uid, title, data}` → 201 `UserWithKYC` (update User; Barong: none, W6).
async fn add(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let uid = c.required_filled("uid");
    let title = c.required_filled("title");
    let data = c.required_filled("data");
    limits(&mut c, &title, &data);
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "User")?;
    let (uid, title, data) = (uid.unwrap_or_default(), title.unwrap_or_default(), data.unwrap_or_default());
    Ok(reply::json(201, &comments::add(app, &Actor::Admin(caller), &uid, &title, &data).await?))
}

/// `PUT users/comments {id, title?, data?}` → `UserWithKYC` (update User, and the author or a
/// superadmin).
async fn edit(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let id = c.required_integer("id");
    let title = c.optional_filled("title");
    let data = c.optional_filled("data");
    limits(&mut c, &title, &data);
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "User")?;
    let u =
        comments::edit(app, &Actor::Admin(caller), id.unwrap_or_default(), title.as_deref(), data.as_deref()).await?;
    Ok(reply::json(200, &u))
}

/// `DELETE users/comments?id=` → `UserWithKYC` of the note's user (as `PUT`).
async fn remove(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let id = c.required_integer("id");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "User")?;
    Ok(reply::json(200, &comments::remove(app, &Actor::Admin(caller), id.unwrap_or_default()).await?))
}

/// `DELETE users/data_storage?uid=&title=` → `UserWithKYC` after the deletion (destroy User).
async fn delete_storage(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let uid = c.required_filled("uid");
    let title = c.required_filled("title");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "destroy", "User")?;
    let (uid, title) = (uid.unwrap_or_default(), title.unwrap_or_default());
    Ok(reply::json(200, &comments::delete_storage(app, caller, &uid, &title).await?))
}
