//! Whitelink tokens: one-time tokens an operator hands out so a user locked out by the
//! restrictions can whitelist the IP they are at.

use common::admin::Whitelink;
use sha2::{Digest, Sha256};

use crate::model::{RestrictionCategory, RestrictionScope, RestrictionState};
use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::restrictions::rules;
use crate::store::restrictions::{NewRestriction, Redeemed};

fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// `restriction whitelink`: a one-time token valid for 1–30 days or hours. Only its hash is
/// stored; the token itself is returned once.
pub async fn create_whitelink(app: &App, days: Option<i64>, hours: Option<i64>) -> ServiceResult<Whitelink> {
    let seconds = match (days, hours) {
        (Some(_), Some(_)) => return Err(ServiceError::invalid("admin.restriction.invalid_expire")),
        (Some(n), None) if (1..=30).contains(&n) => n * 86_400,
        (None, Some(n)) if (1..=30).contains(&n) => n * 3_600,
        (None, None) => 86_400,
        _ => return Err(ServiceError::invalid("admin.restriction.invalid_expire")),
    };
    let token = hex::encode(rand::random::<[u8; 32]>());
    let now = app.clock.now();
    app.store.insert_whitelink(&hash(&token), now + seconds, now).await?;
    Ok(Whitelink { token, expires_at: iso8601(now + seconds) })
}

/// `POST identity/users/access`: whitelists the caller's IP (IPv4 or IPv6) and consumes the
/// token (Barong left it reusable until expiry: docs/barong-weaknesses-fixed.md#w-whitelink-reuse).
pub async fn redeem_whitelink(app: &App, token: &str, client_ip: &str) -> ServiceResult<()> {
    let ip: std::net::IpAddr = client_ip.trim().parse().map_err(|_| ServiceError::invalid("value.invalid"))?;
    let value = match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4).to_string(),
        v4 => v4.to_string(),
    };
    let new = NewRestriction {
        category: "whitelist",
        scope: "ip",
        value: &value,
        code: rules::default_code(RestrictionCategory::Whitelist, RestrictionScope::Ip),
        state: RestrictionState::Enabled.as_str(),
        now: app.clock.now(),
    };
    match app.store.redeem_whitelink(&hash(token), &new).await? {
        Redeemed::Created(_) => app.restrictions.reload(&app.store).await.map_err(ServiceError::from),
        Redeemed::InvalidToken => Err(ServiceError::invalid("identity.user.access.invalid_token")),
        Redeemed::Taken => Err(ServiceError::conflict("value.taken")),
    }
}
