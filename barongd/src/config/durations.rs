//! Settings that are lengths of time: Barong's integers in the setting's unit (`900`), or a
//! number with a unit (`15m`, `30s`, `2h`, `1d`, `500ms`, also `1h30m`), turned into the
//! integer before the settings are typed, from the file and the environment alike.

use crate::config::yaml::{Mapping, Value};

/// The unit a duration setting is counted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Milliseconds,
    Seconds,
    Minutes,
}

impl Unit {
    fn millis(self) -> u64 {
        match self {
            Unit::Milliseconds => 1,
            Unit::Seconds => 1000,
            Unit::Minutes => 60_000,
        }
    }

    fn forms(self) -> &'static str {
        match self {
            Unit::Milliseconds => "whole milliseconds (5000) or a number with a unit: 500ms, 5s, 2m",
            Unit::Seconds => "whole seconds (900) or a number with a unit: 30s, 15m, 2h, 1d",
            Unit::Minutes => "whole minutes (5) or a number with a unit: 5m, 2h, 1d",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Milliseconds => "milliseconds",
            Unit::Seconds => "seconds",
            Unit::Minutes => "minutes",
        }
    }
}

/// Every duration setting and its unit (a test checks that none is missing).
pub const DURATIONS: &[(&str, Unit)] = &[
    ("session_expire_time", Unit::Seconds),
    ("jwt_expire_time", Unit::Seconds),
    ("jwt_key_activation_delay", Unit::Seconds),
    ("session_max_lifetime", Unit::Seconds),
    ("authz_jwt_reuse_seconds", Unit::Seconds),
    ("phone_code_lifetime", Unit::Seconds),
    ("phone_code_resend_interval", Unit::Seconds),
    ("webauthn_enrol_window", Unit::Seconds),
    ("webauthn_challenge_lifetime", Unit::Seconds),
    ("api_cors_max_age", Unit::Seconds),
    ("login_throttle.window_seconds", Unit::Seconds),
    ("management_api.max_token_lifetime", Unit::Seconds),
    ("request_body.idle_timeout_seconds", Unit::Seconds),
    ("apikey_nonce_lifetime", Unit::Milliseconds),
    ("captcha_timeout_ms", Unit::Milliseconds),
    ("change_feed_poll_ms", Unit::Milliseconds),
    ("legacy_password_time_floor_ms", Unit::Milliseconds),
    ("mailer.timeout_ms", Unit::Milliseconds),
    ("master_key_rotation.batch_delay_ms", Unit::Milliseconds),
    ("upload_auth_url_expiration", Unit::Minutes),
];

/// Whether `path` is a duration setting.
pub fn is_duration(path: &str) -> bool {
    DURATIONS.iter().any(|(p, _)| *p == path)
}

/// Rewrites every duration written as text in `map` as the integer of its unit; the error is the
/// setting's path and what is wrong.
pub fn normalise(map: &mut Mapping) -> Result<(), (String, String)> {
    for (path, unit) in DURATIONS {
        if let Some(value) = lookup(map, path)
            && let Value::String(text) = value
        {
            let n = parse(text, *unit).map_err(|e| (path.to_string(), e))?;
            *value = Value::from(n);
        }
    }
    Ok(())
}

/// The value at a dotted path, when every section on the way is a mapping.
fn lookup<'a>(map: &'a mut Mapping, path: &str) -> Option<&'a mut Value> {
    match path.split_once('.') {
        None => map.get_mut(path),
        Some((head, rest)) => match map.get_mut(head) {
            Some(Value::Mapping(inner)) => lookup(inner, rest),
            _ => None,
        },
    }
}

/// `text` as a whole number of `unit`.
pub fn parse(text: &str, unit: Unit) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("`{text}` is not a duration: use {}", unit.forms());
    if let Ok(n) = t.parse::<i64>() {
        return Ok(n);
    }
    if t.is_empty() {
        return Err(bad());
    }
    let mut total: u64 = 0;
    let mut rest = t;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(bad());
        }
        let n: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let letters = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_alphabetic()).len();
        let per: u64 = match &rest[..letters] {
            "ms" => 1,
            "s" => 1000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = rest[letters..].trim_start();
        total = n.checked_mul(per).and_then(|ms| total.checked_add(ms)).ok_or_else(bad)?;
    }
    if !total.is_multiple_of(unit.millis()) {
        return Err(format!("`{text}` is not a whole number of {}: use {}", unit.name(), unit.forms()));
    }
    i64::try_from(total / unit.millis()).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Config;
    use crate::config::yaml;

    #[test]
    fn integers_and_units() {
        assert_eq!(parse("900", Unit::Seconds), Ok(900));
        assert_eq!(parse("15m", Unit::Seconds), Ok(900));
        assert_eq!(parse("30s", Unit::Seconds), Ok(30));
        assert_eq!(parse("2h", Unit::Seconds), Ok(7200));
        assert_eq!(parse("1d", Unit::Seconds), Ok(86_400));
        assert_eq!(parse("1h30m", Unit::Seconds), Ok(5400));
        assert_eq!(parse("5s", Unit::Milliseconds), Ok(5000));
        assert_eq!(parse("1h", Unit::Minutes), Ok(60));
        assert_eq!(
            parse("15x", Unit::Seconds),
            Err("`15x` is not a duration: use whole seconds (900) or a number with a unit: 30s, 15m, 2h, 1d".into())
        );
        assert!(parse("1500ms", Unit::Seconds).expect_err("fraction").contains("whole number of seconds"));
        for bad in ["", "m", "soon", "1.5h", "-5m", "99999999999999999999d"] {
            assert!(parse(bad, Unit::Seconds).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_duration_setting_is_listed() {
        let Ok(Value::Mapping(defaults)) = yaml::to_value(&Config::default()) else { panic!("a mapping") };
        let mut paths = Vec::new();
        for (k, v) in &defaults {
            let k = k.as_str().unwrap_or_default().to_string();
            match v {
                Value::Mapping(m) => paths.extend(m.keys().filter_map(|s| s.as_str().map(|s| format!("{k}.{s}")))),
                _ => paths.push(k),
            }
        }
        let timeish = ["_seconds", "_ms", "_time", "_lifetime", "_interval", "_expiration", "_max_age", "_delay"];
        for p in &paths {
            if timeish.iter().any(|s| p.ends_with(s)) {
                assert!(is_duration(p), "{p} looks like a duration but is not in DURATIONS");
            }
        }
        for (p, _) in DURATIONS {
            assert!(paths.contains(&p.to_string()), "{p} is not a setting");
        }
    }
}
