//! `resource` account endpoints: users/password, users/me PUT/DELETE, users/activity, labels, data_storage.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use super::request::Incoming;
use crate::services::App;

/// Routes under `resource/`.
pub fn routes(_app: &Arc<App>, _inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    warp::any().and_then(|| async { Err::<Response, _>(warp::reject::not_found()) }).boxed()
}
