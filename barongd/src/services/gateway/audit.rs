//! The admin activity rows of denied and audited gateway requests, written in the background.
//! Every stored text is cut to `denied_audit.max_field_chars` and denials are recorded within a
//! per-address and total budget per minute, so a flood of denied requests (or one with a huge
//! path or body) cannot grow the table without bound. Allowed requests never get here unless a
//! permission says `AUDIT`. The Admin API builds its own rows (written before it answers) with
//! the same `row`, so both describe a request the same way.

use serde_json::{Map, Value};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::events::activity::is_known_browser;
use crate::store::{NewActivity, UserRow};

/// Parameters kept in one row at most (the first ones by name); the rest are dropped.
const MAX_PARAMS: usize = 32;

/// Secrets a client might send along; they never reach the activity log.
const SECRETS: [&str; 8] =
    ["password", "old_password", "new_password", "confirm_password", "otp_code", "code", "totp_code", "id_token"];

/// Also filtered in the Admin API's rows (§5.3).
const FILTERED: [&str; 3] = ["password_digest", "secret", "otp_secret"];

/// The request as the audit row describes it.
pub struct Audited<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    pub path: &'a str,
    pub ctx: &'a RequestContext,
    pub params: Option<&'a Map<String, Value>>,
}

/// Whether the request was let through (`AUDIT` permission) or refused.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Audited,
    Denied,
}

/// Records the admin activity of `req` by `user`; a denial past its budget is not recorded.
pub fn record(app: &App, req: &Audited<'_>, user: &UserRow, topic: Option<&str>, verdict: Verdict) {
    if verdict == Verdict::Denied && !app.authz.audit_budget.take(&req.ctx.ip, app.clock.now()) {
        return;
    }
    let result = if verdict == Verdict::Denied { "denied" } else { "succeed" };
    let row = row(app, req, Some(user.id), topic, result, Secrets::Drop);
    let store = app.store.clone();
    let request_id = req.ctx.request_id.clone();
    tokio::spawn(async move {
        if let Err(e) = store.insert_activity(&row).await {
            tracing::warn!(%request_id, error = %e, "admin activity not recorded");
        }
    });
}

/// What happens to secret parameters in a row's `data`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Secrets {
    /// Left out (the gateway's rows).
    Drop,
    /// Kept as `"[FILTERED]"` (the Admin API's rows, §5.3: the reader sees a secret was sent).
    Filter,
}

/// The `category: admin` row of `req` by `user_id` (Barong's topic and action derivation), not
/// yet written: `topic` is the AUDIT rule's, else the first path segment after `admin/`.
pub fn row(
    app: &App,
    req: &Audited<'_>,
    user_id: Option<i64>,
    topic: Option<&str>,
    result: &'static str,
    secrets: Secrets,
) -> NewActivity {
    let now = app.clock.now();
    let max = app.config.denied_audit.max_field_chars;
    let topic = topic
        .map(str::to_string)
        .or_else(|| req.path.split_once("admin/").map(|(_, rest)| rest.split('/').next().unwrap_or("").to_string()))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "general".into());
    let action = match req.method {
        "POST" => "create",
        "PUT" | "PATCH" => "update",
        "GET" => "read",
        "DELETE" => "delete",
        _ => "system",
    };
    let (mut data, mut truncated) = capped_params(req.params, max, secrets);
    let target_uid = ["uid", "user_uid"]
        .iter()
        .find_map(|k| data.get(*k).and_then(Value::as_str).map(str::to_string))
        .unwrap_or_default();
    let path = cut(req.path, max);
    truncated |= path.len() < req.path.len();
    data.insert("path".into(), Value::String(path));
    if !is_known_browser(req.ctx.user_agent.as_deref()) {
        data.insert("note".into(), Value::String("Detected suspicious browser".into()));
    }
    if truncated {
        data.insert("truncated".into(), Value::Bool(true));
    }
    NewActivity {
        user_id,
        target_uid: Some(target_uid),
        category: "admin",
        user_ip: req.ctx.ip.clone(),
        user_ip_country: app.restrictions.country_name(&req.ctx.ip),
        user_agent: req.ctx.user_agent.as_deref().map(|ua| cut(ua, max)),
        topic: cut(&topic, max).into(),
        action,
        result,
        data: Some(Value::Object(data).to_string()),
        created_at: now,
    }
}

/// Stores an admin row written before an answer (Admin API, barongctl, Management API). A
/// `target_uid` naming no user keeps its value in `data` and the column empty (Barong dropped
/// such rows silently, W9); a failure to write is logged with `request_id`, never the caller's.
pub async fn insert_admin_row(app: &App, mut row: NewActivity, request_id: &str) {
    if let Some(uid) = row.target_uid.clone().filter(|u| !u.is_empty())
        && !matches!(app.store.user_by_uid(&uid).await, Ok(Some(_)))
    {
        row.target_uid = Some(String::new());
    }
    if let Err(e) = app.store.insert_activity(&row).await {
        tracing::error!(request_id = %request_id, error = %e, "admin activity not recorded");
    }
}

/// The first `max` characters of `s`.
fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => s[..end].to_string(),
        None => s.to_string(),
    }
}

/// The parameters without secrets, at most `MAX_PARAMS` of them, each name and value (as JSON
/// text when it is not a string) cut to `max`; and whether anything was cut or dropped.
fn capped_params(params: Option<&Map<String, Value>>, max: usize, secrets: Secrets) -> (Map<String, Value>, bool) {
    let mut out = Map::new();
    let mut truncated = false;
    let secret = |k: &str| SECRETS.contains(&k) || (secrets == Secrets::Filter && FILTERED.contains(&k));
    let kept = params.into_iter().flatten().filter(|(k, _)| secrets == Secrets::Filter || !secret(k));
    for (i, (k, v)) in kept.enumerate() {
        if secret(k) {
            out.insert(cut(k, max), Value::String("[FILTERED]".into()));
            continue;
        }
        if i == MAX_PARAMS {
            truncated = true;
            break;
        }
        let name = cut(k, max);
        let (value, value_cut) = match v {
            Value::String(s) => {
                let short = cut(s, max);
                let was_cut = short.len() < s.len();
                (Value::String(short), was_cut)
            }
            other => {
                let text = other.to_string();
                if text.chars().count() > max { (Value::String(cut(&text, max)), true) } else { (other.clone(), false) }
            }
        };
        truncated |= value_cut || name.len() < k.len();
        out.insert(name, value);
    }
    (out, truncated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_cut_counted_and_stripped_of_secrets() {
        let mut p = Map::new();
        p.insert("password".into(), Value::String("hunter2".into()));
        p.insert("note".into(), Value::String("é".repeat(100)));
        p.insert("list".into(), serde_json::json!([1, 2, 3]));
        let (out, truncated) = capped_params(Some(&p), 10, Secrets::Drop);
        assert!(truncated);
        assert!(!out.contains_key("password"));
        assert_eq!(out["note"], Value::String("é".repeat(10)));
        assert_eq!(out["list"], serde_json::json!([1, 2, 3]));
        for i in 0..40 {
            p.insert(format!("k{i:02}"), Value::from(i));
        }
        let (out, truncated) = capped_params(Some(&p), 100, Secrets::Drop);
        assert_eq!((out.len(), truncated), (MAX_PARAMS, true));
        let (_, truncated) = capped_params(None, 100, Secrets::Drop);
        assert!(!truncated);
        let mut p = Map::new();
        p.insert("secret".into(), Value::String("s3".into()));
        p.insert("code".into(), Value::String("123456".into()));
        p.insert("uid".into(), Value::String("ID1".into()));
        let (out, _) = capped_params(Some(&p), 100, Secrets::Filter);
        assert_eq!(Value::Object(out), serde_json::json!({"secret": "[FILTERED]", "code": "[FILTERED]", "uid": "ID1"}));
    }
}
