//! `GET /admin/activities` (users' activity log) and `GET /admin/activities/admin` (the admin
//! log): pages from the store, each row with the users it names. A page holds at most 100 rows,
//! so its users are read once each.

use std::collections::HashMap;

use common::admin_api::{ActivityWithUser, AdminActivity, User};

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::ServiceResult;
use crate::store::UserRow;
use crate::store::admin_logs::ActivityFilter;

/// The admin `User` entity of `u`.
pub async fn user_entity(app: &App, u: &UserRow) -> ServiceResult<User> {
    let referral_uid = match u.referral_id {
        Some(id) => app.store.user_by_id(id).await?.map(|r| r.uid),
        None => None,
    };
    Ok(User {
        email: u.email.clone(),
        uid: u.uid.clone(),
        role: u.role.as_str().to_string(),
        level: u.level,
        otp: u.otp,
        state: u.state.as_str().to_string(),
        referral_uid,
        data: u.data.clone(),
        username: u.username.clone(),
    })
}

/// Users read once per page, by id or by uid.
#[derive(Default)]
struct Users {
    by_id: HashMap<i64, Option<User>>,
    by_uid: HashMap<String, Option<User>>,
}

impl Users {
    async fn id(&mut self, app: &App, id: Option<i64>) -> ServiceResult<Option<User>> {
        let Some(id) = id else { return Ok(None) };
        if let Some(u) = self.by_id.get(&id) {
            return Ok(u.clone());
        }
        let u = match app.store.user_by_id(id).await? {
            Some(row) => Some(user_entity(app, &row).await?),
            None => None,
        };
        self.by_id.insert(id, u.clone());
        Ok(u)
    }

    async fn uid(&mut self, app: &App, uid: Option<&str>) -> ServiceResult<Option<User>> {
        let Some(uid) = uid.filter(|u| !u.is_empty()) else { return Ok(None) };
        if let Some(u) = self.by_uid.get(uid) {
            return Ok(u.clone());
        }
        let u = match app.store.user_by_uid(uid).await? {
            Some(row) => Some(user_entity(app, &row).await?),
            None => None,
        };
        self.by_uid.insert(uid.to_string(), u.clone());
        Ok(u)
    }
}

/// A page of users' activities, newest first, and the total.
pub async fn user_log(
    app: &App,
    f: &ActivityFilter,
    page: i64,
    limit: i64,
) -> ServiceResult<(Vec<ActivityWithUser>, i64)> {
    let (rows, total) = app.store.user_activities_page(f, limit, (page - 1) * limit).await?;
    let mut users = Users::default();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        // The inner join keeps only rows whose user exists; one deleted meanwhile is skipped.
        let Some(user) = users.id(app, r.user_id).await? else { continue };
        out.push(ActivityWithUser {
            user_ip: r.user_ip,
            user_ip_country: r.user_ip_country,
            user_agent: r.user_agent,
            topic: r.topic,
            action: r.action,
            result: r.result,
            data: r.data,
            user,
            created_at: iso8601(r.created_at),
        });
    }
    Ok((out, total))
}

/// A page of the admin log, newest first, and the total.
pub async fn admin_log(
    app: &App,
    f: &ActivityFilter,
    page: i64,
    limit: i64,
) -> ServiceResult<(Vec<AdminActivity>, i64)> {
    let (rows, total) = app.store.admin_activities_page(f, limit, (page - 1) * limit).await?;
    let mut users = Users::default();
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(AdminActivity {
            admin: users.id(app, r.user_id).await?,
            target: users.uid(app, r.target_uid.as_deref()).await?,
            user_ip: r.user_ip,
            user_ip_country: r.user_ip_country,
            user_agent: r.user_agent,
            topic: r.topic,
            action: r.action,
            result: r.result,
            data: r.data,
            created_at: iso8601(r.created_at),
        });
    }
    Ok((out, total))
}
