//! `/users/import` (spec §4.10 #5, W15): a user moved from another system with its password
//! digest, and optionally a phone (validated) and a profile. Barong saved the user without
//! validation and without a transaction; here the e-mail and the digest are checked, every
//! part is checked before anything is written, and user, phone, profile, `profile` label and
//! events are written in one transaction. A profile is made only when a profile field (or its
//! `state`) is given: Barong made an empty one for every import.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::model::labels::keys as label_keys;
use crate::model::{AccountState, LabelScope, Role};
use crate::services::App;
use crate::services::events::event_api;
use crate::services::identity::email_address::{email_key, is_valid_email};
use crate::services::identity::registration::new_uid;
use crate::services::kyc::levels::LabelChange;
use crate::services::kyc::phone_number::normalize;
use crate::services::kyc::{phone_index, phones, profiles};
use crate::services::management::error::{MgmtError, MgmtResult};
use crate::services::management::params::Grape;
use crate::services::management::profiles::{metadata, profile_input, state_of};
use crate::services::management::{model_errors, user_list};
use crate::store::management::UserImport;
use crate::store::{NewUser, StoreError, UserRow};

/// A bcrypt digest as bcrypt-ruby writes it: `$2a$`, `$2b$` or `$2y$`, a two-digit cost, then
/// 22 characters of salt and 31 of hash in bcrypt's base64 alphabet.
static BCRYPT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$").expect("static regex"));

/// Whether `digest` is a bcrypt digest of a cost bcrypt accepts (4–31).
pub fn is_bcrypt(digest: &str) -> bool {
    BCRYPT
        .captures(digest)
        .and_then(|c| c.get(1))
        .and_then(|cost| cost.as_str().parse::<u32>().ok())
        .is_some_and(|cost| (4..=31).contains(&cost))
}

fn internal<E: std::fmt::Display>(e: E) -> MgmtError {
    MgmtError::internal(e)
}

fn exists() -> MgmtError {
    MgmtError::message(422, "User already exists by this email")
}

pub async fn import(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let email = p.required("email");
    let digest = p.required("password_digest");
    let referral = p.optional("referral_uid");
    let phone = p.optional("phone");
    let mut input = profile_input(&mut p);
    let state = p.optional("state");
    input.metadata = metadata(p.optional("metadata"));
    p.finish()?;

    let email = email.trim().to_string();
    if app.store.user_by_email_key(&email_key(&email)).await.map_err(internal)?.is_some() {
        return Err(exists());
    }
    let referral_id = match referral {
        Some(uid) => match app.store.user_by_uid(&uid).await.map_err(internal)? {
            Some(r) => Some(r.id),
            // Barong answered 500 here (W17).
            None => return Err(MgmtError::Reply(422, json!({"error": ["Referral doesnt_exist"]}))),
        },
        None => None,
    };
    let mut errors = Vec::new();
    if !is_valid_email(&email) {
        errors.push("email.invalid".to_string());
    }
    if !is_bcrypt(&digest) {
        errors.push("password_digest.invalid".to_string());
    }
    if !errors.is_empty() {
        return Err(model_errors::list(&errors));
    }

    let phone = match phone {
        Some(raw) => {
            let number_invalid = || model_errors::list(&["number.invalid".to_string()]);
            let n = normalize(&raw).ok_or_else(number_invalid)?;
            let index = app.sealer.blind_index(phones::INDEX_DOMAIN, &n.number);
            // A number is verified by one user at most (a unique index says so too).
            if phone_index::verified_anywhere(app, &n.number).await.map_err(internal)? {
                return Err(model_errors::list(&["number.taken".to_string()]));
            }
            Some((n.country, app.sealer.seal(n.number.as_bytes()), index))
        }
        None => None,
    };

    let now = app.clock.now();
    let user = NewUser {
        uid: new_uid(&app.config.uid_prefix),
        username: None,
        email: email.clone(),
        email_key: email_key(&email),
        password_digest: digest,
        role: Role::member(),
        data: None,
        level: 0,
        state: AccountState::Pending,
        referral_id,
        language: app.config.default_language.clone(),
        now,
    };
    let wants_profile =
        [&input.first_name, &input.last_name, &input.address, &input.postcode, &input.city].iter().any(|f| f.is_some())
            || input.country.is_some()
            || input.dob.is_some()
            || input.metadata.is_some()
            || state.is_some();
    let profile = if wants_profile {
        let state = state_of(state.as_deref())?;
        let fields = profiles::new_fields(app, input).map_err(|keys| model_errors::list(&keys))?;
        Some((fields, state))
    } else {
        None
    };

    // The user as it will be stored, so the KYC step can work out what the `profile` label does
    // to its level and state before the row exists (a new user has no other labels).
    let provisional = UserRow {
        id: 0,
        uid: user.uid.clone(),
        username: None,
        email: user.email.clone(),
        email_key: user.email_key.clone(),
        password_digest: String::new(),
        role: user.role.clone(),
        data: None,
        level: 0,
        otp: false,
        state: AccountState::Pending,
        referral_id,
        language: user.language.clone(),
        otp_secret_sealed: None,
        otp_last_step: None,
        claims_version: 0,
        created_at: now,
        updated_at: now,
    };
    let step = match &profile {
        Some((_, state)) => Some(
            LabelChange::prepare(app, &provisional, label_keys::PROFILE, state.name(), LabelScope::Private)
                .await
                .map_err(MgmtError::from)?,
        ),
        None => None,
    };
    let referral = if event_api::enabled(app) { event_api::referral_uid(app, referral_id).await } else { None };
    let events = |row: &UserRow,
                  profile: Option<&crate::store::profiles::ProfileRow>,
                  label: Option<&crate::store::LabelRow>| {
        let mut events = event_api::user_created_event(app, row, referral.as_deref());
        if let Some(p) = profile {
            events.extend(profiles::profile_events(app, row, referral.as_deref(), p, None));
        }
        if let (Some(step), Some(label)) = (&step, label) {
            events.extend(step.events(app, row, label));
        }
        events
    };
    let import = UserImport {
        user: &user,
        phone: phone.as_ref().map(|(c, s, i)| (c.as_str(), s.as_str(), i.as_str())),
        profile: profile.as_ref().map(|(f, s)| (f, *s)),
        label: step.as_ref().map(LabelChange::write),
    };
    let stored = match app.store.import_user(&import, &events).await {
        Ok(row) => row,
        Err(StoreError::Unique(what)) if what.contains("email") => return Err(exists()),
        Err(StoreError::Unique(what)) if what.contains("phone") || what.contains("number") => {
            return Err(model_errors::list(&["number.taken".to_string()]));
        }
        Err(e) => return Err(internal(e)),
    };
    tracing::info!(uid = %stored.uid, "user imported through the Management API");
    // A new user owns no service accounts or keys, so the label's state cascade has nothing to
    // do; its level and state are read back for the answer.
    let stored = app.store.user_by_id(stored.id).await.map_err(internal)?.unwrap_or(stored);
    user_list::render_one(app, &stored).await
}

#[cfg(test)]
mod tests {
    use super::is_bcrypt;

    #[test]
    fn only_bcrypt_digests_of_a_valid_cost_pass() {
        let salt_and_hash = "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
        for prefix in ["$2a$12$", "$2b$04$", "$2y$31$"] {
            assert!(is_bcrypt(&format!("{prefix}{salt_and_hash}")), "{prefix}");
        }
        for bad in [
            format!("$2a$03${salt_and_hash}"),
            format!("$2a$32${salt_and_hash}"),
            format!("$2x$12${salt_and_hash}"),
            format!("$2a$12${}", &salt_and_hash[1..]),
            format!("$2a$12${salt_and_hash}!"),
            "plain text".to_string(),
            "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string(),
        ] {
            assert!(!is_bcrypt(&bad), "{bad}");
        }
    }
}
