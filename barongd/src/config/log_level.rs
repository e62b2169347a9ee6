//! `log_level` checked at load: a tracing filter accepts `debg` as the name of a target, which
//! silences every other line, so a misspelt level would switch the log off without a word.

use crate::config::unknown_keys::distance;

const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];

/// `Ok` for a level (`info`) or comma-separated directives whose level is one (`info,access=warn`).
pub fn check(filter: &str) -> Result<(), String> {
    let allowed = "use trace, debug, info, warn, error or off, or per target: info,barongd=debug";
    if filter.trim().is_empty() {
        return Err(format!("empty; {allowed}"));
    }
    for directive in filter.split(',').map(str::trim).filter(|d| !d.is_empty()) {
        let level = directive.rsplit_once('=').map_or(directive, |(_, level)| level).trim();
        if !LEVELS.contains(&level.to_ascii_lowercase().as_str()) {
            let hint = LEVELS
                .iter()
                .find(|l| distance(&level.to_ascii_lowercase(), l) <= 2)
                .map(|l| format!("did you mean {l}? "))
                .unwrap_or_default();
            return Err(format!("unknown level `{level}` in `{filter}`; {hint}{allowed}"));
        }
    }
    tracing_subscriber::EnvFilter::try_new(filter).map(|_| ()).map_err(|e| format!("`{filter}`: {e}; {allowed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_directives() {
        for ok in ["info", "DEBUG", "info,access=warn", "barongd=debug,warn", "off"] {
            assert!(check(ok).is_ok(), "{ok}: {:?}", check(ok));
        }
        assert_eq!(
            check("debg").expect_err("typo"),
            "unknown level `debg` in `debg`; did you mean debug? use trace, debug, info, warn, error or off, \
             or per target: info,barongd=debug"
        );
        assert!(check("info,access=loud").expect_err("level").contains("`loud`"));
        assert!(check(" ").is_err(), "empty");
        assert!(check("barongd").expect_err("a bare target").contains("`barongd`"));
    }
}
