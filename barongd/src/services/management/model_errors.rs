//! Model errors as the Management API answers them: Rails' English "full messages"
//! (`email.taken` → `Email has already been taken`), as a list (`{"error":[…]}`) or joined into
//! one sentence the way `to_sentence` joins them (`/documents`).

use serde_json::json;

use crate::services::error::ServiceError;
use crate::services::management::error::MgmtError;

/// The longest value of an attribute, for Rails' `too_long` message.
fn maximum(attr: &str) -> usize {
    match attr {
        "data" => 1024,
        "doc_number" => 128,
        _ => 255,
    }
}

/// A model error key (`email.taken`) as Rails' full message (`Email has already been taken`).
pub fn full_message(key: &str) -> String {
    let (attr, reason) = key.split_once('.').unwrap_or((key, "invalid"));
    let mut title: String = attr.replace('_', " ");
    if let Some(first) = title.get(0..1) {
        title = first.to_uppercase() + &title[1..];
    }
    match reason {
        "taken" => format!("{title} has already been taken"),
        "blank" => format!("{title} can't be blank"),
        "inclusion" => format!("{title} is not included in the list"),
        "exists" => format!("{title} already exists"),
        "too_long" => format!("{title} is too long (maximum is {} characters)", maximum(attr)),
        "too_short" if attr == "postcode" => format!("{title} is too short (minimum is 2 characters)"),
        "too_short" => format!("{title} is too short (minimum is 1 character)"),
        "invalid" | "invalid_format" => format!("{title} is invalid"),
        other => format!("{title} {other}"),
    }
}

/// 422 `{"error": [full messages]}` for refused model keys; internal errors stay internal.
pub fn as_list(e: ServiceError) -> MgmtError {
    match e {
        ServiceError::Refused { keys, .. } => list(&keys),
        ServiceError::Internal(detail) => MgmtError::Internal(detail),
    }
}

/// 422 `{"error": [full messages]}` of `keys`.
pub fn list(keys: &[String]) -> MgmtError {
    MgmtError::Reply(422, json!({ "error": keys.iter().map(|k| full_message(k)).collect::<Vec<_>>() }))
}

/// 422 `{"error": "A, B and C"}`: every full message in one sentence (Rails' `to_sentence`).
pub fn as_sentence(e: ServiceError) -> MgmtError {
    match e {
        ServiceError::Refused { keys, .. } => {
            let messages: Vec<String> = keys.iter().map(|k| full_message(k)).collect();
            MgmtError::message(422, &to_sentence(&messages))
        }
        ServiceError::Internal(detail) => MgmtError::Internal(detail),
    }
}

/// Rails' `Array#to_sentence` with its English defaults.
fn to_sentence(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [a, b] => format!("{a} and {b}"),
        [rest @ .., last] => format!("{}, and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_rails_full_messages() {
        assert_eq!(full_message("email.invalid"), "Email is invalid");
        assert_eq!(full_message("email.taken"), "Email has already been taken");
        assert_eq!(full_message("password.weak"), "Password weak");
        assert_eq!(full_message("role.doesnt_exist"), "Role doesnt_exist");
        assert_eq!(full_message("state.exists"), "State already exists");
        assert_eq!(full_message("state.inclusion"), "State is not included in the list");
        assert_eq!(full_message("doc_expire.blank"), "Doc expire can't be blank");
        assert_eq!(full_message("doc_number.too_long"), "Doc number is too long (maximum is 128 characters)");
        assert_eq!(full_message("postcode.too_short"), "Postcode is too short (minimum is 2 characters)");
        assert_eq!(full_message("email_or_uid.not_uniq"), "Email or uid not_uniq");
        assert_eq!(
            full_message("country.must have alpha2 or alpha3 format"),
            "Country must have alpha2 or alpha3 format"
        );
    }

    #[test]
    fn sentences_join_as_rails_does() {
        let s = |v: &[&str]| to_sentence(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&["A"]), "A");
        assert_eq!(s(&["A", "B"]), "A and B");
        assert_eq!(s(&["A", "B", "C"]), "A, B, and C");
    }
}
