//! Turning a raw request into what handlers need: the client context (IP through trusted proxies,
//! user agent, session cookie, request id) and the merged parameters, with a bounded body read.
//! An upload is authenticated before its body is read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use warp::Filter;
use warp::http::{HeaderMap, Method};

use crate::config::Gateway;
use crate::config::proxies::Proxies;
use crate::http::auth::authenticate;
use crate::http::body::{self, Pace};
use crate::http::incoming::Incoming;
use crate::http::observe;
use crate::http::params::Params;
use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};

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
                        request_id: observe::request_id(
                            &app.config.trusted_proxies,
                            peer,
                            headers.get("x-request-id").and_then(|v| v.to_str().ok()),
                        ),
                    };
                    let path = full.as_str().to_string();
                    let mut inc = Incoming {
                        ctx,
                        params: Err(ServiceError::internal("the body was not read")),
                        headers,
                        method,
                        path,
                        query,
                        authenticated: None,
                        raw_body: bytes::Bytes::new(),
                        upload_slot: None,
                    };
                    let limit = body::body_limit(&app.config, &inc.method, &inc.path, &inc.headers);
                    let announced = body::content_length(&inc.headers);
                    let pace = Pace::of(&app.config);
                    let read = if limit > app.config.max_body_bytes as usize {
                        open_upload(&app, &mut inc).await
                    } else {
                        Ok(())
                    };
                    let body = match read {
                        Ok(()) => body::read_body(Box::pin(body), limit, announced, pace).await,
                        Err(e) => Err(e),
                    };
                    if let Ok(b) = &body {
                        inc.raw_body = b.clone();
                    }
                    inc.params = parse(&inc, body);
                    inc
                }
            },
        )
}

/// Before an upload's body is read: who is asking (an anonymous or refused upload is answered
/// without its body ever being read), then a slot among the open uploads.
async fn open_upload(app: &App, inc: &mut Incoming) -> ServiceResult<()> {
    let who = authenticate(app, inc).await;
    let refused = who.as_ref().err().cloned();
    inc.authenticated = Some(who);
    if let Some(e) = refused {
        return Err(e);
    }
    inc.upload_slot = Some(body::upload_slot(&inc.ctx.ip, app.config.request_body.max_open_uploads_per_ip).await?);
    Ok(())
}

/// The merged parameters of a request whose body was read.
fn parse(inc: &Incoming, body: ServiceResult<bytes::Bytes>) -> ServiceResult<Params> {
    let b = body?;
    let blank = b.iter().all(u8::is_ascii_whitespace);
    if !blank && body::is_multipart(&inc.headers) && !body::is_upload_route(&inc.method, &inc.path) {
        return Err(ServiceError::unsupported_media("request.unsupported_media_type"));
    }
    let content_type = inc.headers.get(warp::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let query_text = if inc.query.is_empty() { None } else { Some(inc.query.as_str()) };
    Params::parse_bytes(query_text, content_type, b)
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
    fn cookies_are_found_by_name() {
        let mut h = HeaderMap::new();
        h.insert("cookie", "a=1; _barong_session=abc; b=2".parse().expect("hv"));
        assert_eq!(cookie_value(&h, "_barong_session").as_deref(), Some("abc"));
        assert_eq!(cookie_value(&h, "missing"), None);
    }
}
