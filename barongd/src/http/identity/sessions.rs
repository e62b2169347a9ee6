//! `POST` and `DELETE identity/sessions`: login (with the second factor) and logout.

use warp::reply::Response;

use crate::http::cors;
use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::error::ServiceResult;
use crate::services::identity::login::Signed;
use crate::services::identity::webauthn::assertion::Proof;
use crate::services::identity::{auth0, login};

/// The optional `webauthn` assertion (`{challenge_id, credential}`); `identity.session.invalid_webauthn`
/// when present but not of that shape.
fn webauthn_param(c: &mut Check<'_>, inc: &Incoming) -> ServiceResult<Option<Proof>> {
    let Some(v) = inc.params()?.get("webauthn").filter(|v| !v.is_null()) else { return Ok(None) };
    let proof = Proof::from_param(v);
    if proof.is_none() {
        c.refuse("identity.session.invalid_webauthn");
    }
    Ok(proof)
}

/// A session (with `status`), or the missing second factor with its WebAuthn challenge: Barong's
/// 401 `identity.session.missing_otp`, plus `webauthn: {challenge_id, publicKey}`.
fn signed(app: &App, status: u16, s: Signed) -> warp::reply::Response {
    match s {
        Signed::In(w) => reply::with_session(app, status, w),
        Signed::Due(challenge) => {
            reply::json(401, &serde_json::json!({"errors": ["identity.session.missing_otp"], "webauthn": challenge}))
        }
    }
}

/// `POST identity/sessions` → 200 `UserWithFullInfo` and the session cookie.
pub async fn login(app: &App, inc: Incoming) -> Response {
    let r = async {
        cors::check_session_origin(&app.config, &inc.headers, "identity.session.invalid_origin")?;
        let mut c = Check::new(inc.params()?, "identity.session");
        let email = c.required("email");
        let password = c.required("password");
        let captcha = c.captcha("identity.session.invalid_captcha_format");
        let otp_code = c.optional("otp_code");
        let webauthn = webauthn_param(&mut c, &inc)?;
        c.finish()?;
        let creds = login::Credentials {
            email: email.unwrap_or_default(),
            password: password.unwrap_or_default(),
            otp_code,
            webauthn,
            captcha,
        };
        Ok(signed(app, 200, login::login(app, creds, &inc.ctx).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST identity/sessions/auth0` → 201 `UserWithFullInfo` and the session cookie.
pub async fn auth0(app: &App, inc: Incoming) -> Response {
    let r = async {
        cors::check_session_origin(&app.config, &inc.headers, "identity.session.invalid_origin")?;
        let mut c = Check::new(inc.params()?, "identity.session");
        let id_token = c.required_filled("id_token");
        let otp_code = c.optional("otp_code");
        let webauthn = webauthn_param(&mut c, &inc)?;
        c.finish()?;
        let r = auth0::Auth0Login { id_token: id_token.unwrap_or_default(), otp_code, webauthn };
        Ok(signed(app, 201, auth0::login(app, r, &inc.ctx).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `DELETE identity/sessions` → 200 with body `200`; the cookie is cleared.
pub async fn logout(app: &App, inc: Incoming) -> Response {
    let r = async {
        login::logout(app, &inc.ctx).await?;
        let mut resp = reply::status_only(200);
        reply::clear_session_cookie(app, &mut resp);
        Ok(resp)
    };
    reply::respond(&inc.ctx, r.await)
}
