//! Request parameters the Grape way: query string, form body, JSON body or multipart body merged
//! into one map (body wins), the files of a multipart body, and Barong's validation keys
//! (`<scope>.missing_<param>`, `<scope>.empty_<param>`).

use serde_json::{Map, Value};

use crate::http::multipart::{self, UploadedFile};
use crate::input::holds_nul;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::captcha::Answer;

/// The merged parameters (`.0`) and, for a `multipart/form-data` body, its files (`.1`).
#[derive(Debug, Default, Clone)]
pub struct Params(pub Map<String, Value>, pub Vec<UploadedFile>);

/// A parameter of the wrong JSON type (an array or object where a scalar was expected).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongType;

fn malformed() -> ServiceError {
    ServiceError::malformed("request.malformed_body")
}

impl Params {
    /// Parses the query string and the body according to its content type.
    pub fn parse(query: Option<&str>, content_type: Option<&str>, body: &[u8]) -> ServiceResult<Params> {
        Self::parse_bytes(query, content_type, bytes::Bytes::copy_from_slice(body))
    }

    /// As `parse`, taking the body without a copy (multipart bodies may be megabytes).
    pub fn parse_bytes(query: Option<&str>, content_type: Option<&str>, body: bytes::Bytes) -> ServiceResult<Params> {
        let mut map = Map::new();
        let mut files = Vec::new();
        if let Some(q) = query {
            merge_form(&mut map, q.as_bytes());
        }
        let body_is_blank = body.iter().all(u8::is_ascii_whitespace);
        if !body_is_blank {
            let ct = content_type.unwrap_or("").to_ascii_lowercase();
            let json = ct.contains("json") || (ct.is_empty() && body.first() == Some(&b'{'));
            // First, as a boundary may contain any word (`boundary=json1`).
            if ct.starts_with("multipart/form-data") {
                files = multipart::parse(content_type.unwrap_or(""), body, &mut map)?;
            } else if json {
                match serde_json::from_slice::<Value>(&body) {
                    Ok(Value::Object(obj)) => map.extend(obj),
                    _ => return Err(malformed()),
                }
            } else if ct.is_empty()
                || ct.starts_with("application/x-www-form-urlencoded")
                || ct.starts_with("text/plain")
            {
                merge_form(&mut map, &body);
            } else {
                return Err(ServiceError::unsupported_media("request.unsupported_media_type"));
            }
        }
        if map.iter().any(|(k, v)| k.contains('\0') || holds_nul(v)) {
            return Err(ServiceError::malformed("request.invalid_characters"));
        }
        Ok(Params(map, files))
    }

    /// The files uploaded under form field `name` (`upload[]` and `upload` are both `upload`).
    pub fn files(&self, name: &str) -> Vec<&UploadedFile> {
        self.1.iter().filter(|f| f.field == name).collect()
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.get(name)
    }

    /// A scalar as text (numbers and booleans are coerced, as Grape does); `Err` for arrays and
    /// objects, `Ok(None)` when absent or null.
    pub fn text(&self, name: &str) -> Result<Option<String>, WrongType> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(WrongType),
        }
    }

    /// `captcha_response`: a string or an object; anything else is a type error.
    pub fn captcha(&self) -> Result<Option<Answer>, WrongType> {
        match self.0.get("captcha_response") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(Answer::Text(s.clone()))),
            Some(Value::Object(o)) => Ok(Some(Answer::Fields(o.clone()))),
            Some(_) => Err(WrongType),
        }
    }
}

/// `a=1&b[c]=2` → `{"a":"1","b":{"c":"2"}}` (one level of Rack's nested-parameter syntax).
fn merge_form(map: &mut Map<String, Value>, raw: &[u8]) {
    for (k, v) in form_urlencoded::parse(raw) {
        let (k, v) = (k.into_owned(), Value::String(v.into_owned()));
        match k.find('[') {
            Some(open) if k.ends_with(']') && open > 0 => {
                let outer = k[..open].to_string();
                let inner = k[open + 1..k.len() - 1].to_string();
                let entry = map.entry(outer).or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(o) = entry {
                    o.insert(inner, v);
                } else {
                    *entry = v;
                }
            }
            _ => {
                map.insert(k, v);
            }
        }
    }
}

/// Collects Barong's parameter errors in declaration order, then fails with all of them (422).
pub struct Check<'a> {
    params: &'a Params,
    scope: &'static str,
    errors: Vec<String>,
}

impl<'a> Check<'a> {
    pub fn new(params: &'a Params, scope: &'static str) -> Self {
        Check { params, scope, errors: Vec::new() }
    }

    fn push(&mut self, key: String) {
        if !self.errors.contains(&key) {
            self.errors.push(key);
        }
    }

    fn typed(&mut self, name: &str) -> Option<Option<String>> {
        match self.params.text(name) {
            Ok(v) => Some(v),
            Err(WrongType) => {
                // Grape's coercion failure without a custom message: the last word of
                // "<param> is invalid", which is what Barong clients receive.
                self.push("invalid".to_string());
                None
            }
        }
    }

    /// `requires :name` (blank allowed).
    pub fn required(&mut self, name: &str) -> Option<String> {
        let v = self.typed(name)?;
        if v.is_none() {
            self.push(format!("{}.missing_{name}", self.scope));
        }
        v
    }

    /// `requires :name, allow_blank: false`: absent gives both keys, missing first.
    pub fn required_filled(&mut self, name: &str) -> Option<String> {
        self.required_filled_as(name, None)
    }

    /// As `required_filled`, with the custom missing-key some endpoints declare.
    pub fn required_filled_as(&mut self, name: &str, missing_key: Option<&str>) -> Option<String> {
        let v = self.typed(name)?;
        match v {
            None => {
                let missing =
                    missing_key.map(str::to_string).unwrap_or_else(|| format!("{}.missing_{name}", self.scope));
                self.push(missing);
                self.push(format!("{}.empty_{name}", self.scope));
                None
            }
            Some(s) if s.trim().is_empty() => {
                self.push(format!("{}.empty_{name}", self.scope));
                None
            }
            Some(s) => Some(s),
        }
    }

    /// `optional :name`.
    pub fn optional(&mut self, name: &str) -> Option<String> {
        self.typed(name).flatten()
    }

    /// `captcha_response`, a string or an object.
    pub fn captcha(&mut self, invalid_key: &str) -> Option<Answer> {
        match self.params.captcha() {
            Ok(a) => a,
            Err(WrongType) => {
                self.push(invalid_key.to_string());
                None
            }
        }
    }

    /// Adds a key of a check made by hand (`values`, `exactly_one_of`), in declaration order.
    pub fn refuse(&mut self, key: impl Into<String>) {
        self.push(key.into());
    }

    /// `optional :name, allow_blank: false`: present and blank gives `<scope>.empty_<name>`.
    pub fn optional_filled(&mut self, name: &str) -> Option<String> {
        match self.typed(name)? {
            Some(s) if s.trim().is_empty() => {
                self.push(format!("{}.empty_{name}", self.scope));
                None
            }
            v => v,
        }
    }

    /// `optional :name, type: String, message: wrong_type`: an array or object adds `wrong_type`.
    pub fn optional_string(&mut self, name: &str, wrong_type: &str) -> Option<String> {
        match self.params.text(name) {
            Ok(v) => v,
            Err(WrongType) => {
                self.push(wrong_type.to_string());
                None
            }
        }
    }

    /// A Grape `Integer` (a JSON integer or a decimal-integer string); a failed coercion adds
    /// `invalid_key`. `Err` when present but not an integer.
    pub fn integer(&mut self, name: &str, invalid_key: &str) -> Result<Option<i64>, WrongType> {
        let v = match self.params.get(name) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(n)) => n.as_i64(),
            Some(Value::String(s)) => s.trim().parse::<i64>().ok().filter(|_| !s.trim().starts_with('+')),
            Some(_) => None,
        };
        match v {
            Some(n) => Ok(Some(n)),
            None => {
                self.push(invalid_key.to_string());
                Err(WrongType)
            }
        }
    }

    /// A Grape `Boolean`: JSON booleans and `true/false/1/0/yes/no/on/off/t/f/y/n` in any case;
    /// a failed coercion adds `invalid_key`.
    pub fn boolean(&mut self, name: &str, invalid_key: &str) -> Option<bool> {
        let v = match self.params.get(name) {
            None | Some(Value::Null) => return None,
            Some(Value::Bool(b)) => Some(*b),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            },
            Some(Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
                "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
                _ => None,
            },
            Some(_) => None,
        };
        if v.is_none() {
            self.push(invalid_key.to_string());
        }
        v
    }

    /// `requires :name, type: Integer`.
    pub fn required_integer(&mut self, name: &str) -> Option<i64> {
        if self.params.get(name).is_none_or(Value::is_null) {
            self.push(format!("{}.missing_{name}", self.scope));
            return None;
        }
        self.integer(name, "invalid").ok().flatten()
    }

    /// Barong's `pagination_filters`: `page` (default 1, > 0) and `limit` (default 100, 1..=100),
    /// with bare keys as Grape left them; a value that fails coercion also fails its range.
    pub fn pagination(&mut self) -> (i64, i64) {
        let page = match self.integer("page", "non_integer_page") {
            Ok(p) => p.unwrap_or(1),
            Err(WrongType) => 0,
        };
        if page < 1 {
            self.push("non_positive_page".to_string());
        }
        let limit = match self.integer("limit", "non_integer_limit") {
            Ok(l) => l.unwrap_or(100),
            Err(WrongType) => 0,
        };
        if !(1..=100).contains(&limit) {
            self.push("invalid_limit".to_string());
        }
        (page.max(1), limit.clamp(1, 100))
    }

    pub fn finish(self) -> ServiceResult<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(ServiceError::invalid_all(self.errors)) }
    }

    /// The keys collected so far, for endpoints that check more parameters by hand after these.
    pub fn into_keys(self) -> Vec<String> {
        self.errors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(r: ServiceResult<()>) -> Vec<String> {
        match r {
            Err(ServiceError::Refused { keys, .. }) => keys,
            _ => vec![],
        }
    }

    #[test]
    fn body_overrides_query_and_json_and_form_both_work() {
        let p = Params::parse(Some("a=1&b=2"), Some("application/json"), br#"{"b":"3","n":5}"#).expect("ok");
        assert_eq!(p.text("a"), Ok(Some("1".into())));
        assert_eq!(p.text("b"), Ok(Some("3".into())));
        assert_eq!(p.text("n"), Ok(Some("5".into())));
        let f = Params::parse(None, Some("application/x-www-form-urlencoded"), b"email=a%40b.c&c[x]=1").expect("ok");
        assert_eq!(f.text("email"), Ok(Some("a@b.c".into())));
        assert!(f.get("c").is_some_and(Value::is_object));
    }

    #[test]
    fn nul_characters_are_refused_anywhere() {
        let key = |r: ServiceResult<Params>| r.err().map(|e| e.key().to_string());
        let refused = Some("request.invalid_characters".to_string());
        assert_eq!(key(Params::parse(Some("email=a%00b"), None, b"")), refused);
        assert_eq!(key(Params::parse(None, Some("application/json"), br#"{"a":["x\u0000"]}"#)), refused);
        assert_eq!(key(Params::parse(None, Some("application/json"), br#"{"a\u0000":1}"#)), refused);
        assert_eq!(key(Params::parse(None, None, b"a=%00")), refused);
        assert!(Params::parse(None, None, b"a=%01").is_ok());
    }

    #[test]
    fn malformed_bodies_are_4xx() {
        assert!(Params::parse(None, Some("application/json"), b"{nope").is_err());
        assert!(Params::parse(None, Some("application/json"), b"[1,2]").is_err());
        assert!(Params::parse(None, Some("application/json"), &[0xff, 0xfe]).is_err());
        assert!(Params::parse(None, Some("multipart/form-data; boundary=x"), b"--x").is_err());
        assert!(Params::parse(None, Some("application/xml"), b"<a/>").is_err());
    }

    #[test]
    fn multipart_bodies_give_fields_and_files() {
        let body = b"--b\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\nPassport\r\n\
--b\r\nContent-Disposition: form-data; name=\"upload[]\"; filename=\"a.png\"\r\n\r\n\x89PNG\r\n--b--\r\n";
        let p = Params::parse(Some("x=1"), Some("multipart/form-data; boundary=b"), body).expect("ok");
        assert_eq!(p.text("doc_type"), Ok(Some("Passport".into())));
        assert_eq!(p.text("x"), Ok(Some("1".into())));
        assert_eq!(p.files("upload").len(), 1);
        assert_eq!(&p.files("upload")[0].bytes[..], b"\x89PNG");
        assert!(p.files("other").is_empty());
    }

    #[test]
    fn missing_and_empty_keys_follow_grape() {
        let p = Params::parse(Some("password="), None, b"").expect("ok");
        let mut c = Check::new(&p, "identity.user");
        c.required_filled("email");
        c.required_filled("password");
        assert_eq!(
            keys(c.finish()),
            vec!["identity.user.missing_email", "identity.user.empty_email", "identity.user.empty_password"]
        );
        let p = Params::parse(None, Some("application/json"), br#"{"email":["x"]}"#).expect("ok");
        let mut c = Check::new(&p, "identity.session");
        c.required("email");
        assert_eq!(keys(c.finish()), vec!["invalid"]);
    }

    #[test]
    fn pagination_and_integers_follow_grape() {
        let p = Params::parse(Some("page=x&limit=101"), None, b"").expect("ok");
        let mut c = Check::new(&p, "admin.permission");
        assert_eq!(c.pagination(), (1, 100));
        assert_eq!(keys(c.finish()), vec!["non_integer_page", "non_positive_page", "invalid_limit"]);
        let p = Params::parse(Some("page=0&limit=abc"), None, b"").expect("ok");
        let mut c = Check::new(&p, "admin.permission");
        c.pagination();
        assert_eq!(keys(c.finish()), vec!["non_positive_page", "non_integer_limit", "invalid_limit"]);
        let p = Params::parse(None, Some("application/json"), br#"{"page":2,"limit":"5","id":"1.5","topic":" "}"#)
            .expect("ok");
        let mut c = Check::new(&p, "admin.permission");
        assert_eq!(c.pagination(), (2, 5));
        assert_eq!(c.required_integer("id"), None);
        assert_eq!(c.required_integer("other"), None);
        assert_eq!(c.optional_filled("topic"), None);
        assert_eq!(keys(c.finish()), vec!["invalid", "admin.permission.missing_other", "admin.permission.empty_topic"]);
    }
}
