//! `resource` API-key and service-account endpoints: a user's own keys (`api_keys`), the service
//! accounts they own and those accounts' keys (`service_accounts/...`). Session authentication
//! first, then Grape's parameter checks with Barong's keys, then one service call.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::params::{Params, WrongType};
use crate::http::reply;
use crate::services::App;
use crate::services::account::api_keys::{
    self, KeyHolder, ListQuery, Listed, MAX_LIMIT, OtpKeys, SERVICE_ACCOUNT_OTP_KEYS, USER_OTP_KEYS,
};
use crate::services::account::service_accounts;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::webauthn::factor::Factor;
use crate::store::UserRow;
use crate::store::api_keys::KeyColumn;
use crate::store::service_accounts::ServiceAccountRow;

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, patch, path, post, put};
    let keys = || path("api_keys");
    let sa_keys = || path("service_accounts").and(path("api_keys"));
    let (own, sa) = (Family::User, Family::ServiceAccount);
    crate::endpoint!(app, inc, get(), keys(), |app, inc| list_keys(app, inc, own))
        .or(crate::endpoint!(app, inc, post(), keys(), |app, inc| create_key(app, inc, own)))
        .unify()
        .or(crate::param_endpoint!(app, inc, patch(), keys(), |app, inc, kid| update_key(app, inc, kid, own)))
        .unify()
        .or(crate::param_endpoint!(app, inc, delete(), keys(), |app, inc, kid| delete_key(app, inc, kid, own)))
        .unify()
        .or(crate::endpoint!(app, inc, get(), path("service_accounts"), list_service_accounts))
        .unify()
        .or(crate::endpoint!(app, inc, get(), sa_keys(), |app, inc| list_keys(app, inc, sa)))
        .unify()
        .or(crate::endpoint!(app, inc, post(), sa_keys(), |app, inc| create_key(app, inc, sa)))
        .unify()
        .or(crate::param_endpoint!(app, inc, put(), sa_keys(), |app, inc, kid| update_key(app, inc, kid, sa)))
        .unify()
        .or(crate::param_endpoint!(app, inc, delete(), sa_keys(), |app, inc, kid| delete_key(app, inc, kid, sa)))
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
        if self.errors.is_empty() { Ok(()) } else { Err(ServiceError::invalid_all(self.errors)) }
    }
}

/// A page of keys with api-pagination's headers.
fn listed(l: Listed, inc: &Incoming) -> Response {
    reply::paginated(&l.keys, l.total, l.per_page, l.page, &inc.path, &inc.query)
}

/// Whose keys an endpoint manages: the user's own (`api_keys`) or those of a service account
/// it owns (`service_accounts/api_keys`). The two families share their logic; only Barong's
/// spellings of their error keys, and the service account's uid, differ.
#[derive(Debug, Clone, Copy)]
enum Family {
    User,
    ServiceAccount,
}

/// The error keys of one family.
struct FamilyKeys {
    /// The prefix of the list's `invalid_ordering` / `invalid_attribute`.
    list: &'static str,
    missing_algorithm: &'static str,
    empty_algorithm: &'static str,
    empty_scope: &'static str,
    empty_state: &'static str,
    /// Barong's `message:` on create replaces only the missing key, hence a spelling of its own.
    create_missing_totp: &'static str,
    missing_totp: &'static str,
    empty_totp: &'static str,
    otp: OtpKeys,
}

const USER_KEYS: FamilyKeys = FamilyKeys {
    list: "resource.api_key",
    missing_algorithm: "resource.apikey.missing_algorithm",
    empty_algorithm: "resource.apikey.empty_algorithm",
    empty_scope: "resource.apikey.empty_scope",
    empty_state: "resource.apikey.empty_state",
    create_missing_totp: "resource.api_key.missing_totp",
    missing_totp: "resource.apikey.missing_totp_code",
    empty_totp: "resource.apikey.empty_totp_code",
    otp: USER_OTP_KEYS,
};

const SERVICE_ACCOUNT_KEYS: FamilyKeys = FamilyKeys {
    list: "resource.service_accounts",
    missing_algorithm: "resource.serviceaccount.missing_algorithm",
    empty_algorithm: "resource.serviceaccount.empty_algorithm",
    empty_scope: "resource.serviceaccount.empty_scope",
    empty_state: "resource.serviceaccount.empty_state",
    create_missing_totp: "resource.service_accounts.missing_totp",
    missing_totp: "resource.serviceaccount.missing_totp_code",
    empty_totp: "resource.serviceaccount.empty_totp_code",
    otp: SERVICE_ACCOUNT_OTP_KEYS,
};

const SA_UID: &str = "service_account_uid";
const SA_UID_MISSING: &str = "resource.serviceaccount.missing_service_account_uid";
/// Barong's `type: {value: String, message: ...}`, singular unlike the other keys of the family.
const SA_UID_NOT_STRING: &str = "resource.service_account.non_string_service_account_uid";

impl Family {
    fn keys(self) -> &'static FamilyKeys {
        match self {
            Family::User => &USER_KEYS,
            Family::ServiceAccount => &SERVICE_ACCOUNT_KEYS,
        }
    }
}

impl Form<'_> {
    /// The service account's uid (`requires :service_account_uid`) on that family; `None` on the
    /// user's. A missing uid fails `finish`, so the empty default never reaches a lookup.
    fn target(&mut self, family: Family) -> Option<String> {
        match family {
            Family::User => None,
            Family::ServiceAccount => {
                Some(self.required(SA_UID, SA_UID_MISSING, SA_UID_NOT_STRING).unwrap_or_default())
            }
        }
    }
}

/// The authenticated user and, on the service-account family, the account it owns whose keys
/// the request is about.
struct Acting {
    user: UserRow,
    service_account: Option<ServiceAccountRow>,
}

impl Acting {
    /// Ownership of the named service account: a stranger's uid is a 404.
    async fn resolve(app: &App, user: UserRow, target: Option<String>) -> ServiceResult<Self> {
        let service_account = match target {
            Some(uid) => Some(service_accounts::owned(app, &user, &uid).await?),
            None => None,
        };
        Ok(Acting { user, service_account })
    }

    fn holder(&self) -> KeyHolder<'_> {
        match &self.service_account {
            Some(sa) => KeyHolder::ServiceAccount(sa),
            None => KeyHolder::User(&self.user),
        }
    }
}

/// A key write's checks, in Barong's order: authentication; Grape's parameter checks (the
/// service account's uid, then the endpoint's `fields`, then `totp_code`); ownership of the
/// service account, before the second factor (a stranger's uid is a 404 even without 2FA); then
/// `otp_protected!`.
async fn authorize_write<T>(
    app: &App,
    inc: &Incoming,
    family: Family,
    missing_totp: &str,
    fields: impl FnOnce(&mut Form) -> T,
) -> ServiceResult<(Acting, T)> {
    let user = authenticate(app, inc).await?;
    let k = family.keys();
    let mut f = Form::new(inc.params()?);
    let target = f.target(family);
    let values = fields(&mut f);
    // A WebAuthn assertion (`webauthn`) stands in for `totp_code`.
    let proof = crate::http::resource::webauthn::proof_param(inc)?;
    let totp = if proof.is_some() { None } else { f.required_filled("totp_code", missing_totp, k.empty_totp) };
    f.finish()?;
    let acting = Acting::resolve(app, user, target).await?;
    let factor = match proof {
        Some(p) => Factor::Webauthn(p),
        None => Factor::Totp(totp.unwrap_or_default()),
    };
    api_keys::otp_protected(app, &acting.user, &factor, k.otp, &inc.ctx).await?;
    Ok((acting, values))
}

/// `GET api_keys` and `GET service_accounts/api_keys`: no second factor.
async fn list_keys(app: &App, inc: Incoming, family: Family) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut f = Form::new(inc.params()?);
        let q = f.list_query(family.keys().list);
        // Declared after the pagination params, so its key comes last.
        let target = f.target(family);
        f.finish()?;
        let acting = Acting::resolve(app, user, target).await?;
        Ok(listed(api_keys::list(app, acting.holder(), q).await?, &inc))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST api_keys` and `POST service_accounts/api_keys`: the secret is in this reply only.
async fn create_key(app: &App, inc: Incoming, family: Family) -> Response {
    let k = family.keys();
    let r = async {
        let (acting, (algorithm, scope)) = authorize_write(app, &inc, family, k.create_missing_totp, |f| {
            let algorithm = f.required_filled("algorithm", k.missing_algorithm, k.empty_algorithm);
            (algorithm, f.optional_filled("scope", k.empty_scope))
        })
        .await?;
        let key = api_keys::create(app, acting.holder(), &algorithm.unwrap_or_default(), scope.as_deref()).await?;
        Ok(reply::json(201, &key))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `PATCH api_keys/:kid` and `PUT service_accounts/api_keys/:kid`.
async fn update_key(app: &App, inc: Incoming, kid: String, family: Family) -> Response {
    let k = family.keys();
    let r = async {
        let (acting, (scope, state)) = authorize_write(app, &inc, family, k.missing_totp, |f| {
            (f.optional_filled("scope", k.empty_scope), f.optional_filled("state", k.empty_state))
        })
        .await?;
        let key = api_keys::update(app, acting.holder(), &kid, scope.as_deref(), state.as_deref()).await?;
        Ok(reply::json(200, &key))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `DELETE api_keys/:kid` and `DELETE service_accounts/api_keys/:kid`.
async fn delete_key(app: &App, inc: Incoming, kid: String, family: Family) -> Response {
    let r = async {
        let (acting, ()) = authorize_write(app, &inc, family, family.keys().missing_totp, |_| ()).await?;
        api_keys::delete(app, acting.holder(), &kid).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn form_keys(query: &str, run: impl FnOnce(&mut Form)) -> Vec<String> {
        let p = Params::parse(Some(query), None, b"").expect("parses");
        let mut f = Form::new(&p);
        run(&mut f);
        match f.finish() {
            Err(ServiceError::Refused { keys, .. }) => keys,
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
        assert!(matches!(f.finish(), Err(ServiceError::Refused { keys, .. }) if keys == vec![SA_UID_NOT_STRING]));
    }
}
