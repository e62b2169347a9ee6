//! What every request leaves behind for operators: a tracing span (request id, method, route
//! template, client IP) around its handler, an `X-Request-Id` on its response, and its count and
//! latency in the metrics, labelled by route template so ids never become label values.

use std::net::SocketAddr;
use std::time::Instant;

use warp::http::{HeaderValue, Method};
use warp::reply::Response;

use crate::config::proxies::Proxies;
use crate::http::incoming::Incoming;
use crate::services::telemetry::record;

/// The route template of the endpoint that answered, carried on the response to the outer
/// layer that counts it.
#[derive(Debug, Clone)]
pub struct RouteTemplate(pub String);

/// Label of responses no endpoint claimed (unknown routes, CORS preflights, the import gate).
pub const UNMATCHED: &str = "unmatched";

/// A request as its span and access line describe it.
pub struct Meta {
    pub method: String,
    pub path: String,
    pub request_id: String,
    pub ip: String,
    pub route: String,
}

impl Meta {
    /// `params` names the path segments that are values, counted from the end (0: the last).
    pub fn of(inc: &Incoming, full: &str, params: &[(usize, &str)]) -> Meta {
        Meta {
            method: inc.method.to_string(),
            path: full.to_string(),
            request_id: inc.ctx.request_id.clone(),
            ip: inc.ctx.ip.clone(),
            route: template(full, params),
        }
    }

    /// The span every log line of the request is written in.
    pub fn span(&self) -> tracing::Span {
        tracing::info_span!("request", request_id = %self.request_id, method = %self.method,
            route = %self.route, ip = %self.ip, uid = tracing::field::Empty,
            error = tracing::field::Empty)
    }

    /// Tags the response with the request id and the route template, and writes the request's
    /// access line (inside the request span, which adds request id, method, route, client IP,
    /// and uid and error key once known). Only the path, never the query: query strings may
    /// carry passwords and tokens.
    pub fn finish(&self, resp: &mut Response, started: Instant) {
        if let Ok(v) = HeaderValue::from_str(&self.request_id) {
            resp.headers_mut().insert("x-request-id", v);
        }
        resp.extensions_mut().insert(RouteTemplate(self.route.clone()));
        resp.extensions_mut().insert(AccessLogged);
        tracing::info!(target: "access", path = %self.path, status = resp.status().as_u16(),
            micros = started.elapsed().as_micros() as u64, "request");
    }
}

/// Marks a response whose access line is written.
#[derive(Debug, Clone, Copy)]
struct AccessLogged;

/// The route template of `path`: Barong's public prefix (`/api/v2/barong/`, also for requests
/// made to the internal `/api/v2/` form), no trailing slash, and each value segment named in
/// `params` replaced by its name (`:uid`).
pub fn template(path: &str, params: &[(usize, &str)]) -> String {
    let path = path.trim_end_matches('/');
    let rest = path.strip_prefix("/api/v2/barong/").or_else(|| path.strip_prefix("/api/v2/"));
    let mut segments: Vec<&str> = rest.unwrap_or(path.trim_start_matches('/')).split('/').collect();
    let n = segments.len();
    for (from_end, name) in params {
        if *from_end < n {
            segments[n - 1 - from_end] = name;
        }
    }
    let prefix = if rest.is_some() { "/api/v2/barong/" } else { "/" };
    format!("{prefix}{}", segments.join("/"))
}

/// The name of the value segment that follows `parent` (`users/{uid}`, `api_keys/{kid}`).
pub fn param_name(path: &str) -> &'static str {
    let parent = path.trim_end_matches('/').rsplit('/').nth(1).unwrap_or_default();
    match parent {
        "users" => ":uid",
        "api_keys" => ":kid",
        "labels" => ":key",
        "activity" => ":topic",
        "swagger_doc" => ":name",
        _ => ":id",
    }
}

/// The request id: the one a trusted proxy sent in `X-Request-Id` (so a request can be followed
/// across hops), else a fresh uuid v4. An id we would not print safely is replaced.
pub fn request_id(proxies: &Proxies, peer: Option<SocketAddr>, sent: Option<&str>) -> String {
    let trusted = peer.is_some_and(|p| proxies.trusts(p.ip()));
    match sent {
        Some(id) if trusted && is_printable_id(id) => id.to_string(),
        _ => uuid::Uuid::new_v4().simple().to_string(),
    }
}

fn is_printable_id(id: &str) -> bool {
    (1..=128).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// What the outer layer knows of a request no endpoint logged.
pub struct Outer<'a> {
    pub started: Instant,
    pub method: &'a Method,
    pub path: &'a str,
    pub peer: Option<SocketAddr>,
    pub sent_id: Option<&'a str>,
    /// The client IP as the endpoints compute it (after trusted proxies), for its access line.
    pub ip: &'a dyn Fn() -> String,
}

/// The outer layer: counts every response, and gives the ones no endpoint handled (unknown
/// routes, preflights, the import gate, health and the JWKS) an `X-Request-Id` and their access
/// line — at debug level for the probes and scrapes of `/health` and `/metrics`, which would
/// drown the rest.
pub fn finish(proxies: &Proxies, outer: Outer<'_>, mut resp: Response) -> Response {
    let status = resp.status().as_u16();
    if resp.extensions().get::<AccessLogged>().is_none() {
        let id = match resp.headers().get("x-request-id").and_then(|v| v.to_str().ok()) {
            Some(id) => id.to_string(),
            None => request_id(proxies, outer.peer, outer.sent_id),
        };
        if let Ok(v) = HeaderValue::from_str(&id) {
            resp.headers_mut().insert("x-request-id", v);
        }
        let micros = outer.started.elapsed().as_micros() as u64;
        let (method, path, ip) = (outer.method.as_str(), outer.path, (outer.ip)());
        if path.starts_with("/health") || path == "/metrics" {
            tracing::debug!(target: "access", request_id = %id, method, path, ip, status, micros, "request");
        } else {
            tracing::info!(target: "access", request_id = %id, method, path, ip, status, micros, "request");
        }
    }
    let route = resp.extensions().get::<RouteTemplate>().map_or(UNMATCHED, |t| t.0.as_str());
    record::http_request(route, outer.method.as_str(), status, outer.started.elapsed());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_use_the_public_prefix_and_name_the_values() {
        assert_eq!(template("/api/v2/identity/ping", &[]), "/api/v2/barong/identity/ping");
        assert_eq!(template("/api/v2/barong/resource/users/me/", &[]), "/api/v2/barong/resource/users/me");
        let p = "/api/v2/barong/admin/users/ID123ABC";
        assert_eq!(template(p, &[(0, param_name(p))]), "/api/v2/barong/admin/users/:uid");
        let doc = "/api/v2/barong/resource/documents/42/upload";
        assert_eq!(template(doc, &[(1, ":id")]), "/api/v2/barong/resource/documents/:id/upload");
        assert_eq!(template("/.well-known/jwks.json", &[]), "/.well-known/jwks.json");
    }

    #[test]
    fn a_request_id_is_taken_only_from_a_trusted_proxy_and_only_when_printable() {
        let proxies = Proxies::try_from(vec!["127.0.0.1/32".to_string()]).expect("parses");
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let remote: SocketAddr = "198.51.100.7:5000".parse().expect("addr");
        assert_eq!(request_id(&proxies, Some(local), Some("abc-123")), "abc-123");
        assert_ne!(request_id(&proxies, Some(remote), Some("abc-123")), "abc-123");
        let forged = request_id(&proxies, Some(local), Some("a\nb"));
        assert_eq!(forged.len(), 32, "{forged}");
        assert!(request_id(&proxies, Some(local), Some(&"x".repeat(129))).len() == 32);
    }
}
