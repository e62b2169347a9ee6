//! Settings from the environment. Every top-level scalar setting of the file may also come from
//! `BARONG_<KEY>`: the list is derived from the settings themselves (whatever serialises as a
//! string, number or boolean), so a new setting gets its variable without a second list to keep in
//! step. Barong's unprefixed variables are read too.

use crate::config::durations;
use crate::config::yaml::{Mapping, Value};

/// Settings with a variable of another name instead (`DATABASE_URL`, as Barong and sqlx).
const NOT_PREFIXED: &[&str] = &["database_url"];

/// The `BARONG_<KEY>` variable of every top-level scalar setting in `defaults`.
pub fn variables(defaults: &Mapping) -> Vec<(String, String)> {
    defaults
        .iter()
        .filter(|(_, v)| matches!(v, Value::String(_) | Value::Number(_) | Value::Bool(_)))
        .filter_map(|(k, _)| k.as_str())
        .filter(|k| !NOT_PREFIXED.contains(k))
        .map(|k| (k.to_string(), format!("BARONG_{}", k.to_ascii_uppercase())))
        .collect()
}

/// Sets, in `map`, every setting the environment names, typed like its default.
pub fn apply(map: &mut Mapping, defaults: &Mapping, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    for (key, var) in variables(defaults) {
        if let Some(raw) = env(&var) {
            let default = defaults.get(key.as_str());
            // `15m` as well as `900`: read with the file's durations, naming this variable.
            let value = if durations::is_duration(&key) {
                Value::String(raw)
            } else {
                typed(default, &raw).map_err(|e| format!("{var} ({key}): {e}"))?
            };
            map.insert(Value::String(key), value);
        }
    }
    if let Some(url) = env("DATABASE_URL") {
        map.insert("database_url".into(), Value::String(url));
    }
    // Barong read this one without the BARONG_ prefix.
    if let Some(url) = env("EVENT_API_RABBITMQ_URL") {
        map.insert("event_api_rabbitmq_url".into(), Value::String(url));
    }
    // Named like Barong's URL variable, which it accompanies.
    if let Some(path) = env("EVENT_API_RABBITMQ_CA_FILE") {
        map.insert("event_api_rabbitmq_ca_file".into(), Value::String(path));
    }
    // Unset means "measured at start", so its default is null and the generic list above skips it.
    if let Some(raw) = env("BARONG_LEGACY_PASSWORD_TIME_FLOOR_MS") {
        map.insert("legacy_password_time_floor_ms".into(), Value::String(raw));
    }
    // A list setting of ours: comma-separated in the environment.
    for (key, var) in [
        ("admin_unmasked_pii_roles", "BARONG_ADMIN_UNMASKED_PII_ROLES"),
        ("profile_verification_roles", "BARONG_PROFILE_VERIFICATION_ROLES"),
        ("webauthn_origins", "BARONG_WEBAUTHN_ORIGINS"),
    ] {
        if let Some(roles) = env(var) {
            let list = roles.split(',').map(str::trim).filter(|r| !r.is_empty()).map(|r| Value::String(r.into()));
            map.insert(key.into(), Value::Sequence(list.collect()));
        }
    }
    Ok(())
}

/// An environment string as the type the setting has (Barong: booleans exactly true/false).
fn typed(default: Option<&Value>, raw: &str) -> Result<Value, String> {
    match default {
        Some(Value::Bool(_)) => match raw {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("expected true or false, got `{raw}`")),
        },
        Some(Value::Number(n)) if n.is_f64() => {
            raw.trim().parse::<f64>().map(Value::from).map_err(|_| format!("expected a number, got `{raw}`"))
        }
        Some(Value::Number(_)) => {
            raw.trim().parse::<i64>().map(Value::from).map_err(|_| format!("expected an integer, got `{raw}`"))
        }
        _ => Ok(Value::String(raw.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Config;
    use crate::config::yaml;

    #[test]
    fn every_scalar_setting_has_its_variable() {
        let Ok(Value::Mapping(defaults)) = yaml::to_value(&Config::default()) else { panic!("a mapping") };
        let vars: Vec<String> = variables(&defaults).into_iter().map(|(_, v)| v).collect();
        for v in ["BARONG_LISTEN", "BARONG_SESSION_EXPIRE_TIME", "BARONG_CSRF_PROTECTION", "BARONG_PHONE_MAX_PER_USER"]
        {
            assert!(vars.iter().any(|x| x == v), "{v} missing from {vars:?}");
        }
        // Lists, maps and nested sections have none; the database URL has Barong's name.
        for v in ["BARONG_TRUSTED_PROXIES", "BARONG_MAILER", "BARONG_STATE_TRIGGERS", "BARONG_DATABASE_URL"] {
            assert!(!vars.iter().any(|x| x == v), "{v} should not be read");
        }
    }
}
