//! `identity` and `public` general endpoints: ping, time, version, configs, password/validate.

use serde_json::json;
use warp::reply::Response;

use super::params::Check;
use super::reply;
use super::request::Incoming;
use crate::services::App;

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
        common::config::CaptchaMode::None => "none",
        common::config::CaptchaMode::Recaptcha => "recaptcha",
        common::config::CaptchaMode::Geetest => "geetest",
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

pub async fn auth0_configs(app: &App, _inc: Incoming) -> Response {
    reply::json(200, &json!({"auth0_domain": app.config.auth0_domain, "auth0_client_id": app.config.auth0_client_id}))
}

/// `POST public/kyc`, the KYC provider's callback. Only the `local` provider exists (start-up
/// refuses others), and Barong answers it with a bare 422: nothing is read from the
/// unauthenticated caller (spec §17.14).
pub async fn kyc_callback(_app: &App, _inc: Incoming) -> Response {
    reply::status_only(422)
}

pub async fn validate_password_identity(app: &App, inc: Incoming) -> Response {
    validate_password(app, inc, "identity.general").await
}

pub async fn validate_password_public(app: &App, inc: Incoming) -> Response {
    validate_password(app, inc, "public.general").await
}

/// `POST …/password/validate`; `scope` is `identity.general` or `public.general`.
async fn validate_password(app: &App, inc: Incoming, scope: &'static str) -> Response {
    let params = match inc.params {
        Ok(p) => p,
        Err(e) => return reply::error(&inc.ctx, e),
    };
    let mut check = Check::new(&params, scope);
    let password = check.required("password");
    if let Err(e) = check.finish() {
        return reply::error(&inc.ctx, e);
    }
    let entropy = app.policy.entropy(&password.unwrap_or_default());
    reply::json(201, &json!({"entropy": entropy}))
}
