//! `POST identity/users/access`: a whitelink token whitelists the caller's IP.

use warp::reply::Response;

use crate::http::incoming::Incoming;
use crate::http::params::Check;
use crate::http::reply;
use crate::services::App;
use crate::services::gateway::restrictions::whitelinks;

/// 201 and the bare number, as Barong.
pub async fn access(app: &App, inc: Incoming) -> Response {
    let r = async {
        let mut c = Check::new(inc.params()?, "identity.user");
        let token = c.required_filled("whitelink_token");
        c.finish()?;
        whitelinks::redeem_whitelink(app, &token.unwrap_or_default(), &inc.ctx.ip).await?;
        Ok(reply::status_only(201))
    };
    reply::respond(&inc.ctx, r.await)
}
