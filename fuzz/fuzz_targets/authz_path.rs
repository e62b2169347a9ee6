//! The gateway's path normaliser: every accepted path is canonical (no empty, `.` or `..`
//! segment, no backslash or control character, no outer slash), keeps the raw path's segment
//! count, and stays the same when normalised again (a last segment with a dot may lose one more
//! `.format` suffix, or be refused when that leaves `..`).
#![no_main]

use barongd::services::gateway::rules::{has_prefix, normalise};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &str| {
    let Some(path) = normalise(raw) else { return };
    assert!(!path.is_empty());
    assert!(!path.contains("//") && !path.starts_with('/') && !path.ends_with('/'), "{raw:?} -> {path:?}");
    assert!(!path.contains('\\') && !path.contains('%') && !path.chars().any(char::is_control), "{raw:?} -> {path:?}");
    let segments: Vec<&str> = path.split('/').collect();
    assert!(segments.iter().all(|s| !s.is_empty() && *s != "." && *s != ".."), "{raw:?} -> {path:?}");
    let raw_segments = raw.strip_suffix('/').unwrap_or(raw).split('/').count();
    assert_eq!(segments.len(), raw_segments, "{raw:?} -> {path:?}: segments merged or split");

    let (head, last) = path.rsplit_once('/').unwrap_or(("", path.as_str()));
    if !last.contains('.') {
        let again = normalise(&path).unwrap_or_else(|| panic!("{raw:?} -> {path:?} refused when normalised again"));
        assert_eq!(again, path, "not idempotent for {raw:?}");
    } else if let Some(again) = normalise(&path) {
        // A last segment with a dot loses one more `.format` suffix; that may leave `..` (from
        // `..i`), which is refused, so a second pass may refuse: the gateway normalises once.
        assert!(path.starts_with(&again) && again.split('/').count() == segments.len(), "{path:?} -> {again:?}");
        assert!(head.is_empty() || again.starts_with(&format!("{head}/")), "{path:?} -> {again:?}");
    }
    // A path is below each of its own segment prefixes, and not below a longer last segment.
    for i in 1..=segments.len() {
        let prefix = segments[..i].join("/");
        assert!(has_prefix(&path, &prefix), "{path:?} not below {prefix:?}");
        assert!(!has_prefix(&path, &format!("{prefix}x")), "{path:?} below {prefix:?}x");
    }
});
