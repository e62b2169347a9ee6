//! Where each key of a YAML file is written, so an error can name the line. The YAML parser
//! keeps no positions in the values it returns; this reads the block-style keys of the text
//! itself (what configuration files are made of). A key written inside a flow mapping
//! (`{state: banned}`) is not indexed; its nearest indexed parent's line is used instead.

use std::collections::HashMap;

/// `mailer.transport` → its 1-based line, for every block-style key of a text (the first
/// occurrence; entries of a list share their list's path, without an index).
#[derive(Debug, Default, Clone)]
pub struct KeyLines(HashMap<String, usize>);

impl KeyLines {
    pub fn index(text: &str) -> KeyLines {
        let mut found = HashMap::new();
        // The open mappings: (indentation of their keys' parent key, key).
        let mut stack: Vec<(usize, String)> = Vec::new();
        // While inside a block scalar (`key: |`), lines indented deeper than this are text.
        let mut scalar_above: Option<usize> = None;
        for (n, line) in text.lines().enumerate() {
            let indent = line.len() - line.trim_start_matches(' ').len();
            let rest = &line[indent..];
            if rest.is_empty() || rest.starts_with('#') {
                continue;
            }
            if let Some(above) = scalar_above {
                if indent > above {
                    continue;
                }
                scalar_above = None;
            }
            if rest.starts_with("---") || rest.starts_with("...") {
                stack.clear();
                continue;
            }
            // `- key: value` opens a mapping inside a list: the key sits after the dash.
            let mut indent = indent;
            let mut rest = rest;
            while let Some(after) = rest.strip_prefix("- ") {
                let spaces = after.len() - after.trim_start_matches(' ').len();
                indent += 2 + spaces;
                rest = &after[spaces..];
            }
            let Some((key, value)) = key_of(rest) else { continue };
            while stack.last().is_some_and(|(i, _)| *i >= indent) {
                stack.pop();
            }
            let path = stack.iter().map(|(_, k)| k.as_str()).chain([key.as_str()]).collect::<Vec<_>>().join(".");
            found.entry(path).or_insert(n + 1);
            let value = value.split(" #").next().unwrap_or_default().trim();
            if value.starts_with('|') || value.starts_with('>') {
                scalar_above = Some(indent);
            }
            stack.push((indent, key));
        }
        KeyLines(found)
    }

    /// The line of `path`, or of its nearest indexed parent.
    pub fn line(&self, path: &str) -> Option<usize> {
        let mut path = path;
        loop {
            if let Some(n) = self.0.get(path) {
                return Some(*n);
            }
            path = &path[..path.rfind('.')?];
        }
    }
}

/// The key and the rest of a `key: value` line (`key:` alone too); `None` for anything else.
fn key_of(rest: &str) -> Option<(String, &str)> {
    let (key, after) = match rest.chars().next()? {
        q @ ('"' | '\'') => {
            let end = rest[1..].find(q)? + 1;
            (rest[1..end].to_string(), &rest[end + 1..])
        }
        _ => {
            let end = rest.find(':')?;
            let key = &rest[..end];
            if key.is_empty() || key.contains(['{', '[', '#', ',', '"', '\'']) || key.trim_end() != key {
                return None;
            }
            (key.to_string(), &rest[end..])
        }
    };
    let value = after.strip_prefix(':')?;
    (value.is_empty() || value.starts_with([' ', '\t'])).then_some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_keys_lists_and_comments() {
        let text = "# settings\nlisten: 127.0.0.1:0\nmailer:\n  # the transport\n  transport: file\n  \
                    smtp_url: \"smtp://h:25\"\nstate_triggers:\n  - state: banned\n    labels: [ban]\n\
                    password_regexp: '^a:b$'\nnotes: |\n  not: a key\nargon2: {memory_kib: 8}\n\"quoted\": 1\n";
        let l = KeyLines::index(text);
        assert_eq!(l.line("listen"), Some(2));
        assert_eq!(l.line("mailer"), Some(3));
        assert_eq!(l.line("mailer.transport"), Some(5));
        assert_eq!(l.line("mailer.smtp_url"), Some(6));
        assert_eq!(l.line("state_triggers.state"), Some(8));
        assert_eq!(l.line("state_triggers.labels"), Some(9));
        assert_eq!(l.line("password_regexp"), Some(10));
        assert_eq!(l.line("notes.not"), Some(11), "text of a block scalar is no key");
        assert_eq!(l.line("argon2.memory_kib"), Some(13), "a flow mapping's key: its parent's line");
        assert_eq!(l.line("quoted"), Some(14));
        assert_eq!(l.line("absent"), None);
    }
}
