//! `resource` endpoints (session-authenticated). This issue serves `users/me`; the rest of the
//! resource API builds on the same authentication.

use warp::http::Method;
use warp::reply::Response;

use super::reply;
use super::request::Incoming;
use crate::services::error::ServiceResult;
use crate::services::{App, entities, sessions};
use crate::store::UserRow;

/// Authenticates a resource request by its session cookie (and CSRF header when it changes state).
pub async fn authenticate(app: &App, inc: &Incoming) -> ServiceResult<UserRow> {
    let state_changing = matches!(inc.method, Method::POST | Method::PUT | Method::PATCH | Method::DELETE)
        || inc.method.as_str() == "TRACE";
    let csrf = inc.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let (_, user) = sessions::authenticate(app, &inc.ctx, state_changing, csrf).await?;
    Ok(user)
}

pub async fn me(app: &App, inc: Incoming) -> Response {
    let result = async {
        let user = authenticate(app, &inc).await?;
        entities::user_with_full_info(app, &user).await
    }
    .await;
    match result {
        Ok(u) => reply::json(200, &u),
        Err(e) => reply::error(&inc.ctx, e),
    }
}
