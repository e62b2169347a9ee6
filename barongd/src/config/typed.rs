//! The merged settings as a `Config`. The parser's own message names neither the setting nor
//! where it was written (`invalid type: string "x", expected u32`), so on an error each setting
//! is tried alone, down to the nested key that fails, and the message is given its path and
//! place.

use crate::config::settings::Config;
use crate::config::sources::Sources;
use crate::config::yaml::{self, Mapping, Value};

/// `map` as a `Config`, or the first bad setting named with its place.
pub fn typed(map: Mapping, sources: &Sources) -> Result<Config, String> {
    let whole = match yaml::from_value::<Config>(Value::Mapping(map.clone())) {
        Ok(c) => return Ok(c),
        Err(e) => e,
    };
    match first_bad(&map) {
        Some((path, message)) => Err(sources.describe(&path, &message)),
        None => Err(whole),
    }
}

/// The first setting of `map` that does not read, as (key path, message).
pub fn first_bad(map: &Mapping) -> Option<(String, String)> {
    for (key, value) in map {
        let Some(name) = key.as_str() else { return Some(("?".into(), "a key is not a string".into())) };
        if let Err(e) = probe(&[name], value) {
            return Some(descend(vec![name], value, e));
        }
    }
    None
}

/// The deepest failing key under `path` (whose value failed with `error`).
fn descend(path: Vec<&str>, value: &Value, error: String) -> (String, String) {
    if let Value::Mapping(m) = value {
        for (key, inner) in m {
            let Some(name) = key.as_str() else { continue };
            let mut deeper = path.clone();
            deeper.push(name);
            if let Err(e) = probe(&deeper, inner) {
                return descend(deeper, inner, e);
            }
        }
    }
    let joined = path.join(".");
    let message = strip_key(&error, &joined);
    (joined, message)
}

/// Reads a `Config` holding only `value` at `path` (every section has defaults).
fn probe(path: &[&str], value: &Value) -> Result<(), String> {
    let mut v = value.clone();
    for part in path.iter().rev() {
        let mut m = Mapping::new();
        m.insert(Value::String(part.to_string()), v);
        v = Value::Mapping(m);
    }
    yaml::from_value::<Config>(v).map(|_| ())
}

/// The message without a leading `key: ` that repeats (part of) the path.
fn strip_key(message: &str, path: &str) -> String {
    if let Some((head, rest)) = message.split_once(": ")
        && !head.is_empty()
        && head.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        && (path.ends_with(head) || path.starts_with(head))
    {
        return rest.to_string();
    }
    message.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bad(text: &str) -> Option<(String, String)> {
        first_bad(&yaml::mapping(text).expect("yaml"))
    }

    #[test]
    fn the_failing_key_is_found_at_its_depth() {
        assert_eq!(bad("listen: 127.0.0.1:0\nmailer:\n  from: a@b\n"), None);
        let (path, message) = bad("captcha: none\nmailer:\n  from: a@b\n  max_attempts: many\n").expect("bad");
        assert_eq!(path, "mailer.max_attempts");
        assert!(message.starts_with("invalid type: string \"many\""), "{message}");
        let (path, message) = bad("log_format: xml\n").expect("bad");
        assert_eq!((path.as_str(), message.as_str()), ("log_format", "`xml` must be text or json"));
        let (path, message) = bad("captcha: recaptch\n").expect("bad");
        assert_eq!(path, "captcha");
        assert!(message.contains("recaptch") && message.contains("recaptcha"), "allowed values: {message}");
        let (path, _) = bad("management_api:\n  allowed_networks: [nope]\n").expect("bad");
        assert_eq!(path, "management_api.allowed_networks");
    }
}
