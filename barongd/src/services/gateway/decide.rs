//! One gateway decision, in Barong's order: block rules, pass rules,
//! then the cookie or the API-key flow, permissions, and the (reused) upstream JWT.
//! Restrictions, Barong's first check, are run by the caller before this.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::{Map, Value};

use crate::model::{HolderKind, KeyState};
use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::amr::Amr;
use crate::services::gateway::api_key_headers::ApiKeyHeaders;
use crate::services::gateway::audit::{self, Audited, Verdict};
use crate::services::gateway::caches::{CachedJwt, CachedKey, CachedSession, CachedUser, SessionKey, lookup};
use crate::services::gateway::holder::Holder;
use crate::services::gateway::rules::has_prefix;
use crate::services::identity::sessions::hash_id;
use crate::services::telemetry::access;
use crate::services::telemetry::record::{self, Flow};
use crate::store::UserRow;
use crate::store::authz::PermissionRow;
use crate::store::service_accounts::ServiceAccountRow;

/// What the gateway asked about, parsed at the edge.
pub struct AuthzRequest<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// The path after `/api/v2/auth/`, already normalised.
    pub path: &'a str,
    pub ctx: &'a RequestContext,
    pub csrf: Option<&'a str>,
    pub apikey: Option<&'a str>,
    pub nonce: Option<&'a str>,
    pub signature: Option<&'a str>,
    /// Request parameters, for the admin activity of audited or denied requests.
    pub params: Option<&'a Map<String, Value>>,
}

/// Whether a request changes state, for CSRF: every method but the safe ones (RFC 9110), so an
/// unusual or mistyped method can never skip the check. The method is upper-case already.
pub fn is_state_changing(method: &str) -> bool {
    !matches!(method, "GET" | "HEAD" | "OPTIONS")
}

impl AuthzRequest<'_> {
    fn uses_api_key(&self) -> bool {
        self.apikey.is_some() || self.nonce.is_some() || self.signature.is_some()
    }
}

#[derive(Debug)]
pub enum Decision {
    /// A `pass` path: 200 without a token.
    Pass,
    /// 200 with `Authorization: Bearer <token>`.
    Token(Arc<str>),
}

/// The decision for one gateway call (after restrictions).
pub async fn decide(app: &App, req: &AuthzRequest<'_>) -> ServiceResult<Decision> {
    let rules = app.authz.rules();
    if rules.blocks(req.path) {
        let denied = Err(ServiceError::unauthenticated("authz.permission_denied"));
        record::gateway_decision(Flow::Public, &denied);
        return denied;
    }
    if rules.passes(req.path) {
        record::gateway_decision(Flow::Public, &Ok(()));
        return Ok(Decision::Pass);
    }
    let flow = if req.uses_api_key() { Flow::ApiKey } else { Flow::Session };
    let decision = authenticated(app, req, flow).await;
    record::gateway_decision(flow, &decision);
    decision
}

async fn authenticated(app: &App, req: &AuthzRequest<'_>, flow: Flow) -> ServiceResult<Decision> {
    let (holder, amr) = if flow == Flow::ApiKey {
        (api_key_flow(app, req).await?, None)
    } else {
        let (holder, amr) = cookie_flow(app, req).await?;
        (holder, Some(amr))
    };
    access::note_uid(holder.uid());
    permit(app, req, &holder).await?;
    token(app, &holder, amr).map(Decision::Token)
}

/// The API-key flow alone (the resource API accepts these headers directly).
pub async fn api_key_user(app: &App, req: &AuthzRequest<'_>) -> ServiceResult<Option<UserRow>> {
    let holder = api_key_flow(app, req).await?;
    Ok(match holder {
        Holder::User(u) => Some(u.row.clone()),
        Holder::ServiceAccount(_) => None,
    })
}

/// The cookie flow alone, from the gateway's caches: the resource API's hot `users/me` checks
/// its session exactly as a gateway decision does.
pub async fn session_user(app: &App, req: &AuthzRequest<'_>) -> ServiceResult<i64> {
    match cookie_flow(app, req).await?.0 {
        Holder::User(u) => {
            access::note_uid(&u.row.uid);
            Ok(u.row.id)
        }
        Holder::ServiceAccount(_) => Err(ServiceError::unauthenticated("authz.invalid_session")),
    }
}

// --- cookie flow: CSRF, session, binding to UA and network, user state ---

async fn cookie_flow(app: &App, req: &AuthzRequest<'_>) -> ServiceResult<(Holder, Amr)> {
    let id_hash = req.ctx.session_id.as_deref().map(hash_id);
    let session = match &id_hash {
        Some(h) => session(app, h).await?,
        None => None,
    };
    let state_changing = is_state_changing(req.method);
    if state_changing && app.config.csrf_protection {
        let Some(sent) = req.csrf else {
            return Err(ServiceError::unauthenticated("authz.missing_csrf_token"));
        };
        let expected = session.as_ref().map(|s| s.csrf_token.as_bytes()).unwrap_or(b"");
        let same: bool = subtle::ConstantTimeEq::ct_eq(sent.as_bytes(), expected).into();
        if !same || expected.is_empty() {
            return Err(ServiceError::unauthenticated("authz.csrf_token_mismatch"));
        }
    }
    let (Some(session), Some(id_hash)) = (session, id_hash) else {
        return Err(ServiceError::unauthenticated("authz.invalid_session"));
    };
    let now = app.clock.now();
    let mut expires_at = session.expires_at.load(Ordering::SeqCst);
    let bound = session.bound_to(req.ctx.user_agent.as_deref().unwrap_or_default(), &req.ctx.ip);
    if bound && now >= expires_at && now < session.absolute_expires_at {
        // Another daemon may have slid the expiry since this one cached the session (a touch is
        // not on the change feed): the database decides before a live session is ended.
        if let Some(fresh) = app.store.session(&id_hash).await? {
            session.expires_at.fetch_max(fresh.expires_at, Ordering::SeqCst);
            expires_at = expires_at.max(fresh.expires_at);
        }
    }
    if !bound || now >= expires_at || now >= session.absolute_expires_at {
        app.store.delete_session(&id_hash).await?;
        app.authz.forget_session(&id_hash);
        return Err(ServiceError::unauthenticated("authz.client_session_mismatch"));
    }
    let Some(user) = user(app, session.user_id).await? else {
        app.store.delete_session(&id_hash).await?;
        return Err(ServiceError::unauthenticated("authz.invalid_session"));
    };
    if !user.row.state.may_sign_in() {
        return Err(ServiceError::unauthenticated("authz.user_not_active"));
    }
    // Sliding expiry, written only when it moved by a tenth of the lifetime.
    let lifetime = app.config.session_expire_time;
    if now + lifetime - expires_at >= (lifetime / 10).max(1) {
        app.store.touch_session(&id_hash, now + lifetime).await?;
        session.expires_at.store(now + lifetime, Ordering::SeqCst);
    }
    Ok((Holder::User(user), session.amr))
}

async fn session(app: &App, id_hash: &str) -> ServiceResult<Option<Arc<CachedSession>>> {
    let authz = &app.authz;
    let key = SessionKey::from_hex(id_hash);
    if let Some(s) = key.and_then(|k| lookup("sessions", &authz.caches.sessions, &k)) {
        return Ok(Some(s));
    }
    let generation = authz.generation.load(Ordering::SeqCst);
    let Some(row) = app.store.session(id_hash).await? else { return Ok(None) };
    let cached = Arc::new(CachedSession::new(&row));
    if let Some(key) = key {
        authz.fill(&authz.caches.sessions, generation, key, cached.clone());
    }
    Ok(Some(cached))
}

async fn user(app: &App, id: i64) -> ServiceResult<Option<Arc<CachedUser>>> {
    let authz = &app.authz;
    if let Some(u) = lookup("users", &authz.caches.users, &id) {
        return Ok(Some(u));
    }
    let generation = authz.generation.load(Ordering::SeqCst);
    let Some(row) = app.store.user_by_id(id).await? else { return Ok(None) };
    let cached = Arc::new(CachedUser { row });
    authz.fill(&authz.caches.users, generation, id, cached.clone());
    Ok(Some(cached))
}

async fn service_account(app: &App, id: i64) -> ServiceResult<Option<Arc<ServiceAccountRow>>> {
    let authz = &app.authz;
    if let Some(s) = lookup("service_accounts", &authz.caches.service_accounts, &id) {
        return Ok(Some(s));
    }
    let generation = authz.generation.load(Ordering::SeqCst);
    let Some(row) = app.store.service_account_by_id(id).await? else { return Ok(None) };
    let cached = Arc::new(row);
    authz.fill(&authz.caches.service_accounts, generation, id, cached.clone());
    Ok(Some(cached))
}

// --- API-key flow: headers, key, nonce, signature, key state, holder ---

async fn api_key_flow(app: &App, req: &AuthzRequest<'_>) -> ServiceResult<Holder> {
    let Some(headers) = ApiKeyHeaders::parse(req.apikey, req.nonce, req.signature) else {
        return Err(ServiceError::invalid("authz.invalid_api_key_headers"));
    };
    let kid = headers.kid.as_str();
    let Some(key) = api_key(app, kid).await? else {
        return Err(ServiceError::unauthenticated("authz.unexistent_apikey"));
    };
    let nonce_ms = headers.nonce_ms();
    if nonce_ms <= 0 {
        return Err(ServiceError::unauthenticated("authz.nonce_not_valid_timestamp"));
    }
    let now_ms = app.clock.now_ms();
    if (now_ms - nonce_ms).abs() >= app.config.apikey_nonce_lifetime {
        return Err(ServiceError::unauthenticated("authz.nonce_expired"));
    }
    let Some(secret) = &key.secret else {
        // Imported without its secret, so disabled for good: refused as the disabled key it is,
        // since no signature can be checked (migration spec §2.8.5).
        return Err(ServiceError::unauthenticated("authz.apikey_not_active"));
    };
    if !headers.signed_by(secret) {
        return Err(ServiceError::unauthenticated("authz.invalid_signature"));
    }
    if key.state != KeyState::Active {
        return Err(ServiceError::unauthenticated("authz.apikey_not_active"));
    }
    let holder = match key.holder_type {
        HolderKind::User => user(app, key.holder_id).await?.map(Holder::User),
        HolderKind::ServiceAccount => service_account(app, key.holder_id).await?.map(Holder::ServiceAccount),
    };
    let holder = match holder {
        Some(Holder::User(u)) if u.row.state.may_sign_in() => {
            if !u.row.otp {
                return Err(ServiceError::unauthenticated("authz.disabled_2fa"));
            }
            Holder::User(u)
        }
        Some(Holder::ServiceAccount(sa)) if sa.state.may_sign_in() => Holder::ServiceAccount(sa),
        _ => return Err(ServiceError::unauthenticated("authz.invalid_session")),
    };
    // Unlike Barong, a nonce is good once per key, on every daemon of the database
    // (docs/barong-weaknesses-fixed.md#w-nonce-replay).
    // Checked last, so only correctly signed requests reach the table.
    // Only PostgreSQL is shared by several daemons; this daemon's memory answers first either way.
    // A nonce stays acceptable until `nonce + lifetime`, which for a nonce ahead of our clock is
    // later than `now + lifetime`: remember it until the later of the two (and 2 s of slack for
    // the whole seconds), so a signed request is accepted exactly once.
    let now = app.clock.now();
    let expires_at = now_ms.max(nonce_ms) / 1000 + app.config.apikey_nonce_lifetime / 1000 + 2;
    if !app.authz.use_nonce_locally(kid, nonce_ms, now, expires_at)
        || !app.authz.use_shared_nonce(kid, nonce_ms, expires_at).await?
    {
        return Err(ServiceError::unauthenticated("authz.nonce_reused"));
    }
    Ok(holder)
}

async fn api_key(app: &App, kid: &str) -> ServiceResult<Option<Arc<CachedKey>>> {
    let authz = &app.authz;
    if let Some(k) = lookup("api_keys", &authz.caches.keys, kid) {
        return Ok(Some(k));
    }
    let generation = authz.generation.load(Ordering::SeqCst);
    let Some(row) = app.store.api_key_by_kid(kid).await? else { return Ok(None) };
    let secret = if row.secret_unavailable {
        None
    } else {
        Some(app.sealer.open(&row.secret_sealed).map_err(ServiceError::internal)?)
    };
    let cached = Arc::new(CachedKey {
        kid: row.kid.clone(),
        holder_type: row.key_holder_account_type,
        holder_id: row.key_holder_account_id,
        state: row.state,
        secret,
    });
    authz.fill(&authz.caches.keys, generation, cached.kid.clone(), cached.clone());
    Ok(Some(cached))
}

// --- permissions: role × verb × path prefix → ACCEPT, DROP or AUDIT ---

async fn permissions(app: &App) -> ServiceResult<Arc<Vec<PermissionRow>>> {
    let authz = &app.authz;
    let cached = authz.caches.permissions.read().ok().and_then(|p| p.clone());
    record::cache_lookup("permissions", cached.is_some());
    if let Some(p) = cached {
        return Ok(p);
    }
    let generation = authz.generation.load(Ordering::SeqCst);
    let rows = Arc::new(app.store.permissions().await?);
    if let Ok(mut p) = authz.caches.permissions.write()
        && authz.generation.load(Ordering::SeqCst) == generation
    {
        *p = Some(rows.clone());
    }
    Ok(rows)
}

/// What the permissions say about one request of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleVerdict {
    /// No ACCEPT rule matched, or a DROP rule did.
    Denied,
    Allowed,
    /// Allowed, and an AUDIT rule matched: its topic.
    Audited(Option<String>),
}

/// The permissions' verdict for `role` on `method` (upper case) `path` (no leading slash), from
/// the cached rules: the authz endpoint's decision, also run in-process by the Admin API.
pub async fn rule_verdict(app: &App, role: &str, method: &str, path: &str) -> ServiceResult<RuleVerdict> {
    let rows = permissions(app).await?;
    let matching: Vec<&PermissionRow> = rows
        .iter()
        .filter(|p| {
            p.role == role && (p.verb == method || p.verb == "ALL") && has_prefix(path, p.path.trim_matches('/'))
        })
        .collect();
    let denied = matching.is_empty()
        || matching.iter().any(|p| p.action == "DROP")
        || !matching.iter().any(|p| p.action == "ACCEPT");
    Ok(if denied {
        RuleVerdict::Denied
    } else if let Some(p) = matching.iter().find(|p| p.action == "AUDIT") {
        RuleVerdict::Audited(p.topic.clone())
    } else {
        RuleVerdict::Allowed
    })
}

async fn permit(app: &App, req: &AuthzRequest<'_>, holder: &Holder) -> ServiceResult<()> {
    let verdict = rule_verdict(app, holder.role(), req.method, req.path).await?;
    if let Holder::User(u) = holder {
        let audited = Audited { method: req.method, path: req.path, ctx: req.ctx, params: req.params };
        match &verdict {
            RuleVerdict::Denied => audit::record(app, &audited, &u.row, None, Verdict::Denied),
            RuleVerdict::Audited(topic) => audit::record(app, &audited, &u.row, topic.as_deref(), Verdict::Audited),
            RuleVerdict::Allowed => {}
        }
    }
    // Kept at 401, not 403: Barong's web clients treat 401 from the gateway as "not allowed here"
    // and gateways relay it; a new status would change what they show
    // (docs/compatibility.md#invalid-permission-401).
    if verdict == RuleVerdict::Denied { Err(ServiceError::unauthenticated("authz.invalid_permission")) } else { Ok(()) }
}

// --- the upstream JWT, reused per account ---

/// The claims depend only on the account and, for a session, how its login was proven (`amr`),
/// so one token per account and `amr` is reused: 10,000 sessions of a few accounts cost a few
/// tokens, not 10,000. Any change to the account drops its tokens; the session or key was
/// checked already. API-key tokens carry no `amr` (no login).
fn token(app: &App, holder: &Holder, amr: Option<Amr>) -> ServiceResult<Arc<str>> {
    let authz = &app.authz;
    let now = app.clock.now();
    let subject = (holder.subject(), amr);
    let cached = authz
        .caches
        .jwts
        .read()
        .ok()
        .and_then(|m| m.get(&subject).filter(|t| now < t.reuse_until).map(|t| t.token.clone()));
    record::cache_lookup("jwts", cached.is_some());
    if let Some(t) = cached {
        return Ok(t);
    }
    let generation = authz.generation.load(Ordering::SeqCst);
    let mut claims = holder.claims();
    if let Some(amr) = amr {
        claims.insert("amr".into(), serde_json::json!(amr.values()));
    }
    let token: Arc<str> = app.tokens.sign(claims, now)?.into();
    let reuse = authz.reuse_seconds();
    if reuse > 0 {
        let reuse_until = (now + reuse).min(now + app.tokens.expire());
        let entry = CachedJwt { token: token.clone(), reuse_until };
        authz.fill(&authz.caches.jwts, generation, subject, entry);
    }
    Ok(token)
}
