//! Barong's Management API at `/api/v2/management/...` (and the `/api/v2/barong/...` form):
//! the transport checks in the spec's order (§4.1 with the [RS] changes) — allowed network on
//! the TCP peer, route, query string, content type, body size, JSON — then the signatures
//! (`services::management::authorize`), then the endpoint with `payload.data` as parameters.
//! Errors keep the Management API's own shapes (`{"error": ...}`).

mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use serde_json::Value;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderMap, Method};
use warp::reply::Response;

use crate::config::Gateway;
use crate::http::body::{self, Pace};
use crate::http::{endpoint, observe, reply, request};
use crate::services::App;
use crate::services::error::{Refusal, ServiceError};
use crate::services::management::activity::{self, ManagementCall};
use crate::services::management::authorize;
use crate::services::management::error::MgmtError;

/// Documents carry base64 files of up to 10 MB, so the Management API reads larger bodies than
/// the user API; Barong set no limit at all.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Everything under `management/`: this filter answers every path there itself, so an unknown
/// route is refused only after the network check.
pub fn routes(app: &Arc<App>) -> BoxedFilter<(Response,)> {
    let app = app.clone();
    warp::path::tail()
        .and(warp::addr::remote())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::path::full())
        .and(warp::body::stream())
        .then(
            move |tail: warp::path::Tail,
                  peer: Option<SocketAddr>,
                  method: Method,
                  headers: HeaderMap,
                  query: String,
                  full: warp::path::FullPath,
                  body| {
                let app = app.clone();
                async move {
                    let sent_id = headers.get("x-request-id").and_then(|v| v.to_str().ok());
                    let request_id = observe::request_id(&app.config.trusted_proxies, peer, sent_id);
                    let akamai = app.config.gateway == Gateway::Akamai;
                    // One template for the family: its tail is the whole route table, unknown
                    // routes included, and must not become label values.
                    let meta = observe::Meta {
                        method: method.to_string(),
                        path: full.as_str().to_string(),
                        request_id: request_id.clone(),
                        ip: request::client_ip(&app.config.trusted_proxies, peer, &headers, akamai),
                        route: "/api/v2/barong/management/*".into(),
                    };
                    let path = full.as_str().to_string();
                    let req = Request { peer, method, headers, query, request_id, path };
                    let work = handle(&app, req, tail.as_str().to_string(), Box::pin(body));
                    endpoint::run(&app, meta, work).await
                }
            },
        )
        .boxed()
}

struct Request {
    peer: Option<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    query: String,
    request_id: String,
    /// The full request path, for the paging links.
    path: String,
}

fn message(status: u16, text: &str) -> Response {
    crate::services::telemetry::access::note_error(text);
    reply::json(status, &serde_json::json!({ "error": text }))
}

async fn handle<S, B>(app: &App, req: Request, path: String, body: S) -> Response
where
    S: futures::Stream<Item = Result<B, warp::Error>> + Unpin,
    B: bytes::Buf,
{
    let networks = &app.config.management_api.allowed_networks;
    let allowed = match req.peer {
        Some(peer) => networks.allows(peer.ip()),
        None => networks.0.is_empty(),
    };
    if !allowed {
        tracing::warn!(request_id = %req.request_id, peer = ?req.peer, "management request from a network not allowed");
        return message(403, "Access is not allowed from this network.");
    }
    let Some(route) = routes::find(&req.method, &path) else { return reply::route_not_found() };
    if form_urlencoded::parse(req.query.as_bytes()).next().is_some() {
        return message(400, "Query parameters are not allowed.");
    }
    if !is_json(&req.headers) {
        return message(400, "Only JSON body is accepted.");
    }
    let read = body::read_body(body, MAX_BODY, body::content_length(&req.headers), Pace::of(&app.config)).await;
    let bytes = match read {
        Ok(b) => b,
        Err(ServiceError::Refused { why: Refusal::TooLarge, .. }) => return message(413, "Request body is too large."),
        Err(ServiceError::Refused { why: Refusal::TimedOut, .. }) => return message(408, "Request body timed out."),
        Err(_) => return message(400, "Couldn't parse JWT."),
    };
    let Ok(jws) = serde_json::from_slice::<Value>(&bytes) else { return message(400, "Couldn't parse JWT.") };
    let answer = match authorize(app, &jws, route.scope(), &req.request_id).await {
        Ok(verified) => {
            let ip = req.peer.map(|p| p.ip().to_string()).unwrap_or_default();
            let origin = routes::Origin { path: &req.path, ip: ip.clone(), request_id: &req.request_id };
            let answer = routes::call(app, route, &verified.data, &origin).await;
            if !matches!(route, routes::Route::Timestamp) {
                let call = ManagementCall {
                    method: req.method.as_str(),
                    route: &path,
                    ip: &ip,
                    user_agent: req.headers.get("user-agent").and_then(|v| v.to_str().ok()),
                    request_id: &req.request_id,
                    signers: &verified.signers,
                    data: &verified.data,
                };
                activity::record(app, call, matches!(&answer, Ok(a) if a.status < 400)).await;
            }
            answer
        }
        Err(e) => Err(e),
    };
    match answer {
        Ok(a) => {
            let mut resp = match a.body {
                Some(body) => reply::raw_json(a.status, body.into_bytes()),
                None => empty(a.status),
            };
            for (name, value) in a.headers {
                if let Ok(v) = warp::http::HeaderValue::from_str(&value) {
                    resp.headers_mut().insert(name, v);
                }
            }
            resp
        }
        Err(MgmtError::Reply(status, body)) => reply::json(status, &body),
        Err(MgmtError::Internal(detail)) => {
            tracing::error!(request_id = %req.request_id, error = %detail, "internal error");
            reply::raw_json(500, br#"{"errors":["server.internal_error"]}"#.to_vec())
        }
    }
}

/// `application/json`, with or without parameters (`; charset=utf-8`).
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(warp::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"))
}

fn empty(status: u16) -> Response {
    let mut r = Response::new(Vec::new().into());
    *r.status_mut() = warp::http::StatusCode::from_u16(status).unwrap_or(warp::http::StatusCode::NO_CONTENT);
    r
}
