//! `GET admin/abilities`, `GET admin/levels` and `GET admin/metrics`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::{abilities, levels, metrics};
use crate::services::error::ServiceResult;
use crate::store::UserRow;

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    crate::admin_endpoint!(app, inc, get(), path("abilities"), get_abilities)
        .or(crate::admin_endpoint!(app, inc, get(), path("levels"), get_levels))
        .unify()
        .or(crate::admin_endpoint!(app, inc, get(), path("metrics"), get_metrics))
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

/// `GET metrics` → Barong's metrics object (read User). `created_from`/`created_to`: epoch
/// seconds or `YYYY-MM-DD` (inclusive days).
async fn get_metrics(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, "admin.metric");
    let bound = |c: &mut Check<'_>, name: &str, end: bool| {
        let raw = c.optional_string(name, &format!("admin.metric.invalid_{name}"))?;
        let v = metrics::parse_bound(&raw, end);
        if v.is_none() {
            c.refuse(format!("admin.metric.invalid_{name}"));
        }
        v
    };
    let from = bound(&mut c, "created_from", false);
    let to = bound(&mut c, "created_to", true);
    c.finish()?;
    abilities::require(&app.config.abilities, caller.role.as_str(), "read", "User")?;
    Ok(reply::json(200, &metrics::metrics(app, from, to).await?))
}
