//! `resource` OTP, API-key and service-account endpoints (resource-admin-kyc §2.2–§2.4): session
//! authentication first (as Barong's JWT middleware ran before Grape), then Grape's parameter
//! checks with Barong's keys, then one service call.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::http::HeaderValue;
use warp::reply::Response;

use super::params::{Params, WrongType};
use super::reply;
use super::request::Incoming;
use super::resource::authenticate;
use crate::services::api_keys::{
    self, KeyHolder, ListQuery, Listed, MAX_LIMIT, SERVICE_ACCOUNT_OTP_KEYS, USER_OTP_KEYS,
};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::{App, otp_setup, service_accounts};
use crate::store::api_keys::KeyColumn;

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, patch, path, post, put};
    let otp = || path("otp");
    let sa_keys = || path("service_accounts").and(path("api_keys"));
    endpoint!(app, inc, post(), otp().and(path("generate_qrcode")), generate_qrcode)
        .or(endpoint!(app, inc, post(), otp().and(path("enable")), otp_enable))
        .unify()
        .or(endpoint!(app, inc, post(), otp().and(path("disable")), otp_disable))
        .unify()
        .or(endpoint!(app, inc, post(), otp().and(path("verify")), otp_verify))
        .unify()
        .or(endpoint!(app, inc, get(), path("api_keys"), list_keys))
        .unify()
        .or(endpoint!(app, inc, post(), path("api_keys"), create_key))
        .unify()
        .or(crate::param_endpoint!(app, inc, patch(), path("api_keys"), update_key))
        .unify()
        .or(crate::param_endpoint!(app, inc, delete(), path("api_keys"), delete_key))
        .unify()
        .or(endpoint!(app, inc, get(), path("service_accounts"), list_service_accounts))
        .unify()
        .or(endpoint!(app, inc, get(), sa_keys(), list_sa_keys))
        .unify()
        .or(endpoint!(app, inc, post(), sa_keys(), create_sa_key))
        .unify()
        .or(crate::param_endpoint!(app, inc, put(), sa_keys(), update_sa_key))
        .unify()
        .or(crate::param_endpoint!(app, inc, delete(), sa_keys(), delete_sa_key))
        .unify()
        .boxed()
}

/// Grape's checks as these endpoints declare them, keys collected in declaration order. Unlike
/// the identity endpoints', several params here have hand-written keys (`message:`) or are
/// optional but not blank, so every key is spelled out at the call site.
struct Form<'a> {
    params: &'a Params,
    errors: Vec<String>,
}

impl<'a> Form<'a> {
    fn new(params: &'a Params) -> Self {
        Form { params, errors: Vec::new() }
    }

    fn push(&mut self, key: impl Into<String>) {
        let key = key.into();
        if !self.errors.contains(&key) {
            self.errors.push(key);
        }
    }

    /// A scalar as text; an array or object fails Grape's `String` coercion with `wrong_type`.
    fn scalar(&mut self, name: &str, wrong_type: &str) -> Option<Option<String>> {
        match self.params.text(name) {
            Ok(v) => Some(v),
            Err(WrongType) => {
                self.push(wrong_type);
                None
            }
        }
    }

    /// `requires :name` (blank allowed).
    fn required(&mut self, name: &str, missing: &str, wrong_type: &str) -> Option<String> {
        let v = self.scalar(name, wrong_type)?;
        if v.is_none() {
            self.push(missing);
        }
        v
    }

    /// `requires :name, allow_blank: false`: absent gives `missing` then `empty`.
    fn required_filled(&mut self, name: &str, missing: &str, empty: &str) -> Option<String> {
        match self.scalar(name, "invalid")? {
            None => {
                self.push(missing);
                self.push(empty);
                None
            }
            Some(s) if s.trim().is_empty() => {
                self.push(empty);
                None
            }
            Some(s) => Some(s),
        }
    }

    /// `optional :name, allow_blank: false`.
    fn optional_filled(&mut self, name: &str, empty: &str) -> Option<String> {
        match self.scalar(name, "invalid")? {
            Some(s) if s.trim().is_empty() => {
                self.push(empty);
                None
            }
            v => v,
        }
    }

    /// `ordering`, `order_by` (values checks with the family's keys) and Barong's
    /// `pagination_filters` (`page` > 0, `limit` in 1..=100, bare keys as Grape left them).
    fn list_query(&mut self, family: &str) -> ListQuery {
        let mut q = ListQuery::default();
        match self.params.text("ordering") {
            Ok(None) => {}
            Ok(Some(o)) if o == "asc" => {}
            Ok(Some(o)) if o == "desc" => q.descending = true,
            _ => self.push(format!("{family}.invalid_ordering")),
        }
        match self.params.text("order_by").map(|o| o.map(|name| KeyColumn::from_name(&name))) {
            Ok(None) => {}
            Ok(Some(Some(column))) => q.order_by = column,
            _ => self.push(format!("{family}.invalid_attribute")),
        }
        if let Some(page) = self.integer("page", "non_integer_page") {
            if page > 0 { q.page = page } else { self.push("non_positive_page") }
        }
        if let Some(limit) = self.integer("limit", "non_integer_limit") {
            if (1..=MAX_LIMIT).contains(&limit) { q.limit = limit } else { self.push("invalid_limit") }
        }
        q
    }

    /// An optional integer; an empty value counts as absent (Grape coerced `""` to nil).
    fn integer(&mut self, name: &str, non_integer: &str) -> Option<i64> {
        match self.params.text(name) {
            Ok(None) => None,
            Ok(Some(s)) if s.is_empty() => None,
            Ok(Some(s)) => match s.trim().parse::<i64>() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.push(non_integer);
                    None
                }
            },
            Err(WrongType) => {
                self.push(non_integer);
                None
            }
        }
    }

    fn finish(self) -> ServiceResult<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(ServiceError::keys(422, self.errors)) }
    }
}

/// The `code` of the otp endpoints.
fn otp_code(inc: &Incoming) -> ServiceResult<String> {
    let mut f = Form::new(inc.params()?);
    let code = f.required_filled("code", "resource.otp.missing_code", "resource.otp.empty_code");
    f.finish()?;
    Ok(code.unwrap_or_default())
}

pub async fn generate_qrcode(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let qr = otp_setup::generate_qrcode(app, &user, &inc.ctx).await?;
        Ok(reply::json(201, &qr))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn otp_enable(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        otp_setup::enable(app, &user, &otp_code(&inc)?, &inc.ctx).await?;
        // Grape's default 201 for a POST, with the block's value `200` as the body.
        Ok(reply::raw_json(201, b"200".to_vec()))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn otp_disable(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        otp_setup::disable(app, &user, &otp_code(&inc)?, &inc.ctx).await?;
        Ok(reply::status_only(200))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn otp_verify(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        otp_setup::verify(app, &user, &otp_code(&inc)?, &inc.ctx).await?;
        // The block ends in an `unless`, whose nil Grape renders as `null`.
        Ok(reply::raw_json(201, b"null".to_vec()))
    };
    reply::respond(&inc.ctx, r.await)
}

/// A page of keys with api-pagination's headers.
fn listed(l: Listed) -> Response {
    let mut r = reply::json(200, &l.keys);
    for (name, value) in [("total", l.total), ("per-page", l.per_page), ("page", l.page)] {
        if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
            r.headers_mut().insert(name, v);
        }
    }
    r
}

pub async fn list_keys(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let q = f.list_query("resource.api_key");
        f.finish()?;
        Ok(listed(api_keys::list(app, KeyHolder::User(&user), q).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn create_key(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let algorithm =
            f.required_filled("algorithm", "resource.apikey.missing_algorithm", "resource.apikey.empty_algorithm");
        let scope = f.optional_filled("scope", "resource.apikey.empty_scope");
        // Barong's `message:` replaces only the missing key, hence the two spellings.
        let totp = f.required_filled("totp_code", "resource.api_key.missing_totp", "resource.apikey.empty_totp_code");
        f.finish()?;
        api_keys::otp_protected(app, &user, &totp.unwrap_or_default(), USER_OTP_KEYS).await?;
        let holder = KeyHolder::User(&user);
        let key = api_keys::create(app, holder, &algorithm.unwrap_or_default(), scope.as_deref()).await?;
        Ok(reply::json(201, &key))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn update_key(app: &App, inc: Incoming, kid: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let scope = f.optional_filled("scope", "resource.apikey.empty_scope");
        let state = f.optional_filled("state", "resource.apikey.empty_state");
        let totp =
            f.required_filled("totp_code", "resource.apikey.missing_totp_code", "resource.apikey.empty_totp_code");
        f.finish()?;
        api_keys::otp_protected(app, &user, &totp.unwrap_or_default(), USER_OTP_KEYS).await?;
        let key = api_keys::update(app, KeyHolder::User(&user), &kid, scope.as_deref(), state.as_deref()).await?;
        Ok(reply::json(200, &key))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn delete_key(app: &App, inc: Incoming, kid: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let totp =
            f.required_filled("totp_code", "resource.apikey.missing_totp_code", "resource.apikey.empty_totp_code");
        f.finish()?;
        api_keys::otp_protected(app, &user, &totp.unwrap_or_default(), USER_OTP_KEYS).await?;
        api_keys::delete(app, KeyHolder::User(&user), &kid).await?;
        Ok(reply::no_content())
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn list_service_accounts(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        Ok(reply::json(200, &service_accounts::list_owned(app, &user).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

const SA_UID: &str = "service_account_uid";
const SA_UID_MISSING: &str = "resource.serviceaccount.missing_service_account_uid";
/// Barong's `type: {value: String, message: ...}`, singular unlike the other keys of the family.
const SA_UID_NOT_STRING: &str = "resource.service_account.non_string_service_account_uid";

pub async fn list_sa_keys(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let q = f.list_query("resource.service_accounts");
        let uid = f.required(SA_UID, SA_UID_MISSING, SA_UID_NOT_STRING);
        f.finish()?;
        let sa = service_accounts::owned(app, &user, &uid.unwrap_or_default()).await?;
        Ok(listed(api_keys::list(app, KeyHolder::ServiceAccount(&sa), q).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// Ownership is checked before the second factor on every service-account key write (Barong's
/// order: a stranger's uid is a 404 even without 2FA).
pub async fn create_sa_key(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let uid = f.required(SA_UID, SA_UID_MISSING, SA_UID_NOT_STRING);
        let algorithm = f.required_filled(
            "algorithm",
            "resource.serviceaccount.missing_algorithm",
            "resource.serviceaccount.empty_algorithm",
        );
        let scope = f.optional_filled("scope", "resource.serviceaccount.empty_scope");
        let totp = f.required_filled(
            "totp_code",
            "resource.service_accounts.missing_totp",
            "resource.serviceaccount.empty_totp_code",
        );
        f.finish()?;
        let sa = service_accounts::owned(app, &user, &uid.unwrap_or_default()).await?;
        api_keys::otp_protected(app, &user, &totp.unwrap_or_default(), SERVICE_ACCOUNT_OTP_KEYS).await?;
        let holder = KeyHolder::ServiceAccount(&sa);
        let key = api_keys::create(app, holder, &algorithm.unwrap_or_default(), scope.as_deref()).await?;
        Ok(reply::json(201, &key))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn update_sa_key(app: &App, inc: Incoming, kid: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let uid = f.required(SA_UID, SA_UID_MISSING, SA_UID_NOT_STRING);
        let scope = f.optional_filled("scope", "resource.serviceaccount.empty_scope");
        let state = f.optional_filled("state", "resource.serviceaccount.empty_state");
        let totp = f.required_filled(
            "totp_code",
            "resource.serviceaccount.missing_totp_code",
            "resource.serviceaccount.empty_totp_code",
        );
        f.finish()?;
        let sa = service_accounts::owned(app, &user, &uid.unwrap_or_default()).await?;
        api_keys::otp_protected(app, &user, &totp.unwrap_or_default(), SERVICE_ACCOUNT_OTP_KEYS).await?;
        let holder = KeyHolder::ServiceAccount(&sa);
        let key = api_keys::update(app, holder, &kid, scope.as_deref(), state.as_deref()).await?;
        Ok(reply::json(200, &key))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn delete_sa_key(app: &App, inc: Incoming, kid: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let uid = f.required(SA_UID, SA_UID_MISSING, SA_UID_NOT_STRING);
        let totp = f.required_filled(
            "totp_code",
            "resource.serviceaccount.missing_totp_code",
            "resource.serviceaccount.empty_totp_code",
        );
        f.finish()?;
        let sa = service_accounts::owned(app, &user, &uid.unwrap_or_default()).await?;
        api_keys::otp_protected(app, &user, &totp.unwrap_or_default(), SERVICE_ACCOUNT_OTP_KEYS).await?;
        api_keys::delete(app, KeyHolder::ServiceAccount(&sa), &kid).await?;
        Ok(reply::no_content())
    };
    reply::respond(&inc.ctx, r.await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form_keys(query: &str, run: impl FnOnce(&mut Form)) -> Vec<String> {
        let p = Params::parse(Some(query), None, b"").expect("parses");
        let mut f = Form::new(&p);
        run(&mut f);
        match f.finish() {
            Err(ServiceError::Api { keys, .. }) => keys,
            _ => vec![],
        }
    }

    #[test]
    fn pagination_and_ordering_keys_follow_barong() {
        let list = |f: &mut Form| {
            f.list_query("resource.api_key");
        };
        assert!(form_keys("", list).is_empty());
        assert!(form_keys("page=2&limit=100&ordering=desc&order_by=created_at&page=", list).is_empty());
        assert_eq!(form_keys("page=-1", list), vec!["non_positive_page"]);
        assert_eq!(form_keys("page=0&limit=0", list), vec!["non_positive_page", "invalid_limit"]);
        assert_eq!(form_keys("page=x&limit=1.5", list), vec!["non_integer_page", "non_integer_limit"]);
        assert_eq!(form_keys("limit=101", list), vec!["invalid_limit"]);
        assert_eq!(
            form_keys("ordering=ASC&order_by=secret_sealed", list),
            vec!["resource.api_key.invalid_ordering", "resource.api_key.invalid_attribute"]
        );
    }

    #[test]
    fn missing_blank_and_optional_blank_keys() {
        let keys = form_keys("scope=&state=+", |f| {
            f.optional_filled("scope", "x.empty_scope");
            f.optional_filled("state", "x.empty_state");
            f.required_filled("totp_code", "x.missing_totp", "x.empty_totp_code");
        });
        assert_eq!(keys, vec!["x.empty_scope", "x.empty_state", "x.missing_totp", "x.empty_totp_code"]);
        let p = Params::parse(None, Some("application/json"), br#"{"service_account_uid":["a"]}"#).expect("ok");
        let mut f = Form::new(&p);
        f.required(SA_UID, SA_UID_MISSING, SA_UID_NOT_STRING);
        assert!(matches!(f.finish(), Err(ServiceError::Api { keys, .. }) if keys == vec![SA_UID_NOT_STRING]));
    }
}
