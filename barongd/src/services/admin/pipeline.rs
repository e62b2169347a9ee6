//! The checks every Admin API request passes before its endpoint runs, and the admin activity
//! rows it leaves. Barong ran RBAC only at the gateway, whose JWTs are not bound to a path, so a
//! token minted for an allowed path also opened DROPped ones (W5): here the gateway's rules are
//! evaluated in-process for the external path, whatever the credential.

use serde_json::{Map, Value};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::audit::{self, Audited, Secrets};
use crate::services::gateway::decide::{RuleVerdict, rule_verdict};
use crate::store::UserRow;

/// How the caller authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// A JWT from our gateway, whose authz call already wrote the AUDIT and denied rows.
    Bearer,
    Cookie,
    ApiKey,
}

/// An admin request as the checks and the activity rows see it.
pub struct AdminRequest<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// The path after `admin/` (`permissions`, `users/labels`).
    pub rest: &'a str,
    pub ctx: &'a RequestContext,
    pub params: Option<&'a Map<String, Value>>,
}

impl AdminRequest<'_> {
    /// The public form the permissions match: `api/v2/barong/admin/<rest>`.
    pub fn external_path(&self) -> String {
        format!("api/v2/barong/admin/{}", self.rest)
    }
}

/// RBAC for `caller` (401 `authz.invalid_permission`). With a cookie or an API key no gateway
/// saw the request, so the denied or AUDIT row the gateway would have written is written here,
/// before the answer.
pub async fn permit(app: &App, req: &AdminRequest<'_>, caller: &UserRow, via: Credential) -> ServiceResult<()> {
    let path = req.external_path();
    let verdict = rule_verdict(app, caller.role.as_str(), req.method, &path).await?;
    if via != Credential::Bearer {
        let audited = Audited { method: req.method, path: &path, ctx: req.ctx, params: req.params };
        match &verdict {
            RuleVerdict::Denied if app.authz.audit_budget.take(&req.ctx.ip, app.clock.now()) => {
                write(app, &audited, caller, None, "denied").await;
            }
            RuleVerdict::Audited(topic) => write(app, &audited, caller, topic.as_deref(), "succeed").await,
            _ => {}
        }
    }
    if verdict == RuleVerdict::Denied {
        return Err(ServiceError::unauthenticated("authz.invalid_permission"));
    }
    Ok(())
}

/// The admin activity row of an admin write (every POST, PUT and DELETE, whatever its outcome)
/// or of a read of clear PII: `succeed` or `failed`.
pub async fn record(app: &App, req: &AdminRequest<'_>, caller: &UserRow, succeeded: bool) {
    let path = req.external_path();
    let audited = Audited { method: req.method, path: &path, ctx: req.ctx, params: req.params };
    write(app, &audited, caller, None, if succeeded { "succeed" } else { "failed" }).await;
}

/// Writes one row now.
async fn write(app: &App, req: &Audited<'_>, caller: &UserRow, topic: Option<&str>, result: &'static str) {
    let row = audit::row(app, req, Some(caller.id), topic, result, Secrets::Filter);
    audit::insert_admin_row(app, row, &req.ctx.request_id).await;
}
