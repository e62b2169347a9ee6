//! `identity/users...`: registration, email confirmation and password reset. Parameter checks
//! here, with Barong's keys; the work in the identity services.

use std::sync::Arc;

use warp::reply::Response;

use crate::http::cors;
use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::identity::registration::{self, Registration};
use crate::services::identity::{email_confirmation, password_reset};

/// `POST identity/users` → 201 `UserWithFullInfo` and the session cookie.
pub async fn register(app: &App, inc: Incoming) -> Response {
    let r = async {
        cors::check_session_origin(&app.config, &inc.headers, "identity.user.invalid_origin")?;
        let mut c = Check::new(inc.params()?, "identity.user");
        let email = c.required_filled("email");
        let password = c.required_filled("password");
        let username = c.optional("username");
        let refid = c.optional("refid");
        let captcha = c.captcha("invalid");
        let data = c.optional("data");
        let lang = c.optional("lang");
        c.finish()?;
        let r = Registration {
            email: email.unwrap_or_default(),
            password: password.unwrap_or_default(),
            username,
            refid: refid.filter(|r| !r.is_empty()),
            data,
            lang,
            captcha,
        };
        Ok(reply::with_session(app, 201, registration::register(app, r, &inc.ctx).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST identity/users/email/generate_code` → 201 with body `201`.
pub async fn email_generate_code(app: &Arc<App>, inc: Incoming) -> Response {
    let r = async {
        let mut c = Check::new(inc.params()?, "identity.user");
        let email = c.required_filled("email");
        let captcha = c.captcha("invalid");
        c.finish()?;
        let email = email.unwrap_or_default();
        email_confirmation::email_generate_code(app, &email, captcha.as_ref(), &inc.ctx).await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST identity/users/email/confirm_code` → 201 `UserWithFullInfo` (and a session cookie only
/// when `login_on_email_confirmation`).
pub async fn email_confirm_code(app: &App, inc: Incoming) -> Response {
    let r = async {
        if app.config.login_on_email_confirmation {
            cors::check_session_origin(&app.config, &inc.headers, "identity.user.invalid_origin")?;
        }
        let mut c = Check::new(inc.params()?, "identity.user");
        let token = c.required_filled("token");
        c.finish()?;
        let confirmed = email_confirmation::email_confirm_code(app, token.unwrap_or_default().trim(), &inc.ctx).await?;
        Ok(reply::with_session(app, 201, confirmed))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST identity/users/password/generate_code` → 201 with body `201`.
pub async fn password_generate_code(app: &Arc<App>, inc: Incoming) -> Response {
    let r = async {
        let mut c = Check::new(inc.params()?, "identity.user");
        let email = c.required_filled("email");
        let captcha = c.captcha("invalid");
        let lang = c.optional("lang");
        c.finish()?;
        let email = email.unwrap_or_default();
        password_reset::password_generate_code(app, &email, lang.as_deref(), captcha.as_ref(), &inc.ctx).await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST identity/users/password/confirm_code` → 201 with body `201`.
pub async fn password_confirm_code(app: &App, inc: Incoming) -> Response {
    let r = async {
        let mut c = Check::new(inc.params()?, "identity.user");
        let token = c.required_filled_as("reset_password_token", Some("identity.user.missing_pass_token"));
        let password = c.required_filled("password");
        let confirm = c.required_filled("confirm_password");
        c.finish()?;
        password_reset::password_confirm_code(
            app,
            token.unwrap_or_default().trim(),
            &password.unwrap_or_default(),
            &confirm.unwrap_or_default(),
            &inc.ctx,
        )
        .await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `GET identity/users/register_geetest`.
pub async fn register_geetest(app: &App, _inc: Incoming) -> Response {
    reply::json(200, &app.captcha.register_geetest().await)
}
