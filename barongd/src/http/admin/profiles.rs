//! `GET admin/profiles`, `PUT admin/profiles` and `POST admin/profiles`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::http::resource::profiles::profile_params;
use crate::services::App;
use crate::services::admin::abilities::require;
use crate::services::admin::pipeline::{self, AdminRequest};
use crate::services::admin::profiles;
use crate::services::error::ServiceResult;
use crate::store::UserRow;

const SCOPE: &str = "admin.profile";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path, post, put};
    crate::admin_endpoint!(app, inc, get(), path("profiles"), list)
        .or(crate::admin_endpoint!(app, inc, put(), path("profiles"), review))
        .unify()
        .or(crate::admin_endpoint!(app, inc, post(), path("profiles"), create))
        .unify()
        .boxed()
}

/// `GET profiles` → every `[Profile]` by id, paginated, masked per role (read Profile). A read
/// of clear PII leaves an admin activity row (W9).
async fn list(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "Profile")?;
    let (items, total) = profiles::list(app, caller.role.as_str(), page, limit).await?;
    if profiles::unmasked(app, caller.role.as_str()) {
        let req = AdminRequest { method: "GET", rest: "profiles", ctx: &inc.ctx, params: None };
        pipeline::record(app, &req, caller, true).await;
    }
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}

/// `PUT profiles` → 200 `Profile`: verify or reject a submitted profile (update Profile).
async fn review(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let uid = c.required("uid");
    let state = c.required("state");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "Profile")?;
    let p = profiles::review(app, caller, &uid.unwrap_or_default(), &state.unwrap_or_default()).await?;
    Ok(reply::json(200, &p))
}

/// `POST profiles` → 201 `Profile`: a submitted profile for `uid` (create Profile; Barong checked
/// no ability, W6).
async fn create(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let params = inc.params()?;
    let mut c = Check::new(params, SCOPE);
    let uid = c.required("uid");
    let mut keys = c.into_keys();
    let input = match profile_params(params) {
        Ok(i) => Some(i),
        Err(e) => {
            keys.extend(e.into_invalid_keys()?);
            None
        }
    };
    let Some(mut input) = input.filter(|_| keys.is_empty()) else {
        return Err(crate::services::error::ServiceError::invalid_all(keys));
    };
    require(&app.config.abilities, caller.role.as_str(), "create", "Profile")?;
    input.confirm = true;
    let p = profiles::create(app, caller, &uid.unwrap_or_default(), input).await?;
    Ok(reply::json(201, &p))
}
