//! A user's own account (`users/...`): password change, data, deletion, activity history.

use common::entities::{Activity, UserWithFullInfo};
use serde_json::Value;

use crate::model::LabelScope;
use crate::model::labels::{self, keys as label_keys};
use crate::services::App;
use crate::services::account::full_info;
use crate::services::clock::iso8601;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::events::event_api;
use crate::services::events::mail::MailKind;
use crate::services::identity::passwords::MAX_PASSWORD_BYTES;
use crate::services::identity::webauthn::{
    self,
    assertion::{self, Proof, Verdict},
    ceremony::Purpose,
};
use crate::services::identity::{attempts, sessions, totp};
use crate::services::kyc::levels;
use crate::store::UserRow;
use crate::store::account::ActivityFilter;
use crate::store::activities::ActivityRow;

/// Topics a user may list (`GET users/activity/:topic`).
pub const ACTIVITY_TOPICS: [&str; 5] = ["all", "session", "otp", "password", "account"];

/// `PUT users/password`, after parameter validation. Checks in Barong's order; every refusal is
/// recorded as act(password, "password change", failed) with Barong's reason.
///
/// Barong asks for no second factor here, and requiring `otp_code` would break every client
/// written against Barong's API, which has no such parameter, so it stays off
/// (docs/compatibility.md#password-change-no-2fa). The old password is the proof, and every
/// other session ends on success, so a stolen session cannot keep a foothold after the owner
/// changes the password (docs/barong-weaknesses-fixed.md#w-password-change-sessions).
pub async fn change_password(
    app: &App,
    user: &UserRow,
    ctx: &RequestContext,
    old: &str,
    new: &str,
    confirm: &str,
) -> ServiceResult<()> {
    let fail = |error: ServiceError, reason: &'static str| async move {
        activity::record(app, ctx, user.id, "password", "password change", Outcome::Failed, Some(reason)).await;
        Err(error)
    };
    if new != confirm {
        return fail(ServiceError::invalid("resource.password.doesnt_match"), "New passwords don't match").await;
    }
    // A wrong old password is a guess like a failed login, counted in the same bucket.
    let attempt = match attempts::reserve(app, &user.email, &ctx.ip, "resource.password.too_many_attempts").await {
        Ok(a) => a,
        Err(e) => return fail(e, "Too many attempts").await,
    };
    // An over-long guess cannot be the password (the policy never accepts one): refuse it without
    // spending argon2 work on megabytes of input.
    let old_ok = old.len() <= MAX_PASSWORD_BYTES && app.hasher.verify(old, Some(&user.password_digest)).await?;
    if !old_ok {
        return fail(
            ServiceError::rejected("resource.password.prev_pass_not_correct"),
            "Previous password is not correct",
        )
        .await;
    }
    attempt.succeeded(app).await?;
    if old == new {
        return fail(
            ServiceError::rejected("resource.password.no_change_provided"),
            "New password cant be the same, as old one",
        )
        .await;
    }
    if let Some(key) = app.policy.check(new) {
        return fail(ServiceError::invalid(key), key).await;
    }
    let now = app.clock.now();
    let digest = app.hasher.hash(new).await?;
    let changed = event_api::user_system_event(app, "system.user.password.change", user, &[]).await;
    app.store.update_password_with_events(user.id, &digest, now, &changed).await?;
    activity::record(app, ctx, user.id, "password", "password change", Outcome::Succeed, None).await;
    // A caller without a session (API key, bearer JWT) keeps none: "" matches no stored hash.
    let keep = ctx.session_id.as_deref().map(sessions::hash_id).unwrap_or_default();
    let ended = app.store.delete_other_sessions(user.id, &keep).await?;
    tracing::info!(uid = %user.uid, sessions_ended = ended, "password changed");
    // The password is already changed: a mail that cannot be queued must not turn that into a 500.
    if let Err(e) = app.mailer.send(&user.email, &user.language, MailKind::PasswordChanged, now).await {
        tracing::warn!(request_id = %ctx.request_id, error = %e, "password-changed mail not queued");
    }
    Ok(())
}

/// Barong's model checks of `users.data`, in its order: length, then JSON.
pub fn data_errors(data: &str, max_chars: usize) -> Vec<String> {
    let mut errors = Vec::new();
    if data.chars().count() > max_chars {
        errors.push("data.too_long".to_string());
    }
    if serde_json::from_str::<Value>(data).is_err() {
        errors.push("data.invalid_format".to_string());
    }
    errors
}

/// `PUT users/me`: replaces `data` (JSON text, at most 1024 characters).
pub async fn update_data(app: &App, user: &UserRow, data: &str) -> ServiceResult<UserWithFullInfo> {
    let errors = data_errors(data, 1024);
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    app.store.update_user_data(user.id, data, app.clock.now()).await?;
    let fresh = app.store.user_by_id(user.id).await?.ok_or_else(|| ServiceError::not_found("record.not_found"))?;
    full_info::user_with_full_info(app, &fresh).await
}

/// `DELETE users/me`: the password (and the TOTP code when 2FA is on) confirm it; the private
/// label `delete=by_user` moves the state (to `deleted` with the default `state_triggers`).
///
/// Beyond Barong: the user's API keys (and its service accounts' keys) are disabled and every
/// session ends at once, instead of waiting for the gateway to notice the state (Barong killed
/// no session: docs/barong-weaknesses-fixed.md#w-account-delete). The keys are disabled here
/// too, not only by the owner cascade `levels::recompute` runs when the state leaves `active`,
/// because an operator's `state_triggers` may not react to `delete`: the owner asked to close the
/// account either way. The attempt is recorded under the `account` topic.
pub async fn delete_me(
    app: &App,
    user: &UserRow,
    ctx: &RequestContext,
    password: &str,
    otp_code: Option<&str>,
    proof: Option<&Proof>,
) -> ServiceResult<()> {
    let refuse = |error: ServiceError, reason: &'static str| async move {
        activity::record(app, ctx, user.id, "account", "account delete", Outcome::Failed, Some(reason)).await;
        Err(error)
    };
    let fail = |key: &'static str, reason: &'static str| refuse(ServiceError::invalid(key), reason);
    // One reservation covers the password and the code, as at login: a wrong one keeps it.
    let attempt = match attempts::reserve(app, &user.email, &ctx.ip, "resource.user.too_many_attempts").await {
        Ok(a) => a,
        Err(e) => return refuse(e, "Too many attempts").await,
    };
    let ok = password.len() <= MAX_PASSWORD_BYTES && app.hasher.verify(password, Some(&user.password_digest)).await?;
    if !ok {
        return fail("resource.user.invalid_password", "Invalid password").await;
    }
    let has_webauthn = webauthn::enrolled(app, user.id).await?;
    if let Some(proof) = proof.filter(|_| has_webauthn) {
        // A WebAuthn assertion in place of the code, inside the same reservation.
        if assertion::check_reserved(app, user, proof, Purpose::Action, ctx).await? != Verdict::Valid {
            return fail("resource.user.invalid_otp", "WebAuthn assertion is invalid").await;
        }
    } else if user.otp || has_webauthn {
        let missing = match otp_code {
            None => Some(("resource.user.missing_otp_code", "OTP code is missing")),
            Some("") => Some(("resource.user.empty_otp_code", "OTP code is empty")),
            Some(_) => None,
        };
        if let Some((key, reason)) = missing {
            // The password was right: no guess to count.
            attempt.succeeded(app).await?;
            return fail(key, reason).await;
        }
        if !user.otp || !totp::check_reserved(app, user, otp_code.unwrap_or_default()).await? {
            return fail("resource.user.invalid_otp", "OTP code is invalid").await;
        }
    }
    attempt.succeeded(app).await?;
    let deleted = |user: &UserRow, referral: Option<&str>| {
        let record = serde_json::json!({ "record": { "user": event_api::user_record(user, referral) } });
        event_api::pending(app, "system.user.account.deleted", &record)
    };
    let user = levels::set_label(app, user, label_keys::DELETE, labels::DELETED_BY_USER, LabelScope::Private, &deleted)
        .await?;
    let now = app.clock.now();
    let keys = app.store.disable_api_keys_of_user(user.id, now).await?;
    let sessions = app.store.delete_user_sessions(user.id).await?;
    activity::record(app, ctx, user.id, "account", "account delete", Outcome::Succeed, None).await;
    tracing::info!(uid = %user.uid, state = %user.state, api_keys_disabled = keys, sessions_ended = sessions,
        "account deleted by its owner");
    Ok(())
}

/// A validated `GET users/activity/:topic` request.
#[derive(Debug, Clone)]
pub struct ActivityQuery {
    pub topic: String,
    pub time_from: Option<i64>,
    pub time_to: Option<i64>,
    pub result: Option<String>,
    pub page: i64,
    pub limit: i64,
}

/// One page of activities and the number of matching rows.
pub struct ActivityPage {
    pub items: Vec<Activity>,
    pub total: i64,
}

/// `GET users/activity/:topic`: the user's rows (any category, so admin actions the user took
/// are included), newest first.
pub async fn activities(app: &App, user: &UserRow, q: &ActivityQuery) -> ServiceResult<ActivityPage> {
    if !ACTIVITY_TOPICS.contains(&q.topic.as_str()) {
        return Err(ServiceError::invalid("resource.user.wrong_topic"));
    }
    let filter = ActivityFilter {
        topic: Some(q.topic.as_str()).filter(|t| *t != "all"),
        from: q.time_from,
        to: q.time_to,
        result: q.result.as_deref(),
    };
    let total = app.store.count_activities(user.id, &filter).await?;
    if total == 0 {
        // Kept from Barong: clients expect a 422 rather than an empty list
        // (docs/compatibility.md#activity-422).
        return Err(ServiceError::invalid("resource.user.no_activity"));
    }
    let offset = q.page.saturating_sub(1).saturating_mul(q.limit);
    let rows = app.store.activities_page(user.id, &filter, q.limit, offset).await?;
    Ok(ActivityPage { items: rows.into_iter().map(activity_entity).collect(), total })
}

/// The API entity of a stored row (its category and user id stay internal).
fn activity_entity(a: ActivityRow) -> Activity {
    Activity {
        id: a.id,
        user_ip: a.user_ip,
        user_ip_country: a.user_ip_country,
        user_agent: a.user_agent,
        topic: a.topic,
        action: a.action,
        result: a.result,
        data: a.data,
        created_at: iso8601(a.created_at),
    }
}

#[cfg(test)]
mod tests {
    use super::data_errors;

    #[test]
    fn data_is_checked_for_length_then_json() {
        assert!(data_errors(r#"{"a":1}"#, 1024).is_empty());
        assert!(data_errors("1", 1024).is_empty(), "any JSON value, as Ruby's JSON.parse");
        assert_eq!(data_errors("{nope", 1024), vec!["data.invalid_format"]);
        let fits = format!("\"{}\"", "é".repeat(1022));
        assert!(data_errors(&fits, 1024).is_empty(), "counted in characters, not bytes");
        let long = format!("\"{}\"", "é".repeat(1023));
        assert_eq!(data_errors(&long, 1024), vec!["data.too_long"]);
        assert_eq!(data_errors(&"x".repeat(1025), 1024), vec!["data.too_long", "data.invalid_format"]);
    }
}
