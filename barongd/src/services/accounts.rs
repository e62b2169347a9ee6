//! Registration, email confirmation and password reset (identity-and-authz §7.2–§7.6).

use common::entities::UserWithFullInfo;
use serde_json::{Map, Value, json};

use super::activity::{self, Outcome};
use super::captcha::{Answer, Endpoint};
use super::context::RequestContext;
use super::email_format::is_valid_email;
use super::error::{ServiceError, ServiceResult};
use super::mail::MailKind;
use super::tokens::random_hex;
use super::{App, entities, events, levels, sessions};
use crate::store::{NewUser, StoreError, UserRow};

/// `POST identity/users`, after parameter validation.
pub struct Registration {
    pub email: String,
    pub password: String,
    pub username: Option<String>,
    pub refid: Option<String>,
    pub data: Option<String>,
    pub lang: Option<String>,
    pub captcha: Option<Answer>,
}

/// A user entity plus the session the request opened, if any.
pub struct WithSession {
    pub user: UserWithFullInfo,
    pub session: Option<sessions::Opened>,
}

/// The lookup form of an email: stripped and lower-cased, so `A@x.io` and `a@x.io` are one account.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// A language code safe to store and to use in template lookups.
pub fn language(app: &App, lang: Option<&str>) -> String {
    match lang.map(str::trim) {
        Some(l) if (2..=5).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic() || c == '-') => {
            l.to_ascii_lowercase()
        }
        _ => app.config.default_language.clone(),
    }
}

fn new_uid(prefix: &str) -> String {
    format!("{}{}", prefix.to_ascii_uppercase(), random_hex(5).to_ascii_uppercase())
}

/// Model validation of a new account, all errors at once in Barong's attribute order.
pub async fn validate_new_user(
    app: &App,
    email: &str,
    password: &str,
    username: Option<&str>,
    data: Option<&str>,
    role: &str,
) -> ServiceResult<()> {
    let mut errors: Vec<String> = Vec::new();
    let mut push = |k: &str| {
        if !errors.iter().any(|e| e == k) {
            errors.push(k.to_string());
        }
    };
    if email.trim().is_empty() || !is_valid_email(email) {
        push("email.invalid");
    } else if app.store.user_by_email_key(&email_key(email)).await?.is_some() {
        push("email.taken");
    }
    if let Some(u) = username {
        let n = u.chars().count();
        if n < 4 {
            push("username.too_short");
        }
        if n > 12 {
            push("username.too_long");
        }
        if !u.chars().all(|c| c.is_ascii_alphanumeric()) || u.is_empty() {
            push("username.invalid");
        }
    }
    if let Some(k) = app.policy.check(password) {
        push(k);
    }
    if let Some(d) = data {
        if d.chars().count() > 1024 {
            push("data.too_long");
        }
        if serde_json::from_str::<Value>(d).is_err() {
            push("data.invalid_format");
        }
    }
    if !app.store.role_exists(role).await? {
        push("role.doesnt_exist");
    }
    if errors.is_empty() { Ok(()) } else { Err(ServiceError::keys(422, errors)) }
}

/// Inserts a user, retrying on the (astronomically rare) UID collision; maps unique violations
/// to Barong's `*.taken` keys so a race between two registrations is a 422, not a 500.
pub async fn insert_user(app: &App, mut user: NewUser) -> ServiceResult<UserRow> {
    for _ in 0..5 {
        match app.store.insert_user(&user).await {
            Ok(row) => {
                events::user_created(app, &row).await;
                return Ok(row);
            }
            Err(StoreError::Unique(what)) if what.contains("email") => {
                return Err(ServiceError::unprocessable("email.taken"));
            }
            Err(StoreError::Unique(what)) if what.contains("username") => {
                return Err(ServiceError::unprocessable("username.taken"));
            }
            Err(StoreError::Unique(_)) => user.uid = new_uid(&app.config.uid_prefix),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::internal("could not allocate a unique uid"))
}

pub async fn register(app: &App, r: Registration, ctx: &RequestContext) -> ServiceResult<WithSession> {
    app.captcha.verify(Endpoint::UserCreate, r.captcha.as_ref()).await?;
    let referral_id = match r.refid.as_deref() {
        Some(refid) => {
            if !refid.starts_with(&app.config.uid_prefix.to_ascii_uppercase()) {
                return Err(ServiceError::unprocessable("identity.user.invalid_referral_format"));
            }
            match app.store.user_by_uid(refid).await? {
                Some(u) => Some(u.id),
                None => return Err(ServiceError::unprocessable("identity.user.referral_doesnt_exist")),
            }
        }
        None => None,
    };
    let username = r.username.map(|u| u.to_lowercase());
    validate_new_user(app, &r.email, &r.password, username.as_deref(), r.data.as_deref(), "member").await?;
    let digest = app.hasher.hash(&r.password).await?;
    let user = insert_user(
        app,
        NewUser {
            uid: new_uid(&app.config.uid_prefix),
            username,
            email: r.email.trim().to_string(),
            email_key: email_key(&r.email),
            password_digest: digest,
            role: "member".into(),
            data: r.data,
            level: 0,
            state: "pending".into(),
            referral_id,
            language: language(app, r.lang.as_deref()),
            now: app.clock.now(),
        },
    )
    .await?;
    activity::record(app, ctx, user.id, "account", "signup", Outcome::Succeed, None).await;
    let user = if app.config.first_registration_superadmin && app.store.count_users().await? == 1 {
        app.store.update_role(user.id, "superadmin", app.clock.now()).await?;
        let before = user.clone();
        let user = UserRow { role: "superadmin".into(), ..user };
        events::user_updated(app, &before, &user).await;
        levels::set_private_label(app, &user, "email", "verified").await?
    } else {
        send_confirmation(app, &user).await?;
        user
    };
    let session = sessions::open(app, &user, ctx).await?;
    let mut entity = entities::user_with_full_info(app, &user).await?;
    entity.csrf_token = Some(session.csrf_token.clone());
    Ok(WithSession { user: entity, session: Some(session) })
}

fn link(app: &App, path: &str, param: &str, token: &str, lang: &str) -> String {
    let base = if app.config.frontend_url.is_empty() {
        format!("https://{}", app.config.domain)
    } else {
        app.config.frontend_url.trim_end_matches('/').to_string()
    };
    format!("{base}{path}?{param}={token}&lang={lang}")
}

async fn send_confirmation(app: &App, user: &UserRow) -> ServiceResult<()> {
    let now = app.clock.now();
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("confirmation"));
    claims.insert("email".into(), json!(user.email));
    claims.insert("uid".into(), json!(user.uid));
    let token = app.tokens.sign(claims, now)?;
    let link = link(app, "/accounts/confirmation", "confirmation_token", &token, &user.language);
    events::user_system(app, "system.user.email.confirmation.token", user, &[("token", json!(token))]).await;
    app.mailer
        .send(&user.email, &user.language, MailKind::EmailConfirmation { link }, now)
        .await
        .map_err(ServiceError::internal)
}

/// `POST identity/users/email/generate_code`: silent for unknown or already active emails.
pub async fn email_generate_code(app: &App, email: &str, captcha: Option<&Answer>) -> ServiceResult<()> {
    app.captcha.verify(Endpoint::EmailConfirmation, captcha).await?;
    match app.store.user_by_email_key(&email_key(email)).await? {
        Some(user) if user.state != "active" => send_confirmation(app, &user).await,
        _ => Ok(()),
    }
}

/// `POST identity/users/email/confirm_code`.
pub async fn email_confirm_code(app: &App, token: &str, ctx: &RequestContext) -> ServiceResult<WithSession> {
    let now = app.clock.now();
    let claims = app.tokens.verify(token, "confirmation", now)?;
    let email = claims.get("email").and_then(Value::as_str).unwrap_or_default();
    let user = match app.store.user_by_email_key(&email_key(email)).await? {
        Some(u) if u.state != "active" => u,
        _ => return Err(ServiceError::unprocessable("identity.user.active_or_doesnt_exist")),
    };
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or_default();
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now + app.config.jwt_expire_time);
    if !app.store.use_jti(jti, exp).await? {
        return Err(ServiceError::unprocessable("identity.user.utilized_token"));
    }
    let user = levels::set_private_label(app, &user, "email", "verified").await?;
    events::user_system(app, "system.user.email.confirmed", &user, &[]).await;
    let mut entity = entities::user_with_full_info(app, &user).await?;
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

/// `POST identity/users/password/generate_code`: silent for unknown emails.
pub async fn password_generate_code(
    app: &App,
    email: &str,
    lang: Option<&str>,
    captcha: Option<&Answer>,
    ctx: &RequestContext,
) -> ServiceResult<()> {
    app.captcha.verify(Endpoint::PasswordReset, captcha).await?;
    let Some(user) = app.store.user_by_email_key(&email_key(email)).await? else { return Ok(()) };
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
    events::user_system(app, "system.user.password.reset.token", &user, &[("token", json!(token))]).await;
    app.mailer.send(&user.email, &lang, MailKind::PasswordReset { link }, now).await.map_err(ServiceError::internal)
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
        return Err(ServiceError::unprocessable("identity.user.passwords_doesnt_match"));
    }
    let now = app.clock.now();
    let claims = app.tokens.verify(token, "reset", now)?;
    let utilized = || ServiceError::unprocessable("identity.user.utilized_token");
    let uid = claims.get("uid").and_then(Value::as_str).unwrap_or_default();
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or_default();
    let reset_token = claims.get("reset_token").and_then(Value::as_str).ok_or_else(utilized)?;
    let user = app.store.user_by_uid(uid).await?.ok_or_else(utilized)?;
    if app.store.jti_used(jti).await? {
        return Err(utilized());
    }
    if let Some(key) = app.policy.check(password) {
        activity::record(app, ctx, user.id, "password", "password reset", Outcome::Failed, Some(key)).await;
        return Err(ServiceError::unprocessable(key));
    }
    // Consuming the stored reset token is the atomic step: only the newest token works, once.
    if !app.store.take_reset_token(user.id, reset_token, now).await? {
        return Err(utilized());
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now + app.config.jwt_expire_time);
    app.store.use_jti(jti, exp).await?;
    let digest = app.hasher.hash(password).await?;
    app.store.update_password(user.id, &digest, now).await?;
    activity::record(app, ctx, user.id, "password", "password reset", Outcome::Succeed, None).await;
    let ended = app.store.delete_user_sessions(user.id).await?;
    tracing::info!(uid = %user.uid, sessions_ended = ended, "password reset");
    events::user_system(app, "system.user.password.reset", &user, &[]).await;
    app.mailer.send(&user.email, &user.language, MailKind::PasswordChanged, now).await.map_err(ServiceError::internal)
}
