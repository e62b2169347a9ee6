//! `/admin/users/comments`: admins' notes on a user; and `DELETE /admin/users/data_storage`.
//! Barong checked no ability and no author, so anyone reaching the Admin API could rewrite any
//! note (W6): here writing needs `update User`, and editing or deleting needs the author or a
//! superadmin. The operator (barongctl) writes as author `barongctl` and may change any note.

use common::admin_api::UserWithKyc;

use crate::services::App;
use crate::services::admin::actor::Actor;
use crate::services::admin::users::{target, with_kyc};
use crate::services::error::{ServiceError, ServiceResult};
use crate::store::UserRow;
use crate::store::admin_users::CommentRow;

/// Barong's limits (the keys say `comments`, plural).
pub fn limit_errors(title: Option<&str>, data: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    if title.is_some_and(|t| t.chars().count() > 64) {
        keys.push("admin.comments.title_too_long".to_string());
    }
    if data.is_some_and(|d| d.chars().count() > 65_535) {
        keys.push("admin.comments.data_too_long".to_string());
    }
    keys
}

/// Adds `actor`'s note on `uid`; the user as the actor may see them.
pub async fn add(app: &App, actor: &Actor<'_>, uid: &str, title: &str, data: &str) -> ServiceResult<UserWithKyc> {
    let user = target(app, uid).await?;
    app.store.insert_comment(user.id, actor.author_uid(), title, data, app.clock.now()).await?;
    with_kyc(app, actor.viewer_role(), &user).await
}

/// The notes on `uid` (`barongctl user comment list`).
pub async fn list(app: &App, actor: &Actor<'_>, uid: &str) -> ServiceResult<UserWithKyc> {
    let user = target(app, uid).await?;
    with_kyc(app, actor.viewer_role(), &user).await
}

/// The comment `id` if `actor` may change it: 404 `record.not_found` (Barong's answer), then
/// 401 `admin.ability.not_permitted` for another admin's note.
async fn own(app: &App, actor: &Actor<'_>, id: i64) -> ServiceResult<CommentRow> {
    let c = app.store.comment_by_id(id).await?.ok_or_else(|| ServiceError::not_found("record.not_found"))?;
    if c.author_uid != actor.author_uid() && !actor.is_superadmin() {
        return Err(ServiceError::unauthenticated("admin.ability.not_permitted"));
    }
    Ok(c)
}

async fn owner(app: &App, actor: &Actor<'_>, c: &CommentRow) -> ServiceResult<UserWithKyc> {
    let user = app.store.user_by_id(c.user_id).await?.ok_or_else(|| ServiceError::not_found("record.not_found"))?;
    with_kyc(app, actor.viewer_role(), &user).await
}

pub async fn edit(
    app: &App,
    actor: &Actor<'_>,
    id: i64,
    title: Option<&str>,
    data: Option<&str>,
) -> ServiceResult<UserWithKyc> {
    let c = own(app, actor, id).await?;
    app.store.update_comment(id, title, data, app.clock.now()).await?;
    owner(app, actor, &c).await
}

pub async fn remove(app: &App, actor: &Actor<'_>, id: i64) -> ServiceResult<UserWithKyc> {
    let c = own(app, actor, id).await?;
    app.store.delete_comment(id).await?;
    owner(app, actor, &c).await
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
