//! `admin/restrictions`: list, create, update and delete restrictions.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::model::{RestrictionCategory, RestrictionScope, RestrictionState};
use crate::services::App;
use crate::services::admin::abilities::require;
use crate::services::admin::restrictions::{self, Change};
use crate::services::error::ServiceResult;
use crate::services::gateway::restrictions::whitelinks;
use crate::services::operator::restrictions::NewRule;
use crate::store::UserRow;
use crate::store::admin::RestrictionFilter;

const SCOPE: &str = "admin.restriction";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, path, post, put};
    let r = || path("restrictions");
    crate::admin_endpoint!(app, inc, get(), r(), list)
        .or(crate::admin_endpoint!(app, inc, post(), r(), create))
        .unify()
        .or(crate::admin_endpoint!(app, inc, put(), r(), update))
        .unify()
        .or(crate::admin_endpoint!(app, inc, delete(), r(), remove))
        .unify()
        .or(crate::admin_endpoint!(app, inc, post(), r().and(path("whitelink")), whitelink))
        .unify()
        .boxed()
}

/// `scope`, `category` and `state`: Grape's `values` with Barong's keys, after the blank check.
fn values(c: &mut Check<'_>, scope: Option<String>, category: Option<String>, state: Option<String>) {
    if scope.as_deref().is_some_and(|s| RestrictionScope::parse(s).is_none()) {
        c.refuse("admin.restriction.invalid_scope");
    }
    if category.as_deref().is_some_and(|s| RestrictionCategory::parse(s).is_none()) {
        c.refuse("admin.restriction.invalid_category");
    }
    if state.as_deref().is_some_and(|s| RestrictionState::parse(s).is_none()) {
        c.refuse("admin.restriction.invalid_state");
    }
}

/// `GET restrictions` → `[Restriction]` by id, filtered and paginated (read Restriction).
async fn list(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let scope = c.optional_filled("scope");
    values(&mut c, scope.clone(), None, None);
    let category = c.optional_filled("category");
    values(&mut c, None, category.clone(), None);
    let range = c.optional("range");
    if range.as_deref().is_some_and(|r| r != "created" && r != "updated") {
        c.refuse("admin.restriction.invalid_range");
    }
    let from = c.integer("from", "invalid").ok().flatten();
    let to = c.integer("to", "invalid").ok().flatten();
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "Restriction")?;
    let filter = RestrictionFilter { scope, category, by_updated: range.as_deref() == Some("updated"), from, to };
    let (items, total) = restrictions::list(app, &filter, page, limit).await?;
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}

/// `POST restrictions` → 200 `200` (create Restriction).
async fn create(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let scope = c.required_filled("scope");
    values(&mut c, scope.clone(), None, None);
    let value = c.required_filled("value");
    let category = c.required("category");
    values(&mut c, None, category.clone(), None);
    let state = c.optional("state");
    values(&mut c, None, None, state.clone());
    let code = code(&mut c);
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "create", "Restriction")?;
    let rule = NewRule {
        category: category.unwrap_or_default(),
        scope: scope.unwrap_or_default(),
        value: value.unwrap_or_default(),
        code,
        state,
    };
    restrictions::create(app, rule).await?;
    Ok(reply::status_only(200))
}

/// `code`: an Integer, not blank, an error status (W19).
fn code(c: &mut Check<'_>) -> Option<i64> {
    let code = c.integer("code", "invalid").ok().flatten();
    if code.is_some_and(|n| !(400..=599).contains(&n)) {
        c.refuse("admin.restriction.invalid_code");
    }
    code
}

/// `PUT restrictions` → 200 `200` (update Restriction).
async fn update(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let id = c.required_integer("id");
    let scope = c.optional_filled("scope");
    let category = c.optional_filled("category");
    let value = c.optional_filled("value");
    let state = c.optional_filled("state");
    values(&mut c, scope.clone(), category.clone(), state.clone());
    let code = code(&mut c);
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "Restriction")?;
    restrictions::update(app, id.unwrap_or_default(), Change { scope, category, value, state, code }).await?;
    Ok(reply::status_only(200))
}

/// `DELETE restrictions` → 200 `200` (destroy Restriction).
async fn remove(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let id = c.required_integer("id");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "destroy", "Restriction")?;
    restrictions::delete(app, id.unwrap_or_default()).await?;
    Ok(reply::status_only(200))
}

/// `POST restrictions/whitelink` → 201 `{"whitelink_token": …}` (create Restriction): a token
/// for `expire_time` (1..=30, default 1) days or hours (`range`); bare keys as Barong's. The
/// token works once (W19).
async fn whitelink(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let expire = match c.integer("expire_time", "invalid_expire") {
        Ok(n) => n.unwrap_or(1),
        Err(_) => 0,
    };
    if !(1..=30).contains(&expire) {
        c.refuse("invalid_expire");
    }
    let range = c.optional("range").unwrap_or_else(|| "day".into());
    if range != "day" && range != "hour" {
        c.refuse("invalid_range");
    }
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "create", "Restriction")?;
    let (days, hours) = if range == "hour" { (None, Some(expire)) } else { (Some(expire), None) };
    let link = whitelinks::create_whitelink(app, days, hours).await?;
    Ok(reply::json(201, &serde_json::json!({ "whitelink_token": link.token })))
}
