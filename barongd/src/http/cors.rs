//! CORS for `/api/*`, as Barong configured rack-cors: origins from `api_cors_origins` (`*` or a
//! comma list), the usual methods, any headers, credentials and max-age from the config.
//!
//! Credentials go only to origins listed by name. Under `*` any origin gets `*` and never
//! credentials (as rack-cors does): echoing an arbitrary origin with credentials would let every
//! site on the web read a signed-in user's API answers.

use warp::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use warp::reply::Response;

use crate::config::Config;

pub struct Cors {
    any_origin: bool,
    origins: Vec<String>,
    credentials: bool,
    max_age: String,
}

const METHODS: &str = "GET, POST, DELETE, PUT, PATCH, OPTIONS, HEAD";

impl Cors {
    pub fn new(c: &Config) -> Self {
        let origins: Vec<String> = c
            .api_cors_origins
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_string())
            .filter(|o| !o.is_empty())
            .collect();
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
}
