//! Grape-style parameters of a Management API request (`payload.data`): the declared params
//! are read, problems are collected in declaration order and answered as one 422 sentence,
//! e.g. `{"error":"user_uid is missing, user_uid is empty"}` (spec §4.8).

use serde_json::{Map, Value};

use crate::services::management::error::MgmtError;

pub struct Grape<'a> {
    data: &'a Map<String, Value>,
    errors: Vec<String>,
}

impl<'a> Grape<'a> {
    pub fn new(data: &'a Map<String, Value>) -> Self {
        Grape { data, errors: Vec::new() }
    }

    /// A scalar as Grape coerces it to String; `Err` for arrays and objects.
    fn text(&self, name: &str) -> Option<Result<String, ()>> {
        match self.data.get(name)? {
            Value::Null => None,
            Value::String(s) => Some(Ok(s.clone())),
            Value::Number(n) => Some(Ok(n.to_string())),
            Value::Bool(b) => Some(Ok(b.to_string())),
            _ => Some(Err(())),
        }
    }

    /// `requires :name, type: String, allow_blank: false`.
    pub fn required(&mut self, name: &str) -> String {
        match self.text(name) {
            None => {
                self.errors.push(format!("{name} is missing"));
                self.errors.push(format!("{name} is empty"));
                String::new()
            }
            Some(Err(())) => {
                self.errors.push(format!("{name} is invalid"));
                String::new()
            }
            Some(Ok(s)) => {
                if s.trim().is_empty() {
                    self.errors.push(format!("{name} is empty"));
                }
                s
            }
        }
    }

    /// `optional :name, type: String, allow_blank: false`.
    pub fn optional(&mut self, name: &str) -> Option<String> {
        match self.text(name) {
            None => None,
            Some(Err(())) => {
                self.errors.push(format!("{name} is invalid"));
                None
            }
            Some(Ok(s)) => {
                if s.trim().is_empty() {
                    self.errors.push(format!("{name} is empty"));
                }
                Some(s)
            }
        }
    }

    /// `optional :name, type: Boolean, default: default`.
    pub fn boolean(&mut self, name: &str, default: bool) -> bool {
        match self.data.get(name) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "1" => true,
            Some(Value::String(s)) if s == "false" || s == "0" => false,
            Some(_) => {
                self.errors.push(format!("{name} is invalid"));
                default
            }
        }
    }

    /// A rule over several params (`exactly_one_of`, `mutually_exclusive`), in its place.
    pub fn error(&mut self, message: &str) {
        self.errors.push(message.to_string());
    }

    /// A raw (undeclared) param, as Barong reads some of them.
    pub fn raw(&self, name: &str) -> Option<&Value> {
        self.data.get(name)
    }

    /// 422 with every message, in order, when any.
    pub fn finish(self) -> Result<(), MgmtError> {
        if self.errors.is_empty() { Ok(()) } else { Err(MgmtError::message(422, &self.errors.join(", "))) }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn messages_are_grapes_in_declaration_order() {
        let data = json!({"key": " ", "value": ["x"], "replace": "maybe"});
        let data = data.as_object().expect("object");
        let mut p = Grape::new(data);
        p.required("user_uid");
        p.required("key");
        p.required("value");
        p.boolean("replace", true);
        let Err(MgmtError::Reply(422, body)) = p.finish() else { panic!("refused") };
        assert_eq!(
            body,
            json!({"error": "user_uid is missing, user_uid is empty, key is empty, value is invalid, replace is invalid"})
        );
    }
}
