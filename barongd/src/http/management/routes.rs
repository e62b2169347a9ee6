//! The Management API's routes: method and path → scope (spec §4.9) → endpoint service.

use serde_json::{Map, Value};
use warp::http::Method;

use crate::services::App;
use crate::services::management::error::MgmtResult;
use crate::services::management::{labels, tools, users};

#[derive(Debug, Clone, Copy)]
pub enum Route {
    Timestamp,
    LabelsList,
    LabelsCreate,
    LabelsUpdate,
    LabelsDelete,
    UsersGet,
    PhonesGet,
}

impl Route {
    pub fn scope(self) -> &'static str {
        match self {
            Route::Timestamp => "tools",
            Route::LabelsList => "read_labels",
            Route::LabelsCreate | Route::LabelsUpdate | Route::LabelsDelete => "write_labels",
            Route::UsersGet => "read_users",
            Route::PhonesGet => "read_phones",
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
        "phones/get" if post => Some(Route::PhonesGet),
        _ => None,
    }
}

/// The endpoint's status and body (`None`: an empty body).
pub async fn call(app: &App, route: Route, data: &Map<String, Value>) -> MgmtResult<(u16, Option<String>)> {
    Ok(match route {
        Route::Timestamp => (200, Some(tools::timestamp(app))),
        Route::LabelsList => (201, Some(labels::list(app, data).await?)),
        Route::LabelsCreate => (201, Some(labels::create(app, data).await?)),
        Route::LabelsUpdate => (200, Some(labels::update(app, data).await?)),
        Route::UsersGet => (201, Some(users::get(app, data).await?)),
        Route::PhonesGet => (201, Some(users::phones(app, data).await?)),
        Route::LabelsDelete => {
            labels::delete(app, data).await?;
            (204, None)
        }
    })
}
