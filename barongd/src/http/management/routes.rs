//! The Management API's routes: method and path → scope (spec §4.9) → endpoint service.

use serde_json::{Map, Value};
use warp::http::Method;

use crate::http::reply::page_links;
use crate::services::App;
use crate::services::management::error::MgmtResult;
use crate::services::management::{
    api_keys, documents, labels, otp, phones, profiles, service_account_create, service_accounts, tools, user_create,
    user_import, user_list, users,
};

#[derive(Debug, Clone, Copy)]
pub enum Route {
    Timestamp,
    LabelsList,
    LabelsCreate,
    LabelsUpdate,
    LabelsDelete,
    UsersGet,
    UsersList,
    UsersUpdate,
    UsersCreate,
    LabelsFilterUsers,
    PhonesGet,
    PhonesCreate,
    PhonesDelete,
    ServiceAccountsGet,
    ServiceAccountsList,
    ServiceAccountsDelete,
    ServiceAccountsUpdate,
    ApiKeysCreate,
    ApiKeysUpdate,
    UsersImport,
    ProfilesCreate,
    OtpSign,
    DocumentsCreate,
    ServiceAccountsCreate,
}

/// Where a request came from: its path (for the paging links), the peer's address (the TOTP
/// guessing budget of `otp/sign`) and its id (for refusals logged instead of answered).
pub struct Origin<'a> {
    pub path: &'a str,
    pub ip: String,
    pub request_id: &'a str,
}

/// What an endpoint answers: status, body (`None`: empty) and extra headers (paging).
pub struct Answer {
    pub status: u16,
    pub body: Option<String>,
    pub headers: Vec<(&'static str, String)>,
}

fn answer(status: u16, body: Option<String>) -> Answer {
    Answer { status, body, headers: Vec::new() }
}

/// 200 with the list and its paging headers (spec §1.7): `Link` is built from the request's
/// path; a Management request has no query string, so its links carry only `page`.
fn paged(page: user_list::Page, path: &str) -> Answer {
    let mut headers =
        vec![("total", page.total.to_string()), ("page", page.page.to_string()), ("per-page", page.limit.to_string())];
    if let Some(links) = page_links(page.total, page.limit, page.page, path, "") {
        headers.push(("link", links));
    }
    Answer { status: 200, body: Some(page.body), headers }
}

impl Route {
    pub fn scope(self) -> &'static str {
        match self {
            Route::Timestamp => "tools",
            Route::LabelsList => "read_labels",
            Route::LabelsCreate | Route::LabelsUpdate | Route::LabelsDelete => "write_labels",
            Route::UsersGet | Route::UsersList | Route::LabelsFilterUsers => "read_users",
            Route::UsersUpdate | Route::UsersCreate | Route::UsersImport | Route::ProfilesCreate => "write_users",
            Route::PhonesGet => "read_phones",
            Route::PhonesCreate | Route::PhonesDelete => "write_phones",
            Route::ServiceAccountsGet | Route::ServiceAccountsList => "read_service_accounts",
            Route::ServiceAccountsDelete | Route::ServiceAccountsUpdate | Route::ServiceAccountsCreate => {
                "write_service_accounts"
            }
            Route::OtpSign => "otp_sign",
            Route::DocumentsCreate => "write_documents",
            Route::ApiKeysCreate | Route::ApiKeysUpdate => "write_apikeys",
        }
    }
}

/// Every route is POST except `PUT /labels`; any other method on a known path is an unknown
/// route, as in Barong.
pub fn find(method: &Method, path: &str) -> Option<Route> {
    let post = *method == Method::POST;
    match path {
        "timestamp" if post => Some(Route::Timestamp),
        "labels/list" if post => Some(Route::LabelsList),
        "labels" if post => Some(Route::LabelsCreate),
        "labels" if *method == Method::PUT => Some(Route::LabelsUpdate),
        "labels/delete" if post => Some(Route::LabelsDelete),
        "users/get" if post => Some(Route::UsersGet),
        "users/list" if post => Some(Route::UsersList),
        "users/update" if post => Some(Route::UsersUpdate),
        "users" if post => Some(Route::UsersCreate),
        "labels/filter/users" if post => Some(Route::LabelsFilterUsers),
        "phones/get" if post => Some(Route::PhonesGet),
        "phones" if post => Some(Route::PhonesCreate),
        "phones/delete" if post => Some(Route::PhonesDelete),
        "service_accounts/get" if post => Some(Route::ServiceAccountsGet),
        "service_accounts/list" if post => Some(Route::ServiceAccountsList),
        "service_accounts/delete" if post => Some(Route::ServiceAccountsDelete),
        "service_accounts/update" if post => Some(Route::ServiceAccountsUpdate),
        "api_keys" if post => Some(Route::ApiKeysCreate),
        "api_keys/update" if post => Some(Route::ApiKeysUpdate),
        "users/import" if post => Some(Route::UsersImport),
        "profiles" if post => Some(Route::ProfilesCreate),
        "otp/sign" if post => Some(Route::OtpSign),
        "documents" if post => Some(Route::DocumentsCreate),
        "service_accounts/create" if post => Some(Route::ServiceAccountsCreate),
        _ => None,
    }
}

/// Runs the route's endpoint with the verified `payload.data`.
pub async fn call(app: &App, route: Route, data: &Map<String, Value>, origin: &Origin<'_>) -> MgmtResult<Answer> {
    Ok(match route {
        Route::Timestamp => answer(200, Some(tools::timestamp(app))),
        Route::LabelsList => answer(201, Some(labels::list(app, data).await?)),
        Route::LabelsCreate => answer(201, Some(labels::create(app, data).await?)),
        Route::LabelsUpdate => answer(200, Some(labels::update(app, data).await?)),
        Route::UsersGet => answer(201, Some(users::get(app, data).await?)),
        Route::UsersList => paged(user_list::list(app, data).await?, origin.path),
        Route::UsersUpdate => answer(201, Some(user_list::update(app, data).await?)),
        Route::UsersCreate => answer(201, Some(user_create::create(app, data).await?)),
        Route::LabelsFilterUsers => paged(user_list::by_label(app, data).await?, origin.path),
        Route::PhonesGet => answer(201, Some(users::phones(app, data).await?)),
        Route::PhonesCreate => answer(201, Some(phones::create(app, data).await?)),
        Route::PhonesDelete => answer(201, Some(phones::delete(app, data).await?)),
        Route::ServiceAccountsGet => answer(200, Some(service_accounts::get(app, data).await?)),
        Route::ServiceAccountsList => paged(service_accounts::list(app, data).await?, origin.path),
        Route::ServiceAccountsDelete => answer(200, Some(service_accounts::delete(app, data).await?)),
        Route::ServiceAccountsUpdate => answer(201, Some(service_accounts::update(app, data).await?)),
        Route::ApiKeysCreate => answer(201, Some(api_keys::create(app, data).await?)),
        Route::ApiKeysUpdate => answer(201, Some(api_keys::update(app, data).await?)),
        Route::UsersImport => answer(201, Some(user_import::import(app, data).await?)),
        Route::ProfilesCreate => answer(201, Some(profiles::create(app, data).await?)),
        Route::OtpSign => answer(201, Some(otp::sign(app, data, &origin.ip, origin.request_id).await?)),
        Route::DocumentsCreate => answer(201, Some(documents::create(app, data).await?)),
        Route::ServiceAccountsCreate => answer(201, Some(service_account_create::create(app, data).await?)),
        Route::LabelsDelete => {
            labels::delete(app, data).await?;
            answer(204, None)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `barongctl management check` lists each scope's endpoints from mgmtlint's table; it must
    /// name exactly the routes this table serves, with the scope they demand.
    #[test]
    fn the_linters_endpoint_table_matches_the_routes() {
        let mut listed = 0;
        for (scope, endpoints) in mgmtlint::ENDPOINTS {
            for endpoint in endpoints {
                let (method, path) = endpoint.split_once(' ').expect("METHOD /path");
                let method = Method::from_bytes(method.as_bytes()).expect("method");
                let route = find(&method, path.trim_start_matches('/')).unwrap_or_else(|| panic!("{endpoint}"));
                assert_eq!(route.scope(), scope, "{endpoint}");
                listed += 1;
            }
        }
        assert_eq!(listed, 24, "the spec's 24 endpoints, each listed once");
    }
}
