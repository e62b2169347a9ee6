//! `/users` (spec §4.10 #3): an account made by a signed caller — validated like a registration
//! (format, uniqueness, password policy, `member` role present), no confirmation mail, no
//! session, `first_registration_superadmin` not applied; `model.user.created` is emitted.

use serde_json::{Map, Value, json};

use crate::model::{AccountState, Role};
use crate::services::App;
use crate::services::identity::email_address::email_key;
use crate::services::identity::registration::{insert_user, new_uid, validate_new_user};
use crate::services::management::error::{MgmtError, MgmtResult};
use crate::services::management::model_errors;
use crate::services::management::params::Grape;
use crate::services::management::user_list;
use crate::store::NewUser;

pub async fn create(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let email = p.required("email");
    let password = p.required("password");
    let referral = p.optional("referral_uid");
    p.finish()?;
    let referral_id = match referral {
        Some(uid) => match app.store.user_by_uid(&uid).await.map_err(MgmtError::internal)? {
            Some(r) => Some(r.id),
            // Barong answered 500 here (W17).
            None => return Err(MgmtError::Reply(422, json!({"error": ["Referral doesnt_exist"]}))),
        },
        None => None,
    };
    let role = Role::member();
    validate_new_user(app, &email, &password, None, None, &role).await.map_err(model_errors::as_list)?;
    let digest = app.hasher.hash(&password).await.map_err(MgmtError::from)?;
    let user = insert_user(
        app,
        NewUser {
            uid: new_uid(&app.config.uid_prefix),
            username: None,
            email: email.trim().to_string(),
            email_key: email_key(&email),
            password_digest: digest,
            role,
            data: None,
            level: 0,
            state: AccountState::Pending,
            referral_id,
            language: app.config.default_language.clone(),
            now: app.clock.now(),
        },
    )
    .await
    .map_err(model_errors::as_list)?;
    user_list::render_one(app, &user).await
}
