//! Where a setting's value came from (a flag, a variable, a line of the file, the default), so
//! every configuration error names the place to fix: `config file /etc/barong.yml:
//! mailer.timeout_ms at line 12: …`, `BARONG_SESSION_EXPIRE_TIME (session_expire_time): …`.
//! The order of the checks is the order of precedence (flags > environment > file > default).

use std::path::{Path, PathBuf};

use crate::config::key_lines::KeyLines;
use crate::config::overrides::Overrides;
use crate::config::yaml::{Mapping, Value};

/// The configuration file as read: its name as shown, its folder, its settings and their lines.
pub struct FileSource {
    pub shown: String,
    pub dir: PathBuf,
    pub map: Mapping,
    pub lines: KeyLines,
}

impl FileSource {
    pub fn new(path: &Path, map: Mapping, text: &str) -> FileSource {
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        // Absolute, so paths resolved against it do not depend on the working directory later.
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        FileSource { shown: path.display().to_string(), dir, map, lines: KeyLines::index(text) }
    }

    /// Whether the file sets `path` (`mailer.transport`).
    pub fn sets(&self, path: &str) -> bool {
        is_setting(path, &self.map)
    }

    /// `config file X: KEY at line N: MESSAGE`.
    pub fn describe(&self, path: &str, message: &str) -> String {
        match self.lines.line(path) {
            Some(n) => format!("config file {}: {path} at line {n}: {message}", self.shown),
            None => format!("config file {}: {path}: {message}", self.shown),
        }
    }
}

/// Where one setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Flag(&'static str),
    Env(String),
    File,
    Default,
}

/// The sources of one load.
pub struct Sources<'a> {
    pub file: Option<&'a FileSource>,
    pub flags: &'a Overrides,
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

impl Sources<'_> {
    /// Where the value of `path` came from.
    pub fn origin(&self, path: &str) -> Origin {
        let flag = match path {
            "listen" => self.flags.listen.as_ref().map(|_| "--listen"),
            "data_dir" => self.flags.data_dir.as_ref().map(|_| "--data-dir"),
            "database_url" => self.flags.database_url.as_ref().map(|_| "--database-url"),
            "log_level" => self.flags.log_level.as_ref().map(|_| "--log-level"),
            _ => None,
        };
        if let Some(flag) = flag {
            return Origin::Flag(flag);
        }
        if let Some(var) = env_names(path).into_iter().find(|v| (self.env)(v).is_some()) {
            return Origin::Env(var);
        }
        match self.file {
            Some(f) if f.sets(path) => Origin::File,
            _ => Origin::Default,
        }
    }

    /// `message` about the setting `path`, prefixed with where to fix it.
    pub fn describe(&self, path: &str, message: &str) -> String {
        match (self.origin(path), self.file) {
            (Origin::Flag(flag), _) => format!("{flag} ({path}): {message}"),
            (Origin::Env(var), _) => format!("{var} ({path}): {message}"),
            (Origin::File, Some(f)) => f.describe(path, message),
            _ => format!("{path}: {message}"),
        }
    }

    /// A `KEY: message` line of the checks between settings, with its place; other lines as
    /// they are.
    pub fn place(&self, error: String, known: &Mapping) -> String {
        match error.split_once(": ") {
            Some((path, message)) if is_setting(path, known) => self.describe(path, message),
            _ => error,
        }
    }

    /// The folder a relative path read from `path`'s value is resolved against: the file's
    /// folder for a value from the file, the working directory for a flag or a variable (given
    /// by whoever started the daemon, where they stand).
    pub fn base_of(&self, path: &str) -> Option<&Path> {
        match (self.origin(path), self.file) {
            (Origin::File, Some(f)) => Some(&f.dir),
            _ => None,
        }
    }
}

/// Whether `path` (nested keys with dots) holds a value in `known` (the defaults: whether it
/// names a setting; a file: whether the file sets it).
fn is_setting(path: &str, known: &Mapping) -> bool {
    let mut map = known;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        match map.get(part) {
            Some(Value::Mapping(m)) if parts.peek().is_some() => map = m,
            Some(_) => return parts.peek().is_none(),
            None => return false,
        }
    }
    false
}

/// The variables that can set `path`, in the order they are read.
fn env_names(path: &str) -> Vec<String> {
    let upper = |s: &str| s.to_ascii_uppercase().replace('.', "_");
    match path {
        "database_url" => {
            let parts = ["DATABASE_ADAPTER", "DATABASE_HOST", "DATABASE_PORT", "DATABASE_USER", "DATABASE_NAME"];
            ["DATABASE_URL"].iter().chain(parts.iter()).map(|s| s.to_string()).collect()
        }
        "listen" => vec!["BARONG_LISTEN".into(), "PORT".into()],
        "log_level" => vec!["BARONG_LOG_LEVEL".into(), "LOG_LEVEL".into()],
        "event_api_rabbitmq_url" => vec!["BARONG_EVENT_API_RABBITMQ_URL".into(), "EVENT_API_RABBITMQ_URL".into()],
        "event_api_rabbitmq_ca_file" => {
            vec!["BARONG_EVENT_API_RABBITMQ_CA_FILE".into(), "EVENT_API_RABBITMQ_CA_FILE".into()]
        }
        "mailer.transport" | "mailer.smtp_url" => vec!["BARONG_SMTP_HOST".into()],
        "mailer.from" => vec!["BARONG_SENDER_EMAIL".into(), "BARONG_SENDER_NAME".into()],
        p if p.starts_with("management_api.") => vec![format!("BARONG_{}", upper(p))],
        p if p.contains('.') => Vec::new(),
        p => vec![format!("BARONG_{}", upper(p))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::yaml;

    #[test]
    fn the_origin_follows_precedence() {
        let text = "listen: 127.0.0.1:1\nmailer:\n  timeout_ms: 5\n";
        let file = FileSource::new(Path::new("/etc/b/barong.yml"), yaml::mapping(text).expect("yaml"), text);
        let flags = Overrides { log_level: Some("debug".into()), ..Default::default() };
        let env = |k: &str| (k == "BARONG_SESSION_EXPIRE_TIME").then(|| "5".to_string());
        let s = Sources { file: Some(&file), flags: &flags, env: &env };
        assert_eq!(s.origin("log_level"), Origin::Flag("--log-level"));
        assert_eq!(s.origin("session_expire_time"), Origin::Env("BARONG_SESSION_EXPIRE_TIME".into()));
        assert_eq!(s.origin("mailer.timeout_ms"), Origin::File);
        assert_eq!(s.origin("mailer.from"), Origin::Default);
        assert_eq!(
            s.describe("mailer.timeout_ms", "bad"),
            "config file /etc/b/barong.yml: mailer.timeout_ms at line 3: bad"
        );
        assert_eq!(s.describe("session_expire_time", "bad"), "BARONG_SESSION_EXPIRE_TIME (session_expire_time): bad");
        assert_eq!(s.base_of("listen"), Some(Path::new("/etc/b")));
        assert_eq!(s.base_of("session_expire_time"), None);
    }
}
