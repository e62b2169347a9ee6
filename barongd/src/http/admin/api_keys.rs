//! `GET admin/api_keys`: a user's API keys (never their secrets).

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::account::api_keys::{self, KeyHolder, ListQuery};
use crate::services::admin::abilities::require;
use crate::services::error::{ServiceError, ServiceResult};
use crate::store::UserRow;
use crate::store::api_keys::KeyColumn;

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    crate::admin_endpoint!(app, inc, warp::get(), warp::path("api_keys"), list)
}

/// `GET api_keys?uid=` → `[APIKey]` without secrets, ordered and paginated (read APIKey). The
/// ordering keys have no `admin.` prefix, as Barong's.
async fn list(app: &App, inc: &Incoming, caller: &UserRow) -> ServiceResult<Response> {
    let params = inc.params()?;
    let mut c = Check::new(params, "admin.apikey");
    let uid = c.required_filled("uid");
    let mut q = ListQuery::default();
    match c.optional("ordering").as_deref() {
        None | Some("asc") => {}
        Some("desc") => q.descending = true,
        Some(_) => c.refuse("api_keys.ordering.invalid_ordering"),
    }
    if let Some(name) = c.optional("order_by") {
        match KeyColumn::from_name(&name) {
            Some(col) => q.order_by = col,
            None => c.refuse("api_keys.ordering.invalid_attribute"),
        }
    }
    (q.page, q.limit) = c.pagination();
    c.finish()?;
    require(&app.config.abilities, caller.role.as_str(), "read", "APIKey")?;
    let uid = uid.unwrap_or_default();
    let user = app.store.user_by_uid(&uid).await?;
    let user = user.ok_or_else(|| ServiceError::not_found("admin.user.doesnt_exist"))?;
    let l = api_keys::list(app, KeyHolder::User(&user), q).await?;
    Ok(reply::paginated(&l.keys, l.total, l.per_page, l.page, &inc.path, &inc.query))
}
