//! The one place YAML is read and written: the configuration, the authz rules, seeds and the
//! permission files barongctl sends. serde_yaml is deprecated upstream; serde_norway keeps its API,
//! and swapping it again touches only this file.

use serde::Serialize;
use serde::de::DeserializeOwned;

pub use serde_norway::{Mapping, Value};

/// A document of type `T`; the error is one line.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_norway::from_str(text).map_err(|e| one_line(&e.to_string()))
}

/// A value already read as YAML, as type `T`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, String> {
    serde_norway::from_value(value).map_err(|e| one_line(&e.to_string()))
}

/// `value` as a YAML tree (to layer settings from several sources).
pub fn to_value<T: Serialize>(value: &T) -> Result<Value, String> {
    serde_norway::to_value(value).map_err(|e| one_line(&e.to_string()))
}

/// `value` as YAML text.
pub fn to_string<T: Serialize>(value: &T) -> Result<String, String> {
    serde_norway::to_string(value).map_err(|e| one_line(&e.to_string()))
}

/// A top-level mapping (an empty text is an empty mapping).
pub fn mapping(text: &str) -> Result<Mapping, String> {
    if text.trim().is_empty() {
        return Ok(Mapping::new());
    }
    match from_str::<Value>(text)? {
        Value::Mapping(m) => Ok(m),
        Value::Null => Ok(Mapping::new()),
        _ => Err("expected a mapping of settings at the top level".into()),
    }
}

/// The parser's message on one line, without the long list of expected keys (the allowed
/// values of a closed set stay: they are what to write instead).
fn one_line(msg: &str) -> String {
    let one_line = msg.replace('\n', " ");
    match one_line.find(", expected one of") {
        Some(i) if one_line.contains("unknown field") => one_line[..i].to_string(),
        _ => one_line,
    }
}
