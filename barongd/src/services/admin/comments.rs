//! `/admin/users/comments`: admins' notes on a user; and `DELETE /admin/users/data_storage`. Barong checked no ability and no author,
//! so anyone reaching the Admin API could rewrite any note (W6): here writing needs `update
//! User`, and editing or deleting needs the author or a superadmin.

use common::admin_api::UserWithKyc;

use crate::services::App;
use crate::services::admin::users::{target, with_kyc};
use crate::services::error::{ServiceError, ServiceResult};
use crate::store::UserRow;
use crate::store::admin_users::CommentRow;

/// Adds `caller`'s note on `uid`; the user as the caller may see them.
pub async fn add(app: &App, caller: &UserRow, uid: &str, title: &str, data: &str) -> ServiceResult<UserWithKyc> {
    let user = target(app, uid).await?;
    app.store.insert_comment(user.id, &caller.uid, title, data, app.clock.now()).await?;
    with_kyc(app, caller.role.as_str(), &user).await
}

/// The comment `id` if `caller` may change it: 404 `record.not_found` (Barong's answer), then
/// 401 `admin.ability.not_permitted` for another admin's note.
async fn own(app: &App, caller: &UserRow, id: i64) -> ServiceResult<CommentRow> {
    let c = app.store.comment_by_id(id).await?.ok_or_else(|| ServiceError::not_found("record.not_found"))?;
    if c.author_uid != caller.uid && caller.role.as_str() != "superadmin" {
        return Err(ServiceError::unauthenticated("admin.ability.not_permitted"));
    }
    Ok(c)
}

async fn owner(app: &App, caller: &UserRow, c: &CommentRow) -> ServiceResult<UserWithKyc> {
    let user = app.store.user_by_id(c.user_id).await?.ok_or_else(|| ServiceError::not_found("record.not_found"))?;
    with_kyc(app, caller.role.as_str(), &user).await
}

pub async fn edit(
    app: &App,
    caller: &UserRow,
    id: i64,
    title: Option<&str>,
    data: Option<&str>,
) -> ServiceResult<UserWithKyc> {
    let c = own(app, caller, id).await?;
    app.store.update_comment(id, title, data, app.clock.now()).await?;
    owner(app, caller, &c).await
}

pub async fn remove(app: &App, caller: &UserRow, id: i64) -> ServiceResult<UserWithKyc> {
    let c = own(app, caller, id).await?;
    app.store.delete_comment(id).await?;
    owner(app, caller, &c).await
}

/// `DELETE /admin/users/data_storage`: removes the storage and its private `<title>=recorded`
/// label with the usual recompute (Barong looked the label up and left it). No events.
pub async fn delete_storage(app: &App, caller: &UserRow, uid: &str, title: &str) -> ServiceResult<UserWithKyc> {
    let user = target(app, uid).await?;
    if !app.store.delete_data_storage(user.id, title).await? {
        return Err(ServiceError::not_found("admin.storage.doesnt_exist"));
    }
    let key = crate::services::account::labels::normalize(title);
    let user = if app.store.delete_label(user.id, &key, crate::model::LabelScope::Private).await? {
        crate::services::kyc::levels::recompute(app, &user).await?
    } else {
        user
    };
    with_kyc(app, caller.role.as_str(), &user).await
}
