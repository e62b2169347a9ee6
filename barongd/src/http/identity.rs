//! `identity` user and session endpoints (identity-and-authz §7.2–§7.9): parameter checks here,
//! the work in `services`.

use warp::reply::Response;

use super::params::Check;
use super::reply;
use super::request::Incoming;
use crate::services::accounts::{self, Registration, WithSession};
use crate::services::error::ServiceResult;
use crate::services::{App, login};

/// Unwraps parsed params or returns the error response.
macro_rules! params {
    ($inc:expr) => {
        match &$inc.params {
            Ok(p) => p,
            Err(e) => return reply::error(&$inc.ctx, e.clone()),
        }
    };
}

fn with_session(app: &App, inc: &Incoming, status: u16, r: ServiceResult<WithSession>) -> Response {
    match r {
        Ok(w) => {
            let mut resp = reply::json(status, &w.user);
            if let Some(s) = &w.session {
                reply::set_session_cookie(app, &mut resp, &s.session_id);
            }
            resp
        }
        Err(e) => reply::error(&inc.ctx, e),
    }
}

fn done(inc: &Incoming, status: u16, r: ServiceResult<()>) -> Response {
    match r {
        Ok(()) => reply::status_only(status),
        Err(e) => reply::error(&inc.ctx, e),
    }
}

pub async fn register(app: &App, inc: Incoming) -> Response {
    let p = params!(inc);
    let mut c = Check::new(p, "identity.user");
    let email = c.required_filled("email");
    let password = c.required_filled("password");
    let username = c.optional("username");
    let refid = c.optional("refid");
    let captcha = c.captcha("invalid");
    let data = c.optional("data");
    let lang = c.optional("lang");
    if let Err(e) = c.finish() {
        return reply::error(&inc.ctx, e);
    }
    let r = Registration {
        email: email.unwrap_or_default(),
        password: password.unwrap_or_default(),
        username,
        refid: refid.filter(|r| !r.is_empty()),
        data,
        lang,
        captcha,
    };
    let result = accounts::register(app, r, &inc.ctx).await;
    with_session(app, &inc, 201, result)
}

pub async fn email_generate_code(app: &App, inc: Incoming) -> Response {
    let p = params!(inc);
    let mut c = Check::new(p, "identity.user");
    let email = c.required_filled("email");
    let captcha = c.captcha("invalid");
    if let Err(e) = c.finish() {
        return reply::error(&inc.ctx, e);
    }
    let r = accounts::email_generate_code(app, &email.unwrap_or_default(), captcha.as_ref()).await;
    done(&inc, 201, r)
}

pub async fn email_confirm_code(app: &App, inc: Incoming) -> Response {
    let p = params!(inc);
    let mut c = Check::new(p, "identity.user");
    let token = c.required_filled("token");
    if let Err(e) = c.finish() {
        return reply::error(&inc.ctx, e);
    }
    let r = accounts::email_confirm_code(app, token.unwrap_or_default().trim(), &inc.ctx).await;
    with_session(app, &inc, 201, r)
}

pub async fn password_generate_code(app: &App, inc: Incoming) -> Response {
    let p = params!(inc);
    let mut c = Check::new(p, "identity.user");
    let email = c.required_filled("email");
    let captcha = c.captcha("invalid");
    let lang = c.optional("lang");
    if let Err(e) = c.finish() {
        return reply::error(&inc.ctx, e);
    }
    let r =
        accounts::password_generate_code(app, &email.unwrap_or_default(), lang.as_deref(), captcha.as_ref(), &inc.ctx)
            .await;
    done(&inc, 201, r)
}

pub async fn password_confirm_code(app: &App, inc: Incoming) -> Response {
    let p = params!(inc);
    let mut c = Check::new(p, "identity.user");
    let token = c.required_filled_as("reset_password_token", Some("identity.user.missing_pass_token"));
    let password = c.required_filled("password");
    let confirm = c.required_filled("confirm_password");
    if let Err(e) = c.finish() {
        return reply::error(&inc.ctx, e);
    }
    let r = accounts::password_confirm_code(
        app,
        token.unwrap_or_default().trim(),
        &password.unwrap_or_default(),
        &confirm.unwrap_or_default(),
        &inc.ctx,
    )
    .await;
    done(&inc, 201, r)
}

pub async fn register_geetest(app: &App, _inc: Incoming) -> Response {
    reply::json(200, &app.captcha.register_geetest().await)
}

pub async fn login(app: &App, inc: Incoming) -> Response {
    let p = params!(inc);
    let mut c = Check::new(p, "identity.session");
    let email = c.required("email");
    let password = c.required("password");
    let captcha = c.captcha("identity.session.invalid_captcha_format");
    let otp_code = c.optional("otp_code");
    if let Err(e) = c.finish() {
        return reply::error(&inc.ctx, e);
    }
    let creds = login::Credentials {
        email: email.unwrap_or_default(),
        password: password.unwrap_or_default(),
        otp_code,
        captcha,
    };
    let r = login::login(app, creds, &inc.ctx).await;
    with_session(app, &inc, 200, r)
}

pub async fn logout(app: &App, inc: Incoming) -> Response {
    match login::logout(app, &inc.ctx).await {
        Ok(()) => {
            let mut resp = reply::status_only(200);
            reply::clear_session_cookie(app, &mut resp);
            resp
        }
        Err(e) => reply::error(&inc.ctx, e),
    }
}
