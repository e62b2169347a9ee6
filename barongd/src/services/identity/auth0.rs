//! `POST identity/sessions/auth0`: sign-in with an Auth0 ID token (spec §7.10). Unlike Barong
//! (docs/barong-weaknesses-fixed.md#w-auth0): only an email the tenant marks verified finds or
//! creates an account, and the account then signs in as with its password: banned, locked and
//! deleted accounts are refused with the password login's keys, and 2FA accounts need `otp_code`.

use serde::Deserialize;
use serde_json::Value;

use crate::model::labels::keys as label_keys;
use crate::model::{AccountState, CheckState, Role};
use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::attempts;
use crate::services::identity::auth0_keys::{Refused, Tenant};
use crate::services::identity::email_address::{email_key, is_valid_email, too_long};
use crate::services::identity::login::{SecondFactor, Signed, signed_in};
use crate::services::identity::mail_links::language;
use crate::services::identity::registration::{insert_user, new_uid};
use crate::services::kyc::levels;
use crate::services::random::random_hex;
use crate::services::telemetry::{access, record};
use crate::store::{NewUser, UserRow};

/// The request's parameters, after their validation.
pub struct Auth0Login {
    pub id_token: String,
    pub otp_code: Option<String>,
    pub webauthn: Option<crate::services::identity::webauthn::assertion::Proof>,
}

impl std::fmt::Debug for Auth0Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Auth0Login([redacted])")
    }
}

/// The ID token's claims this endpoint reads.
#[derive(Deserialize)]
struct Claims {
    email: Option<Value>,
    email_verified: Option<Value>,
}

/// Barong's answer to anything wrong with the token, the tenant or the account behind it: 422
/// for a token that does not verify (its rescue-all), 401 for a verified token that names no
/// usable account.
fn refused() -> ServiceError {
    ServiceError::invalid("identity.session.auth0.invalid_params")
}

fn unusable() -> ServiceError {
    ServiceError::unauthenticated("identity.session.auth0.invalid_params")
}

pub async fn login(app: &App, r: Auth0Login, ctx: &RequestContext) -> ServiceResult<Signed> {
    let result = attempt(app, app.auth0.as_ref(), r, ctx).await;
    record::login(&result);
    if let Ok(Signed::In(done)) = &result {
        access::note_uid(&done.user.uid);
    }
    result
}

async fn attempt(app: &App, tenant: Option<&Tenant>, r: Auth0Login, ctx: &RequestContext) -> ServiceResult<Signed> {
    // Off: Barong fetched `https:///.well-known/jwks.json`, failed, and rescued it.
    let Some(tenant) = tenant else { return Err(refused()) };
    let claims: Claims = match tenant.verify(&r.id_token, app.clock.now()).await {
        Ok(c) => c,
        Err(Refused::Token(why) | Refused::Keys(why)) => {
            tracing::info!(reason = %why, "Auth0 ID token refused");
            return Err(refused());
        }
    };
    let Some(email) = claims.email.as_ref().and_then(Value::as_str).map(str::trim).filter(|e| !e.is_empty()) else {
        return Err(unusable());
    };
    match claims.email_verified {
        Some(Value::Bool(true)) => {}
        // Barong raised (422) creating an account without the claim; it is never a verification.
        None => return Err(refused()),
        Some(_) => return Err(unusable()),
    }
    if too_long(email) || !is_valid_email(email) {
        return Err(refused());
    }
    let user = match app.store.user_by_email_key(&email_key(email)).await? {
        Some(u) => u,
        None => create(app, email).await?,
    };
    // The token stands for the password: the account's limits and its second factor apply.
    let attempt = attempts::reserve(app, &user.email, &ctx.ip, "identity.session.too_many_attempts").await?;
    let second = SecondFactor { otp_code: r.otp_code.as_deref(), webauthn: r.webauthn.as_ref() };
    signed_in(app, user, attempt, second, ctx).await
}

/// Barong's account for a new verified Auth0 email: active, a random password nobody knows, and
/// the private label `email: verified` (so the level of a confirmed email).
async fn create(app: &App, email: &str) -> ServiceResult<UserRow> {
    if !app.store.role_exists(Role::member().as_str()).await? {
        return Err(refused());
    }
    let digest = app.hasher.hash(&random_hex(32)).await?;
    let new = NewUser {
        uid: new_uid(&app.config.uid_prefix),
        username: None,
        email: email.to_string(),
        email_key: email_key(email),
        password_digest: digest,
        role: Role::member(),
        data: None,
        level: 0,
        state: AccountState::Active,
        referral_id: None,
        language: language(app, None),
        now: app.clock.now(),
    };
    let user = match insert_user(app, new).await {
        Ok(u) => u,
        // Another sign-in of the same email created it meanwhile.
        Err(e) if e.key() == "email.taken" => {
            return app.store.user_by_email_key(&email_key(email)).await?.ok_or_else(refused);
        }
        Err(e) => return Err(e),
    };
    levels::set_private_label(app, &user, label_keys::EMAIL, CheckState::Verified.as_str()).await
}
