//! `ANY /api/v2/auth/{*path}` (mounted under `auth/`) and `GET /.well-known/jwks.json`.
//!
//! Success is 200 with `Authorization: Bearer <JWT>` and an empty body (a `pass` path: no
//! header); a denial is Barong's `{"errors":[key]}`, with `Content-Type: application/json`
//! (Barong left it unset: docs/barong-weaknesses-fixed.md#w-authz-content-type), and the key in
//! `X-Barong-Error` for proxies that see only headers.

use std::sync::Arc;

use tracing::Instrument;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::observe::{Meta, RouteTemplate};
use crate::http::reply;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::decide::{AuthzRequest, Decision, decide};
use crate::services::gateway::rules::normalise;

/// Routes under `/api/v2/auth/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    let app = app.clone();
    warp::path::tail()
        .and(inc.clone())
        .then(move |tail: warp::path::Tail, inc: Incoming| {
            let app = app.clone();
            // The whole family is one template: the tail is the upstream's path, not ours.
            let meta = Meta { route: "/api/v2/barong/auth/*".into(), ..Meta::of(&inc, "", &[]) };
            async move {
                let started = std::time::Instant::now();
                let span = meta.span();
                async {
                    let mut resp = authorize(&app, tail.as_str(), inc).await;
                    meta.finish(&mut resp, started);
                    resp
                }
                .instrument(span)
                .await
            }
        })
        .boxed()
}

/// `GET /.well-known/jwks.json`, outside `/api`: the public keys upstreams verify our JWTs with.
pub fn jwks(app: &Arc<App>, _inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    let app = app.clone();
    warp::get()
        .and(warp::path(".well-known"))
        .and(warp::path("jwks.json"))
        .and(warp::path::end())
        .map(move || {
            let mut r = reply::json(200, &app.tokens.jwks());
            r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
            r.extensions_mut().insert(RouteTemplate("/.well-known/jwks.json".into()));
            r
        })
        .boxed()
}

fn header<'a>(inc: &'a Incoming, name: &str) -> Option<&'a str> {
    inc.headers.get(name).and_then(|v| v.to_str().ok())
}

async fn authorize(app: &App, raw_path: &str, inc: Incoming) -> Response {
    match decision(app, raw_path, &inc).await {
        Ok(Decision::Pass) => empty(),
        Ok(Decision::Token(jwt)) => {
            let mut r = empty();
            if let Ok(v) = HeaderValue::from_str(&format!("Bearer {jwt}")) {
                r.headers_mut().insert(header::AUTHORIZATION, v);
            }
            r
        }
        Err(e) => {
            let expired = e.key() == "authz.nonce_expired";
            // The body's key in a header too: nginx's auth_request sees headers, never the body
            // (config/gateway/nginx.conf rebuilds the answer from it).
            let key = HeaderValue::from_str(e.key()).ok();
            let mut r = reply::error(&inc.ctx, e);
            if let Some(key) = key {
                r.headers_mut().insert("x-barong-error", key);
            }
            if expired {
                // The client's clock is off: tell it ours (ms), so it can correct its nonces.
                r.headers_mut().insert("x-server-time", HeaderValue::from(app.clock.now_ms()));
            }
            r
        }
    }
}

async fn decision(app: &App, raw_path: &str, inc: &Incoming) -> ServiceResult<Decision> {
    // Traefik's forwardAuth calls a fixed address and names the original request in
    // `X-Forwarded-Uri`/`X-Forwarded-Method`; Envoy and nginx append the path instead. (Asking
    // this way grants nothing that asking for `/api/v2/auth/<path>` directly would not.)
    let mut method = inc.method.as_str().to_ascii_uppercase();
    let forwarded;
    let raw_path = match (raw_path, header(inc, "x-forwarded-uri")) {
        ("", Some(uri)) => {
            forwarded = uri.split(['?', '#']).next().unwrap_or("").trim_start_matches('/').to_string();
            method = header(inc, "x-forwarded-method").map_or(method, str::to_ascii_uppercase);
            forwarded.as_str()
        }
        _ => raw_path,
    };
    // A path that is not canonical (`..`, `//`, encoded separators or dots) is refused outright.
    let path = normalise(raw_path).ok_or_else(|| ServiceError::unauthenticated("authz.permission_denied"))?;
    if path != "api/v2/barong/identity/users/access" {
        app.restrictions.check(&path, &inc.ctx.ip)?;
    }
    let req = AuthzRequest {
        // Methods are case-normalised before any check: `post` is POST to CSRF and the rules.
        method: &method,
        path: &path,
        ctx: &inc.ctx,
        csrf: header(inc, "x-csrf-token"),
        apikey: header(inc, "x-auth-apikey"),
        nonce: header(inc, "x-auth-nonce"),
        signature: header(inc, "x-auth-signature"),
        params: inc.params.as_ref().ok().map(|p| &p.0),
    };
    decide(app, &req).await
}

fn empty() -> Response {
    let mut r = Response::new(Vec::new().into());
    *r.status_mut() = StatusCode::OK;
    r
}
