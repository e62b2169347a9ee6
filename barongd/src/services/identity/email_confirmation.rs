//! Email confirmation: the signed confirmation token mailed at registration (and on request),
//! and its redemption, which verifies the email and so activates the account.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::model::labels::keys as label_keys;
use crate::model::{AccountState, CheckState, LabelScope};
use crate::services::App;
use crate::services::account::full_info;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api as events;
use crate::services::events::mail::MailKind;
use crate::services::identity::captcha::{Answer, Endpoint};
use crate::services::identity::email_address::{email_key, too_long};
use crate::services::identity::mail_links::link;
use crate::services::identity::mail_requests;
use crate::services::identity::sessions::{self, WithSession};
use crate::services::kyc::levels;
use crate::store::UserRow;

/// Mails `user` a confirmation link (and emits its Event API event).
pub async fn send_confirmation(app: &App, user: &UserRow) -> ServiceResult<()> {
    let now = app.clock.now();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("confirmation"));
    claims.insert("email".into(), json!(user.email));
    claims.insert("uid".into(), json!(user.uid));
    let token = app.tokens.sign(claims, now)?;
    let link = link(app, "/accounts/confirmation", "confirmation_token", &token, &user.language);
    let reported =
        events::user_system_event(app, "system.user.email.confirmation.token", user, &[("token", json!(token))]).await;
    app.mailer
        .send_with_events(&user.email, &user.language, MailKind::EmailConfirmation { link }, now, &reported)
        .await
        .map_err(ServiceError::internal)
}

/// `POST identity/users/email/generate_code`: the same 201 for unknown emails, for users who are
/// not pending confirmation (an active, banned or locked user gets no mail) and over the mail
/// limits, in the same time (the work runs after the reply: see `mail_requests`).
pub async fn email_generate_code(
    app: &Arc<App>,
    email: &str,
    captcha: Option<&Answer>,
    ctx: &RequestContext,
) -> ServiceResult<()> {
    if too_long(email) {
        return Ok(());
    }
    app.captcha.verify(Endpoint::EmailConfirmation, captcha).await?;
    let key = email_key(email);
    if !mail_requests::allowed(app, &key, &ctx.ip).await? {
        return Ok(());
    }
    mail_requests::after_reply(app, &ctx.request_id, "confirmation mail", move |app| async move {
        match app.store.user_by_email_key(&key).await? {
            Some(user) if user.state == AccountState::Pending => send_confirmation(&app, &user).await,
            _ => Ok(()),
        }
    });
    Ok(())
}

/// `POST identity/users/email/confirm_code`: only a user pending confirmation is confirmed, so a
/// banned or locked user cannot confirm their way back to active.
pub async fn email_confirm_code(app: &App, token: &str, ctx: &RequestContext) -> ServiceResult<WithSession> {
    let now = app.clock.now();
    let claims = app.tokens.verify(token, "confirmation", now)?;
    let email = claims.get("email").and_then(Value::as_str).unwrap_or_default();
    let user = match app.store.user_by_email_key(&email_key(email)).await? {
        Some(u) if u.state == AccountState::Pending => u,
        _ => return Err(ServiceError::invalid("identity.user.active_or_doesnt_exist")),
    };
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or_default();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now + app.config.jwt_expire_time);
    if !app.store.use_jti(jti, exp).await? {
        return Err(ServiceError::invalid("identity.user.utilized_token"));
    }
    let confirmed = |user: &UserRow, referral: Option<&str>| {
        events::user_system_event_of(app, "system.user.email.confirmed", user, referral, &[])
    };
    let verified = CheckState::Verified.as_str();
    let user = levels::set_label(app, &user, label_keys::EMAIL, verified, LabelScope::Private, &confirmed).await?;
    let mut entity = full_info::user_with_full_info(app, &user).await?;
    // Barong logged the user in here, without password or 2FA; only when the operator asks.
    let session = if app.config.login_on_email_confirmation {
        let s = sessions::open(app, &user, ctx).await?;
        entity.csrf_token = Some(s.csrf_token.clone());
        Some(s)
    } else {
        None
    };
    Ok(WithSession { user: entity, session })
}
