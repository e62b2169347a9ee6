//! `identity/...`: the public endpoints of registration, email confirmation, password reset,
//! sessions and whitelinks, plus the general ones (ping, time, configs, …).

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::general;
use crate::http::incoming::Incoming;
use crate::services::App;

pub mod access;
pub mod sessions;
pub mod users;

/// Routes under `identity/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, path, post};
    let users = || path("users");
    general::routes(app, inc, "identity.general")
        .or(crate::endpoint!(app, inc, post(), users().and(path("access")), access::access))
        .unify()
        .or(crate::endpoint!(app, inc, post(), users(), users::register))
        .unify()
        .or(crate::endpoint!(app, inc, get(), users().and(path("register_geetest")), users::register_geetest))
        .unify()
        .or(crate::endpoint!(
            app,
            inc,
            post(),
            users().and(path("email")).and(path("generate_code")),
            users::email_generate_code
        ))
        .unify()
        .or(crate::endpoint!(
            app,
            inc,
            post(),
            users().and(path("email")).and(path("confirm_code")),
            users::email_confirm_code
        ))
        .unify()
        .or(crate::endpoint!(
            app,
            inc,
            post(),
            users().and(path("password")).and(path("generate_code")),
            users::password_generate_code
        ))
        .unify()
        .or(crate::endpoint!(
            app,
            inc,
            post(),
            users().and(path("password")).and(path("confirm_code")),
            users::password_confirm_code
        ))
        .unify()
        .or(crate::endpoint!(app, inc, post(), path("sessions"), sessions::login))
        .unify()
        .or(crate::endpoint!(app, inc, post(), path("sessions").and(path("auth0")), sessions::auth0))
        .unify()
        .or(crate::endpoint!(app, inc, delete(), path("sessions"), sessions::logout))
        .unify()
        .boxed()
}
