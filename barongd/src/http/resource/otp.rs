//! `resource/otp/...`: a user turning 2FA on and off. Session first, then the `code` parameter,
//! then the identity service.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::error::ServiceResult;
use crate::services::identity::two_factor;
use crate::services::identity::webauthn::factor::Factor;

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{path, post};
    let otp = || path("otp");
    crate::endpoint!(app, inc, post(), otp().and(path("generate_qrcode")), generate_qrcode)
        .or(crate::endpoint!(app, inc, post(), otp().and(path("enable")), otp_enable))
        .unify()
        .or(crate::endpoint!(app, inc, post(), otp().and(path("disable")), otp_disable))
        .unify()
        .or(crate::endpoint!(app, inc, post(), otp().and(path("verify")), otp_verify))
        .unify()
        .boxed()
}

/// The `code` of the otp endpoints (`resource.otp.missing_code`, `resource.otp.empty_code`).
fn otp_code(inc: &Incoming) -> ServiceResult<String> {
    let mut c = Check::new(inc.params()?, "resource.otp");
    let code = c.required_filled("code");
    c.finish()?;
    Ok(code.unwrap_or_default())
}

pub async fn generate_qrcode(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let qr = two_factor::generate_qrcode(app, &user, &inc.ctx).await?;
        Ok(reply::json(201, &qr))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn otp_enable(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        two_factor::enable(app, &user, &otp_code(&inc)?, &inc.ctx).await?;
        // Grape's default 201 for a POST, with the block's value `200` as the body.
        Ok(reply::raw_json(201, b"200".to_vec()))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn otp_disable(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        // A WebAuthn assertion (`webauthn`) may stand in for `code`.
        let proof = match crate::http::resource::webauthn::proof_param(&inc)? {
            Some(p) => Factor::Webauthn(p),
            None => Factor::Totp(otp_code(&inc)?),
        };
        two_factor::disable(app, &user, &proof, &inc.ctx).await?;
        Ok(reply::status_only(200))
    };
    reply::respond(&inc.ctx, r.await)
}

pub async fn otp_verify(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        two_factor::verify(app, &user, &otp_code(&inc)?, &inc.ctx).await?;
        // The block ends in an `unless`, whose nil Grape renders as `null`.
        Ok(reply::raw_json(201, b"null".to_vec()))
    };
    reply::respond(&inc.ctx, r.await)
}
