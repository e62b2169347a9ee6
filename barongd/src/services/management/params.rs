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

    /// `requires :name, type: String, allow_blank: true`.
    pub fn required_blank(&mut self, name: &str) -> String {
        match self.text(name) {
            None => {
                self.errors.push(format!("{name} is missing"));
                String::new()
            }
            Some(Err(())) => {
                self.errors.push(format!("{name} is invalid"));
                String::new()
            }
            Some(Ok(s)) => s,
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

    /// `optional :name, type: String` with blanks allowed; a blank value counts as not sent.
    pub fn optional_blank(&mut self, name: &str) -> Option<String> {
        match self.text(name) {
            None => None,
            Some(Err(())) => {
                self.errors.push(format!("{name} is invalid"));
                None
            }
            Some(Ok(s)) if s.trim().is_empty() => None,
            Some(Ok(s)) => Some(s),
        }
    }

    /// `optional :name, type: Boolean, default: default`.
    pub fn boolean(&mut self, name: &str, default: bool) -> bool {
        self.boolean_or(name, default, "is invalid")
    }

    /// As `boolean`, with the endpoint's own message (`extended Non boolean extended value`).
    pub fn boolean_or(&mut self, name: &str, default: bool, invalid: &str) -> bool {
        match self.data.get(name) {
            None | Some(Value::Null) => default,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "1" => true,
            Some(Value::String(s)) if s == "false" || s == "0" => false,
            Some(_) => {
                self.errors.push(format!("{name} {invalid}"));
                default
            }
        }
    }

    /// An Integer param; `invalid` is the message when it is not one (Grape coerces strings).
    pub fn integer(&mut self, name: &str, invalid: &str) -> Option<i64> {
        let n = match self.data.get(name)? {
            Value::Null => return None,
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        if n.is_none() {
            self.errors.push(format!("{name} {invalid}"));
        }
        n
    }

    /// `page` and `limit` (spec §1.7): page > 0, limit 1..100; defaults 1 and 100.
    pub fn paging(&mut self) -> (i64, i64) {
        let page = match self.integer("page", "non_integer_page") {
            Some(p) if p < 1 => {
                self.errors.push("page non_positive_page".into());
                1
            }
            p => p.unwrap_or(1),
        };
        let limit = match self.integer("limit", "non_integer_limit") {
            Some(l) if !(1..=100).contains(&l) => {
                self.errors.push("limit invalid_limit".into());
                100
            }
            l => l.unwrap_or(100),
        };
        (page, limit)
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
