//! `resource` account endpoints: `users/password`, `users/me` PUT and DELETE, `users/activity`
//! and `data_storage`. The session is checked first (401), then the parameters (422), then the
//! service does the work.

use std::sync::Arc;

use serde_json::Value;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::params::{Check, Params};
use crate::http::reply;
use crate::services::App;
use crate::services::account::data_storage;
use crate::services::account::me::{self, ActivityQuery};
use crate::services::error::{ServiceError, ServiceResult};

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, path, post, put};
    let users = || path("users");
    crate::endpoint!(app, inc, put(), users().and(path("password")), change_password)
        .or(crate::endpoint!(app, inc, put(), users().and(path("me")), update_me))
        .unify()
        .or(crate::endpoint!(app, inc, delete(), users().and(path("me")), delete_me))
        .unify()
        .or(crate::param_endpoint!(app, inc, get(), users().and(path("activity")), activity))
        .unify()
        .or(crate::endpoint!(app, inc, post(), path("data_storage"), create_data_storage))
        .unify()
        .boxed()
}

/// `PUT users/password` → 201 with body `201`.
pub async fn change_password(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut c = Check::new(inc.params()?, "resource.user");
        let old = c.required_filled("old_password");
        let new = c.required_filled("new_password");
        let confirm = c.required_filled("confirm_password");
        c.finish()?;
        let (old, new, confirm) = (old.unwrap_or_default(), new.unwrap_or_default(), confirm.unwrap_or_default());
        me::change_password(app, &user, &inc.ctx, &old, &new, &confirm).await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `PUT users/me` → 200 `UserWithFullInfo`.
pub async fn update_me(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut c = Check::new(inc.params()?, "resource.user");
        let data = c.required_filled("data");
        c.finish()?;
        let entity = me::update_data(app, &user, &data.unwrap_or_default()).await?;
        Ok(reply::json(200, &entity))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `DELETE users/me` → 200 with body `200`; the session cookie is cleared (every session ended).
pub async fn delete_me(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut c = Check::new(inc.params()?, "resource.user");
        let password = c.required_filled("password");
        // `optional :otp_code, allow_blank: false`: present but blank is a validation error.
        let otp_code = c.optional("otp_code");
        let blank_otp = otp_code.as_deref().is_some_and(|s| s.trim().is_empty());
        finish_with(c, blank_otp.then_some("resource.user.empty_otp_code"))?;
        let otp_code = otp_code.map(|s| s.trim().to_string());
        // A WebAuthn assertion (`webauthn`) may stand in for `otp_code`.
        let proof = crate::http::resource::webauthn::proof_param(&inc)?;
        let password = password.unwrap_or_default();
        me::delete_me(app, &user, &inc.ctx, &password, otp_code.as_deref(), proof.as_ref()).await?;
        let mut resp = reply::status_only(200);
        reply::clear_session_cookie(app, &mut resp);
        Ok(resp)
    };
    reply::respond(&inc.ctx, r.await)
}

/// `Check::finish` plus one more key declared after the checked parameters.
fn finish_with(c: Check<'_>, extra: Option<&str>) -> ServiceResult<()> {
    let mut keys = c.into_keys();
    keys.extend(extra.map(str::to_string));
    if keys.is_empty() { Ok(()) } else { Err(ServiceError::invalid_all(keys)) }
}

/// An integer query parameter as Grape coerces it.
#[derive(Debug, PartialEq)]
enum Int {
    Absent,
    Blank,
    Value(i64),
    NotInteger,
}

fn int_param(p: &Params, name: &str) -> Int {
    match p.get(name) {
        None | Some(Value::Null) => Int::Absent,
        Some(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Int::Value(i),
            (None, Some(_)) => Int::Value(i64::MAX),
            _ => Int::NotInteger,
        },
        Some(Value::String(s)) => parse_int(s),
        Some(_) => Int::NotInteger,
    }
}

/// `[+-]digits`; Ruby integers have no upper bound, so huge values saturate instead of failing.
fn parse_int(s: &str) -> Int {
    let t = s.trim();
    if t.is_empty() {
        return Int::Blank;
    }
    let (negative, digits) = match t.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Int::NotInteger;
    }
    let magnitude = digits.parse::<i64>().unwrap_or(i64::MAX);
    Int::Value(if negative { -magnitude } else { magnitude })
}

/// Parses the activity filters and pagination, collecting Barong's keys in declaration order.
fn activity_query(p: &Params, topic: String) -> ServiceResult<ActivityQuery> {
    let mut errors: Vec<String> = Vec::new();
    let time = |name: &str, errors: &mut Vec<String>| match int_param(p, name) {
        Int::Absent => None,
        Int::Blank => {
            errors.push(format!("resource.user.empty_{name}"));
            None
        }
        Int::Value(v) => Some(v),
        Int::NotInteger => {
            errors.push(format!("resource.user.non_integer_{name}"));
            None
        }
    };
    let time_from = time("time_from", &mut errors);
    let time_to = time("time_to", &mut errors);
    let result = match p.text("result") {
        Ok(Some(s)) if s.trim().is_empty() => {
            errors.push("resource.user.empty_result".into());
            None
        }
        Ok(r) => r,
        Err(_) => {
            errors.push("resource.user.non_string_result".into());
            None
        }
    };
    // Blank page/limit fall back to their defaults, as Grape's coercion turns "" into nil.
    let page = match int_param(p, "page") {
        Int::Absent | Int::Blank => 1,
        Int::Value(v) if v > 0 => v,
        Int::Value(_) => {
            errors.push("non_positive_page".into());
            1
        }
        Int::NotInteger => {
            errors.push("non_integer_page".into());
            1
        }
    };
    let limit = match int_param(p, "limit") {
        Int::Absent | Int::Blank => 100,
        Int::Value(v) if (1..=100).contains(&v) => v,
        Int::Value(_) => {
            errors.push("invalid_limit".into());
            100
        }
        Int::NotInteger => {
            errors.push("non_integer_limit".into());
            100
        }
    };
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    Ok(ActivityQuery { topic, time_from, time_to, result, page, limit })
}

/// `GET users/activity/:topic` → 200 with `Total`, `Per-Page` and `Page` headers.
pub async fn activity(app: &App, inc: Incoming, topic: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let q = activity_query(inc.params()?, topic)?;
        let page = me::activities(app, &user, &q).await?;
        Ok(reply::paginated(&page.items, page.total, q.limit, q.page, &inc.path, &inc.query))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST data_storage` → 201 with body `201`.
pub async fn create_data_storage(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut c = Check::new(inc.params()?, "resource.datastorage");
        let title = c.required_filled("title");
        let data = c.required_filled("data");
        c.finish()?;
        data_storage::create(app, &user, &inc.ctx, &title.unwrap_or_default(), &data.unwrap_or_default()).await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str) -> ServiceResult<ActivityQuery> {
        let p = Params::parse(Some(q), None, b"").expect("params");
        activity_query(&p, "all".into())
    }

    fn keys(r: ServiceResult<ActivityQuery>) -> Vec<String> {
        match r {
            Err(ServiceError::Refused { keys, .. }) => keys,
            _ => vec![],
        }
    }

    #[test]
    fn integers_parse_like_grape() {
        assert_eq!(parse_int(" 12 "), Int::Value(12));
        assert_eq!(parse_int("-3"), Int::Value(-3));
        assert_eq!(parse_int(""), Int::Blank);
        assert_eq!(parse_int("1.5"), Int::NotInteger);
        assert_eq!(parse_int("abc"), Int::NotInteger);
        assert_eq!(parse_int("99999999999999999999999"), Int::Value(i64::MAX));
    }

    #[test]
    fn activity_parameters_follow_declaration_order() {
        let q = query("").expect("defaults");
        assert_eq!((q.page, q.limit, q.time_from, q.result), (1, 100, None, None));
        let q = query("page=&limit=&time_from=5&result=failed").expect("blank page/limit are defaults");
        assert_eq!((q.page, q.limit, q.time_from, q.result.as_deref()), (1, 100, Some(5), Some("failed")));
        assert_eq!(
            keys(query("time_from=x&time_to=&result=&page=0&limit=101")),
            vec![
                "resource.user.non_integer_time_from",
                "resource.user.empty_time_to",
                "resource.user.empty_result",
                "non_positive_page",
                "invalid_limit"
            ]
        );
        assert_eq!(keys(query("page=a&limit=b")), vec!["non_integer_page", "non_integer_limit"]);
    }
}
