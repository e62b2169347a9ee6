//! Keys of the file that no setting has, at every depth, each with the nearest known key of its
//! section: `unknown key mailer.transprt at line 12; did you mean mailer.transport?`.

use crate::config::sources::FileSource;
use crate::config::yaml::{Mapping, Value};

/// Settings whose value is a mapping of the operator's own keys, not a section of settings.
const FREE_FORM: &[&str] = &["activation_requirements"];

/// One key no setting has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Its full path (`mailer.transprt`).
    pub path: String,
    /// The nearest known key of the same section, as a full path.
    pub nearest: Option<String>,
}

impl Unknown {
    /// Whether it is a top-level key (Barong ignored those; barong-rs warns).
    pub fn top_level(&self) -> bool {
        !self.path.contains('.')
    }

    /// `unknown key X at line N[, ignored]; did you mean Y?` with the file's name first.
    pub fn describe(&self, file: &FileSource, ignored: bool) -> String {
        let at = file.lines.line(&self.path).map(|n| format!(" at line {n}")).unwrap_or_default();
        let ignored = if ignored { ", ignored" } else { "" };
        let hint = self.nearest.as_ref().map(|k| format!("; did you mean {k}?")).unwrap_or_default();
        format!("config file {}: unknown key {}{at}{ignored}{hint}", file.shown, self.path)
    }
}

/// The keys of `map` that `known` (the defaults, as a mapping) does not have, in file order.
pub fn find(map: &Mapping, known: &Mapping) -> Vec<Unknown> {
    let mut out = Vec::new();
    walk(map, known, "", &mut out);
    out
}

fn walk(map: &Mapping, known: &Mapping, prefix: &str, out: &mut Vec<Unknown>) {
    let names: Vec<String> = known.keys().filter_map(|k| k.as_str().map(str::to_string)).collect();
    for (key, value) in map {
        // A key that is not a string is refused when the settings are typed.
        let Some(name) = key.as_str() else { continue };
        let path = if prefix.is_empty() { name.to_string() } else { format!("{prefix}.{name}") };
        match known.get(name) {
            None => {
                let nearest = nearest(name, &names)
                    .map(|k| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") });
                out.push(Unknown { path, nearest });
            }
            Some(Value::Mapping(section)) if !FREE_FORM.contains(&path.as_str()) => {
                if let Value::Mapping(inner) = value {
                    walk(inner, section, &path, out);
                }
            }
            Some(_) => {}
        }
    }
}

/// The known key closest to `name`: a typo (edit distance at most a third of its length), a key
/// it begins (`memory` of `memory_kib`) or one of the same family (same first word, as
/// `kyc_levels` and `kyc_provider`).
pub fn nearest<'a>(name: &str, known: &'a [String]) -> Option<&'a str> {
    let word = |s: &str| s.split('_').next().unwrap_or_default().to_string();
    let close = (name.chars().count() / 3).max(2);
    known
        .iter()
        .map(|k| (distance(name, k), k))
        .filter(|(d, k)| *d <= close || k.starts_with(name) || (name.contains('_') && word(k) == word(name)))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.as_str())
}

/// Levenshtein distance.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb { prev } else { 1 + prev.min(cur).min(row[j]) };
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::Config;
    use crate::config::yaml;

    fn defaults() -> Mapping {
        match yaml::to_value(&Config::default()) {
            Ok(Value::Mapping(m)) => m,
            _ => panic!("defaults are a mapping"),
        }
    }

    #[test]
    fn nested_keys_are_named_with_their_section_and_nearest_sibling() {
        let text = "listen: 127.0.0.1:0\nkyc_levels: 3\nmailer:\n  from: a@b.c\n  transprt: smtp\n\
                    activation_requirements:\n  phone: verified\nargon2:\n  memory: 8\n";
        let map = yaml::mapping(text).expect("yaml");
        let found = find(&map, &defaults());
        let paths: Vec<(&str, Option<&str>)> = found.iter().map(|u| (u.path.as_str(), u.nearest.as_deref())).collect();
        assert_eq!(
            paths,
            [
                ("kyc_levels", Some("kyc_provider")),
                ("mailer.transprt", Some("mailer.transport")),
                ("argon2.memory", Some("argon2.memory_kib")),
            ]
        );
        let file = FileSource::new(std::path::Path::new("/etc/barong.yml"), map, text);
        assert_eq!(
            found[1].describe(&file, false),
            "config file /etc/barong.yml: unknown key mailer.transprt at line 5; did you mean mailer.transport?"
        );
        assert_eq!(
            found[0].describe(&file, true),
            "config file /etc/barong.yml: unknown key kyc_levels at line 2, ignored; did you mean kyc_provider?"
        );
        assert!(found[0].top_level() && !found[1].top_level(), "mailer.transprt is nested");
    }

    #[test]
    fn edit_distance() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
        assert_eq!(nearest("completely_unrelated_thing", &["listen".into()]), None);
    }
}
