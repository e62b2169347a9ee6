//! barongctl's wording (issue 14, 9): a refusal shows its code once and the rule behind it,
//! `restriction remove` says what it removed, `user list --limit 0` is refused.

use super::*;

both!(a_refusal_prints_its_code_once_with_the_rule, |srv: TestServer| async move {
    let (code, out, err) =
        srv.ctl(&["user", "create", "--email", "weak@example.com", "--password-stdin"], Some("short"));
    assert_eq!(code, 1, "{out}{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert_eq!(err.matches("password.requirements").count(), 1, "the code once: {err}");
    let regexp = r"^(?=.*[[:lower:]])(?=.*[[:upper:]])(?=.*[[:digit:]])(?=.*[[:graph:]]).{8,80}$";
    assert_eq!(
        err.trim_end(),
        format!(
            "barongctl: refused: password.requirements: the password must match password_regexp {regexp} (and be \
             at most 4096 bytes)"
        )
    );
    // A refusal without a rule: the code alone, once.
    let (code, _, err) = srv.ctl(&["user", "show", "nobody@example.com"], None);
    assert_eq!(code, 1);
    let line = err.trim_end();
    let code_text = line.strip_prefix("barongctl: refused: ").unwrap_or_else(|| panic!("{line}"));
    assert!(!code_text.contains(' '), "one code, nothing repeated: {line}");
    // JSON keeps code and message apart.
    let (_, out, _) =
        srv.ctl(&["--json", "user", "create", "--email", "weak@example.com", "--password-stdin"], Some("x"));
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["error"]["code"], "password.requirements");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("password_regexp")), "{v}");
});

both!(restriction_remove_says_what_it_removed, |srv: TestServer| async move {
    let r = ctl_json(&srv, &["restriction", "add", "--category", "blacklist", "--scope", "ip", "--value", "192.0.2.7"]);
    let id = r["id"].as_i64().expect("id");
    let (code, out, err) = srv.ctl(&["restriction", "remove", &id.to_string()], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim_end(), format!("removed restriction {id}: blacklist ip 192.0.2.7 (code 401, enabled)"));
    let (code, _, err) = srv.ctl(&["restriction", "remove", &id.to_string()], None);
    assert_eq!(code, 1, "gone: {err}");
    assert!(ctl_json(&srv, &["restriction", "list"]).as_array().is_some_and(|l| l.is_empty()));
});

both!(user_list_refuses_a_zero_limit, |srv: TestServer| async move {
    operator_user(&srv, "listed@example.com");
    let (code, out, err) = srv.ctl(&["user", "list", "--limit", "0"], None);
    assert_eq!(code, 2, "{out}{err}");
    assert!(out.is_empty(), "no row: {out}");
    assert!(err.contains("invalid value '0' for '--limit <LIMIT>': 0 is not in 1..=1000"), "{err}");
    let (code, out, _) = srv.ctl(&["user", "list", "--limit", "1"], None);
    assert_eq!(code, 0);
    assert!(out.contains("listed@example.com"), "{out}");
});
