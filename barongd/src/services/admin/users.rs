//! `/admin/users` reads: the user list (plain or with profiles) and one user with everything
//! KYC holds on them. PII is masked for roles outside `admin_unmasked_pii_roles` (W8).

use std::collections::HashMap;

use common::admin_api::{AdminDocument, AdminLabelView, Comment, User, UserWithKyc, UserWithProfile};
use common::entities::{DataStorage, Profile, UploadUrl};
use serde::Serialize;

use crate::services::App;
use crate::services::admin::activities::user_entity;
use crate::services::admin::documents::upload_link;
use crate::services::admin::profiles::{shown, shown_as, unmasked};
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::display::{phone_masked, profile_masked};
use crate::services::kyc::documents::mask_doc_number;
use crate::store::UserRow;
use crate::store::admin_users::{CommentRow, UserFilter, UserOrder};
use crate::store::users::DataStorageRow;

/// A page of `GET /admin/users`: `User`s, or `UserWithProfile`s when `extended`; of
/// `GET /admin/users/documents/pending`, `User`s or `UserWithKYC`s.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum UserList {
    Plain(Vec<User>),
    Extended(Vec<UserWithProfile>),
    Kyc(Vec<UserWithKyc>),
}

/// A user's profiles by id as `role` may see them.
async fn profiles(app: &App, clear: bool, user_id: i64) -> ServiceResult<Vec<Profile>> {
    let rows = app.store.profiles_of(user_id).await?;
    Ok(rows.iter().map(|r| shown_as(clear, profile_masked(app, r, false))).collect())
}

/// One page of users matching `f`, and how many match.
pub async fn list(
    app: &App,
    role: &str,
    f: &UserFilter,
    order: UserOrder,
    extended: bool,
    page: i64,
    limit: i64,
) -> ServiceResult<(UserList, i64)> {
    let (rows, total) = app.store.users_page(f, order, limit, (page - 1) * limit).await?;
    if !extended {
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(user_entity(app, r).await?);
        }
        return Ok((UserList::Plain(out), total));
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut by_user: HashMap<i64, Vec<Profile>> = HashMap::new();
    for p in app.store.profiles_of_users(&ids).await? {
        by_user.entry(p.user_id).or_default().push(shown(app, role, profile_masked(app, &p, false)));
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        let u = user_entity(app, r).await?;
        let profiles = by_user.remove(&r.id).unwrap_or_default();
        out.push(UserWithProfile::new(u, profiles, iso8601(r.created_at), iso8601(r.updated_at)));
    }
    Ok((UserList::Extended(out), total))
}

/// The user `uid` (404 `admin.user.doesnt_exist`).
pub async fn target(app: &App, uid: &str) -> ServiceResult<UserRow> {
    app.store.user_by_uid(uid).await?.ok_or_else(|| ServiceError::not_found("admin.user.doesnt_exist"))
}

/// `UserWithKYC` of `user` as `role` may see it.
pub async fn with_kyc(app: &App, role: &str, user: &UserRow) -> ServiceResult<UserWithKyc> {
    with_kyc_as(app, unmasked(app, role), user).await
}

/// `UserWithKYC` of `user`, masked unless `clear` (the operator's `kyc show` sees it in clear).
pub async fn with_kyc_as(app: &App, clear: bool, user: &UserRow) -> ServiceResult<UserWithKyc> {
    let mask = !clear;
    let u = user_entity(app, user).await?;
    let profiles = profiles(app, clear, user.id).await?;
    let labels = app.store.labels_of(user.id).await?;
    let phones = app.store.phones_of(user.id).await?;
    let documents = app.store.documents_of(user.id).await?;
    let storages = app.store.data_storages_of(user.id).await?;
    let comments = app.store.comments_of(user.id).await?;
    Ok(UserWithKyc {
        email: u.email,
        uid: u.uid,
        role: u.role,
        level: u.level,
        otp: u.otp,
        state: u.state,
        referral_uid: u.referral_uid,
        data: u.data,
        username: u.username,
        profile: profiles.last().cloned(),
        profiles,
        labels: labels
            .into_iter()
            .map(|l| AdminLabelView {
                key: l.key,
                value: l.value,
                scope: l.scope.to_string(),
                description: l.description,
                created_at: iso8601(l.created_at),
                updated_at: iso8601(l.updated_at),
            })
            .collect(),
        phones: phones.iter().map(|p| phone_masked(app, p, mask)).collect(),
        documents: documents
            .iter()
            .map(|d| {
                let number = d.doc_number_sealed.as_deref().and_then(|s| app.sealer.open_string(s).ok());
                AdminDocument {
                    upload: UploadUrl { url: upload_link(app, d) },
                    doc_type: d.doc_type.clone(),
                    doc_number: if mask { number.map(|n| mask_doc_number(&n)) } else { number },
                    doc_expire: d.doc_expire.clone(),
                    metadata: d.metadata.clone(),
                    created_at: iso8601(d.created_at),
                    updated_at: iso8601(d.updated_at),
                }
            })
            .collect(),
        data_storages: storages.into_iter().map(storage_entity).collect(),
        comments: comments.into_iter().map(comment_entity).collect(),
        created_at: iso8601(user.created_at),
        updated_at: iso8601(user.updated_at),
    })
}

/// A data storage as the admin and management `UserWithKYC` show it.
pub(crate) fn storage_entity(d: DataStorageRow) -> DataStorage {
    DataStorage { title: d.title, data: d.data, created_at: iso8601(d.created_at), updated_at: iso8601(d.updated_at) }
}

/// A comment as the admin and management `UserWithKYC` show it.
pub(crate) fn comment_entity(c: CommentRow) -> Comment {
    Comment {
        id: c.id,
        author_uid: c.author_uid,
        title: c.title,
        data: c.data,
        created_at: iso8601(c.created_at),
        updated_at: iso8601(c.updated_at),
    }
}

/// `GET /admin/users/labels/list`: private labels counted by (key, value), keyed by Ruby's
/// inspection of the pair (`["email", "verified"]`) as Barong's body was [COMPAT].
pub struct LabelCounts(Vec<(String, String, i64)>);

impl Serialize for LabelCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        // Ruby's String#inspect of the label texts ([a-z0-9_-] when written through the APIs).
        let inspect = |t: &str| format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\""));
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v, n) in &self.0 {
            m.serialize_entry(&format!("[{}, {}]", inspect(k), inspect(v)), n)?;
        }
        m.end()
    }
}

pub async fn label_counts(app: &App) -> ServiceResult<LabelCounts> {
    Ok(LabelCounts(app.store.private_label_counts().await?))
}

/// `GET /admin/users/labels`: a page of the users having `key`=`value` in any scope.
pub async fn with_label(app: &App, key: &str, value: &str, page: i64, limit: i64) -> ServiceResult<(Vec<User>, i64)> {
    let (rows, total) = app.store.users_with_label_page(key, value, limit, (page - 1) * limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(user_entity(app, r).await?);
    }
    Ok((out, total))
}

/// A page of the users whose document awaits review, oldest first, and how many there are.
pub async fn pending_documents(
    app: &App,
    role: &str,
    f: &UserFilter,
    extended: bool,
    page: i64,
    limit: i64,
) -> ServiceResult<(UserList, i64)> {
    let (rows, total) = app.store.pending_documents_page(f, limit, (page - 1) * limit).await?;
    if extended {
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(with_kyc(app, role, r).await?);
        }
        return Ok((UserList::Kyc(out), total));
    }
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(user_entity(app, r).await?);
    }
    Ok((UserList::Plain(out), total))
}
