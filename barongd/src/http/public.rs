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
use crate::services::kyc::kycaid::callback::{self, Received};

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

/// `POST public/kyc`, the KYC provider's callback. With `local` Barong answered a bare 422,
/// and so does barongd, reading nothing. With KYCAID: 401 `public.kyc.invalid_signature`
/// unless `x-data-integrity` is KYCAID's signature of the body, else 200 with body `200`
/// (docs/barong-weaknesses-fixed.md#w-kyc-callback).
pub async fn kyc_callback(app: &App, inc: Incoming) -> Response {
    let signature = inc.headers.get(callback::signature_header()).and_then(|v| v.to_str().ok());
    let r = match callback::receive(app, &inc.raw_body, signature).await {
        Ok(Received::NoProvider) => Ok(reply::status_only(422)),
        Ok(Received::Accepted) => Ok(reply::status_only(200)),
        Err(e) => Err(e),
    };
    reply::respond(&inc.ctx, r)
}
