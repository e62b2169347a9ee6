//! `GET resource/swagger_doc` and `GET resource/swagger_doc/{name}`: the resource API described
//! in Swagger 2.0, as grape-swagger served it. The document is built from the API contract by
//! `tools/swagger_from_seed.py` and embedded, with barong-rs's own WebAuthn endpoints added. No
//! authentication, on exactly these two paths (Barong skipped authentication on any path
//! *containing* `swagger`: docs/barong-weaknesses-fixed.md#w-swagger-bypass).

use std::sync::{Arc, LazyLock};

use serde_json::{Map, Value};
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::reply;
use crate::services::App;

static DOC: LazyLock<Value> = LazyLock::new(|| {
    let mut doc = serde_json::from_str(include_str!("swagger_resource.json")).unwrap_or(Value::Null);
    let ours = serde_json::from_str(include_str!("swagger_webauthn.json")).unwrap_or(Value::Null);
    merge(&mut doc, &ours);
    doc
});

/// Adds barong-rs's own resource endpoints (`swagger_webauthn.json`: the WebAuthn ones, which
/// Barong did not have) to the document generated from Barong's contract.
fn merge(doc: &mut Value, ours: &Value) {
    for section in ["paths", "definitions"] {
        if let (Some(into), Some(from)) = (doc[section].as_object_mut(), ours[section].as_object()) {
            into.extend(from.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
    }
    if let (Some(into), Some(from)) = (doc["tags"].as_array_mut(), ours["tags"].as_array()) {
        into.extend(from.iter().cloned());
    }
}

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path};
    crate::endpoint!(app, inc, get(), path("swagger_doc"), whole)
        .or(crate::param_endpoint!(app, inc, get(), path("swagger_doc"), named))
        .unify()
        .boxed()
}

/// grape-swagger names the host the request came to.
fn with_host(mut doc: Value, inc: &Incoming) -> Value {
    let host = inc.headers.get("host").and_then(|h| h.to_str().ok());
    if let (Some(host), Some(obj)) = (host, doc.as_object_mut()) {
        obj.insert("host".into(), Value::String(host.to_string()));
    }
    doc
}

async fn whole(_app: &App, inc: Incoming) -> Response {
    reply::json(200, &with_host(DOC.clone(), &inc))
}

/// One resource (the first path segment: `users`, `api_keys`, …); an unknown one is
/// grape-swagger's 400 `{"error":"named resource not exist"}`.
async fn named(_app: &App, inc: Incoming, name: String) -> Response {
    match only(&DOC, &name) {
        Some(doc) => reply::json(200, &with_host(doc, &inc)),
        None => reply::raw_json(400, br#"{"error":"named resource not exist"}"#.to_vec()),
    }
}

/// The document restricted to the paths and tag of resource `name`.
fn only(doc: &Value, name: &str) -> Option<Value> {
    let prefix = format!("/{name}");
    let paths: Map<String, Value> = doc["paths"]
        .as_object()?
        .iter()
        .filter(|(p, _)| *p == &prefix || p.starts_with(&format!("{prefix}/")))
        .map(|(p, v)| (p.clone(), v.clone()))
        .collect();
    if paths.is_empty() {
        return None;
    }
    let mut out = doc.clone();
    let obj = out.as_object_mut()?;
    obj.insert("paths".into(), Value::Object(paths));
    let tags: Vec<Value> = doc["tags"].as_array()?.iter().filter(|t| t["name"] == name).cloned().collect();
    obj.insert("tags".into(), Value::Array(tags));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_document_describes_the_resource_api() {
        assert_eq!(DOC["swagger"], "2.0");
        assert_eq!(DOC["basePath"], "/api/v2/barong/resource");
        let ops: usize =
            DOC["paths"].as_object().expect("paths").values().map(|m| m.as_object().map_or(0, Map::len)).sum();
        assert_eq!(ops, 40, "the contract's 34 resource operations (swagger_doc aside) and 6 WebAuthn ones");
        assert!(DOC["paths"]["/webauthn/credentials/{id}"]["delete"].is_object());
        assert!(DOC["tags"].as_array().expect("tags").iter().any(|t| t["name"] == "webauthn"));
        assert!(DOC["definitions"]["API_V2_Entities_UserWithFullInfo"]["properties"]["phones"].is_object());
    }

    #[test]
    fn one_resource_keeps_its_paths_only() {
        let users = only(&DOC, "users").expect("users");
        let paths: Vec<&String> = users["paths"].as_object().expect("paths").keys().collect();
        assert!(paths.iter().all(|p| p.starts_with("/users/")), "{paths:?}");
        assert!(paths.contains(&&"/users/me".to_string()));
        assert_eq!(users["tags"], serde_json::json!([{"name": "users", "description": "Operations about users"}]));
        let keys = only(&DOC, "api_keys").expect("api_keys");
        assert!(keys["paths"].as_object().expect("paths").contains_key("/api_keys/{kid}"));
        assert!(only(&DOC, "user").is_none(), "a prefix of a name is not a name");
        assert!(only(&DOC, "nope").is_none());
    }
}
