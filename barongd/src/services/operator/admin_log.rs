//! The operator's admin activity rows (spec §5.3): every write barongctl makes through an Admin
//! API service leaves the row the Admin API would have written for the same request — same
//! topic and action derivation, same redaction — with no actor (`user_id` NULL), `user_ip`
//! `local`, `user_agent` `barongctl/<version>`, and `data` saying `"via":"barongctl"` with the
//! operator's OS uid, so the log tells who on the host made the change.

use serde_json::{Map, Value};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::ServiceResult;
use crate::services::gateway::audit::{self, Audited, Secrets};

/// One operator write as the Admin API would have seen it.
pub struct OperatorWrite {
    /// The Admin API's method for the same change (`POST`, `PUT`, `DELETE`).
    pub method: &'static str,
    /// The Admin API path after `admin/` (`users/role`).
    pub rest: &'static str,
    /// The parameters the Admin API request would have carried.
    pub params: Value,
    /// The socket peer's OS uid.
    pub os_uid: Option<u32>,
}

/// Writes the row of `w` with its outcome; a failure to write is logged, never the operator's
/// problem (the change itself is done or refused already).
pub async fn record<T>(app: &App, w: OperatorWrite, outcome: &ServiceResult<T>) {
    record_as(app, w, None, outcome).await
}

/// As [`record`], with an action the Admin API has no request for (`import` `finish`).
pub async fn record_as<T>(app: &App, w: OperatorWrite, action: Option<&'static str>, outcome: &ServiceResult<T>) {
    let mut params = match w.params {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    params.insert("via".into(), Value::String("barongctl".into()));
    params.insert("os_uid".into(), w.os_uid.map(Value::from).unwrap_or(Value::Null));
    let ctx = RequestContext {
        ip: "local".into(),
        user_agent: Some(format!("barongctl/{}", env!("CARGO_PKG_VERSION"))),
        session_id: None,
        request_id: "barongctl".into(),
    };
    let path = format!("api/v2/barong/admin/{}", w.rest);
    let req = Audited { method: w.method, path: &path, ctx: &ctx, params: Some(&params) };
    let result = if outcome.is_ok() { "succeed" } else { "failed" };
    let mut row = audit::row(app, &req, None, None, result, Secrets::Filter);
    if let Some(action) = action {
        row.action = action;
    }
    audit::insert_admin_row(app, row, "barongctl").await;
}
