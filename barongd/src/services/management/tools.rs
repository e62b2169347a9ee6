//! `/timestamp` (scope `tools`): the server's clock, for signers checking their own.

use serde_json::json;

use crate::services::App;

pub fn timestamp(app: &App) -> String {
    json!({ "timestamp": app.clock.now() }).to_string()
}
