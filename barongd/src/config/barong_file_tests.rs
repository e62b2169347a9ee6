use super::*;
use crate::config::yaml;

fn known() -> Vec<String> {
    [
        "state_triggers",
        "user_storage_titles",
        "document_types",
        "kyc_provider",
        "session_expire_time",
        "captcha_protected_endpoints",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn prepared(text: &str, strict: bool) -> Result<Prepared, String> {
    prepare(yaml::mapping(text).expect("yaml"), "/etc/barong/barong.yml", &known(), strict)
}

#[test]
fn state_triggers_map_becomes_the_list_in_yaml_order() {
    let p = prepared("state_triggers:\n  locked: [lock]\n  banned:\n    - ban\n    - fraud\n  idle:\n", false)
        .expect("Barong's map");
    let list = p.map.get("state_triggers").expect("kept");
    let want = yaml::mapping(
        "l:\n  - {state: locked, labels: [lock]}\n  - {state: banned, labels: [ban, fraud]}\n  - {state: idle, labels: []}\n",
    )
    .expect("yaml");
    assert_eq!(Some(list), want.get("l"));
    // The list form is barong-rs's own and passes unchanged.
    let p = prepared("state_triggers: [{state: banned, labels: [ban]}]\n", false).expect("list");
    assert!(p.map.get("state_triggers").is_some_and(|v| v.is_sequence()));
    let e = prepared("state_triggers:\n  banned: ban\n", false).err().expect("a scalar is not a list");
    assert!(e.contains("state_triggers") && e.contains("/etc/barong/barong.yml") && e.contains("banned"), "{e}");
}

#[test]
fn keys_with_only_comments_are_absent() {
    let p = prepared("user_storage_titles:\n  # - personal  ## example\ndocument_types:\n  - Passport\n", false)
        .expect("null is absent");
    assert!(!p.map.contains_key("user_storage_titles"));
    assert!(p.map.contains_key("document_types"));
    assert!(p.warnings.is_empty());
}

#[test]
fn unknown_keys_warn_with_file_and_nearest_key_or_fail_when_strict() {
    let p = prepared("kyc_levels: 3\nsesion_expire_time: 5\nkyc_provider: local\ndocument_types: []\n", false)
        .expect("warnings");
    assert_eq!(
        p.warnings,
        [
            "config: unknown key 'kyc_levels' in /etc/barong/barong.yml, ignored (nearest known key: 'kyc_provider')",
            "config: unknown key 'sesion_expire_time' in /etc/barong/barong.yml, ignored (nearest known key: \
             'session_expire_time')",
        ]
    );
    assert!(!p.map.contains_key("kyc_levels") && p.map.contains_key("kyc_provider"));
    let p = prepared("completely_unrelated_thing: 1\ndocument_types: []\n", false).expect("warning");
    assert!(!p.warnings[0].contains("nearest"), "{:?}", p.warnings);
    let e = prepared("kyc_levels: 3\n", true).err().expect("strict");
    assert!(e.contains("kyc_levels") && e.contains("/etc/barong/barong.yml") && !e.contains('\n'), "{e}");
}

#[test]
fn ruby_tags_are_refused_by_name() {
    let e = prepared("document_types: !ruby/object:Set\n  hash: {Passport: true}\n", false).err().expect("ruby");
    assert!(e.contains("!ruby/object:Set") && e.contains("document_types"), "{e}");
    let e = prepared("state_triggers:\n  banned: [!ruby/sym ban]\n", false).err().expect("nested");
    assert!(e.contains("!ruby/sym"), "{e}");
}

#[test]
fn edit_distance() {
    assert_eq!(distance("kitten", "sitting"), 3);
    assert_eq!(distance("", "abc"), 3);
    assert_eq!(distance("same", "same"), 0);
}

#[test]
fn unknown_captcha_endpoints_and_absent_document_types_are_warnings() {
    let p = prepared("captcha_protected_endpoints: [user_create, withdraw]\n", false).expect("warning");
    let want = yaml::mapping("e: [user_create]\n").expect("yaml");
    assert_eq!(p.map.get("captcha_protected_endpoints"), want.get("e"));
    assert!(
        p.warnings.iter().any(|w| w.contains("'withdraw'") && w.contains("/etc/barong/barong.yml")),
        "{:?}",
        p.warnings
    );
    assert!(p.warnings.iter().any(|w| w.starts_with("document_types is not set")), "{:?}", p.warnings);
    let p = prepared("document_types: [Passport]\n", false).expect("set");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}
