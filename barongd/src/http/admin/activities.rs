//! `GET admin/activities` and `GET admin/activities/admin`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::abilities::require;
use crate::services::admin::activities;
use crate::services::error::ServiceResult;
use crate::store::UserRow;
use crate::store::admin_logs::ActivityFilter;

const SCOPE: &str = "admin.activity";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    crate::admin_endpoint!(app, inc, get(), path("activities"), user_log)
        .or(crate::admin_endpoint!(app, inc, get(), path("activities").and(path("admin")), admin_log))
        .unify()
        .boxed()
}

/// The filters both logs share, in declaration order; `admin` adds `target_uid` and `range`.
fn filter(c: &mut Check<'_>, admin: bool) -> ActivityFilter {
    let text = |c: &mut Check<'_>, name: &str| c.optional_string(name, &format!("{SCOPE}.non_string_{name}"));
    let mut f = ActivityFilter {
        topic: text(c, "topic"),
        action: text(c, "action"),
        uid: text(c, "uid"),
        email: text(c, "email"),
        ..Default::default()
    };
    if admin {
        f.target_uid = text(c, "target_uid");
        if c.optional("range").is_some_and(|r| r != "created") {
            c.refuse("admin.activity.invalid_range");
        }
    }
    f.from = c.integer("from", "invalid").ok().flatten();
    f.to = c.integer("to", "invalid").ok().flatten();
    f
}

/// `GET activities` → `[ActivityWithUser]`, newest first, paginated (read Activity).
async fn user_log(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let f = filter(&mut c, false);
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "Activity")?;
    let (items, total) = activities::user_log(app, &f, page, limit).await?;
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}

/// `GET activities/admin` → `[AdminActivity]`, newest first, paginated (read Activity).
async fn admin_log(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let f = filter(&mut c, true);
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "Activity")?;
    let (items, total) = activities::admin_log(app, &f, page, limit).await?;
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}
