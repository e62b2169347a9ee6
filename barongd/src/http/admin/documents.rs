//! `GET admin/users/documents/{id}/upload?expires=..&signature=..`: a document image for an
//! admin (W8), through the admin pipeline like every admin endpoint; each opening leaves a
//! PII-read admin activity row naming the document's owner (W9).

use std::sync::Arc;

use serde_json::{Map, Value};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::resource::documents::attachment;
use crate::services::App;
use crate::services::admin::documents;
use crate::services::admin::pipeline::{self, AdminRequest};
use crate::services::error::ServiceResult;
use crate::store::UserRow;

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    let app = app.clone();
    warp::get()
        .and(warp::path("users"))
        .and(warp::path("documents"))
        .and(warp::path::param::<String>())
        .and(warp::path("upload"))
        .and(warp::path::end())
        .and(warp::path::full())
        .and(inc.clone())
        .then(move |id: String, full: warp::path::FullPath, inc: Incoming| {
            let app = app.clone();
            let meta = crate::http::observe::Meta::of(&inc, full.as_str(), &[(1, ":id")]);
            async move {
                let served = crate::http::admin::serve(&app, inc, move |app, inc, caller| {
                    Box::pin(download(app, inc, caller, id.clone()))
                });
                crate::http::endpoint::run(&app, meta, served).await
            }
        })
        .boxed()
}

/// The file as an attachment the browser must not sniff or keep.
async fn download(app: &App, inc: &Incoming, caller: &UserRow, id: String) -> ServiceResult<Response> {
    let p = inc.params()?;
    let expires = p.text("expires").ok().flatten();
    let signature = p.text("signature").ok().flatten();
    let (d, owner) = documents::download(app, caller, &id, expires.as_deref(), signature.as_deref()).await?;
    let params = Map::from_iter([
        ("uid".to_string(), Value::String(owner.uid.clone())),
        ("document_id".to_string(), Value::String(id)),
    ]);
    let req = AdminRequest { method: "GET", rest: "users/documents", ctx: &inc.ctx, params: Some(&params) };
    pipeline::record(app, &req, caller, true).await;
    Ok(attachment(d))
}
