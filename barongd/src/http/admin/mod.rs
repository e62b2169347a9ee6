//! `admin/...`: Barong's Admin API. Every endpoint runs the same pipeline (§1.3): authenticate
//! (bearer JWT, cookie + CSRF, or API key; service-account holders are `record.not_found`), the
//! gateway's permissions for the external path, then the handler (parameters, ability, work),
//! then the admin activity row of a write.

use std::sync::Arc;

use futures::future::BoxFuture;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::pipeline::{self, AdminRequest, Credential};
use crate::services::error::ServiceResult;
use crate::store::UserRow;

pub mod activities;
pub mod api_keys;
pub mod comments;
pub mod documents;
pub mod general;
pub mod labels;
pub mod permissions;
pub mod profiles;
pub mod restrictions;
pub mod user_changes;
pub mod users;

/// Builds one admin endpoint around `$handler(app, &inc, &caller) -> ServiceResult<Response>`.
#[macro_export]
macro_rules! admin_endpoint {
    ($app:expr, $inc:expr, $method:expr, $path:expr, $handler:path) => {
        $crate::endpoint!($app, $inc, $method, $path, |app, inc| $crate::http::admin::serve(
            app,
            inc,
            |app, inc, caller| Box::pin($handler(app, inc, caller))
        ))
    };
}

/// Routes under `admin/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    general::routes(app, inc)
        .or(activities::routes(app, inc))
        .unify()
        .or(api_keys::routes(app, inc))
        .unify()
        .or(profiles::routes(app, inc))
        .unify()
        .or(permissions::routes(app, inc))
        .unify()
        .or(restrictions::routes(app, inc))
        .unify()
        .or(comments::routes(app, inc))
        .unify()
        .or(user_changes::routes(app, inc))
        .unify()
        .or(labels::routes(app, inc))
        .unify()
        .or(documents::routes(app, inc))
        .unify()
        .or(users::routes(app, inc))
        .unify()
        .boxed()
}

/// How the request authenticated (the same order `authenticate` tries them in).
fn credential(inc: &Incoming) -> Credential {
    let has = |n: &str| inc.headers.contains_key(n);
    if has("authorization") {
        Credential::Bearer
    } else if has("x-auth-apikey") || has("x-auth-nonce") || has("x-auth-signature") {
        Credential::ApiKey
    } else {
        Credential::Cookie
    }
}

/// The path after `admin/`, whichever of the two mounts was requested.
fn rest(path: &str) -> &str {
    let path = path.strip_prefix("/api/v2/").unwrap_or(path);
    let path = path.strip_prefix("barong/").unwrap_or(path);
    path.strip_prefix("admin/").unwrap_or(path)
}

/// The pipeline around one admin handler.
pub async fn serve<F>(app: &App, inc: Incoming, handler: F) -> Response
where
    F: for<'a> Fn(&'a App, &'a Incoming, &'a UserRow) -> BoxFuture<'a, ServiceResult<Response>>,
{
    let caller = match authenticate(app, &inc).await {
        Ok(u) => u,
        Err(e) => return reply::error(&inc.ctx, e),
    };
    let method = inc.method.as_str().to_ascii_uppercase();
    let req = AdminRequest {
        method: &method,
        rest: rest(&inc.path),
        ctx: &inc.ctx,
        params: inc.params.as_ref().ok().map(|p| &p.0),
    };
    if let Err(e) = pipeline::permit(app, &req, &caller, credential(&inc)).await {
        return reply::error(&inc.ctx, e);
    }
    let outcome = handler(app, &inc, &caller).await;
    if matches!(method.as_str(), "POST" | "PUT" | "PATCH" | "DELETE") {
        pipeline::record(app, &req, &caller, outcome.is_ok()).await;
    }
    reply::respond(&inc.ctx, outcome)
}
