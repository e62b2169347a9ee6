//! The HTTP API: routes composed in one place, every handler behind the same request filter,
//! panics caught and turned into 500s, and warp's own rejections rendered as Barong errors.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures::FutureExt;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::HeaderValue;
use warp::reply::Response;

use crate::services::App;
use request::{Incoming, Proxies};

/// Runs a handler with the panic guard, the request-id header and one access-log line.
pub async fn run<Fut>(inc_meta: (String, String, String), fut: Fut) -> Response
where
    Fut: std::future::Future<Output = Response>,
{
    let (method, path, request_id) = inc_meta;
    let started = Instant::now();
    let mut resp = match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => {
            tracing::error!(%request_id, %method, %path, "handler panicked");
            reply::raw_json(500, br#"{"errors":["server.internal_error"]}"#.to_vec())
        }
    };
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    // Only method and path: query strings may carry passwords and tokens.
    tracing::info!(target: "access", %request_id, %method, %path, status = resp.status().as_u16(),
        micros = started.elapsed().as_micros() as u64, "request");
    resp
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
            .then(move |full: warp::path::FullPath, inc: $crate::http::request::Incoming| {
                let app = app.clone();
                let meta = (inc.method.to_string(), full.as_str().to_string(), inc.ctx.request_id.clone());
                async move { $crate::http::run(meta, $handler(&app, inc)).await }
            })
            .boxed()
    }};
}

pub mod account;
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
            .then(move |raw: String, full: warp::path::FullPath, inc: $crate::http::request::Incoming| {
                let app = app.clone();
                let meta = (inc.method.to_string(), full.as_str().to_string(), inc.ctx.request_id.clone());
                async move {
                    match percent_encoding::percent_decode_str(&raw).decode_utf8() {
                        Ok(param) if !param.contains('\0') => {
                            $crate::http::run(meta, $handler(&app, inc, param.into_owned())).await
                        }
                        _ => $crate::http::run(meta, async { $crate::http::reply::route_not_found() }).await,
                    }
                }
            })
            .boxed()
    }};
}

pub mod authz;
pub mod cors;
pub mod documents;
pub mod general;
pub mod identity;
pub mod multipart;
pub mod otp_keys;
pub mod params;
pub mod phones;
pub mod profiles;
pub mod reply;
pub mod request;
pub mod resource;
pub mod restrictions;
pub mod swagger;

fn general_routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>, identity: bool) -> BoxedFilter<(Response,)> {
    use warp::{get, path, post};
    let validate =
        endpoint!(app, inc, post(), path("password").and(path("validate")), general::validate_password_identity);
    let validate_public =
        endpoint!(app, inc, post(), path("password").and(path("validate")), general::validate_password_public);
    endpoint!(app, inc, get(), path("ping"), general::ping)
        .or(endpoint!(app, inc, get(), path("time"), general::time))
        .unify()
        .or(endpoint!(app, inc, get(), path("version"), general::version))
        .unify()
        .or(endpoint!(app, inc, get(), path("configs"), general::configs))
        .unify()
        .or(if identity { validate } else { validate_public })
        .unify()
        .boxed()
}

fn identity_routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, path, post};
    let users = || path("users");
    general_routes(app, inc, true)
        .or(restrictions::identity_routes(app, inc))
        .unify()
        .or(endpoint!(app, inc, post(), users(), identity::register))
        .unify()
        .or(endpoint!(app, inc, get(), users().and(path("register_geetest")), identity::register_geetest))
        .unify()
        .or(endpoint!(
            app,
            inc,
            post(),
            users().and(path("email")).and(path("generate_code")),
            identity::email_generate_code
        ))
        .unify()
        .or(endpoint!(
            app,
            inc,
            post(),
            users().and(path("email")).and(path("confirm_code")),
            identity::email_confirm_code
        ))
        .unify()
        .or(endpoint!(
            app,
            inc,
            post(),
            users().and(path("password")).and(path("generate_code")),
            identity::password_generate_code
        ))
        .unify()
        .or(endpoint!(
            app,
            inc,
            post(),
            users().and(path("password")).and(path("confirm_code")),
            identity::password_confirm_code
        ))
        .unify()
        .or(endpoint!(app, inc, post(), path("sessions"), identity::login))
        .unify()
        .or(endpoint!(app, inc, delete(), path("sessions"), identity::logout))
        .unify()
        .boxed()
}

fn public_routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    general_routes(app, inc, false)
        .or(endpoint!(app, inc, get(), path("configs").and(path("auth0")), general::auth0_configs))
        .unify()
        .or(endpoint!(app, inc, warp::post(), path("kyc"), general::kyc_callback))
        .unify()
        .boxed()
}

fn resource_routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    endpoint!(app, inc, get(), path("users").and(path("me")), resource::me)
        .or(otp_keys::routes(app, inc))
        .unify()
        .or(account::routes(app, inc))
        .unify()
        .or(documents::routes(app, inc))
        .unify()
        .or(phones::routes(app, inc))
        .unify()
        .or(profiles::routes(app, inc))
        .unify()
        .or(swagger::routes(app, inc))
        .unify()
        .boxed()
}

/// All routes, served at the seed's `/api/v2/barong/...` paths and at Barong's internal
/// `/api/v2/...` form (for gateways that strip the `barong` segment).
pub fn routes(app: Arc<App>, proxies: Arc<Proxies>) -> BoxedFilter<(Response,)> {
    let inc = request::incoming(app.clone(), proxies).boxed();
    let barong = warp::path("barong").or(warp::any()).unify();
    let api = warp::path("api").and(warp::path("v2")).and(barong);
    let families = warp::path("identity")
        .and(identity_routes(&app, &inc))
        .or(warp::path("public").and(public_routes(&app, &inc)))
        .unify()
        .or(warp::path("resource").and(resource_routes(&app, &inc)))
        .unify()
        .or(warp::path("auth").and(authz::routes(&app, &inc)))
        .unify();
    let cors = Arc::new(cors::Cors::new(&app.config));
    let preflight = {
        let cors = cors.clone();
        warp::method().and(warp::header::headers_cloned()).and_then(
            move |method: warp::http::Method, headers: warp::http::HeaderMap| {
                let cors = cors.clone();
                async move {
                    if cors::is_preflight(&method, &headers) {
                        Ok(cors.preflight(&headers))
                    } else {
                        Err(warp::reject::not_found())
                    }
                }
            },
        )
    };
    let answered = preflight.or(authz::jwks(&app, &inc)).unify().or(api.and(families)).unify().recover(recover).unify();
    warp::header::optional::<String>("origin")
        .and(answered)
        .map(move |origin: Option<String>, mut resp: Response| {
            cors.decorate(origin.as_deref(), &mut resp);
            resp
        })
        .boxed()
}

/// warp's own rejections (unknown route, wrong method) as Grape's catch-all answer.
async fn recover(_rejection: warp::Rejection) -> Result<Response, Infallible> {
    Ok(reply::route_not_found())
}
