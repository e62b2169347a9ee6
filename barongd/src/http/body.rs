//! Reading a request body: its size limit (larger only for the two upload endpoints), a pace it
//! must keep, and the slots that bound how many upload bodies are open at once.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use futures::StreamExt;
use tokio::time::Instant;
use warp::http::{HeaderMap, Method};

use crate::config::Config;
use crate::services::error::{Refusal, ServiceError, ServiceResult};

/// Past the limit, this much more is read and discarded so the client, still sending, receives
/// the 413 instead of a reset connection; beyond it the connection is dropped.
const DRAIN_BYTES: usize = 16 * 1024 * 1024;

/// How slowly a body may arrive: no gap longer than `idle`, and all of it within `idle` plus its
/// expected length at `min_rate` bytes per second.
#[derive(Clone, Copy)]
pub struct Pace {
    pub idle: Duration,
    pub min_rate: u64,
}

impl Pace {
    pub fn of(config: &Config) -> Self {
        Pace {
            idle: Duration::from_secs(config.request_body.idle_timeout_seconds),
            min_rate: config.request_body.min_bytes_per_second.max(1),
        }
    }
}

/// 408: the client stopped sending, or sends too slowly, so it stops holding the daemon.
fn timed_out() -> ServiceError {
    ServiceError::refused(Refusal::TimedOut, "request.body_timeout")
}

/// Reads the body up to `limit` bytes at `pace`; a longer body is a 413, whether or not it
/// announced a length. `announced` is the `Content-Length`, if any.
pub async fn read_body<S, B>(mut stream: S, limit: usize, announced: Option<usize>, pace: Pace) -> ServiceResult<Bytes>
where
    S: futures::Stream<Item = Result<B, warp::Error>> + Unpin,
    B: Buf,
{
    let expected = announced.unwrap_or(limit).min(limit.saturating_add(DRAIN_BYTES)) as u64;
    let whole = Instant::now() + pace.idle + Duration::from_millis(expected.saturating_mul(1000) / pace.min_rate);
    let mut out = BytesMut::new();
    let mut seen = 0usize;
    loop {
        let deadline = (Instant::now() + pace.idle).min(whole);
        let next = tokio::time::timeout_at(deadline, stream.next()).await.map_err(|_| timed_out())?;
        let Some(chunk) = next else { break };
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

/// The announced body length, when it is a number.
pub fn content_length(headers: &HeaderMap) -> Option<usize> {
    headers.get(warp::http::header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse().ok())
}

pub fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(warp::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// `POST resource/documents` and `resource/addresses`: the only endpoints that take
/// `multipart/form-data` (elsewhere it stays a 415, so no other handler ever receives files).
pub fn is_upload_route(method: &Method, path: &str) -> bool {
    let path = path.trim_end_matches('/');
    let resource = path.strip_prefix("/api/v2/barong/resource/").or_else(|| path.strip_prefix("/api/v2/resource/"));
    *method == Method::POST && matches!(resource, Some("documents" | "addresses"))
}

/// The body limit of a request: `max_upload_request_bytes` for a multipart upload (files of
/// several MB), `max_body_bytes` for everything else, so only the two upload endpoints can make
/// the daemon hold a large body in memory.
pub fn body_limit(config: &Config, method: &Method, path: &str, headers: &HeaderMap) -> usize {
    if is_multipart(headers) && is_upload_route(method, path) {
        config.max_upload_request_bytes as usize
    } else {
        config.max_body_bytes as usize
    }
}

/// Upload bodies read and held at once; further uploads wait their turn. Only authenticated
/// uploads get here, each client IP holds at most `max_open_uploads_per_ip` of them, and the
/// pace bounds how long any one is held.
static UPLOAD_BODIES: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Open uploads (waiting or reading) per client IP.
static OPEN_UPLOADS: LazyLock<Mutex<HashMap<String, usize>>> = LazyLock::new(Mutex::default);

/// One open upload of a client IP, with its turn to hold a body once it has one; dropping it
/// frees both.
pub struct UploadSlot {
    ip: String,
    _permit: Option<tokio::sync::SemaphorePermit<'static>>,
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut open = OPEN_UPLOADS.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.ip);
            }
        }
    }
}

/// A slot for an upload from `ip`: 429 when the address has `max_per_ip` open already, else
/// once one of the body permits is free.
pub async fn upload_slot(ip: &str, max_per_ip: usize) -> ServiceResult<UploadSlot> {
    {
        let mut open = OPEN_UPLOADS.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(ip.to_string()).or_insert(0);
        if *n >= max_per_ip {
            return Err(ServiceError::throttled("request.too_many_uploads"));
        }
        *n += 1;
    }
    // Built before the wait, so a client that gives up while waiting frees its count.
    let mut slot = UploadSlot { ip: ip.to_string(), _permit: None };
    slot._permit = UPLOAD_BODIES.acquire().await.ok();
    Ok(slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_multipart_uploads_get_the_upload_limit() {
        let config = Config { max_body_bytes: 1000, max_upload_request_bytes: 5000, ..Default::default() };
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

    #[tokio::test]
    async fn uploads_per_address_are_capped_and_freed() {
        let a = upload_slot("192.0.2.1", 2).await.expect("first");
        let _b = upload_slot("192.0.2.1", 2).await.expect("second");
        let third = upload_slot("192.0.2.1", 2).await.map(|_| ());
        assert!(matches!(third, Err(ServiceError::Refused { why: Refusal::Throttled, .. })));
        let _other = upload_slot("192.0.2.2", 2).await.expect("another address");
        drop(a);
        let _c = upload_slot("192.0.2.1", 2).await.expect("freed");
    }

    #[tokio::test]
    async fn a_silent_body_times_out() {
        let pace = Pace { idle: Duration::from_millis(50), min_rate: 1 };
        let stalled = futures::stream::pending::<Result<Bytes, warp::Error>>();
        let got = read_body(stalled, 100, Some(10), pace).await;
        assert!(matches!(got, Err(ServiceError::Refused { why: Refusal::TimedOut, .. })));
        // A steady trickle beats the idle gap, not the whole-body deadline.
        let pace = Pace { idle: Duration::from_millis(200), min_rate: 100 };
        let trickle = futures::stream::unfold((), |_| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((Ok::<_, warp::Error>(Bytes::from_static(b"x")), ()))
        });
        let got = read_body(Box::pin(trickle), 1000, Some(20), pace).await;
        assert!(matches!(got, Err(ServiceError::Refused { why: Refusal::TimedOut, .. })));
    }
}
