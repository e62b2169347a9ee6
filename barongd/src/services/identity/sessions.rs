//! Cookie sessions, stored in the database by the SHA-256 of their id. A new id is issued at every
//! login (Barong merged into the existing session: fixation), and ending a session deletes it.

use common::entities::UserWithFullInfo;
use sha2::{Digest, Sha256};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::random::random_hex;
use crate::store::{PendingEvent, SessionRow, UserRow};

/// A session that was just opened: the id goes into the cookie, the CSRF token into the body.
pub struct Opened {
    pub session_id: String,
    pub csrf_token: String,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opened([redacted])")
    }
}

/// A user entity plus the session the request opened, if any.
pub struct WithSession {
    pub user: UserWithFullInfo,
    pub session: Option<Opened>,
}

pub fn hash_id(session_id: &str) -> String {
    hex::encode(Sha256::digest(session_id.as_bytes()))
}

/// Opens a fresh session for `user`, ending the one the request came with (if any).
pub async fn open(app: &App, user: &UserRow, ctx: &RequestContext) -> ServiceResult<Opened> {
    open_with_events(app, user, ctx, &[]).await
}

/// [`open`], queuing `events` in the transaction that stores the session.
pub async fn open_with_events(
    app: &App,
    user: &UserRow,
    ctx: &RequestContext,
    events: &[PendingEvent],
) -> ServiceResult<Opened> {
    open_proven(app, user, ctx, events, "pwd").await
}

/// [`open_with_events`] for a login proven by `amr` (RFC 8176 values joined by commas, e.g.
/// `pwd,webauthn`), which the upstream JWTs of the session carry as their `amr` claim.
pub async fn open_proven(
    app: &App,
    user: &UserRow,
    ctx: &RequestContext,
    events: &[PendingEvent],
    amr: &str,
) -> ServiceResult<Opened> {
    if let Some(old) = &ctx.session_id {
        app.store.delete_session(&hash_id(old)).await?;
    }
    let now = app.clock.now();
    let session_id = random_hex(32);
    let csrf_token = random_hex(10);
    let row = SessionRow {
        id_hash: hash_id(&session_id),
        user_id: user.id,
        csrf_token: csrf_token.clone(),
        user_ip: ctx.ip.clone(),
        user_agent: ctx.user_agent.clone().unwrap_or_default(),
        expires_at: now + app.config.session_expire_time,
        absolute_expires_at: now + app.config.session_max_lifetime,
        created_at: now,
        amr: amr.to_string(),
    };
    app.store.insert_session_with_events(&row, events).await?;
    Ok(Opened { session_id, csrf_token })
}

/// Ends the request's session; returns whether there was one.
pub async fn close(app: &App, ctx: &RequestContext) -> ServiceResult<bool> {
    match &ctx.session_id {
        Some(sid) => Ok(app.store.delete_session(&hash_id(sid)).await?),
        None => Ok(false),
    }
}

/// Barong's cookie flow, as its authz gateway runs it, for session-authenticated requests:
/// CSRF on state-changing methods, then session validity and binding, then the user's state.
pub async fn authenticate(
    app: &App,
    ctx: &RequestContext,
    state_changing: bool,
    csrf_header: Option<&str>,
) -> ServiceResult<(SessionRow, UserRow)> {
    let id_hash = ctx.session_id.as_deref().map(hash_id);
    let stored = match &id_hash {
        Some(h) => app.store.session(h).await?,
        None => None,
    };
    if state_changing && app.config.csrf_protection {
        let Some(sent) = csrf_header else {
            return Err(ServiceError::unauthenticated("authz.missing_csrf_token"));
        };
        let expected = stored.as_ref().map(|s| s.csrf_token.as_bytes()).unwrap_or(b"");
        let same: bool = subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected).into();
        if !same || expected.is_empty() {
            return Err(ServiceError::unauthenticated("authz.csrf_token_mismatch"));
        }
    }
    let (Some(session), Some(id_hash)) = (stored, id_hash) else {
        return Err(ServiceError::unauthenticated("authz.invalid_session"));
    };
    let now = app.clock.now();
    let bound =
        session.user_agent == ctx.user_agent.as_deref().unwrap_or_default() && same_network(&session.user_ip, &ctx.ip);
    if !bound || now >= session.expires_at || now >= session.absolute_expires_at {
        app.store.delete_session(&id_hash).await?;
        app.authz.forget_session(&id_hash);
        return Err(ServiceError::unauthenticated("authz.client_session_mismatch"));
    }
    let Some(user) = app.store.user_by_id(session.user_id).await? else {
        app.store.delete_session(&id_hash).await?;
        app.authz.forget_session(&id_hash);
        return Err(ServiceError::unauthenticated("authz.invalid_session"));
    };
    if !user.state.may_sign_in() {
        return Err(ServiceError::unauthenticated("authz.user_not_active"));
    }
    let lifetime = app.config.session_expire_time;
    if now + lifetime - session.expires_at >= (lifetime / 10).max(1) {
        app.store.touch_session(&id_hash, now + lifetime).await?;
    }
    Ok((session, user))
}

/// Barong binds a session to the login IP's /16 (IPv4) or /96 (IPv6) network.
pub fn same_network(login_ip: &str, ip: &str) -> bool {
    use std::net::IpAddr;
    match (login_ip.parse::<IpAddr>(), ip.parse::<IpAddr>()) {
        (Ok(a), Ok(b)) => same_network_addr(a, b),
        _ => login_ip == ip,
    }
}

/// `same_network` for addresses already parsed: the same /16 (IPv4) or /96 (IPv6).
pub fn same_network_addr(a: std::net::IpAddr, b: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match (a, b) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets()[..2] == b.octets()[..2],
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets()[..12] == b.octets()[..12],
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::same_network;

    #[test]
    fn binding_allows_the_same_network_only() {
        assert!(same_network("10.1.2.3", "10.1.200.4"));
        assert!(!same_network("10.1.2.3", "10.2.2.3"));
        assert!(same_network("2001:db8::1", "2001:db8::ffff:1"));
        assert!(!same_network("10.1.2.3", "2001:db8::1"));
    }
}
