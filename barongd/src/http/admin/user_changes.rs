//! `POST admin/users/update`, `PUT admin/users` and `POST admin/users/role`. Only the declared
//! parameters are read (Barong wrote the first raw parameter to the user row, W1).

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
use crate::services::admin::user_changes::{self, UserChange};
use crate::services::error::ServiceResult;
use crate::store::UserRow;

const SCOPE: &str = "admin.user";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{path, post, put};
    crate::admin_endpoint!(app, inc, post(), path("users").and(path("update")), update)
        .or(crate::admin_endpoint!(app, inc, put(), path("users"), update_put))
        .unify()
        .or(crate::admin_endpoint!(app, inc, post(), path("users").and(path("role")), role))
        .unify()
        .boxed()
}

/// The declared change parameters in order (`email` on PUT only), and Grape's `exactly_one_of`.
fn change(c: &mut Check<'_>, inc: &Incoming, with_email: bool) -> ServiceResult<Option<UserChange>> {
    let params = inc.params()?;
    let email = if with_email { c.optional_filled("email") } else { None };
    let state = c.optional_filled("state");
    let otp = c.boolean("otp", "invalid");
    let names: &[&str] = if with_email { &["state", "otp", "email"] } else { &["state", "otp"] };
    if names.iter().filter(|n| params.get(n).is_some()).count() != 1 {
        c.refuse(if with_email { "admin.user.one_of_state_otp_email" } else { "admin.user.one_of_state_otp" });
    }
    Ok(match (state, otp, email) {
        (Some(s), None, None) => Some(UserChange::State(s)),
        (None, Some(o), None) => Some(UserChange::Otp(o)),
        (None, None, Some(e)) => Some(UserChange::Email(e)),
        _ => None,
    })
}

async fn apply(app: &App, inc: &Incoming, caller: &UserRow, with_email: bool) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let uid = c.required_filled("uid");
    let ch = change(&mut c, inc, with_email)?;
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "User")?;
    let (Some(uid), Some(ch)) = (uid, ch) else {
        return Err(crate::services::error::ServiceError::invalid("admin.user.one_of_state_otp"));
    };
    user_changes::update(app, &Actor::Admin(caller), &uid, ch).await?;
    Ok(reply::status_only(200))
}

/// `POST users/update {uid, state | otp}` → `200` (update User).
async fn update(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    apply(app, inc, caller, false).await
}

/// `PUT users {uid, state | otp | email}` → `200` (update User; e-mail by a superadmin only).
async fn update_put(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    apply(app, inc, caller, true).await
}

/// `POST users/role {uid, role}` → `200` (update User, and W5's hierarchy).
async fn role(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let uid = c.required_filled("uid");
    let role = c.required_filled("role");
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "update", "User")?;
    user_changes::set_role(app, &Actor::Admin(caller), &uid.unwrap_or_default(), &role.unwrap_or_default()).await?;
    Ok(reply::status_only(200))
}
