//! Path settings. A relative path written in the configuration file is relative to the file's
//! folder, wherever barongd is started from; one from a flag or a variable is relative to the
//! working directory of whoever started it. A file the operator configured must exist: a missing
//! one stops start-up, naming the setting and the path it was looked for at, instead of
//! silently falling back to built-in defaults.

use std::path::{Path, PathBuf};

use crate::config::settings::Config;
use crate::config::sources::{Origin, Sources};

/// Whether a setting names a file or folder that must exist, or one barongd makes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    MustExist,
    Made,
}

/// Every path setting, with how to reach its value.
fn settings(c: &mut Config) -> [(&'static str, &mut String, Kind); 8] {
    [
        ("data_dir", &mut c.data_dir, Kind::Made),
        ("uploads_dir", &mut c.uploads_dir, Kind::Made),
        ("authz_rules_file", &mut c.authz_rules_file, Kind::MustExist),
        ("maxminddb_path", &mut c.maxminddb_path, Kind::MustExist),
        ("abilities_file", &mut c.abilities_file, Kind::MustExist),
        ("mailer.templates_dir", &mut c.mailer.templates_dir, Kind::MustExist),
        ("management_api.file", &mut c.management_api.file, Kind::MustExist),
        ("event_api_rabbitmq_ca_file", &mut c.event_api_rabbitmq_ca_file, Kind::MustExist),
    ]
}

/// Resolves the relative paths of `c` that came from the file against its folder (the SQLite
/// file of `database_url` too), then checks that every configured file exists. Errors are
/// pushed, each naming the setting, its place and the resolved path.
pub fn resolve(c: &mut Config, sources: &Sources, errors: &mut Vec<String>) {
    for (key, value, kind) in settings(c) {
        if value.is_empty() {
            continue;
        }
        if let Some(base) = sources.base_of(key)
            && Path::new(value.as_str()).is_relative()
        {
            *value = base.join(value.as_str()).display().to_string();
        }
        // An unset setting keeps Barong's behaviour (its default file is optional).
        if kind == Kind::MustExist && sources.origin(key) != Origin::Default && !Path::new(value.as_str()).exists() {
            errors.push(sources.describe(key, &format!("{} does not exist{}", shown(value), hint(sources, key))));
        }
    }
    if let Some(base) = sources.base_of("database_url") {
        let url = c.database_url.expose().to_string();
        if let Some(resolved) = sqlite_url_against(&url, base) {
            c.database_url.0 = resolved;
        }
    }
}

/// `path` as the absolute path it is looked for at.
fn shown(path: &str) -> String {
    std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path)).display().to_string()
}

/// Where a relative path was resolved from, for the error.
fn hint(sources: &Sources, key: &str) -> String {
    match (sources.origin(key), sources.file) {
        (Origin::File, Some(f)) => {
            format!(" (relative paths are resolved against {}, the config file's folder)", f.dir.display())
        }
        _ => String::new(),
    }
}

/// `sqlite://rel/b.db` (or `sqlite:rel/b.db`) with the path joined to `base`; `None` when the URL
/// is not SQLite, already absolute, or in memory.
fn sqlite_url_against(url: &str, base: &Path) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    if rest.is_empty() || rest.starts_with('/') || rest.starts_with(":memory:") {
        return None;
    }
    Some(format!("sqlite://{}", base.join(rest).display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls() {
        let base = Path::new("/etc/barong");
        assert_eq!(sqlite_url_against("sqlite://data/b.db", base).as_deref(), Some("sqlite:///etc/barong/data/b.db"));
        assert_eq!(
            sqlite_url_against("sqlite:b.db?mode=rwc", base).as_deref(),
            Some("sqlite:///etc/barong/b.db?mode=rwc")
        );
        assert_eq!(sqlite_url_against("sqlite:///var/b.db", base), None);
        assert_eq!(sqlite_url_against("sqlite::memory:", base), None);
        assert_eq!(sqlite_url_against("postgres://h/db", base), None);
    }
}
