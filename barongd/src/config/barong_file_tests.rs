use super::*;
use crate::config::yaml;

fn prepared(text: &str) -> Result<Prepared, String> {
    prepare(yaml::mapping(text).expect("yaml"), "/etc/barong/barong.yml")
}

#[test]
fn state_triggers_map_becomes_the_list_in_yaml_order() {
    let p = prepared("state_triggers:\n  locked: [lock]\n  banned:\n    - ban\n    - fraud\n  idle:\n")
        .expect("Barong's map");
    let list = p.map.get("state_triggers").expect("kept");
    let want = yaml::mapping(
        "l:\n  - {state: locked, labels: [lock]}\n  - {state: banned, labels: [ban, fraud]}\n  - {state: idle, labels: []}\n",
    )
    .expect("yaml");
    assert_eq!(Some(list), want.get("l"));
    // The list form is barong-rs's own and passes unchanged.
    let p = prepared("state_triggers: [{state: banned, labels: [ban]}]\n").expect("list");
    assert!(p.map.get("state_triggers").is_some_and(|v| v.is_sequence()));
    let e = prepared("state_triggers:\n  banned: ban\n").err().expect("a scalar is not a list");
    assert!(e.contains("state_triggers") && e.contains("/etc/barong/barong.yml") && e.contains("banned"), "{e}");
}

#[test]
fn keys_with_only_comments_are_absent() {
    let p = prepared("user_storage_titles:\n  # - personal  ## example\ndocument_types:\n  - Passport\n")
        .expect("null is absent");
    assert!(!p.map.contains_key("user_storage_titles"));
    assert!(p.map.contains_key("document_types"));
    assert!(p.warnings.is_empty());
}

#[test]
fn ruby_tags_are_refused_by_name() {
    let e = prepared("document_types: !ruby/object:Set\n  hash: {Passport: true}\n").err().expect("ruby");
    assert!(e.contains("!ruby/object:Set") && e.contains("document_types"), "{e}");
    let e = prepared("state_triggers:\n  banned: [!ruby/sym ban]\n").err().expect("nested");
    assert!(e.contains("!ruby/sym"), "{e}");
}

#[test]
fn unknown_captcha_endpoints_and_absent_document_types_are_warnings() {
    let p = prepared("captcha_protected_endpoints: [user_create, withdraw]\n").expect("warning");
    let want = yaml::mapping("e: [user_create]\n").expect("yaml");
    assert_eq!(p.map.get("captcha_protected_endpoints"), want.get("e"));
    assert!(
        p.warnings.iter().any(|w| w.contains("'withdraw'") && w.contains("/etc/barong/barong.yml")),
        "{:?}",
        p.warnings
    );
    assert!(p.warnings.iter().any(|w| w.starts_with("document_types is not set")), "{:?}", p.warnings);
    let p = prepared("document_types: [Passport]\n").expect("set");
    assert!(p.warnings.is_empty(), "{:?}", p.warnings);
}
