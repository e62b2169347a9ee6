//! `apikeys.scope` as Rails serialized it: a YAML array of strings, NULL for the empty array
//! (Rails 5.2 writes nothing for the coder's default), sometimes `--- []`.

use serde_norway::Value;

/// The column holds something other than a list of strings (the importer disables the key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unparseable;

/// The scope list, elements kept exactly (a leading space included); `Err` when the column holds
/// anything but a list of strings.
pub fn parse(column: Option<&str>) -> Result<Vec<String>, Unparseable> {
    let Some(text) = column else { return Ok(Vec::new()) };
    if text.contains("!ruby/") {
        return Err(Unparseable);
    }
    match serde_norway::from_str::<Value>(text).map_err(|_| Unparseable)? {
        Value::Null => Ok(Vec::new()),
        Value::Sequence(items) => items
            .into_iter()
            .map(|item| match item {
                Value::String(s) => Ok(s),
                _ => Err(Unparseable),
            })
            .collect(),
        _ => Err(Unparseable),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rails_forms() {
        assert_eq!(parse(None), Ok(vec![]));
        assert_eq!(parse(Some("--- []\n")), Ok(vec![]));
        assert_eq!(parse(Some("")), Ok(vec![]));
        assert_eq!(parse(Some("---\n- trade\n")), Ok(vec!["trade".to_string()]));
        assert_eq!(
            parse(Some("---\n- trade\n- \" withdraw\"\n")),
            Ok(vec!["trade".to_string(), " withdraw".to_string()])
        );
    }

    #[test]
    fn anything_else_is_unparseable() {
        for bad in
            ["--- trade\n", "---\n- 1\n", "---\n- [a]\n", "--- {a: b}\n", "- a\n  b: [", "--- !ruby/object:Foo {}\n"]
        {
            assert_eq!(parse(Some(bad)), Err(Unparseable), "{bad}");
        }
    }
}
