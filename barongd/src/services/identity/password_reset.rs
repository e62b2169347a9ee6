//! Password reset: a signed reset link mailed on request, and the new password set with it.
//! Only the newest reset token works, once, and it is bound to the user id.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::events::event_api as events;
use crate::services::events::mail::MailKind;
use crate::services::identity::captcha::{Answer, Endpoint};
use crate::services::identity::email_address::{email_key, too_long};
use crate::services::identity::mail_links::{language, link};
use crate::services::identity::mail_requests;
use crate::services::random::random_hex;

/// `POST identity/users/password/generate_code`: the same 201 for unknown emails and over the
/// mail limits, in the same time (the work runs after the reply: see `mail_requests`).
pub async fn password_generate_code(
    app: &Arc<App>,
    email: &str,
    lang: Option<&str>,
    captcha: Option<&Answer>,
    ctx: &RequestContext,
) -> ServiceResult<()> {
    if too_long(email) {
        return Ok(());
    }
    app.captcha.verify(Endpoint::PasswordReset, captcha).await?;
    let key = email_key(email);
    if !mail_requests::allowed(app, &key, &ctx.ip).await? {
        return Ok(());
    }
    let (lang, job_ctx) = (lang.map(str::to_string), ctx.clone());
    mail_requests::after_reply(app, &ctx.request_id, "password reset mail", move |app| async move {
        send_reset(&app, &key, lang.as_deref(), &job_ctx).await
    });
    Ok(())
}

/// A reset link for the account of `key`, if there is one.
async fn send_reset(app: &App, key: &str, lang: Option<&str>, ctx: &RequestContext) -> ServiceResult<()> {
    let Some(user) = app.store.user_by_email_key(key).await? else { return Ok(()) };
    let now = app.clock.now();
    let reset_token = random_hex(10);
    app.store.set_reset_token(user.id, &reset_token, now + app.config.jwt_expire_time).await?;
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("reset"));
    claims.insert("email".into(), json!(user.email));
    claims.insert("uid".into(), json!(user.uid));
    claims.insert("reset_token".into(), json!(reset_token));
    let token = app.tokens.sign(claims, now)?;
    let lang = lang.map(|l| language(app, Some(l))).unwrap_or_else(|| user.language.clone());
    let link = link(app, "/accounts/password_reset", "reset_token", &token, &lang);
    activity::record(app, ctx, user.id, "password", "request password reset", Outcome::Succeed, None).await;
    let reported =
        events::user_system_event(app, "system.user.password.reset.token", &user, &[("token", json!(token))]).await;
    app.mailer
        .send_with_events(&user.email, &lang, MailKind::PasswordReset { link }, now, &reported)
        .await
        .map_err(ServiceError::internal)
}

/// `POST identity/users/password/confirm_code`.
pub async fn password_confirm_code(
    app: &App,
    token: &str,
    password: &str,
    confirm: &str,
    ctx: &RequestContext,
) -> ServiceResult<()> {
    if password != confirm {
        return Err(ServiceError::invalid("identity.user.passwords_doesnt_match"));
    }
    let now = app.clock.now();
    let claims = app.tokens.verify(token, "reset", now)?;
    let utilized = || ServiceError::invalid("identity.user.utilized_token");
    let uid = claims.get("uid").and_then(Value::as_str).unwrap_or_default();
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or_default();
    let reset_token = claims.get("reset_token").and_then(Value::as_str).ok_or_else(utilized)?;
    let user = app.store.user_by_uid(uid).await?.ok_or_else(utilized)?;
    if app.store.jti_used(jti).await? {
        return Err(utilized());
    }
    if let Some(key) = app.policy.check(password) {
        activity::record(app, ctx, user.id, "password", "password reset", Outcome::Failed, Some(key)).await;
        return Err(ServiceError::invalid(key));
    }
    // Consuming the stored reset token is the atomic step: only the newest token works, once.
    if !app.store.take_reset_token(user.id, reset_token, now).await? {
        return Err(utilized());
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now + app.config.jwt_expire_time);
    app.store.use_jti(jti, exp).await?;
    let digest = app.hasher.hash(password).await?;
    let reset = events::user_system_event(app, "system.user.password.reset", &user, &[]).await;
    app.store.update_password_with_events(user.id, &digest, now, &reset).await?;
    activity::record(app, ctx, user.id, "password", "password reset", Outcome::Succeed, None).await;
    let ended = app.store.delete_user_sessions(user.id).await?;
    tracing::info!(uid = %user.uid, sessions_ended = ended, "password reset");
    app.mailer.send(&user.email, &user.language, MailKind::PasswordChanged, now).await.map_err(ServiceError::internal)
}
