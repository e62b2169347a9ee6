//! `resource/phones`. Authentication first (401), then the parameters
//! (422 `resource.phone.*`), then the service.

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
use crate::services::kyc::phones;
use crate::services::kyc::sms::Channel;

/// Routes under `resource/`.
pub fn routes(app: &Arc<App>, inc: &BoxedFilter<(Incoming,)>) -> BoxedFilter<(Response,)> {
    use warp::{get, path, post};
    let phones = || path("phones");
    crate::endpoint!(app, inc, get(), phones(), list)
        .or(crate::endpoint!(app, inc, post(), phones(), create))
        .unify()
        .or(crate::endpoint!(app, inc, post(), phones().and(path("send_code")), send_code))
        .unify()
        .or(crate::endpoint!(app, inc, post(), phones().and(path("verify")), verify))
        .unify()
        .boxed()
}

/// `phone_number` (required, not blank) and `channel` (`sms`|`call`, default sms), with the
/// keys in declaration order.
fn number_and_channel(inc: &Incoming) -> ServiceResult<(String, Channel)> {
    let mut c = Check::new(inc.params()?, "resource.phone");
    let number = c.required_filled("phone_number");
    let channel = c.optional("channel");
    let mut keys = c.into_keys();
    let channel = match channel.as_deref() {
        None => Some(Channel::Sms),
        Some(raw) => Channel::parse(raw),
    };
    if channel.is_none() {
        keys.push("resource.phone.invalid_channel".into());
    }
    match (number, channel) {
        (Some(n), Some(ch)) if keys.is_empty() => Ok((n, ch)),
        _ => Err(ServiceError::invalid_all(keys)),
    }
}

fn sent(channel: Channel) -> Response {
    let message = format!("Code was sent successfully via {}", channel.as_str());
    reply::json(201, &serde_json::json!({ "message": message }))
}

/// `GET phones` → 200 `[Phone]`.
pub async fn list(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        Ok(reply::json(200, &phones::list(app, &user).await?))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST phones` → 201 `{"message": ...}`.
pub async fn create(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let (number, channel) = number_and_channel(&inc)?;
        phones::create(app, &user, &number, channel).await?;
        Ok(sent(channel))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST phones/send_code` → 201 `{"message": ...}`.
pub async fn send_code(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let (number, channel) = number_and_channel(&inc)?;
        phones::send_code(app, &user, &number, channel).await?;
        Ok(sent(channel))
    };
    reply::respond(&inc.ctx, r.await)
}

/// `POST phones/verify` → 201 `UserWithFullInfo`.
pub async fn verify(app: &App, inc: Incoming) -> Response {
    let r = async {
        let user = authenticate(app, &inc).await?;
        let mut c = Check::new(inc.params()?, "resource.phone");
        let number = c.required_filled("phone_number");
        let code = c.required_filled("verification_code");
        c.finish()?;
        let entity = phones::verify(app, &user, &number.unwrap_or_default(), &code.unwrap_or_default()).await?;
        Ok(reply::json(201, &entity))
    };
    reply::respond(&inc.ctx, r.await)
}
