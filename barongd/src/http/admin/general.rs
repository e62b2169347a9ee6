//! `GET admin/abilities` and `GET admin/levels`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::{abilities, levels};
use crate::services::error::ServiceResult;
use crate::store::UserRow;

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    crate::admin_endpoint!(app, inc, get(), path("abilities"), get_abilities)
        .or(crate::admin_endpoint!(app, inc, get(), path("levels"), get_levels))
        .unify()
        .boxed()
}

/// `GET abilities` → the caller's entry of the abilities file (no ability needed; `{}` when none).
async fn get_abilities(app: &App, _inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    Ok(reply::json(200, &abilities::entry(&app.config.abilities, caller.role.as_str())))
}

/// `GET levels` → `[Level]`, unpaged (read Level).
async fn get_levels(app: &App, _inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    abilities::require(&app.config.abilities, caller.role.as_str(), "read", "Level")?;
    Ok(reply::json(200, &levels::list(app).await?))
}
