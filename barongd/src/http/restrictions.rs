//! `POST identity/users/access` (whitelink, identity-and-authz §7.7).

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::params::Check;
use super::reply;
use super::request::Incoming;
use crate::services::{App, restrictions};

/// Routes under `identity/`.
pub fn identity_routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{path, post};
    crate::endpoint!(app, inc, post(), path("users").and(path("access")), access)
}

/// Whitelists the caller's IP with a whitelink token: 201 and the bare number, as Barong.
async fn access(app: &App, inc: Incoming) -> Response {
    let p = match inc.params() {
        Ok(p) => p,
        Err(e) => return reply::error(&inc.ctx, e),
    };
    let mut c = Check::new(p, "identity.user");
    let token = c.required_filled("whitelink_token");
    if let Err(e) = c.finish() {
        return reply::error(&inc.ctx, e);
    }
    let token = token.unwrap_or_default();
    match restrictions::redeem_whitelink(app, &token, &inc.ctx.ip).await {
        Ok(()) => reply::status_only(201),
        Err(e) => reply::error(&inc.ctx, e),
    }
}
