//! Barong's own `barong.yml` accepted unchanged (migration spec §3): its `state_triggers` map,
//! keys left with only comments under them (YAML null), and the top-level keys Barong ignored.
//! This runs on the file's mapping before it is typed, so the settings keep one shape.

use crate::config::yaml::{Mapping, Value};

/// The file's settings as barong-rs reads them, and the warnings to log once at start.
pub struct Prepared {
    pub map: Mapping,
    pub warnings: Vec<String>,
}

/// Rewrites Barong's forms in `map` (read from `path`; its unknown keys are already gone).
pub fn prepare(mut map: Mapping, path: &str) -> Result<Prepared, String> {
    refuse_ruby_tags(&map, path)?;
    let mut warnings = Vec::new();
    if let Some(key) = map.keys().find(|k| k.as_str().is_none()) {
        return Err(format!("config file {path}: a top-level key is not a string ({key:?})"));
    }
    // A key holding only comments is YAML null: absent, so its default applies (Appendix).
    map.retain(|_, v| !v.is_null());
    if let Some(v) = map.get_mut("state_triggers") {
        *v = state_triggers(v.clone()).map_err(|e| format!("state_triggers in {path}: {e}"))?;
    }
    if let Some(Value::Sequence(endpoints)) = map.get_mut("captcha_protected_endpoints") {
        // Barong looked names up in this list, so one it does not know protected nothing.
        endpoints.retain(|e| {
            let known = e.as_str().is_some_and(|e| CAPTCHA_ENDPOINTS.contains(&e));
            if !known {
                let shown = e.as_str().map(str::to_string).unwrap_or_else(|| format!("{e:?}"));
                warnings.push(format!("captcha_protected_endpoints: unknown endpoint '{shown}' in {path}, ignored"));
            }
            known
        });
    }
    if !map.contains_key("document_types") {
        warnings.push(format!("document_types is not set in {path}: Barong's seven shipped types apply"));
    }
    Ok(Prepared { map, warnings })
}

/// The endpoints a captcha can guard.
const CAPTCHA_ENDPOINTS: [&str; 4] = ["user_create", "session_create", "password_reset", "email_confirmation"];

/// Barong's `state_triggers: {banned: [ban, fraud], ...}` as barong-rs's list of
/// `{state, labels}`, in the file's order (later entries win, as in Barong). The list form
/// passes unchanged.
fn state_triggers(value: Value) -> Result<Value, String> {
    let Value::Mapping(states) = value else { return Ok(value) };
    let mut list = Vec::with_capacity(states.len());
    for (state, labels) in states {
        let Some(state) = state.as_str() else { return Err("a state name is not a string".into()) };
        let labels = match labels {
            Value::Null => Value::Sequence(Vec::new()),
            Value::Sequence(l) if l.iter().all(|v| v.is_string()) => Value::Sequence(l),
            _ => return Err(format!("`{state}` must list label keys")),
        };
        let mut entry = Mapping::new();
        entry.insert("state".into(), Value::String(state.to_string()));
        entry.insert("labels".into(), labels);
        list.push(Value::Mapping(entry));
    }
    Ok(Value::Sequence(list))
}

/// Ruby objects (`!ruby/object:…`, `!ruby/sym`, …) need Ruby to mean anything: refused by name.
fn refuse_ruby_tags(map: &Mapping, path: &str) -> Result<(), String> {
    fn walk(v: &Value, at: &str, path: &str) -> Result<(), String> {
        match v {
            Value::Tagged(t) => {
                let tag = t.tag.to_string();
                if tag.trim_start_matches('!').starts_with("ruby/") {
                    return Err(format!("{at} in {path}: Ruby YAML tag {tag} is not supported"));
                }
                walk(&t.value, at, path)
            }
            Value::Sequence(items) => items.iter().try_for_each(|i| walk(i, at, path)),
            Value::Mapping(m) => m.iter().try_for_each(|(k, v)| {
                let key = k.as_str().map(|k| format!("{at}.{k}")).unwrap_or_else(|| at.to_string());
                walk(k, at, path).and_then(|()| walk(v, &key, path))
            }),
            _ => Ok(()),
        }
    }
    for (k, v) in map {
        let at = k.as_str().unwrap_or("a key").to_string();
        walk(k, &at, path)?;
        walk(v, &at, path)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "barong_file_tests.rs"]
mod tests;
