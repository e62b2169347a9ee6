//! `resource/webauthn/...`: a user's WebAuthn credentials (enrolment, list, rename, delete) and
//! assertion challenges for the actions that ask a second factor (README, "WebAuthn"); the
//! services are in `services::identity::webauthn`.

use std::sync::Arc;

use warp::Filter;
use warp::filters::BoxedFilter;
use warp::reply::Response;

use crate::http::auth::authenticate;
use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::webauthn::assertion::{self, Proof};
use crate::services::identity::webauthn::ceremony::Purpose;
use crate::services::identity::webauthn::{enrolment, relying_party};

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{delete, get, patch, path, post};
    let w = || path("webauthn");
    let registrations = || w().and(path("registrations"));
    let credentials = || w().and(path("credentials"));
    crate::endpoint!(app, inc, post(), registrations(), begin_registration)
        .or(crate::endpoint!(app, inc, post(), registrations().and(path("finish")), finish_registration))
        .unify()
        .or(crate::endpoint!(app, inc, get(), credentials(), list))
        .unify()
        .or(crate::param_endpoint!(app, inc, patch(), credentials(), rename))
        .unify()
        .or(crate::param_endpoint!(app, inc, delete(), credentials(), remove))
        .unify()
        .or(crate::endpoint!(app, inc, post(), w().and(path("assertions")), begin_assertion))
        .unify()
        .boxed()
}

/// The `webauthn` field an action takes in place of its TOTP code: `None` when absent,
/// `resource.webauthn.invalid_assertion` when present but not `{challenge_id, credential}`.
pub fn proof_param(inc: &Incoming) -> ServiceResult<Option<Proof>> {
    match inc.params()?.get("webauthn").filter(|v| !v.is_null()) {
        None => Ok(None),
        Some(v) => {
            Proof::from_param(v).map(Some).ok_or_else(|| ServiceError::invalid("resource.webauthn.invalid_assertion"))
        }
    }
}

/// WebAuthn is off: every endpoint answers 422 `resource.webauthn.disabled` (after authentication).
fn enabled(app: &App) -> ServiceResult<&relying_party::RelyingParty> {
    crate::services::identity::webauthn::relying_party(app)
}

/// A credential id from the path; any other text names no credential.
fn credential_id(raw: &str) -> ServiceResult<i64> {
    raw.parse::<i64>().map_err(|_| ServiceError::not_found("record.not_found"))
}

/// `POST webauthn/registrations` `{otp_code?}` → 200 `{challenge_id, publicKey}`.
async fn begin_registration(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        enabled(app)?;
        let mut c = Check::new(inc.params()?, "resource.webauthn");
        let otp_code = c.optional("otp_code");
        c.finish()?;
        let challenge = enrolment::begin(app, &user, &inc.ctx, otp_code.as_deref()).await?;
        Ok(reply::json(200, &challenge))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST webauthn/registrations/finish` `{challenge_id, name, credential}` → 201 the credential.
async fn finish_registration(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        enabled(app)?;
        let params = inc.params()?;
        let mut c = Check::new(params, "resource.webauthn");
        let challenge_id = c.required_filled("challenge_id");
        let name = c.required_filled("name");
        let credential = params.get("credential").filter(|v| v.is_object());
        if credential.is_none() {
            c.refuse("resource.webauthn.missing_credential");
        }
        c.finish()?;
        let (Some(challenge_id), Some(name), Some(credential)) = (challenge_id, name, credential) else {
            return Err(ServiceError::invalid("resource.webauthn.missing_credential"));
        };
        let entity = enrolment::finish(app, &user, &inc.ctx, &challenge_id, &name, credential).await?;
        Ok(reply::json(201, &entity))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `GET webauthn/credentials` → 200 `[credential]`.
async fn list(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        enabled(app)?;
        Ok(reply::json(200, &enrolment::list(app, user.id).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `PATCH webauthn/credentials/:id` `{name}` → 200 the credential.
async fn rename(app: &App, inc: Incoming, id: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        enabled(app)?;
        let mut c = Check::new(inc.params()?, "resource.webauthn");
        let name = c.required_filled("name");
        c.finish()?;
        let entity = enrolment::rename(app, &user, credential_id(&id)?, &name.unwrap_or_default()).await?;
        Ok(reply::json(200, &entity))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `DELETE webauthn/credentials/:id` `{password?}` → 204.
async fn remove(app: &App, inc: Incoming, id: String) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        enabled(app)?;
        let mut c = Check::new(inc.params()?, "resource.webauthn");
        let password = c.optional("password");
        c.finish()?;
        enrolment::delete(app, &user, &inc.ctx, credential_id(&id)?, password.as_deref()).await?;
        Ok(reply::no_content())
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST webauthn/assertions` → 200 `{challenge_id, publicKey}` for an action's `webauthn` field.
async fn begin_assertion(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        enabled(app)?;
        Ok(reply::json(200, &assertion::begin(app, &user, Purpose::Action).await?))
    };
    reply::respond(&inc.ctx, r.await)
}
