//! The operator's endpoints: `/health/live` and `/health/ready` (on both listeners, outside
//! `/api/v2` and ahead of the import gate: a probe must answer whatever mode the API is in) and
//! `/metrics` (on the `metrics_listen` listener only, which is never public).

use std::sync::Arc;

use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, header};
use warp::reply::Response;

use crate::http::observe::RouteTemplate;
use crate::http::reply;
use crate::services::App;
use crate::services::telemetry::{health, scrape};

/// `GET /health/live` and `GET /health/ready`.
pub fn health(app: &Arc<App>) -> BoxedFilter<(Response,)> {
    let live = warp::path!("health" / "live").map(|| probe(200, json!({"status": "live"}), "/health/live"));
    let app = app.clone();
    let ready = warp::path!("health" / "ready").then(move || {
        let app = app.clone();
        async move {
            let failed = health::unready_checks(&app).await;
            if failed.is_empty() {
                probe(200, json!({"status": "ready"}), "/health/ready")
            } else {
                probe(503, json!({"status": "unready", "failed": failed}), "/health/ready")
            }
        }
    });
    warp::get().and(live.or(ready).unify()).boxed()
}

fn probe(status: u16, body: serde_json::Value, route: &str) -> Response {
    let mut r = reply::json(status, &body);
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.extensions_mut().insert(RouteTemplate(route.into()));
    r
}

/// Everything the metrics listener answers: the probes, `GET /metrics`, and Barong's JSON 404.
pub fn routes(app: &Arc<App>) -> BoxedFilter<(Response,)> {
    let scrape_app = app.clone();
    let metrics = warp::get().and(warp::path!("metrics")).then(move || {
        let app = scrape_app.clone();
        async move {
            let mut r = Response::new(scrape::render(&app).await.into());
            r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(scrape::CONTENT_TYPE));
            r
        }
    });
    health(app).or(metrics).unify().or(warp::any().map(reply::route_not_found)).unify().boxed()
}

/// Serves [`routes`] on `listener` until the task is aborted. It outlives the API's graceful
/// shutdown on purpose: while draining, `/health/ready` must keep answering 503.
pub fn spawn(app: Arc<App>, listener: tokio::net::TcpListener) -> tokio::task::JoinHandle<()> {
    tokio::spawn(warp::serve(routes(&app)).incoming(listener).run())
}
