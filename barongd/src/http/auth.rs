//! Who is calling a resource endpoint: `Authorization: Bearer <JWT>` signed by us (what
//! upstreams get from the gateway), the API-key headers, or else the session cookie (and the CSRF
//! header when the request changes state).

use crate::http::incoming::Incoming;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::decide::{self, AuthzRequest};
use crate::services::identity::sessions;
use crate::services::telemetry::access;
use crate::store::UserRow;

/// Authenticates a resource request: `Authorization: Bearer <JWT>` signed by us (what upstreams
/// get from the gateway), the API-key headers, or else the session cookie (and CSRF header when
/// it changes state).
pub async fn authenticate(app: &App, inc: &Incoming) -> ServiceResult<UserRow> {
    let user = caller(app, inc).await?;
    access::note_uid(&user.uid);
    Ok(user)
}

async fn caller(app: &App, inc: &Incoming) -> ServiceResult<UserRow> {
    if let Some(done) = &inc.authenticated {
        return done.clone();
    }
    let header = |n: &str| inc.headers.get(n).and_then(|v| v.to_str().ok());
    if let Some(auth) = header("authorization") {
        // Barong's JWTAuthenticator: any failure is 401 `jwt.decode_and_verify`, an unknown uid 404.
        let fail = || ServiceError::unauthenticated("jwt.decode_and_verify");
        let token = auth.strip_prefix("Bearer ").ok_or_else(fail)?;
        let claims = app.tokens.verify(token.trim(), "session", app.clock.now()).map_err(|_| fail())?;
        let uid = claims.get("uid").and_then(|v| v.as_str()).ok_or_else(fail)?;
        return app.store.user_by_uid(uid).await?.ok_or_else(|| ServiceError::not_found("record.not_found"));
    }
    if header("x-auth-apikey").is_some() || header("x-auth-nonce").is_some() || header("x-auth-signature").is_some() {
        let req = AuthzRequest {
            method: inc.method.as_str(),
            path: "",
            ctx: &inc.ctx,
            csrf: None,
            apikey: header("x-auth-apikey"),
            nonce: header("x-auth-nonce"),
            signature: header("x-auth-signature"),
            params: None,
        };
        return decide::api_key_user(app, &req).await?.ok_or_else(|| ServiceError::not_found("record.not_found"));
    }
    let state_changing = decide::is_state_changing(&inc.method.as_str().to_ascii_uppercase());
    let csrf = inc.headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
    let (_, user) = sessions::authenticate(app, &inc.ctx, state_changing, csrf).await?;
    Ok(user)
}

/// Who is calling `users/me`, as `authenticate` decides it, but the session cookie is checked on
/// the gateway's cached sessions and users (the same checks; a session ended on this daemon is
/// gone from them before that request answered). Returns the user's id.
pub async fn authenticate_cached(app: &App, inc: &Incoming) -> ServiceResult<i64> {
    let header = |n: &str| inc.headers.get(n).and_then(|v| v.to_str().ok());
    let other = ["authorization", "x-auth-apikey", "x-auth-nonce", "x-auth-signature"];
    if inc.authenticated.is_some() || other.iter().any(|h| header(h).is_some()) {
        return authenticate(app, inc).await.map(|u| u.id);
    }
    let method = inc.method.as_str().to_ascii_uppercase();
    let req = AuthzRequest {
        method: &method,
        path: "",
        ctx: &inc.ctx,
        csrf: header("x-csrf-token"),
        apikey: None,
        nonce: None,
        signature: None,
        params: None,
    };
    decide::session_user(app, &req).await
}
