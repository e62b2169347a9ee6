//! The HTTP API: thin warp edges over the services. Routes are composed here, one folder or file
//! per API family; every handler runs behind the same request filter and panic guard, and warp's
//! own rejections come out as Barong's errors. `reply` holds the one mapping from service errors
//! to Barong's JSON errors and status codes.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::services::App;

pub mod admin;
pub mod auth;
pub mod body;
pub mod cors;
pub mod endpoint;
pub mod gateway;
pub mod general;
pub mod identity;
pub mod import_gate;
pub mod incoming;
pub mod management;
pub mod multipart;
pub mod observe;
pub mod ops;
pub mod params;
pub mod public;
pub mod reply;
pub mod request;
pub mod resource;

/// All routes, served at the public `/api/v2/barong/...` paths and at Barong's internal
/// `/api/v2/...` form (for gateways that strip the `barong` segment).
pub fn routes(app: Arc<App>) -> BoxedFilter<(Response,)> {
    let inc = request::incoming(app.clone()).boxed();
    let barong = warp::path("barong").or(warp::any()).unify();
    let api = warp::path("api").and(warp::path("v2")).and(barong);
    let families = warp::path("identity")
        .and(identity::routes(&app, &inc))
        .or(warp::path("public").and(public::routes(&app, &inc)))
        .unify()
        .or(warp::path("resource").and(resource::routes(&app, &inc)))
        .unify()
        .or(warp::path("auth").and(gateway::routes(&app, &inc)))
        .unify()
        .or(warp::path("admin").and(admin::routes(&app, &inc)))
        .unify()
        .or(warp::path("management").and(management::routes(&app)))
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
    let answered = ops::health(&app)
        .or(import_gate::gate(app.clone()))
        .unify()
        .or(preflight)
        .unify()
        .or(gateway::jwks(&app, &inc))
        .unify()
        .or(api.and(families))
        .unify()
        .recover(recover)
        .unify();
    let decorated = warp::header::optional::<String>("origin").and(answered).map(
        move |origin: Option<String>, mut resp: Response| {
            cors.decorate(origin.as_deref(), &mut resp);
            resp
        },
    );
    // `Instant::now` runs before anything else of the request: the latency counts it all.
    warp::any()
        .map(Instant::now)
        .and(warp::method())
        .and(warp::addr::remote())
        // A header that is not text is no id to keep; it must not turn the request into a rejection.
        .and(warp::header::optional::<String>("x-request-id").or(warp::any().map(|| None)).unify())
        .and(warp::path::full())
        .and(forwarding_headers())
        .and(decorated)
        .map(
            move |started: Instant,
                  method: warp::http::Method,
                  peer: Option<SocketAddr>,
                  sent_id: Option<String>,
                  full: warp::path::FullPath,
                  forwarding: warp::http::HeaderMap,
                  resp: Response| {
                let proxies = &app.config.trusted_proxies;
                let akamai = app.config.gateway == crate::config::Gateway::Akamai;
                let ip = || request::client_ip(proxies, peer, &forwarding, akamai);
                let outer = observe::Outer {
                    started,
                    method: &method,
                    path: full.as_str(),
                    peer,
                    sent_id: sent_id.as_deref(),
                    ip: &ip,
                };
                observe::finish(proxies, outer, resp)
            },
        )
        .boxed()
}

/// The headers the client IP is read from (only those: the access line of a request no endpoint
/// answered needs no more, and every request pays for this). Never a rejection.
fn forwarding_headers() -> impl Filter<Extract = (warp::http::HeaderMap,), Error = Infallible> + Clone {
    let one = |name: &'static str| warp::header::optional::<String>(name).or(warp::any().map(|| None)).unify();
    one("x-forwarded-for").and(one("true-client-ip")).map(|xff: Option<String>, tci: Option<String>| {
        let mut headers = warp::http::HeaderMap::new();
        for (name, value) in [("x-forwarded-for", xff), ("true-client-ip", tci)] {
            if let Some(v) = value.and_then(|v| warp::http::HeaderValue::from_str(&v).ok()) {
                headers.insert(name, v);
            }
        }
        headers
    })
}

/// warp's own rejections (unknown route, wrong method) as Grape's catch-all answer.
async fn recover(_rejection: warp::Rejection) -> Result<Response, Infallible> {
    Ok(reply::route_not_found())
}
