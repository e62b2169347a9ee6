//! `authz_rules.yml` (pass/block prefixes) and the path normalisation every prefix match relies
//! on. Barong matched raw string prefixes: `api/v2/barong/public` also matched
//! `…/publicX`, and `..` or `%2e%2e` segments could walk from a `pass` prefix into another
//! upstream. Here paths are refused unless canonical, and prefixes match whole segments
//! (docs/barong-weaknesses-fixed.md#w-path-prefix).

use std::path::PathBuf;
use std::time::SystemTime;

use serde::Deserialize;

use crate::config::authz_file;

/// Barong's built-in `authz_rules.yml`, used when the configured file does not exist.
const DEFAULT_PASS: &[&str] = &[
    "api/v2/barong/public",
    "api/v2/barong/identity",
    "api/v2/peatio/public",
    "api/v2/ranger/public",
    "api/v2/applogic/public",
    "api/v2/arke/public",
    "api/v2/finex/public",
];
const DEFAULT_BLOCK: &[&str] = &["api/v2/barong/management", "api/v2/peatio/management"];

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    #[serde(default)]
    pub pass: Vec<String>,
    #[serde(default)]
    pub block: Vec<String>,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            pass: DEFAULT_PASS.iter().map(|s| s.to_string()).collect(),
            block: DEFAULT_BLOCK.iter().map(|s| s.to_string()).collect(),
        }
    }
}

impl Rules {
    /// The rules of an `authz_rules.yml` text (Barong's `rules:` form or the short one, ERB
    /// answered from the process environment).
    pub fn parse(text: &str) -> Result<Rules, String> {
        Self::parse_with(text, &|k| std::env::var(k).ok()).map(|(rules, _)| rules)
    }

    /// As [`Rules::parse`], with the file's warnings.
    pub fn parse_with(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<(Rules, Vec<String>), String> {
        let f = authz_file::parse(text, env)?;
        Ok((Rules { pass: f.pass, block: f.block }, f.warnings))
    }

    pub fn blocks(&self, path: &str) -> bool {
        self.block.iter().any(|p| has_prefix(path, p))
    }

    pub fn passes(&self, path: &str) -> bool {
        self.pass.iter().any(|p| has_prefix(path, p))
    }
}

/// The rules file and the modification time it was read at.
pub struct RulesFile {
    pub path: PathBuf,
    pub modified: Option<SystemTime>,
}

impl RulesFile {
    /// Reads the file, or Barong's defaults when it does not exist.
    pub fn load(path: &str) -> Result<(Rules, RulesFile), String> {
        let path = PathBuf::from(path);
        let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        if !path.exists() {
            // Only the unset setting gets here: a configured file that is missing stops the load.
            let shown = std::path::absolute(&path).unwrap_or_else(|_| path.clone());
            tracing::info!("authz rules: {} not found, Barong's built-in rules apply", shown.display());
        }
        let rules = read(&path)?;
        Ok((rules, RulesFile { path, modified }))
    }

    /// The new rules when the file changed since the last read (an invalid file keeps the old
    /// rules, with a warning).
    pub fn reload_if_changed(&mut self) -> Option<Rules> {
        let modified = std::fs::metadata(&self.path).and_then(|m| m.modified()).ok();
        if modified == self.modified {
            return None;
        }
        self.modified = modified;
        match read(&self.path) {
            Ok(r) => {
                tracing::info!(file = %self.path.display(), "authz rules reloaded");
                Some(r)
            }
            Err(e) => {
                tracing::warn!(error = %e, "authz rules file invalid; keeping the previous rules");
                None
            }
        }
    }
}

fn read(path: &std::path::Path) -> Result<Rules, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let (rules, warnings) =
                Rules::parse_with(&text, &|k| std::env::var(k).ok()).map_err(|e| format!("{}: {e}", path.display()))?;
            for w in warnings {
                tracing::warn!("authz rules {}: {w}", path.display());
            }
            Ok(rules)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Rules::default()),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Whether `path` is `prefix` or lies below it (whole segments).
pub fn has_prefix(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/') || prefix.is_empty(),
        None => false,
    }
}

/// The canonical form of the path after `/api/v2/auth/`, or `None` when it must be refused:
/// empty or `.`/`..` segments (`//` included), backslashes, control characters, or a
/// percent-encoding of anything but an unreserved character that is not itself a separator.
/// A trailing slash is dropped, and, as Rails' glob did, a `.format` suffix of the last segment.
pub fn normalise(raw: &str) -> Option<String> {
    let raw = raw.strip_suffix('/').unwrap_or(raw);
    if raw.is_empty() {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(raw).decode_utf8().ok()?;
    if decoded.contains('%') || decoded.chars().any(|c| c == '\\' || c.is_control()) {
        // `%25…` (double encoding) or a literal control character.
        return None;
    }
    // A `/` that only appears after decoding was an encoded separator.
    if decoded.matches('/').count() != raw.matches('/').count() {
        return None;
    }
    let mut out = String::with_capacity(decoded.len());
    let segments: Vec<&str> = decoded.split('/').collect();
    for (i, seg) in segments.iter().enumerate() {
        // Checked after the format is dropped: `...json` would otherwise become `..`.
        let seg = if i + 1 == segments.len() { strip_format(seg) } else { seg };
        if seg.is_empty() || seg == "." || seg == ".." {
            return None;
        }
        if i > 0 {
            out.push('/');
        }
        out.push_str(seg);
    }
    Some(out)
}

fn strip_format(seg: &str) -> &str {
    match seg.rfind('.') {
        Some(dot) if dot > 0 && seg[dot + 1..].chars().all(|c| c.is_ascii_alphanumeric()) => &seg[..dot],
        _ => seg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        assert!(has_prefix("api/v2/barong/public", "api/v2/barong/public"));
        assert!(has_prefix("api/v2/barong/public/ping", "api/v2/barong/public"));
        assert!(!has_prefix("api/v2/barong/publicX", "api/v2/barong/public"));
    }

    #[test]
    fn paths_are_canonical_or_refused() {
        assert_eq!(normalise("api/v2/peatio/market/orders").as_deref(), Some("api/v2/peatio/market/orders"));
        assert_eq!(normalise("api/v2/barong/public/ping/").as_deref(), Some("api/v2/barong/public/ping"));
        assert_eq!(normalise("api/v2/barong/public/ping.json").as_deref(), Some("api/v2/barong/public/ping"));
        assert_eq!(normalise("api/v2/peatio/%6darkets").as_deref(), Some("api/v2/peatio/markets"));
        for bad in [
            "",
            "api//v2",
            "/api/v2",
            "api/v2/barong/public/../admin",
            "api/v2/barong/public/%2e%2e/admin",
            "api/v2/barong/public/%2E%2E/admin",
            "api/v2/barong/public%2f..%2fadmin",
            "api/v2/barong/public/%252e%252e/admin",
            "api/v2/barong/public/.",
            "api/v2/barong/public\\..\\admin",
            "api/v2/x%00",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_format_suffix_never_leaves_a_dot_segment() {
        // The authz_path fuzz invariant (fuzz/fuzz_targets/authz_path.rs) rules this out: `...json`
        // lost its `.json` and came out as a `..` segment under a pass prefix.
        for bad in [
            "api/v2/barong/public/...json",
            "api/v2/barong/public/..json",
            "api/v2/barong/public/..%2ejson",
            // The fuzzer's crashing input: `..Bx` lost `Bx` and became `.`.
            "api/v2/peatio/%6darkets/%2e%2eBx",
        ] {
            assert_eq!(normalise(bad), None, "{bad}");
        }
        assert_eq!(normalise("api/v2/barong/public/.json").as_deref(), Some("api/v2/barong/public/.json"));
    }

    #[test]
    fn missing_file_means_barongs_defaults() {
        let (rules, _) = RulesFile::load("/nonexistent/authz_rules.yml").expect("defaults");
        assert_eq!(rules, Rules::default());
        assert!(rules.passes("api/v2/barong/identity/sessions"));
        assert!(rules.blocks("api/v2/peatio/management/x"));
    }
}
