//! `resource/profiles`: `GET profiles/me`, `POST profiles`,
//! `PUT profiles`. Grape's coercions (date, boolean) happen here; the model rules in the service.

use std::sync::Arc;

use chrono::NaiveDate;
use serde_json::Value;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::params::{Check, Params};
use crate::http::reply;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::profiles::{self, Metadata, ProfileInput};

pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path, post, put};
    crate::endpoint!(app, inc, get(), path("profiles").and(path("me")), me)
        .or(crate::endpoint!(app, inc, post(), path("profiles"), create))
        .unify()
        .or(crate::endpoint!(app, inc, put(), path("profiles"), update))
        .unify()
        .boxed()
}

async fn me(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        Ok(reply::json(200, &profiles::of_user(app, &user).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

async fn create(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let input = profile_params(inc.params()?)?;
        Ok(reply::json(201, &profiles::create(app, &user, input).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

async fn update(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let input = profile_params(inc.params()?)?;
        Ok(reply::json(200, &profiles::update(app, &user, input).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// Grape's failed coercion: the last word of "<param> is invalid".
fn invalid() -> ServiceError {
    ServiceError::invalid("invalid")
}

/// The declared parameters only (Barong's model took no others), coerced as Grape does.
pub(crate) fn profile_params(p: &Params) -> ServiceResult<ProfileInput> {
    let mut c = Check::new(p, "resource.profile");
    let first_name = c.optional("first_name");
    let last_name = c.optional("last_name");
    let dob = c.optional("dob");
    let address = c.optional("address");
    let postcode = c.optional("postcode");
    let city = c.optional("city");
    let country = c.optional("country");
    let confirm = c.optional("confirm");
    c.finish()?;
    let dob_blank = dob.as_deref().is_some_and(|d| d.trim().is_empty());
    let dob = match dob.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
        Some(d) => Some(parse_date(d).ok_or_else(invalid)?),
        None => None,
    };
    let confirm = match confirm.as_deref() {
        None => false,
        Some(v) => parse_bool(v).ok_or_else(invalid)?,
    };
    let metadata = match p.get("metadata") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => Some(Metadata::Json(String::new())),
        Some(Value::String(s)) => Some(match serde_json::from_str::<Value>(s) {
            Ok(v) => Metadata::Json(v.to_string()),
            Err(_) => Metadata::Invalid,
        }),
        Some(v) => Some(Metadata::Json(v.to_string())),
    };
    Ok(ProfileInput { first_name, last_name, dob, dob_blank, address, postcode, city, country, metadata, confirm })
}

/// The date forms Ruby's `Date.parse` reads from forms: ISO first, then day-first.
fn parse_date(s: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(s, f).ok())
}

/// Grape's Boolean coercion.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "t" | "1" | "yes" | "y" | "on" => Some(true),
        "false" | "f" | "0" | "no" | "n" | "off" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_booleans_coerce_like_grape() {
        assert_eq!(parse_date("1990-05-17"), NaiveDate::from_ymd_opt(1990, 5, 17));
        assert_eq!(parse_date("17.05.1990"), NaiveDate::from_ymd_opt(1990, 5, 17));
        assert_eq!(parse_date("1990-02-30"), None);
        assert_eq!(parse_date("yesterday"), None);
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("maybe"), None);
    }

    #[test]
    fn metadata_may_be_a_json_string_or_an_object() {
        let p = Params::parse(None, Some("application/json"), br#"{"metadata":{"a":1}}"#).expect("params");
        assert_eq!(profile_params(&p).expect("ok").metadata, Some(Metadata::Json(r#"{"a":1}"#.into())));
        let p = Params::parse(None, None, b"metadata=%7Bnope").expect("params");
        assert_eq!(profile_params(&p).expect("ok").metadata, Some(Metadata::Invalid));
        let p = Params::parse(None, None, b"dob=31%2F02%2F1990").expect("params");
        assert!(profile_params(&p).is_err());
    }
}
