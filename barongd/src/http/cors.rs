//! CORS for `/api/*`, as Barong configured rack-cors: origins from `api_cors_origins` (`*` or a
//! comma list), the usual methods, any headers, credentials and max-age from the config.
//!
//! Credentials go only to origins listed by name. Under `*` any origin gets `*` and never
//! credentials (as rack-cors does): echoing an arbitrary origin with credentials would let every
//! site on the web read a signed-in user's API answers.

use warp::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use warp::reply::Response;

use crate::config::Config;
use crate::services::error::{ServiceError, ServiceResult};

pub struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    credentials: bool,
    max_age: String,
}

const METHODS: &str = "GET, POST, DELETE, PUT, PATCH, OPTIONS, HEAD";

/// The entries of `api_cors_origins`, `*` included.
fn configured_origins(c: &Config) -> Vec<String> {
    c.api_cors_origins
        .split(',')
        .map(|o| o.trim().trim_end_matches('/').to_string())
        .filter(|o| !o.is_empty())
        .collect()
}

impl Cors {
    pub fn new(c: &Config) -> Self {
        let origins = configured_origins(c);
        let any_origin = origins.iter().any(|o| o == "*");
        if any_origin && c.api_cors_allow_credentials {
            tracing::warn!(
                "api_cors_origins allows any origin (*) and api_cors_allow_credentials is on: credentials are \
                 sent only to origins listed by name; list the front-ends' origins to allow them"
            );
        }
        Cors { any_origin, origins, credentials: c.api_cors_allow_credentials, max_age: c.api_cors_max_age.to_string() }
    }

    /// The value for `Access-Control-Allow-Origin` when this origin is allowed, and whether it may
    /// receive credentials (only an origin listed by name may).
    fn allow(&self, origin: &str) -> Option<(String, bool)> {
        if self.origins.iter().any(|o| o == origin) {
            Some((origin.to_string(), self.credentials))
        } else if self.any_origin {
            Some(("*".to_string(), false))
        } else {
            None
        }
    }

    /// Adds the CORS headers to a response for a request from `origin`.
    pub fn decorate(&self, origin: Option<&str>, resp: &mut Response) {
        let Some((allowed, credentials)) = origin.and_then(|o| self.allow(o)) else { return };
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&allowed) {
            h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        if allowed != "*" {
            h.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        if credentials {
            h.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        }
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("Total, Per-Page, Page, Link, X-Request-Id"),
        );
    }

    /// The answer to a preflight `OPTIONS` request.
    pub fn preflight(&self, headers: &HeaderMap) -> Response {
        let mut resp = Response::new(Vec::new().into());
        *resp.status_mut() = StatusCode::OK;
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        if origin.and_then(|o| self.allow(o)).is_none() {
            return resp;
        }
        self.decorate(origin, &mut resp);
        let h = resp.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
        if let Some(req) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, req.clone());
        }
        if let Ok(v) = HeaderValue::from_str(&self.max_age) {
            h.insert(header::ACCESS_CONTROL_MAX_AGE, v);
        }
        resp
    }
}

/// Login CSRF: whether a request that opens a session (login, registration, an email
/// confirmation that logs in) may come from the page that sent it. A browser names the page's
/// origin in `Origin` on every cross-origin POST, including the form and text/plain ones that need
/// no preflight; when it does, the origin must be listed by name in `api_cors_origins`, or be the
/// daemon's own (the `Host` or `X-Forwarded-Host` the request was sent to), or the front-end's
/// (`frontend_url`). `*` lets any origin read public answers but never sign a browser in: an
/// unlisted origin is never granted credentials, so no cross-origin page could keep that session
/// legitimately anyway. No `Origin` (curl, servers, mobile apps) is no browser to protect.
pub fn may_open_session(c: &Config, headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else { return true };
    let Some(origin) = origin.to_str().ok().map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase()) else {
        return false;
    };
    if configured_origins(c).iter().any(|o| o != "*" && o.eq_ignore_ascii_case(&origin)) {
        return true;
    }
    let frontend = c.frontend_url.trim().to_ascii_lowercase();
    if origin_of(&frontend).is_some_and(|f| f == origin) {
        return true;
    }
    let Some(authority) = authority_of(&origin) else { return false };
    [header::HOST.as_str(), "x-forwarded-host"]
        .iter()
        .filter_map(|h| headers.get(*h).and_then(|v| v.to_str().ok()))
        .flat_map(|v| v.split(','))
        .any(|host| host.trim().eq_ignore_ascii_case(&authority))
}

/// 403 with `key` when [`may_open_session`] says no.
pub fn check_session_origin(c: &Config, headers: &HeaderMap, key: &str) -> ServiceResult<()> {
    if may_open_session(c, headers) { Ok(()) } else { Err(ServiceError::forbidden(key)) }
}

/// `scheme://host[:port]` of a URL (its origin), without a default port.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next().filter(|h| !h.is_empty())?;
    let authority = authority_of(&format!("{scheme}://{host}"))?;
    Some(format!("{scheme}://{authority}"))
}

/// The `host[:port]` of an origin as a `Host` header names it (no default port).
fn authority_of(origin: &str) -> Option<String> {
    let (scheme, host) = origin.split_once("://")?;
    let host = match scheme {
        "https" => host.strip_suffix(":443").unwrap_or(host),
        "http" => host.strip_suffix(":80").unwrap_or(host),
        _ => return None,
    };
    (!host.is_empty()).then(|| host.to_string())
}

pub fn is_preflight(method: &Method, headers: &HeaderMap) -> bool {
    method == Method::OPTIONS && headers.contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cors(origins: &str, credentials: bool) -> Cors {
        Cors::new(&Config {
            api_cors_origins: origins.into(),
            api_cors_allow_credentials: credentials,
            ..Default::default()
        })
    }

    #[test]
    fn origins_are_allowed_as_configured() {
        let allow = |c: &Cors, o: &str| c.allow(o);
        assert_eq!(allow(&cors("*", false), "https://a.io"), Some(("*".into(), false)));
        // Any origin never gets credentials, even with api_cors_allow_credentials on.
        assert_eq!(allow(&cors("*", true), "https://evil.io"), Some(("*".into(), false)));
        assert_eq!(allow(&cors("https://a.io, *", true), "https://a.io"), Some(("https://a.io".into(), true)));
        assert_eq!(
            allow(&cors("https://a.io, https://b.io", false), "https://b.io"),
            Some(("https://b.io".into(), false))
        );
        assert_eq!(cors("https://a.io", false).allow("https://evil.io"), None);
    }

    #[test]
    fn sessions_open_only_from_listed_own_or_frontend_origins() {
        let config = |origins: &str| Config {
            api_cors_origins: origins.into(),
            frontend_url: "https://exchange.io/".into(),
            ..Default::default()
        };
        let headers = |pairs: &[(&str, &str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.append(warp::http::HeaderName::from_bytes(k.as_bytes()).expect("name"), v.parse().expect("hv"));
            }
            h
        };
        let any = config("*");
        let listed = config("https://app.io, *");
        let host = ("host", "api.exchange.io");
        assert!(may_open_session(&any, &headers(&[host])), "no Origin: not a browser");
        assert!(!may_open_session(&any, &headers(&[host, ("origin", "https://evil.io")])), "* signs no one in");
        assert!(!may_open_session(&any, &headers(&[host, ("origin", "null")])));
        assert!(may_open_session(&listed, &headers(&[host, ("origin", "https://APP.io")])));
        assert!(may_open_session(&any, &headers(&[host, ("origin", "https://exchange.io")])), "frontend_url");
        assert!(may_open_session(&any, &headers(&[host, ("origin", "https://api.exchange.io:443")])), "own host");
        assert!(!may_open_session(&any, &headers(&[host, ("origin", "http://api.exchange.io:8080")])));
        let proxied = [
            ("host", "127.0.0.1:3000"),
            ("x-forwarded-host", "api.exchange.io"),
            ("origin", "https://api.exchange.io"),
        ];
        assert!(may_open_session(&any, &headers(&proxied)));
    }
}
