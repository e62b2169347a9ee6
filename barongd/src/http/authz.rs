//! `ANY /api/v2/auth/{*path}` (mounted under `auth/`) and `GET /.well-known/jwks.json`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::request::Incoming;
use crate::services::App;

fn nothing() -> BoxedFilter<(Response,)> {
    warp::any().and_then(|| async { Err::<Response, _>(warp::reject::not_found()) }).boxed()
}

/// Routes under `/api/v2/auth/`.
pub fn routes(_app: &Arc<App>, _inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    nothing()
}

/// `GET /.well-known/jwks.json`, outside `/api`.
pub fn jwks(_app: &Arc<App>, _inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    nothing()
}
