//! `resource/labels`: a user's own labels; they read every scope and write public ones only.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::account::labels as user_labels;
use crate::services::error::ServiceError;

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, patch, path, post};
    let labels = || path("labels");
    crate::endpoint!(app, inc, get(), labels(), list_labels)
        .or(crate::endpoint!(app, inc, post(), labels(), create_label))
        .unify()
        .or(crate::param_endpoint!(app, inc, get(), labels(), get_label))
        .unify()
        .or(crate::param_endpoint!(app, inc, patch(), labels(), update_label))
        .unify()
        .or(crate::param_endpoint!(app, inc, delete(), labels(), delete_label))
        .unify()
        .boxed()
}

/// `GET labels` → 200 `[Label]`, `ordering` asc|desc (default desc) by creation time.
pub async fn list_labels(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let ascending = match inc.params()?.text("ordering") {
            Ok(None) => false,
            Ok(Some(o)) if o == "desc" => false,
            Ok(Some(o)) if o == "asc" => true,
            // Grape's "ordering does not have a valid value", cut to its last word
            // (docs/compatibility.md#grape-last-word).
            _ => return Err(ServiceError::invalid("value")),
        };
        Ok(reply::json(200, &user_labels::list(app, &user, ascending).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `GET labels/:key` → 200 `Label` | 404.
pub async fn get_label(app: &App, inc: Incoming, key: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        Ok(reply::json(200, &user_labels::get(app, &user, &key).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST labels` → 201 `Label` (scope public).
pub async fn create_label(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut c = Check::new(inc.params()?, "resource.label");
        let key = c.required_filled("key");
        let value = c.required_filled("value");
        c.finish()?;
        let label = user_labels::create(app, &user, &key.unwrap_or_default(), &value.unwrap_or_default()).await?;
        Ok(reply::json(201, &label))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `PATCH labels/:key` → 200 `Label` | 404 | 400 `resource.labels.private` | 422.
pub async fn update_label(app: &App, inc: Incoming, key: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut c = Check::new(inc.params()?, "resource.label");
        let value = c.required_filled("value");
        c.finish()?;
        Ok(reply::json(200, &user_labels::update(app, &user, &key, &value.unwrap_or_default()).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `DELETE labels/:key` → 204 | 404 | 400 `resource.labels.private`.
pub async fn delete_label(app: &App, inc: Incoming, key: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        user_labels::delete(app, &user, &key).await?;
        Ok(reply::no_content())
    };
    reply::respond(&inc.ctx, r.await)
}
