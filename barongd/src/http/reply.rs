//! Building responses: JSON bodies, Barong's bare-number bodies, the session cookie, and the one
//! place where service errors become Barong's `{"errors":[...]}`.

use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{Refusal, ServiceError};
use crate::services::identity::sessions::WithSession;
use crate::services::telemetry::{access, record};

pub fn json<T: Serialize>(status: u16, body: &T) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => raw_json(status, bytes),
        Err(e) => {
            tracing::error!(error = %e, "response serialisation failed");
            raw_json(500, br#"{"errors":["server.internal_error"]}"#.to_vec())
        }
    }
}

pub fn raw_json(status: u16, bytes: Vec<u8>) -> Response {
    shared_json(status, bytes.into())
}

/// A JSON body already rendered and shared with a cache (no copy).
pub fn shared_json(status: u16, bytes: bytes::Bytes) -> Response {
    let mut r = Response::new(bytes.into());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

/// Barong endpoints that end with `status N` answer the bare number as their body.
pub fn status_only(status: u16) -> Response {
    raw_json(status, status.to_string().into_bytes())
}

/// Renders a service error. Internal errors are logged once with the request id and stay opaque.
pub fn error(ctx: &RequestContext, e: ServiceError) -> Response {
    match e {
        ServiceError::Refused { why, keys } => {
            access::note_error(keys.first().map(String::as_str).unwrap_or_default());
            if why == Refusal::Throttled {
                record::throttled(keys.first().map(String::as_str).unwrap_or_default());
            }
            json(status_of(why), &serde_json::json!({ "errors": keys }))
        }
        ServiceError::Internal(detail) => {
            access::note_error("server.internal_error");
            tracing::error!(request_id = %ctx.request_id, error = %detail, "internal error");
            json(500, &serde_json::json!({ "errors": ["server.internal_error"] }))
        }
    }
}

/// The one place a refusal becomes a status code. Barong's codes: validation and uniqueness are
/// 422, "not as things stand" and unreadable requests 400, a restriction its own code.
pub fn status_of(why: Refusal) -> u16 {
    match why {
        Refusal::Invalid | Refusal::Conflict => 422,
        Refusal::Rejected | Refusal::Malformed => 400,
        Refusal::Unauthenticated => 401,
        Refusal::Forbidden => 403,
        Refusal::NotFound => 404,
        Refusal::TooLarge => 413,
        Refusal::UnsupportedMedia => 415,
        Refusal::TimedOut => 408,
        Refusal::Throttled => 429,
        Refusal::Restricted(code) => code,
    }
}

/// `Set-Cookie` for a new session id (HttpOnly, SameSite=Lax, Secure when configured).
pub fn set_session_cookie(app: &App, resp: &mut Response, session_id: &str) {
    let secure = if app.config.session_cookie_secure { "; Secure" } else { "" };
    let cookie = format!(
        "{}={session_id}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
        app.config.session_name, app.config.session_max_lifetime
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// The user entity of a request that may have opened a session, with that session's cookie.
pub fn with_session(app: &App, status: u16, w: WithSession) -> Response {
    let mut resp = json(status, &w.user);
    if let Some(s) = &w.session {
        set_session_cookie(app, &mut resp, &s.session_id);
    }
    resp
}

/// `Set-Cookie` that removes the session cookie from the browser.
pub fn clear_session_cookie(app: &App, resp: &mut Response) {
    let cookie = format!("{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax", app.config.session_name);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// `{"error":"Route is not found"}` — Grape's catch-all (singular `error`, kept for clients).
pub fn route_not_found() -> Response {
    raw_json(404, br#"{"error":"Route is not found"}"#.to_vec())
}

/// A handler's outcome: its own response, or the rendered service error.
pub fn respond(ctx: &RequestContext, r: Result<Response, ServiceError>) -> Response {
    r.unwrap_or_else(|e| error(ctx, e))
}

/// A page of a list with api-pagination's headers: `Total`, `Per-Page`, `Page`, and `Link`
/// ([`page_links`]).
pub fn paginated<T: Serialize>(items: &T, total: i64, per_page: i64, page: i64, path: &str, query: &str) -> Response {
    let mut r = json(200, items);
    let h = r.headers_mut();
    for (name, value) in [("total", total), ("per-page", per_page), ("page", page)] {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            h.insert(name, v);
        }
    }
    if let Some(links) = page_links(total, per_page, page, path, query)
        && let Ok(v) = HeaderValue::from_str(&links)
    {
        h.insert("link", v);
    }
    r
}

/// api-pagination's `Link` value: `first`/`prev` (past page 1) and `last`/`next` (before the
/// last page), each the request's own path and query with `page` replaced; `None` when there
/// is no other page.
pub fn page_links(total: i64, per_page: i64, page: i64, path: &str, query: &str) -> Option<String> {
    let pages = if per_page > 0 { (total + per_page - 1) / per_page } else { 0 }.max(1);
    let link_to = |n: i64| {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .filter(|(k, _)| k != "page")
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        pairs.push(("page".into(), n.to_string()));
        let q = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        format!("<{path}?{q}>")
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("{}; rel=\"first\"", link_to(1)));
        links.push(format!("{}; rel=\"prev\"", link_to(page - 1)));
    }
    if page < pages {
        links.push(format!("{}; rel=\"last\"", link_to(pages)));
        links.push(format!("{}; rel=\"next\"", link_to(page + 1)));
    }
    (!links.is_empty()).then(|| links.join(", "))
}

/// 204 with no body (Barong's `status 204`).
pub fn no_content() -> Response {
    let mut r = Response::new(Vec::new().into());
    *r.status_mut() = StatusCode::NO_CONTENT;
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(page: i64, total: i64) -> Option<String> {
        let r = paginated(
            &serde_json::json!([]),
            total,
            10,
            page,
            "/api/v2/barong/resource/api_keys",
            "limit=10&page=9&x=a%20b",
        );
        r.headers().get("link").map(|v| v.to_str().expect("ascii").to_string())
    }

    #[test]
    fn refusals_get_barongs_status_codes() {
        let table = [
            (Refusal::Invalid, 422),
            (Refusal::Conflict, 422),
            (Refusal::Rejected, 400),
            (Refusal::Malformed, 400),
            (Refusal::Unauthenticated, 401),
            (Refusal::Forbidden, 403),
            (Refusal::NotFound, 404),
            (Refusal::TooLarge, 413),
            (Refusal::UnsupportedMedia, 415),
            (Refusal::TimedOut, 408),
            (Refusal::Throttled, 429),
            (Refusal::Restricted(471), 471),
            (Refusal::Restricted(423), 423),
        ];
        for (why, status) in table {
            assert_eq!(status_of(why), status, "{why:?}");
        }
        let ctx = RequestContext::default();
        let r = error(&ctx, ServiceError::invalid_all(vec!["a.b".into(), "c.d".into()]));
        assert_eq!(r.status(), 422);
        let r = error(&ctx, ServiceError::internal("db down"));
        assert_eq!(r.status(), 500);
    }

    #[test]
    fn pagination_links_follow_api_pagination() {
        let p = "/api/v2/barong/resource/api_keys?limit=10&x=a+b";
        assert_eq!(link(1, 25), Some(format!("<{p}&page=3>; rel=\"last\", <{p}&page=2>; rel=\"next\"")));
        assert_eq!(
            link(2, 25),
            Some(format!(
                "<{p}&page=1>; rel=\"first\", <{p}&page=1>; rel=\"prev\", <{p}&page=3>; rel=\"last\", <{p}&page=3>; rel=\"next\""
            ))
        );
        assert_eq!(link(3, 25), Some(format!("<{p}&page=1>; rel=\"first\", <{p}&page=2>; rel=\"prev\"")));
        assert_eq!(link(1, 5), None, "one page: no links");
        let r = paginated(&serde_json::json!([]), 25, 10, 2, "/x", "");
        let h = r.headers();
        assert_eq!(
            (&h["total"], &h["per-page"], &h["page"]),
            (
                &"25".parse::<HeaderValue>().expect("hv"),
                &"10".parse::<HeaderValue>().expect("hv"),
                &"2".parse::<HeaderValue>().expect("hv")
            )
        );
    }
}
