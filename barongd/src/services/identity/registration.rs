//! Registration (`POST identity/users`) and the account model's validation, which the
//! operator's user creation shares.

use serde_json::Value;

use crate::model::labels::keys as label_keys;
use crate::model::{AccountState, CheckState, Role};
use crate::services::App;
use crate::services::account::full_info;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::events::event_api as events;
use crate::services::identity::captcha::{Answer, Endpoint};
use crate::services::identity::email_address::{email_key, is_valid_email};
use crate::services::identity::email_confirmation::send_confirmation;
use crate::services::identity::mail_links::language;
use crate::services::identity::sessions::{self, WithSession};
use crate::services::kyc::levels;
use crate::services::random::random_hex;
use crate::services::telemetry::record;
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
/// A new user UID: the configured prefix and 10 upper-case hex characters.
pub fn new_uid(prefix: &str) -> String {
    format!("{}{}", prefix.to_ascii_uppercase(), random_hex(5).to_ascii_uppercase())
}

/// Model validation of a new account, all errors at once in Barong's attribute order.
pub async fn validate_new_user(
    app: &App,
    email: &str,
    password: &str,
    username: Option<&str>,
    data: Option<&str>,
    role: &Role,
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
    if !app.store.role_exists(role.as_str()).await? {
        push("role.doesnt_exist");
    }
    if errors.is_empty() { Ok(()) } else { Err(ServiceError::invalid_all(errors)) }
}

/// Inserts a user, retrying on the (astronomically rare) UID collision; maps unique violations
/// to Barong's `*.taken` keys so a race between two registrations is a 422, not a 500.
pub async fn insert_user(app: &App, mut user: NewUser) -> ServiceResult<UserRow> {
    let referral = if events::enabled(app) { events::referral_uid(app, user.referral_id).await } else { None };
    let created = |row: &UserRow| events::user_created_event(app, row, referral.as_deref());
    for _ in 0..5 {
        match app.store.insert_user_with_events(&user, &created).await {
            Ok(row) => return Ok(row),
            Err(StoreError::Unique(what)) if what.contains("email") => {
                return Err(ServiceError::conflict("email.taken"));
            }
            Err(StoreError::Unique(what)) if what.contains("username") => {
                return Err(ServiceError::conflict("username.taken"));
            }
            Err(StoreError::Unique(_)) => user.uid = new_uid(&app.config.uid_prefix),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ServiceError::internal("could not allocate a unique uid"))
}

pub async fn register(app: &App, r: Registration, ctx: &RequestContext) -> ServiceResult<WithSession> {
    let result = attempt_registration(app, r, ctx).await;
    record::registration(&result);
    result
}

async fn attempt_registration(app: &App, r: Registration, ctx: &RequestContext) -> ServiceResult<WithSession> {
    app.captcha.verify(Endpoint::UserCreate, r.captcha.as_ref()).await?;
    let referral_id = match r.refid.as_deref() {
        Some(refid) => {
            if !refid.starts_with(&app.config.uid_prefix.to_ascii_uppercase()) {
                return Err(ServiceError::invalid("identity.user.invalid_referral_format"));
            }
            match app.store.user_by_uid(refid).await? {
                Some(u) => Some(u.id),
                None => return Err(ServiceError::invalid("identity.user.referral_doesnt_exist")),
            }
        }
        None => None,
    };
    let username = r.username.map(|u| u.to_lowercase());
    validate_new_user(app, &r.email, &r.password, username.as_deref(), r.data.as_deref(), &Role::member()).await?;
    let digest = app.hasher.hash(&r.password).await?;
    let user = insert_user(
        app,
        NewUser {
            uid: new_uid(&app.config.uid_prefix),
            username,
            email: r.email.trim().to_string(),
            email_key: email_key(&r.email),
            password_digest: digest,
            role: Role::member(),
            data: r.data,
            level: 0,
            state: AccountState::Pending,
            referral_id,
            language: language(app, r.lang.as_deref()),
            now: app.clock.now(),
        },
    )
    .await?;
    activity::record(app, ctx, user.id, "account", "signup", Outcome::Succeed, None).await;
    let user = if app.config.first_registration_superadmin && app.store.count_users().await? == 1 {
        let now = app.clock.now();
        let promoted = UserRow { role: Role::superadmin(), updated_at: now, ..user.clone() };
        let events = events::user_updated_events(app, &user, &promoted).await;
        app.store.update_role_with_events(user.id, &promoted.role, now, &events).await?;
        let user = promoted;
        levels::set_private_label(app, &user, label_keys::EMAIL, CheckState::Verified.as_str()).await?
    } else {
        send_confirmation(app, &user).await?;
        user
    };
    let session = sessions::open(app, &user, ctx).await?;
    let mut entity = full_info::user_with_full_info(app, &user).await?;
    entity.csrf_token = Some(session.csrf_token.clone());
    Ok(WithSession { user: entity, session: Some(session) })
}
