//! `public/...`: the general endpoints, the Auth0 settings and the KYC provider's callback.

use std::sync::Arc;

use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::general;
use crate::http::incoming::Incoming;
use crate::http::reply;
use crate::services::App;

/// Routes under `public/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path, post};
    general::routes(app, inc, "public.general")
        .or(crate::endpoint!(app, inc, get(), path("configs").and(path("auth0")), auth0_configs))
        .unify()
        .or(crate::endpoint!(app, inc, post(), path("kyc"), kyc_callback))
        .unify()
        .boxed()
}

pub async fn auth0_configs(app: &App, _inc: Incoming) -> Response {
    reply::json(200, &json!({"auth0_domain": app.config.auth0_domain, "auth0_client_id": app.config.auth0_client_id}))
}

/// `POST public/kyc`, the KYC provider's callback. Only the `local` provider exists (start-up
/// refuses others), and Barong answers it with a bare 422: nothing is read from the
/// unauthenticated caller (docs/barong-weaknesses-fixed.md#w-kyc-callback).
pub async fn kyc_callback(_app: &App, _inc: Incoming) -> Response {
    reply::status_only(422)
}
