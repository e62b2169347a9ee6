//! `resource` documents and addresses: the session first (401),
//! then Grape's parameter checks (422, declaration order), then the service. Uploads arrive as
//! `multipart/form-data` with the files under `upload[]`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::params::{Check, Params};
use crate::http::reply;
use crate::services::App;
use crate::services::error::ServiceError;
use crate::services::kyc::documents::{self, AddressInput, DocumentInput, FileInput};

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path, post};
    let download = {
        let app = app.clone();
        get()
            .and(path("documents"))
            .and(warp::path::param::<String>())
            .and(path("upload"))
            .and(warp::path::end())
            .and(warp::path::full())
            .and(inc.clone())
            .then(move |id: String, full: warp::path::FullPath, inc: Incoming| {
                let app = app.clone();
                let meta = crate::http::observe::Meta::of(&inc, full.as_str(), &[(1, ":id")]);
                async move { crate::http::endpoint::run(&app, meta, download(&app, inc, id)).await }
            })
            .boxed()
    };
    crate::endpoint!(app, inc, get(), path("documents"), list)
        .or(crate::endpoint!(app, inc, post(), path("documents"), create))
        .unify()
        .or(crate::endpoint!(app, inc, post(), path("addresses"), create_address))
        .unify()
        .or(download)
        .unify()
        .boxed()
}

/// `requires :upload`: missing only when neither a file nor any value was sent under the name
/// (a text value passes Grape and fails the model with `upload.blank`, as in Barong).
fn upload_missing(p: &Params) -> bool {
    p.files("upload").is_empty() && p.get("upload").is_none()
}

fn files_of(p: &Params) -> Vec<FileInput> {
    p.files("upload").into_iter().map(|f| FileInput { filename: f.filename.clone(), bytes: f.bytes.clone() }).collect()
}

fn push(errors: &mut Vec<String>, key: &str) {
    if !errors.iter().any(|e| e == key) {
        errors.push(key.to_string());
    }
}

/// `GET documents` → 200 `[{upload:{url}, doc_type, doc_number, doc_expire}]`.
pub async fn list(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        Ok(reply::json(200, &documents::list(app, &user).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST documents` → 201 with body `201`.
pub async fn create(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let p = inc.params()?;
        let mut c = Check::new(p, "resource.document");
        let doc_type = c.required("doc_type");
        let doc_number = c.required("doc_number");
        let mut errors = c.into_keys();
        if upload_missing(p) {
            push(&mut errors, "resource.document.missing_upload");
        }
        let mut c = Check::new(p, "resource.document");
        let expire = c.optional("doc_expire");
        let category = c.optional("doc_category");
        let identificator = c.optional("identificator");
        let metadata = c.optional("metadata");
        errors.extend(c.into_keys());
        let doc_expire = match expire.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => {
                let d = documents::parse_date(e);
                if d.is_none() {
                    push(&mut errors, "resource.documents.expire_not_a_date");
                }
                d
            }
        };
        if category.as_deref().is_some_and(|c| !documents::CATEGORIES.contains(&c)) {
            push(&mut errors, "resource.documents.doc_category");
        }
        if !errors.is_empty() {
            return Err(ServiceError::invalid_all(errors));
        }
        let input = DocumentInput {
            doc_type: doc_type.unwrap_or_default(),
            doc_number: doc_number.unwrap_or_default(),
            doc_expire,
            doc_category: category,
            // Blank means absent: a fresh identificator, no metadata.
            identificator: identificator.filter(|i| !i.trim().is_empty()),
            metadata: metadata.filter(|m| !m.trim().is_empty()),
        };
        documents::create(app, &user, input, files_of(p)).await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST addresses` → 201 with body `201`.
pub async fn create_address(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let p = inc.params()?;
        let mut c = Check::new(p, "resource.address");
        let country = c.required_filled("country");
        let address = c.required_filled("address");
        let mut errors = c.into_keys();
        if upload_missing(p) {
            push(&mut errors, "resource.address.missing_upload");
        }
        let mut c = Check::new(p, "resource.address");
        let city = c.required("city");
        let postcode = c.required("postcode");
        for k in c.into_keys() {
            push(&mut errors, &k);
        }
        if !errors.is_empty() {
            return Err(ServiceError::invalid_all(errors));
        }
        // As in Barong, the address text itself is not stored: the proof is the document, and
        // the text goes to KYCAID only (when it is the provider).
        let typed = AddressInput {
            country: country.unwrap_or_default(),
            city: city.unwrap_or_default(),
            postcode: postcode.unwrap_or_default(),
            address: address.unwrap_or_default(),
        };
        documents::create_address(app, &user, typed, files_of(p)).await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `GET documents/{id}/upload?expires=..&signature=..` → the file, as an attachment.
pub async fn download(app: &App, inc: Incoming, id: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let p = inc.params()?;
        let expires = p.text("expires").ok().flatten();
        let signature = p.text("signature").ok().flatten();
        let d = documents::download(app, &user, &id, expires.as_deref(), signature.as_deref()).await?;
        Ok(attachment(d))
    };
    reply::respond(&inc.ctx, r.await)
}

/// A stored document file as a download: its sniffed type, never rendered inline, never cached.
pub(crate) fn attachment(d: documents::Download) -> Response {
    let mut resp = Response::new(d.bytes.into());
    *resp.status_mut() = StatusCode::OK;
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(d.kind.mime()));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"document.{}\"", d.extension)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}
