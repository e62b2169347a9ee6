//! `/users` (spec §4.10 #3): an account made by a signed caller — validated like a registration
//! (format, uniqueness, password policy, `member` role present), no confirmation mail, no
//! session, `first_registration_superadmin` not applied; `model.user.created` is emitted.

use serde_json::{Map, Value, json};

use crate::model::{AccountState, Role};
use crate::services::App;
use crate::services::error::ServiceError;
use crate::services::identity::email_address::email_key;
use crate::services::identity::registration::{insert_user, new_uid, validate_new_user};
use crate::services::management::error::{MgmtError, MgmtResult};
use crate::services::management::params::Grape;
use crate::services::management::user_list;
use crate::store::NewUser;

/// A model error key (`email.taken`) as Rails' full message (`Email has already been taken`).
fn full_message(key: &str) -> String {
    let (attr, reason) = key.split_once('.').unwrap_or((key, "invalid"));
    let mut title: String = attr.replace('_', " ");
    if let Some(first) = title.get(0..1) {
        title = first.to_uppercase() + &title[1..];
    }
    match reason {
        "taken" => format!("{title} has already been taken"),
        "too_long" => format!("{title} is too long (maximum is 1024 characters)"),
        "invalid" | "invalid_format" => format!("{title} is invalid"),
        other => format!("{title} {other}"),
    }
}

fn model_errors(e: ServiceError) -> MgmtError {
    match e {
        ServiceError::Refused { keys, .. } => {
            MgmtError::Reply(422, json!({ "error": keys.iter().map(|k| full_message(k)).collect::<Vec<_>>() }))
        }
        ServiceError::Internal(detail) => MgmtError::Internal(detail),
    }
}

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
    validate_new_user(app, &email, &password, None, None, &role).await.map_err(model_errors)?;
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
    .map_err(model_errors)?;
    user_list::render_one(app, &user).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_rails_full_messages() {
        assert_eq!(full_message("email.invalid"), "Email is invalid");
        assert_eq!(full_message("email.taken"), "Email has already been taken");
        assert_eq!(full_message("password.weak"), "Password weak");
        assert_eq!(full_message("role.doesnt_exist"), "Role doesnt_exist");
    }
}
