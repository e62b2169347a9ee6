//! Import mode (spec migration-from-barong §2.2): from the first run of an import until
//! `finish`, the API answers 503 `server.import_in_progress` except ping, time, version and
//! configs, so nothing is written that a later run would overwrite. The flag is cached in the
//! App (set by the job and at start), never read from the database per request.

use std::sync::Arc;

use warp::Filter;
use warp::filters::path::FullPath;

use super::reply;
use crate::services::App;

/// Endpoints that stay open: they read nothing an import changes.
fn open_during_import(path: &str) -> bool {
    let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or_default();
    matches!(last, "ping" | "time" | "version" | "configs") || path.ends_with("/.well-known/jwks.json")
}

/// Answers 503 while import mode is on; otherwise rejects, so the request goes on to its route.
pub fn gate(app: Arc<App>) -> impl Filter<Extract = (warp::reply::Response,), Error = warp::Rejection> + Clone {
    warp::path::full().and_then(move |path: FullPath| {
        let closed = app.import.in_import_mode() && !open_during_import(path.as_str());
        async move {
            if closed {
                Ok(reply::json(503, &serde_json::json!({"errors": ["server.import_in_progress"]})))
            } else {
                Err(warp::reject::not_found())
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::open_during_import;

    #[test]
    fn only_the_general_endpoints_stay_open() {
        for p in ["/api/v2/barong/identity/ping", "/api/v2/identity/time", "/api/v2/barong/identity/configs"] {
            assert!(open_during_import(p), "{p}");
        }
        for p in [
            "/api/v2/barong/identity/sessions",
            "/api/v2/barong/auth/api/v2/peatio/x",
            "/api/v2/barong/resource/users/me",
        ] {
            assert!(!open_during_import(p), "{p}");
        }
    }
}
