//! `authz_rules.yml` as Barong wrote it (`rules: {pass: [...], block: [...]}`, through ERB) or
//! in barong-rs's short form (top-level `pass:`/`block:`), migration spec §3.

use mgmtlint::expand_erb;

use crate::config::yaml::{self, Mapping, Value};

/// The prefixes of one file, as written (a trailing slash dropped), and the warnings to log.
#[derive(Debug, Default, PartialEq)]
pub struct AuthzFile {
    pub pass: Vec<String>,
    pub block: Vec<String>,
    pub warnings: Vec<String>,
}

/// Reads a rules file's text; `env` answers the ERB tags.
pub fn parse(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<AuthzFile, String> {
    let text = expand_erb(text, env)?;
    let top = yaml::mapping(&text)?;
    let mut out = AuthzFile::default();
    let short = top.contains_key("pass") || top.contains_key("block");
    let lists = match top.get("rules") {
        Some(_) if short => {
            return Err("both `rules:` and top-level `pass:`/`block:`; use one form".into());
        }
        Some(Value::Mapping(rules)) => {
            if let Some(k) = rules.keys().find(|k| !matches!(k.as_str(), Some("pass" | "block"))) {
                return Err(format!("rules: unknown key `{}` (pass or block)", k.as_str().unwrap_or("?")));
            }
            rules.clone()
        }
        Some(Value::Null) => Mapping::new(),
        Some(_) => return Err("rules: expected a mapping with pass and block".into()),
        None => top.clone(),
    };
    for key in top.keys() {
        let name = key.as_str().unwrap_or("?");
        if !matches!(name, "rules" | "pass" | "block") {
            out.warnings.push(format!("unknown key '{name}', ignored"));
        }
    }
    out.pass = prefixes(&lists, "pass", &mut out.warnings)?;
    out.block = prefixes(&lists, "block", &mut out.warnings)?;
    Ok(out)
}

/// One list of path prefixes. An entry with a leading slash never matched in Barong (its paths
/// had none) and is kept so it still never matches: rewriting a `pass` entry would open paths.
fn prefixes(lists: &Mapping, key: &str, warnings: &mut Vec<String>) -> Result<Vec<String>, String> {
    let items = match lists.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Sequence(items)) => items,
        Some(_) => return Err(format!("{key}: expected a list of path prefixes")),
    };
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let Some(entry) = item.as_str() else { return Err(format!("{key}: every entry must be a string")) };
        if entry.starts_with('/') {
            warnings.push(format!(
                "{key} entry '{entry}' starts with a slash and never matches (prefixes are written without one); \
                 left as is"
            ));
            out.push(entry.to_string());
        } else {
            out.push(entry.trim_end_matches('/').to_string());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn barongs_wrapper_and_the_short_form_read_the_same() {
        let barong =
            "# comment\nrules:\n  pass:\n    - api/v2/barong/public\n  block:\n    - api/v2/barong/management/\n";
        let short = "pass: [api/v2/barong/public]\nblock: [api/v2/barong/management]\n";
        let a = parse(barong, &no_env).expect("Barong's form");
        let b = parse(short, &no_env).expect("short form");
        assert_eq!(a, b);
        assert_eq!(a.pass, ["api/v2/barong/public"]);
        assert_eq!(a.block, ["api/v2/barong/management"]);
        assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    }

    #[test]
    fn both_forms_in_one_file_are_refused() {
        let e = parse("rules:\n  pass: [a]\npass: [b]\n", &no_env).expect_err("both");
        assert!(e.contains("rules:") && e.contains("pass"), "{e}");
        assert!(parse("rules: [a]\n", &no_env).is_err());
        assert!(parse("rules:\n  allow: [a]\n", &no_env).expect_err("typo").contains("allow"));
    }

    #[test]
    fn a_leading_slash_is_a_warning_and_is_not_rewritten() {
        let f = parse("rules:\n  pass:\n    - /api/v2/open\n    - api/v2/barong/public\n", &no_env).expect("reads");
        assert_eq!(f.pass, ["/api/v2/open", "api/v2/barong/public"]);
        assert_eq!(f.warnings.len(), 1);
        assert!(f.warnings[0].contains("/api/v2/open") && f.warnings[0].contains("never matches"), "{:?}", f.warnings);
        // "/" alone is kept too: trimmed it would be the empty prefix, which passes everything.
        assert_eq!(parse("pass: ['/']\n", &no_env).expect("reads").pass, ["/"]);
    }

    #[test]
    fn empty_lists_unknown_keys_and_erb() {
        let f = parse("rules:\n  pass:\n    # none yet\n  block:\n    - x\nextra: 1\n", &no_env).expect("reads");
        assert!(f.pass.is_empty());
        assert_eq!(f.warnings, ["unknown key 'extra', ignored"]);
        let env = |k: &str| (k == "PUBLIC").then(|| "api/v2/public".to_string());
        let t = "<%# prefixes from the environment %>\nrules:\n  pass:\n    - <%= ENV['PUBLIC'] %>\n    - <%= ENV.fetch('X') { 'api/v2/x' } %>\n";
        assert_eq!(parse(t, &env).expect("ERB").pass, ["api/v2/public", "api/v2/x"]);
        let e = parse("rules:\n  pass:\n    - <%= ENV.fetch('MISSING') %>\n", &env).expect_err("KeyError");
        assert!(e.contains("line 3") && e.contains("MISSING"), "{e}");
        assert!(parse("pass:\n  - <% system('id') %>\n", &env).expect_err("Ruby").contains("line 2"));
    }
}
