//! Checks every edge (the HTTP API and the admin socket) applies to input before any service
//! sees it.

use serde_json::Value;

/// Whether a parameter holds a NUL character anywhere. No stored field may contain one, and
/// PostgreSQL refuses it in text outright, so it is refused up front as a client error (here and
/// on the admin socket).
pub fn holds_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(a) => a.iter().any(holds_nul),
        Value::Object(o) => o.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_found_at_any_depth() {
        assert!(holds_nul(&serde_json::json!({"a": ["x", {"b\u{0}": 1}]})));
        assert!(holds_nul(&Value::String("a\u{0}b".into())));
        assert!(!holds_nul(&serde_json::json!({"a": ["x", 1, null, {"b": "\u{1}"}]})));
    }
}
