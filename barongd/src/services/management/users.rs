//! `/users/get` and `/phones/get` (spec §4.10 #1, #12): a user's KYC record in clear, as
//! Barong's management entities show it to signed callers.

use common::admin_api::{AdminDocument, Comment};
use common::entities::{DataStorage, Phone, Profile, UploadUrl};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::services::App;
use crate::services::admin::users::{comment_entity, storage_entity};
use crate::services::clock::iso8601;
use crate::services::identity::email_address::email_key;
use crate::services::kyc::{display, documents, phone_index};
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::labels::AdminLabelView;
use crate::services::management::params::Grape;
use crate::store::UserRow;
use crate::store::documents::DocumentRow;

/// `UserWithKYC`, field order as Barong emits it.
#[derive(Serialize)]
pub struct UserWithKyc {
    pub email: String,
    pub uid: String,
    pub role: String,
    pub level: i64,
    pub otp: bool,
    pub state: String,
    pub referral_uid: Option<String>,
    pub data: Option<String>,
    pub username: Option<String>,
    pub profiles: Vec<Profile>,
    pub labels: Vec<AdminLabelView>,
    pub phones: Vec<Phone>,
    pub documents: Vec<AdminDocument>,
    pub data_storages: Vec<DataStorage>,
    pub comments: Vec<Comment>,
    pub created_at: String,
    pub updated_at: String,
}

fn internal<E: std::fmt::Display>(e: E) -> MgmtError {
    MgmtError::internal(e)
}

/// Management phones: the number opened, never masked.
fn phones_of(app: &App, rows: &[crate::store::users::PhoneRow]) -> Vec<Phone> {
    rows.iter()
        .map(|p| {
            let shown = display::phone(app, p);
            Phone { number: app.sealer.open_string(&p.number_sealed).unwrap_or_default(), ..shown }
        })
        .collect()
}

fn document(app: &App, r: &DocumentRow, expires: i64) -> AdminDocument {
    let signature = app.sealer.sign_url(&documents::signed_message(r, expires));
    AdminDocument {
        upload: UploadUrl {
            url: format!("{}/{}/upload?expires={expires}&signature={signature}", documents::UPLOAD_PATH_PREFIX, r.id),
        },
        doc_type: r.doc_type.clone(),
        doc_number: r.doc_number_sealed.as_deref().and_then(|s| app.sealer.open_string(s).ok()),
        doc_expire: r.doc_expire.clone(),
        metadata: r.metadata.clone(),
        created_at: iso8601(r.created_at),
        updated_at: iso8601(r.updated_at),
    }
}

pub async fn user_with_kyc(app: &App, user: &UserRow) -> MgmtResult<UserWithKyc> {
    let s = &app.store;
    let referral_uid = match user.referral_id {
        Some(id) => s.user_by_id(id).await.map_err(internal)?.map(|u| u.uid),
        None => None,
    };
    let expires = app.clock.now() + app.config.upload_auth_url_expiration * 60;
    Ok(UserWithKyc {
        email: user.email.clone(),
        uid: user.uid.clone(),
        role: user.role.to_string(),
        level: user.level,
        otp: user.otp,
        state: user.state.to_string(),
        referral_uid,
        data: user.data.clone(),
        username: user.username.clone(),
        profiles: s
            .profiles_of(user.id)
            .await
            .map_err(internal)?
            .iter()
            .map(|p| display::profile_masked(app, p, false))
            .collect(),
        labels: s.labels_of(user.id).await.map_err(internal)?.into_iter().map(AdminLabelView::from).collect(),
        phones: phones_of(app, &s.phones_of(user.id).await.map_err(internal)?),
        documents: s.documents_of(user.id).await.map_err(internal)?.iter().map(|d| document(app, d, expires)).collect(),
        data_storages: s.data_storages_of(user.id).await.map_err(internal)?.into_iter().map(storage_entity).collect(),
        comments: s.comments_of(user.id).await.map_err(internal)?.into_iter().map(comment_entity).collect(),
        created_at: iso8601(user.created_at),
        updated_at: iso8601(user.updated_at),
    })
}

/// The user whose phone is `raw` (digits only): the blind index finds candidates, the opened
/// number decides (Barong trusted a CRC32, W14).
async fn by_phone(app: &App, raw: &str) -> MgmtResult<Option<UserRow>> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return Ok(None);
    }
    for (user_id, sealed) in phone_index::candidates(app, &digits).await.map_err(internal)? {
        if app.sealer.open_string(&sealed).is_ok_and(|n| n == digits) {
            return app.store.user_by_id(user_id).await.map_err(internal);
        }
    }
    Ok(None)
}

/// #1: exactly one of `uid`, `email`, `phone_num` → 201 UserWithKYC, or 404.
pub async fn get(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.optional("uid");
    let email = p.optional("email");
    let phone = p.optional("phone_num");
    match [&uid, &email, &phone].iter().filter(|v| v.is_some()).count() {
        0 => p.error("uid, email, phone_num are missing, exactly one parameter must be provided"),
        1 => {}
        _ => p.error("uid, email, phone_num are mutually exclusive"),
    }
    p.finish()?;
    let user = match (uid, email, phone) {
        (Some(uid), _, _) => app.store.user_by_uid(&uid).await.map_err(internal)?,
        (_, Some(email), _) => app.store.user_by_email_key(&email_key(&email)).await.map_err(internal)?,
        (_, _, Some(phone)) => by_phone(app, &phone).await?,
        _ => None,
    };
    let user = user.ok_or_else(MgmtError::not_found)?;
    to_json(&user_with_kyc(app, &user).await?)
}

/// #12: the user's phones in clear; an unknown uid is 422 `user.doesnt_exist`.
pub async fn phones(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.required("uid");
    p.finish()?;
    let user = app
        .store
        .user_by_uid(&uid)
        .await
        .map_err(internal)?
        .ok_or_else(|| MgmtError::message(422, "user.doesnt_exist"))?;
    to_json(&phones_of(app, &app.store.phones_of(user.id).await.map_err(internal)?))
}
