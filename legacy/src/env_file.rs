//! Barong's environment as an operator captures it (`docker exec barong env > barong.env`), and
//! the source database URL Barong's `DATABASE_*` variables describe (migration spec §2.1).

use std::collections::BTreeMap;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// Characters kept as they are in a URL's user or password part.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `KEY=VALUE` lines: an optional `export `, one pair of surrounding quotes stripped, blank lines
/// and `#` comments skipped. A line without `=` is ignored (env output has none).
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else { continue };
        let value = value.trim_end_matches('\r');
        let unquoted = [('"', '"'), ('\'', '\'')]
            .iter()
            .find_map(|(a, b)| value.strip_prefix(*a).and_then(|v| v.strip_suffix(*b)))
            .unwrap_or(value);
        out.insert(key.trim().to_string(), unquoted.to_string());
    }
    out
}

/// The source URL from `DATABASE_ADAPTER` (mysql2), `DATABASE_HOST` (127.0.0.1), `DATABASE_PORT`
/// (3306, or 5432 for postgresql), `DATABASE_USER` (root), `DATABASE_PASS` ('') and
/// `DATABASE_NAME` (barong_production): Barong's defaults.
pub fn source_url(env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let get = |k: &str, d: &str| env(k).filter(|v| !v.is_empty()).unwrap_or_else(|| d.to_string());
    let adapter = get("DATABASE_ADAPTER", "mysql2");
    let (scheme, port) = match adapter.as_str() {
        "mysql2" | "mysql" => ("mysql", "3306"),
        "postgresql" | "postgres" => ("postgres", "5432"),
        other => return Err(format!("DATABASE_ADAPTER `{other}`: expected mysql2 or postgresql")),
    };
    let user = get("DATABASE_USER", "root");
    let pass = env("DATABASE_PASS").unwrap_or_default();
    let userinfo = if pass.is_empty() {
        utf8_percent_encode(&user, USERINFO).to_string()
    } else {
        format!("{}:{}", utf8_percent_encode(&user, USERINFO), utf8_percent_encode(&pass, USERINFO))
    };
    let host = get("DATABASE_HOST", "127.0.0.1");
    let port = get("DATABASE_PORT", port);
    if !port.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("DATABASE_PORT `{port}` is not a port number"));
    }
    let name = get("DATABASE_NAME", "barong_production");
    Ok(format!("{scheme}://{userinfo}@{host}:{port}/{}", utf8_percent_encode(&name, USERINFO)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_lines() {
        let env = parse("# comment\nexport A=1\nB=\"two words\"\nC='x'\nD=a=b\n\nnot a pair\nE=\r\n");
        assert_eq!(env.get("A").map(String::as_str), Some("1"));
        assert_eq!(env.get("B").map(String::as_str), Some("two words"));
        assert_eq!(env.get("C").map(String::as_str), Some("x"));
        assert_eq!(env.get("D").map(String::as_str), Some("a=b"));
        assert_eq!(env.get("E").map(String::as_str), Some(""));
        assert_eq!(env.len(), 5);
    }

    #[test]
    fn urls_with_barong_defaults() {
        let none = |_: &str| None;
        assert_eq!(source_url(&none).as_deref(), Ok("mysql://root@127.0.0.1:3306/barong_production"));
        let vars = parse("DATABASE_ADAPTER=postgresql\nDATABASE_USER=bar ong\nDATABASE_PASS=p@ss:/w\nDATABASE_NAME=b");
        let get = |k: &str| vars.get(k).cloned();
        assert_eq!(source_url(&get).as_deref(), Ok("postgres://bar%20ong:p%40ss%3A%2Fw@127.0.0.1:5432/b"));
        let bad = |k: &str| (k == "DATABASE_ADAPTER").then(|| "sqlite3".to_string());
        assert!(source_url(&bad).is_err());
        let port = |k: &str| (k == "DATABASE_PORT").then(|| "33x".to_string());
        assert!(source_url(&port).is_err());
    }
}
