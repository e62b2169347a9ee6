//! The rule behind a refusal, for the operator at the terminal: a key such as
//! `password.requirements` says what failed, not what would pass. Only keys whose rule comes
//! from the settings are explained; the rest keep the key alone.

use crate::config::Config;
use crate::services::identity::passwords::MAX_PASSWORD_BYTES;

/// The sentence that goes with `key`, if it has one.
pub fn explain(key: &str, config: &Config) -> Option<String> {
    match key {
        "password.requirements" => Some(format!(
            "the password must match password_regexp {} (and be at most {MAX_PASSWORD_BYTES} bytes)",
            config.password_regexp
        )),
        "password.weak" => Some(format!(
            "the password is too easy to guess: its strength must reach password_min_entropy {}{}",
            config.password_min_entropy,
            if config.password_use_dictionary { ", and dictionary words count for little" } else { "" }
        )),
        _ => None,
    }
}

/// The refusal message: each key, with its rule when it has one (`KEY: rule`).
pub fn message(keys: &[String], config: &Config) -> String {
    keys.iter()
        .map(|k| match (k.contains(": "), explain(k, config)) {
            (false, Some(rule)) => format!("{k}: {rule}"),
            _ => k.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_keys_carry_their_rule() {
        let c = Config::default();
        let m = message(&["password.requirements".into(), "user.not_found".into()], &c);
        assert!(m.starts_with("password.requirements: the password must match password_regexp ^(?="), "{m}");
        assert!(m.ends_with(", user.not_found"), "{m}");
        assert_eq!(message(&["keys.pinned: unset it".into()], &c), "keys.pinned: unset it");
    }
}
