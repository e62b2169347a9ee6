//! Turning a raw request into what handlers need: the client context (IP through trusted proxies,
//! user agent, session cookie, request id) and the merged parameters, with a bounded body read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::{Buf, Bytes, BytesMut};
use futures::StreamExt;
use warp::Filter;
use warp::http::{HeaderMap, Method};

use crate::config::Gateway;
use crate::config::proxies::Proxies;
use crate::http::params::Params;
use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};

/// Everything a handler receives about its request.
pub struct Incoming {
    pub ctx: RequestContext,
    pub params: ServiceResult<Params>,
    pub headers: HeaderMap,
    pub method: Method,
    /// The path and the raw query string as received (for pagination links).
    pub path: String,
    pub query: String,
    /// Held for the whole request when its body may be as large as an upload (see `UPLOAD_BODIES`).
    pub upload_permit: Option<tokio::sync::SemaphorePermit<'static>>,
}

impl Incoming {
    /// The parsed parameters, or the body error to answer with.
    pub fn params(&self) -> ServiceResult<&Params> {
        self.params.as_ref().map_err(Clone::clone)
    }
}

/// The client IP: the peer, unless the peer is a trusted proxy, in which case the right-most
/// untrusted address of `X-Forwarded-For` (or Akamai's `True-Client-IP` when configured).
pub fn client_ip(proxies: &Proxies, peer: Option<SocketAddr>, headers: &HeaderMap, akamai: bool) -> String {
    let Some(peer) = peer.map(|p| p.ip()) else { return "127.0.0.1".into() };
    if !proxies.trusts(peer) {
        return peer.to_string();
    }
    if akamai
        && let Some(ip) =
            headers.get("true-client-ip").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<IpAddr>().ok())
    {
        return ip.to_string();
    }
    let chain: Vec<IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect();
    chain.iter().rev().find(|ip| !proxies.trusts(**ip)).or(chain.first()).copied().unwrap_or(peer).to_string()
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(warp::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty() && v.len() <= 256)
}

/// Past the limit, this much more is read and discarded so the client, still sending, receives
/// the 413 instead of a reset connection; beyond it the connection is dropped.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// Reads the body up to `limit` bytes; a longer body is a 413, whether or not it announced a length.
async fn read_body<S, B>(mut stream: S, limit: usize) -> ServiceResult<Bytes>
where
    S: futures::Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let mut out = BytesMut::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let mut chunk = chunk.map_err(|_| ServiceError::malformed("request.malformed_body"))?;
        seen += chunk.remaining();
        if seen > limit {
            if seen > limit + DRAIN_BYTES {
                break;
            }
            chunk.advance(chunk.remaining());
            continue;
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            out.extend_from_slice(part);
            let n = part.len();
            chunk.advance(n);
        }
    }
    if seen > limit {
        return Err(ServiceError::too_large("request.body_too_large"));
    }
    Ok(out.freeze())
}

/// Upload bodies read and held at once. The body is read before the handler authenticates, so
/// without this bound a few anonymous clients could make the daemon hold many
/// `max_upload_request_bytes` bodies; further uploads wait their turn instead.
static UPLOAD_BODIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(warp::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// `POST resource/documents` and `resource/addresses`: the only endpoints that take
/// `multipart/form-data` (elsewhere it stays a 415, so no other handler ever receives files).
fn is_upload_route(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let resource = path.strip_prefix("/api/v2/barong/resource/").or_else(|| path.strip_prefix("/api/v2/resource/"));
    *method == Method::POST && matches!(resource, Some("documents" | "addresses"))
}

/// The body limit of a request: `max_upload_request_bytes` for a multipart upload (files of
/// several MB), `max_body_bytes` for everything else, so only the two upload endpoints can make
/// the daemon hold a large body in memory.
fn body_limit(config: &crate::config::Config, method: &Method, path: &str, headers: &HeaderMap) -> usize {
    if is_multipart(headers) && is_upload_route(method, path) {
        config.max_upload_request_bytes as usize
    } else {
        config.max_body_bytes as usize
    }
}

/// The filter every handler starts from. Body problems travel in `params`, not as rejections.
pub fn incoming(app: Arc<App>) -> impl Filter<Extract = (Incoming,), Error = warp::Rejection> + Clone {
    warp::any()
        .and(warp::addr::remote())
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(warp::query::raw().or(warp::any().map(String::new)).unify())
        .and(warp::path::full())
        .and(warp::body::stream())
        .then(
            move |peer: Option<SocketAddr>,
                  method: Method,
                  headers: HeaderMap,
                  query: String,
                  full: warp::path::FullPath,
                  body| {
                let app = app.clone();
                async move {
                    let limit = body_limit(&app.config, &method, full.as_str(), &headers);
                    let upload_permit = if limit > app.config.max_body_bytes as usize {
                        UPLOAD_BODIES.acquire().await.ok()
                    } else {
                        None
                    };
                    let body = read_body(Box::pin(body), limit).await;
                    let content_type = headers.get(warp::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
                    let query_text = if query.is_empty() { None } else { Some(query.as_str()) };
                    let params = body.and_then(|b| {
                        let blank = b.iter().all(u8::is_ascii_whitespace);
                        if !blank && is_multipart(&headers) && !is_upload_route(&method, full.as_str()) {
                            return Err(ServiceError::unsupported_media("request.unsupported_media_type"));
                        }
                        Params::parse_bytes(query_text, content_type, b)
                    });
                    let ctx = RequestContext {
                        ip: client_ip(
                            &app.config.trusted_proxies,
                            peer,
                            &headers,
                            app.config.gateway == Gateway::Akamai,
                        ),
                        user_agent: headers
                            .get(warp::http::header::USER_AGENT)
                            .and_then(|v| v.to_str().ok())
                            .map(|s| s.chars().take(512).collect()),
                        session_id: cookie_value(&headers, &app.config.session_name),
                        request_id: uuid::Uuid::new_v4().simple().to_string(),
                    };
                    let path = full.as_str().to_string();
                    Incoming { ctx, params, headers, method, path, query, upload_permit }
                }
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let p = Proxies::try_from(vec!["127.0.0.1/32".to_string(), "10.0.0.0/8".to_string()]).expect("parses");
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.1.2.3".parse().expect("hv"));
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let remote: SocketAddr = "198.51.100.7:5000".parse().expect("addr");
        assert_eq!(client_ip(&p, Some(local), &h, false), "203.0.113.9");
        assert_eq!(client_ip(&p, Some(remote), &h, false), "198.51.100.7");
    }

    #[test]
    fn only_multipart_uploads_get_the_upload_limit() {
        let config =
            crate::config::Config { max_body_bytes: 1000, max_upload_request_bytes: 5000, ..Default::default() };
        let multipart = |ct: &str| {
            let mut h = HeaderMap::new();
            h.insert("content-type", ct.parse().expect("hv"));
            h
        };
        let mp = multipart("multipart/form-data; boundary=x");
        let limit = |m: Method, p: &str, h: &HeaderMap| body_limit(&config, &m, p, h);
        assert_eq!(limit(Method::POST, "/api/v2/barong/resource/documents", &mp), 5000);
        assert_eq!(limit(Method::POST, "/api/v2/resource/addresses", &mp), 5000);
        assert_eq!(limit(Method::POST, "/api/v2/barong/resource/documents", &multipart("application/json")), 1000);
        assert_eq!(limit(Method::PUT, "/api/v2/barong/resource/documents", &mp), 1000);
        assert_eq!(limit(Method::POST, "/api/v2/barong/resource/labels", &mp), 1000);
        assert_eq!(limit(Method::POST, "/api/v2/auth/api/v2/barong/resource/documents", &mp), 1000);
        assert!(is_upload_route(&Method::POST, "/api/v2/resource/documents/"));
        assert!(!is_upload_route(&Method::POST, "/api/v2/barong/identity/users"));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; _barong_session=abc; b=2".parse().expect("hv"));
        assert_eq!(cookie_value(&h, "_barong_session").as_deref(), Some("abc"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }
}
