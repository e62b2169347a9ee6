//! `resource/...`: the signed-in user's own endpoints (account, 2FA, API keys, KYC). Every one
//! authenticates first (401, as Barong's JWT middleware answered before Grape validated).

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate_cached;
use crate::http::incoming::Incoming;
use crate::http::reply;
use crate::services::App;
use crate::services::account::full_info;

pub mod api_keys;
pub mod documents;
pub mod labels;
pub mod otp;
pub mod phones;
pub mod profiles;
pub mod swagger;
pub mod users;
pub mod webauthn;

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    crate::endpoint!(app, inc, get(), path("users").and(path("me")), me)
        .or(otp::routes(app, inc))
        .unify()
        .or(api_keys::routes(app, inc))
        .unify()
        .or(users::routes(app, inc))
        .unify()
        .or(labels::routes(app, inc))
        .unify()
        .or(documents::routes(app, inc))
        .unify()
        .or(phones::routes(app, inc))
        .unify()
        .or(profiles::routes(app, inc))
        .unify()
        .or(webauthn::routes(app, inc))
        .unify()
        .or(swagger::routes(app, inc))
        .unify()
        .boxed()
}

/// `GET users/me` → 200 `UserWithFullInfo`. The frontend calls it on every page, so it is
/// served from the gateway's caches (`full_info::rendered_me`).
pub async fn me(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user_id = authenticate_cached(app, &inc).await?;
        Ok(reply::shared_json(200, full_info::rendered_me(app, user_id).await?))
    };
    reply::respond(&inc.ctx, r.await)
}
