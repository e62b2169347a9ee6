//! How every endpoint runs: the shared request filter, a panic guard, read-your-writes for the
//! gateway's caches, the request span and id header, and one access-log line. `endpoint!` and
//! `param_endpoint!` build the warp filters.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::FutureExt;
use tracing::Instrument;
use warp::reply::Response;

use crate::http::observe::Meta;
use crate::http::reply;
use crate::services::App;
use crate::services::gateway::decide::is_state_changing;
use crate::services::gateway::poller;

/// Runs a handler in its request span, with the panic guard, the request-id header and one
/// access-log line. After a request that may have changed something (any method but GET, HEAD
/// and OPTIONS, whatever its outcome), this daemon's gateway caches take in its own changes
/// before the reply leaves, so the client's next gateway call already sees them (a new level, a
/// revoked key).
pub async fn run<Fut>(app: &App, meta: Meta, fut: Fut) -> Response
where
    Fut: std::future::Future<Output = Response>,
{
    let span = meta.span();
    async move {
        let started = Instant::now();
        let mut resp = match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(r) => r,
            Err(_) => {
                tracing::error!("handler panicked");
                reply::raw_json(500, br#"{"errors":["server.internal_error"]}"#.to_vec())
            }
        };
        if is_state_changing(&meta.method.to_ascii_uppercase()) {
            poller::catch_up(app).await;
        }
        meta.finish(&mut resp, started);
        resp
    }
    .instrument(span)
    .await
}

/// Builds one endpoint: `method` + exact `path` + the shared request filter + `handler`.
#[macro_export]
macro_rules! endpoint {
    ($app:expr, $inc:expr, $method:expr, $path:expr, $handler:expr) => {{
        let app = $app.clone();
        $method
            .and($path)
            .and(warp::path::end())
            .and(warp::path::full())
            .and($inc.clone())
            .then(move |full: warp::path::FullPath, inc: $crate::http::incoming::Incoming| {
                let app = app.clone();
                let meta = $crate::http::observe::Meta::of(&inc, full.as_str(), &[]);
                async move { $crate::http::endpoint::run(&app, meta, $handler(&app, inc)).await }
            })
            .boxed()
    }};
}

/// As `endpoint!`, for paths ending in one parameter (`labels/{key}`, `api_keys/{kid}`): the
/// segment is percent-decoded and handed to the handler as its third argument; a segment that
/// is not UTF-8 (or holds a NUL) can name no record, so it answers as an unknown route.
#[macro_export]
macro_rules! param_endpoint {
    ($app:expr, $inc:expr, $method:expr, $path:expr, $handler:expr) => {{
        let app = $app.clone();
        $method
            .and($path)
            .and(warp::path::param::<String>())
            .and(warp::path::end())
            .and(warp::path::full())
            .and($inc.clone())
            .then(move |raw: String, full: warp::path::FullPath, inc: $crate::http::incoming::Incoming| {
                let app = app.clone();
                let name = $crate::http::observe::param_name(full.as_str());
                let meta = $crate::http::observe::Meta::of(&inc, full.as_str(), &[(0, name)]);
                async move {
                    match percent_encoding::percent_decode_str(&raw).decode_utf8() {
                        Ok(param) if !param.contains('\0') => {
                            $crate::http::endpoint::run(&app, meta, $handler(&app, inc, param.into_owned())).await
                        }
                        _ => {
                            $crate::http::endpoint::run(&app, meta, async { $crate::http::reply::route_not_found() })
                                .await
                        }
                    }
                }
            })
            .boxed()
    }};
}
