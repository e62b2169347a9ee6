//! `POST identity/users/access` (whitelink).

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::request::Incoming;
use crate::services::App;

fn nothing() -> BoxedFilter<(Response,)> {
    warp::any().and_then(|| async { Err::<Response, _>(warp::reject::not_found()) }).boxed()
}

/// Routes under `identity/`.
pub fn identity_routes(_app: &Arc<App>, _inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    nothing()
}
