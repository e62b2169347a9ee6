//! The ERB Barong's files use for secrets.

/// Expands `<%= ENV['X'] %>` (unset: empty, as Ruby's `nil.to_s`), `<%= ENV.fetch('X') %>`
/// (unset: an error, as Ruby's KeyError), `<%= ENV.fetch('X', 'default') %>`,
/// `<%= ENV.fetch('X') { 'default' } %>` and `<%# comment %>`. The value goes in verbatim, as
/// Ruby's. Anything else would need Ruby: refused with its line.
pub fn expand_erb(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<String, String> {
    let plain = regex::Regex::new(r#"^=\s*ENV\[\s*(['"])([A-Za-z_][A-Za-z0-9_]*)(['"])\s*\]\s*$"#)
        .map_err(|e| e.to_string())?;
    let fetch = regex::Regex::new(
        r#"^=\s*ENV\.fetch\(\s*(['"])([A-Za-z_][A-Za-z0-9_]*)(['"])\s*(?:,\s*(['"])([^'"]*)(['"])\s*)?\)\s*(?:\{\s*(['"])([^'"]*)(['"])\s*\}\s*)?$"#,
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<%") {
        out.push_str(&rest[..start]);
        let line = text[..text.len() - rest.len() + start].matches('\n').count() + 1;
        let after = &rest[start + 2..];
        let end = after.find("%>").ok_or_else(|| format!("line {line}: unterminated ERB tag"))?;
        let inner = after[..end].trim_end_matches('-');
        if inner.starts_with('#') {
            // A comment tag: nothing goes out.
        } else if let Some(c) = plain.captures(inner) {
            out.push_str(&env(&c[2]).unwrap_or_default());
        } else if let Some(c) = fetch.captures(inner) {
            match (env(&c[2]), c.get(5).or(c.get(8))) {
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d.as_str()),
                (None, None) => return Err(format!("line {line}: environment variable {} is not set", &c[2])),
            }
        } else {
            return Err(format!(
                "line {line}: unsupported ERB (only <%= ENV['X'] %>, <%= ENV.fetch('X'[, 'default']) %> and <%# %> are read)"
            ));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}
