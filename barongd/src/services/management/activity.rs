//! The admin activity row of a Management API request (Appendix B, W9). Barong logged nothing
//! of these calls, though they create users, grant roles and read clear PII; here every
//! request that passed its signatures leaves a row — no actor (`user_id` NULL: a service, not
//! a user), the peer's address and user agent, and in `data` the parameters (secrets
//! `[FILTERED]`), `"via":"management"` and the signers — so the admin log says which keys did
//! what to whom.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::gateway::audit::{self, Audited, Secrets};

/// One verified Management API request.
pub struct ManagementCall<'a> {
    /// Upper-case HTTP method.
    pub method: &'a str,
    /// The path after `management/` (`users/import`).
    pub route: &'a str,
    pub ip: &'a str,
    pub user_agent: Option<&'a str>,
    pub request_id: &'a str,
    pub signers: &'a [String],
    /// `payload.data`.
    pub data: &'a Map<String, Value>,
}

/// `read` for lookups, `delete`/`update` as the route says, `create` for the other POSTs.
fn action(method: &str, route: &str) -> &'static str {
    let last = route.rsplit('/').next().unwrap_or(route);
    match (method, last) {
        ("PUT", _) | (_, "update") => "update",
        (_, "delete") => "delete",
        (_, "get" | "list") => "read",
        _ if route == "labels/filter/users" => "read",
        _ => "create",
    }
}

/// Writes the row of `call`; `succeeded` when the endpoint answered below 400.
pub async fn record(app: &App, call: ManagementCall<'_>, succeeded: bool) {
    let mut params = call.data.clone();
    params.insert("via".into(), Value::String("management".into()));
    params.insert("signers".into(), Value::from(call.signers.to_vec()));
    let ctx = RequestContext {
        ip: call.ip.to_string(),
        user_agent: call.user_agent.map(str::to_string),
        session_id: None,
        request_id: call.request_id.to_string(),
    };
    let path = format!("api/v2/barong/management/{}", call.route);
    let req = Audited { method: call.method, path: &path, ctx: &ctx, params: Some(&params) };
    let mut row = audit::row(app, &req, None, None, if succeeded { "succeed" } else { "failed" }, Secrets::Filter);
    row.topic = Cow::Owned(call.route.split('/').next().unwrap_or("general").to_string());
    row.action = action(call.method, call.route);
    audit::insert_admin_row(app, row, call.request_id).await;
}

#[cfg(test)]
mod tests {
    use super::action;

    #[test]
    fn actions_follow_the_route() {
        assert_eq!(action("POST", "users/get"), "read");
        assert_eq!(action("POST", "labels/filter/users"), "read");
        assert_eq!(action("POST", "service_accounts/list"), "read");
        assert_eq!(action("POST", "users/update"), "update");
        assert_eq!(action("PUT", "labels"), "update");
        assert_eq!(action("POST", "phones/delete"), "delete");
        assert_eq!(action("POST", "users/import"), "create");
        assert_eq!(action("POST", "otp/sign"), "create");
    }
}
