//! The admin-socket requests that mirror the Admin API (spec §9): the same service functions the
//! HTTP handlers call, with the operator as the actor, the same validation keys, and an operator
//! admin activity row for every write.

use common::admin::{ActivityQuery, ReplyData};
use serde_json::json;

use crate::services::App;
use crate::services::admin::activities::{self, user_entity};
use crate::services::admin::actor::{Actor, Operator};
use crate::services::admin::users::target;
use crate::services::admin::{comments, metrics, user_changes};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::operator::admin_log::{self, OperatorWrite};
use crate::store::admin_logs::ActivityFilter;

/// The socket's caller: its OS uid (for the activity rows) and whether it confirmed.
#[derive(Debug, Clone, Copy)]
pub struct Caller {
    pub os_uid: Option<u32>,
}

impl Caller {
    fn actor(&self, yes: bool) -> Actor<'static> {
        Actor::Operator(Operator { confirmed: yes })
    }

    /// Writes the admin activity row of an operator request (see `admin_log`).
    pub async fn log<T>(
        &self,
        app: &App,
        method: &'static str,
        rest: &'static str,
        params: serde_json::Value,
        r: &ServiceResult<T>,
    ) {
        admin_log::record(app, OperatorWrite { method, rest, params, os_uid: self.os_uid }, r).await;
    }
}

/// Grape's `allow_blank: false` key for a blank `name` (`admin.user.empty_uid`).
fn filled(name: &str, value: &str, keys: &mut Vec<String>) {
    if value.trim().is_empty() {
        keys.push(format!("admin.user.empty_{name}"));
    }
}

fn checked(keys: Vec<String>) -> ServiceResult<()> {
    if keys.is_empty() { Ok(()) } else { Err(ServiceError::invalid_all(keys)) }
}

/// The user after a change, as the Admin API's `User` entity.
async fn changed(app: &App, uid: &str) -> ServiceResult<ReplyData> {
    let user = target(app, uid).await?;
    Ok(ReplyData::AdminUser(Box::new(user_entity(app, &user).await?)))
}

/// `user role UID ROLE` (`POST /users/role`).
pub async fn role(app: &App, c: Caller, uid: &str, role: &str, yes: bool) -> ServiceResult<ReplyData> {
    let r = async {
        let mut keys = Vec::new();
        filled("uid", uid, &mut keys);
        filled("role", role, &mut keys);
        checked(keys)?;
        user_changes::set_role(app, &c.actor(yes), uid, role).await
    }
    .await;
    c.log(app, "POST", "users/role", json!({"uid": uid, "role": role}), &r).await;
    r?;
    changed(app, uid).await
}

/// `user state UID STATE` (`POST /users/update {uid, state}`).
pub async fn state(app: &App, c: Caller, uid: &str, state: &str, yes: bool) -> ServiceResult<ReplyData> {
    let r = async {
        let mut keys = Vec::new();
        filled("uid", uid, &mut keys);
        filled("state", state, &mut keys);
        checked(keys)?;
        let change = user_changes::UserChange::State(state.to_string());
        user_changes::update(app, &c.actor(yes), uid, change).await
    }
    .await;
    c.log(app, "POST", "users/update", json!({"uid": uid, "state": state}), &r).await;
    r?;
    changed(app, uid).await
}

/// `user reset-2fa UID --reason TEXT` (alias `otp-reset`): the Admin API's
/// `POST /users/update {uid, otp: false}` plus the user's sessions ended; the admin activity
/// carries the reason.
pub async fn reset_2fa(app: &App, c: Caller, uid: &str, reason: &str, yes: bool) -> ServiceResult<ReplyData> {
    let reason = reason.trim();
    let r = async {
        let mut keys = Vec::new();
        filled("uid", uid, &mut keys);
        filled("reason", reason, &mut keys);
        checked(keys)?;
        user_changes::reset_2fa(app, &c.actor(yes), uid, reason).await
    }
    .await;
    c.log(app, "POST", "users/update", json!({"uid": uid, "otp": false, "reason": reason}), &r).await;
    Ok(ReplyData::TwoFactorReset(Box::new(r?)))
}

fn notes(u: common::admin_api::UserWithKyc) -> ReplyData {
    ReplyData::Comments { uid: u.uid, comments: u.comments }
}

/// `user comment add UID --title T --data D` (`POST /users/comments`).
pub async fn comment_add(app: &App, c: Caller, uid: &str, title: &str, data: &str) -> ServiceResult<ReplyData> {
    let r = async {
        let mut keys = Vec::new();
        filled("uid", uid, &mut keys);
        filled("title", title, &mut keys);
        filled("data", data, &mut keys);
        keys.extend(comments::limit_errors(Some(title), Some(data)));
        checked(keys)?;
        comments::add(app, &c.actor(false), uid, title, data).await
    }
    .await;
    c.log(app, "POST", "users/comments", json!({"uid": uid, "title": title, "data": data}), &r).await;
    r.map(notes)
}

/// `user comment edit ID [--title] [--data]` (`PUT /users/comments`).
pub async fn comment_edit(
    app: &App,
    c: Caller,
    id: i64,
    title: Option<&str>,
    data: Option<&str>,
) -> ServiceResult<ReplyData> {
    let r = async {
        let mut keys = Vec::new();
        for (name, v) in [("title", title), ("data", data)] {
            if let Some(v) = v {
                filled(name, v, &mut keys);
            }
        }
        keys.extend(comments::limit_errors(title, data));
        checked(keys)?;
        comments::edit(app, &c.actor(false), id, title, data).await
    }
    .await;
    let mut params = json!({"id": id});
    for (name, v) in [("title", title), ("data", data)] {
        if let Some(v) = v {
            params[name] = json!(v);
        }
    }
    c.log(app, "PUT", "users/comments", params, &r).await;
    r.map(notes)
}

/// `user comment rm ID` (`DELETE /users/comments`).
pub async fn comment_remove(app: &App, c: Caller, id: i64) -> ServiceResult<ReplyData> {
    let r = comments::remove(app, &c.actor(false), id).await;
    c.log(app, "DELETE", "users/comments", json!({"id": id}), &r).await;
    r.map(notes)
}

/// `user comment list UID`.
pub async fn comment_list(app: &App, uid: &str) -> ServiceResult<ReplyData> {
    comments::list(app, &Actor::Operator(Operator { confirmed: false }), uid).await.map(notes)
}

/// An epoch-seconds or `YYYY-MM-DD` bound; `key` when it is neither.
fn bound(raw: Option<&str>, end: bool, key: &str, keys: &mut Vec<String>) -> Option<i64> {
    let raw = raw?;
    let v = metrics::parse_bound(raw, end);
    if v.is_none() {
        keys.push(key.to_string());
    }
    v
}

/// `activity list` (`GET /activities`, or `/activities/admin` with `--admin`).
pub async fn activity_list(app: &App, q: ActivityQuery) -> ServiceResult<ReplyData> {
    let mut keys = Vec::new();
    let from = bound(q.from.as_deref(), false, "invalid", &mut keys);
    let to = bound(q.to.as_deref(), true, "invalid", &mut keys);
    let (page, limit) = (q.page.unwrap_or(1), q.limit.unwrap_or(100));
    if page < 1 {
        keys.push("non_positive_page".into());
    }
    if !(1..=100).contains(&limit) {
        keys.push("invalid_limit".into());
    }
    checked(keys)?;
    let f = ActivityFilter {
        topic: q.topic,
        action: q.action,
        uid: q.uid,
        email: q.email,
        target_uid: q.target_uid.filter(|_| q.admin),
        from,
        to,
    };
    if q.admin {
        let (items, total) = activities::admin_log(app, &f, page, limit).await?;
        Ok(ReplyData::AdminActivities { total, items })
    } else {
        let (items, total) = activities::user_log(app, &f, page, limit).await?;
        Ok(ReplyData::UserActivities { total, items })
    }
}

/// `metrics [--from] [--to]` (`GET /metrics`).
pub async fn metrics(app: &App, from: Option<&str>, to: Option<&str>) -> ServiceResult<ReplyData> {
    let mut keys = Vec::new();
    let from = bound(from, false, "admin.metric.invalid_created_from", &mut keys);
    let to = bound(to, true, "admin.metric.invalid_created_to", &mut keys);
    checked(keys)?;
    Ok(ReplyData::Metrics(metrics::metrics(app, from, to).await?))
}

/// `management check` without `--file`: the file this daemon loaded at start, with the
/// `management_api` settings it runs with.
pub fn management_check(app: &App) -> ServiceResult<ReplyData> {
    use common::admin::{ManagementReport, ManagementSettings, Problem, Severity};
    let m = &app.config.management_api;
    let mut report = match &app.management {
        Some(file) => file.report.clone(),
        None => ManagementReport {
            problems: vec![Problem {
                severity: Severity::Warning,
                text: "management_api.file is not set: the Management API answers every request with 401".into(),
            }],
            ..ManagementReport::default()
        },
    };
    let allowed_networks: Vec<String> = m.allowed_networks.0.iter().map(ToString::to_string).collect();
    if allowed_networks.is_empty() {
        report.problems.push(Problem {
            severity: Severity::Warning,
            text: "management_api.allowed_networks is empty: any peer may call the Management API".into(),
        });
    }
    report.settings = Some(ManagementSettings {
        allowed_networks,
        require_exp: m.require_exp,
        max_token_lifetime: m.max_token_lifetime,
        jti_single_use: m.jti_single_use,
    });
    Ok(ReplyData::ManagementCheck(Box::new(report)))
}
