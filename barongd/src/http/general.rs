//! The general endpoints served under both `identity/` and `public/`: ping, time, version,
//! configs, password/validate.

use std::sync::Arc;

use serde_json::json;
use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;

/// The general routes; `scope` names the family in `password/validate`'s error keys
/// (`identity.general` or `public.general`).
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>, scope: &'static str) -> BoxedFilter<(Response,)> {
    use warp::{get, path, post};
    crate::endpoint!(app, inc, get(), path("ping"), ping)
        .or(crate::endpoint!(app, inc, get(), path("time"), time))
        .unify()
        .or(crate::endpoint!(app, inc, get(), path("version"), version))
        .unify()
        .or(crate::endpoint!(app, inc, get(), path("configs"), configs))
        .unify()
        .or(crate::endpoint!(app, inc, post(), path("password").and(path("validate")), |app, inc| {
            validate_password(app, inc, scope)
        }))
        .unify()
        .boxed()
}

pub async fn ping(_app: &App, _inc: Incoming) -> Response {
    reply::json(200, &json!({"ping": "pong"}))
}

pub async fn time(app: &App, _inc: Incoming) -> Response {
    reply::json(200, &json!({"time": app.clock.now()}))
}

pub async fn version(_app: &App, _inc: Incoming) -> Response {
    let tag = env!("CARGO_PKG_VERSION");
    reply::json(
        200,
        &json!({
            "git_tag": tag,
            "git_sha": env!("BARONG_GIT_SHA"),
            "build_date": env!("BARONG_BUILD_DATE"),
            "version": tag,
        }),
    )
}

pub async fn configs(app: &App, _inc: Incoming) -> Response {
    let c = &app.config;
    let captcha = match c.captcha {
        crate::config::CaptchaMode::None => "none",
        crate::config::CaptchaMode::Recaptcha => "recaptcha",
        crate::config::CaptchaMode::Geetest => "geetest",
    };
    let entropy = if c.password_min_entropy.fract() == 0.0 {
        json!(c.password_min_entropy as i64)
    } else {
        json!(c.password_min_entropy)
    };
    let mut body = json!({
        "session_expire_time": c.session_expire_time,
        "captcha_type": captcha,
        "phone_verification_type": c.phone_verification,
        "password_min_entropy": entropy,
        "password_regexp": app.policy.ruby_source(),
    });
    if captcha == "recaptcha" {
        body["captcha_id"] = json!(c.recaptcha_site_key);
    }
    reply::json(200, &body)
}

/// `POST …/password/validate`; `scope` is `identity.general` or `public.general`.
async fn validate_password(app: &App, inc: Incoming, scope: &'static str) -> Response {
    let r = async {
        let mut check = Check::new(inc.params()?, scope);
        let password = check.required("password");
        check.finish()?;
        let entropy = app.policy.entropy(&password.unwrap_or_default());
        Ok(reply::json(201, &json!({"entropy": entropy})))
    };
    reply::respond(&inc.ctx, r.await)
}
