//! Writing activity rows. A failure to record is logged, never turned into a failed request.

use serde_json::{Map, Value};

use crate::services::App;
use crate::services::context::RequestContext;
use crate::store::NewActivity;

/// `result` of an activity row.
#[derive(Debug, Clone, Copy)]
pub enum Outcome {
    Succeed,
    Failed,
    #[allow(dead_code)]
    Denied,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeed => "succeed",
            Outcome::Failed => "failed",
            Outcome::Denied => "denied",
        }
    }
}

/// Records a user activity (`category = user`). `reason` becomes `{"reason": ...}` in `data`.
pub async fn record(
    app: &App,
    ctx: &RequestContext,
    user_id: i64,
    topic: &'static str,
    action: &'static str,
    outcome: Outcome,
    reason: Option<&str>,
) {
    let mut data = Map::new();
    if let Some(r) = reason {
        data.insert("reason".into(), Value::String(r.to_string()));
    }
    if !is_known_browser(ctx.user_agent.as_deref()) {
        data.insert("note".into(), Value::String("Detected suspicious browser".into()));
    }
    let row = NewActivity {
        user_id: Some(user_id),
        target_uid: None,
        category: "user",
        user_ip: ctx.ip.clone(),
        user_ip_country: app.restrictions.country_name(&ctx.ip),
        user_agent: ctx.user_agent.clone(),
        topic: topic.into(),
        action,
        result: outcome.as_str(),
        data: if data.is_empty() { None } else { Some(Value::Object(data).to_string()) },
        created_at: app.clock.now(),
    };
    if let Err(e) = app.store.insert_activity(&row).await {
        tracing::warn!(request_id = %ctx.request_id, error = %e, "activity not recorded");
    }
}

/// Barong flags activities from user agents its browser detector does not know.
pub(crate) fn is_known_browser(ua: Option<&str>) -> bool {
    const MARKERS: &[&str] =
        &["Chrome/", "Firefox/", "Safari/", "Edg/", "Edge/", "OPR/", "Opera", "MSIE ", "Trident/", "YaBrowser/"];
    ua.is_some_and(|ua| ua.starts_with("Mozilla/") && MARKERS.iter().any(|m| ua.contains(m)))
}

#[cfg(test)]
mod tests {
    use super::is_known_browser;

    #[test]
    fn browsers_are_told_from_scripts() {
        assert!(is_known_browser(Some(
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
        )));
        assert!(!is_known_browser(Some("curl/8.0")));
        assert!(!is_known_browser(None));
    }
}
