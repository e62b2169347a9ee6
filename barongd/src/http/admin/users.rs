//! `GET admin/users` and `GET admin/users/:uid`. Static `users/...` paths are routed before
//! the `:uid` one (Barong's precedence), and a uid segment holding a `.` is no route, as in Grape.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::admin::abilities::require;
use crate::services::admin::pipeline::{self, AdminRequest};
use crate::services::admin::profiles::unmasked;
use crate::services::admin::users;
use crate::services::error::ServiceResult;
use crate::services::identity::email_address::email_key;
use crate::store::UserRow;
use crate::store::admin_users::{UserColumn, UserFilter, UserOrder};

const SCOPE: &str = "admin.user";

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    let labels = || path("users").and(path("labels"));
    crate::admin_endpoint!(app, inc, get(), path("users"), list)
        .or(crate::admin_endpoint!(app, inc, get(), labels().and(path("list")), label_counts))
        .unify()
        .or(crate::admin_endpoint!(app, inc, get(), labels(), with_label))
        .unify()
        .or(crate::admin_endpoint!(app, inc, get(), path("users").and(path("documents")).and(path("pending")), pending))
        .unify()
        .or(crate::param_endpoint!(app, inc, get(), path("users"), show_route))
        .unify()
        .boxed()
}

/// `GET users/:uid` through the admin pipeline; a segment with a `.` is no route.
async fn show_route(app: &Arc<App>, inc: Incoming, uid: String) -> Response {
    if uid.contains('.') {
        return reply::route_not_found();
    }
    crate::http::admin::serve(app, inc, move |app, inc, caller| Box::pin(show(app, inc, caller, uid.clone()))).await
}

/// The filters `GET users` and `GET users/documents/pending` share, in declaration order.
pub(crate) fn filter(c: &mut Check<'_>) -> UserFilter {
    let mut f = UserFilter {
        uid: c.optional("uid"),
        email_key: c.optional("email").map(|e| email_key(&e)),
        role: c.optional("role"),
        country: c.optional("country"),
        state: c.optional("state"),
        level: c.integer("level", "invalid").ok().flatten(),
        ..Default::default()
    };
    match c.optional("range").as_deref() {
        None | Some("created") => {}
        Some("updated") => f.by_updated = true,
        Some(_) => c.refuse("admin.user.invalid_range"),
    }
    f
}

/// `GET users` → `[User]`, or `[UserWithProfile]` with `extended` (read User); a page of
/// clear PII leaves an admin activity row (W9).
async fn list(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let extended = c.boolean("extended", "admin.user.non_boolean_extended").unwrap_or(false);
    let mut f = filter(&mut c);
    let mut order = UserOrder::default();
    match c.optional("ordering").as_deref() {
        None | Some("asc") => {}
        Some("desc") => order.descending = true,
        Some(_) => c.refuse("user.ordering.invalid_ordering"),
    }
    if let Some(name) = c.optional("order_by") {
        match UserColumn::from_name(&name) {
            Some(col) => order.order_by = col,
            None => c.refuse("user.ordering.invalid_attribute"),
        }
    }
    f.from = c.integer("from", "invalid").ok().flatten();
    f.to = c.integer("to", "invalid").ok().flatten();
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "User")?;
    let role = caller.role.as_str();
    let (items, total) = users::list(app, role, &f, order, extended, page, limit).await?;
    if extended && unmasked(app, role) {
        let req = AdminRequest { method: "GET", rest: "users", ctx: &inc.ctx, params: None };
        pipeline::record(app, &req, caller, true).await;
    }
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}

/// `GET users/:uid` → `UserWithKYC` (read User); a read of clear PII leaves an admin activity
/// row naming the user (W9).
async fn show(app: &App, inc: &Incoming, caller: &UserRow, uid: String) -> ServiceResult<Response> {
    if uid.trim().is_empty() {
        return Err(crate::services::error::ServiceError::invalid("admin.user.empty_uid"));
    }
    require(&app.config.abilities, caller.role.as_str(), "read", "User")?;
    let user = users::target(app, &uid).await?;
    let body = users::with_kyc(app, caller.role.as_str(), &user).await?;
    if unmasked(app, caller.role.as_str()) {
        let params = serde_json::Map::from_iter([("uid".to_string(), serde_json::Value::String(uid.clone()))]);
        let req = AdminRequest { method: "GET", rest: "users", ctx: &inc.ctx, params: Some(&params) };
        pipeline::record(app, &req, caller, true).await;
    }
    Ok(reply::json(200, &body))
}

/// `GET users/labels/list` → `{"[\"key\", \"value\"]": n}` over private labels (read User).
async fn label_counts(app: &App, _inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    require(&app.config.abilities, caller.role.as_str(), "read", "User")?;
    Ok(reply::json(200, &users::label_counts(app).await?))
}

/// `GET users/labels?key=&value=` → `[User]` having that label in any scope, each once (read User).
async fn with_label(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let key = c.required("key");
    let value = c.required("value");
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "User")?;
    let (key, value) = (key.unwrap_or_default(), value.unwrap_or_default());
    let (items, total) = users::with_label(app, &key, &value, page, limit).await?;
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}

/// `GET users/documents/pending` → `[User]`, or `[UserWithKYC]` with `extended`, oldest
/// document label first (read User). `first_name`/`last_name` are declared and ignored, as in
/// Barong; a page of clear PII leaves an admin activity row (W9).
async fn pending(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let mut c = Check::new(inc.params()?, SCOPE);
    let extended = c.boolean("extended", "admin.user.non_boolean_extended").unwrap_or(false);
    let mut f = filter(&mut c);
    f.from = c.integer("from", "invalid").ok().flatten();
    f.to = c.integer("to", "invalid").ok().flatten();
    let (page, limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "User")?;
    let role = caller.role.as_str();
    let (items, total) = users::pending_documents(app, role, &f, extended, page, limit).await?;
    if extended && unmasked(app, role) {
        let req = AdminRequest { method: "GET", rest: "users", ctx: &inc.ctx, params: None };
        pipeline::record(app, &req, caller, true).await;
    }
    Ok(reply::paginated(&items, total, limit, page, &inc.path, &inc.query))
}
