//! Email addresses: the lookup form that makes them unique, and the format Barong accepts
//! (email_validator 1.6.0 in strict mode, as Barong 2.7 used it; docs/compatibility.md#email-format):
//! a dot-atom local part of at most 64 characters, `@`, then optional labels (each
//! optionally followed by a dot) and an alphabetic TLD of 1–63 letters, so `a@b` passes.
//! Letters are Unicode letters (the gem's `\p{L}`); digits are ASCII (Ruby's `\d`).

use std::sync::LazyLock;

use regex::Regex;

/// The longest email accepted anywhere, in bytes (Barong's column was a VARCHAR(255)). Longer
/// input is refused before any work, so it never becomes a lookup or a throttle key.
pub const MAX_EMAIL_BYTES: usize = 255;

/// RFC 5321's local-part limit, which the validator enforces (dots included).
const MAX_LOCAL_CHARS: usize = 64;

/// One or more atom characters, single dots only between them. `-`, `&` and `~` are escaped
/// because doubled they would be class set operators in `regex`.
static LOCAL_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r##"^[\p{L}0-9\-+_!"'#$%^\&*{}/=?`|\~]+(?:\.[\p{L}0-9\-+_!"'#$%^\&*{}/=?`|\~]+)*$"##)
        .expect("static local-part pattern compiles")
});

/// Labels are alphanumeric with inner hyphens and an optional trailing dot; the string must end
/// in 1–63 letters. `regex` runs this in linear time, so the nested repetition is harmless.
///
/// The gem's `\p{L}{1,63}` is written `\p{L}+`: it accepts the same strings (when the final run
/// of letters is longer than 63, the labels can take the extra letters) and compiles to a small
/// automaton instead of 63 copies of the Unicode letter class (~7 MB of matcher state per thread).
static DOMAIN_PART: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[\p{L}0-9](?:[\p{L}0-9\-]*[\p{L}0-9])?\.?)*\p{L}+$").expect("static domain pattern compiles")
});

/// Ruby's `\s` (ASCII whitespace with vertical tab): what the validator strips. Unicode spaces
/// such as NBSP are not stripped and make the address invalid.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

/// The lookup form of an email: stripped and lower-cased, so `A@x.io` and `a@x.io` are one account.
pub fn email_key(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether `email` is longer than any account's (surrounding spaces aside, as lookups strip them).
pub fn too_long(email: &str) -> bool {
    email.trim().len() > MAX_EMAIL_BYTES
}

/// Whether an account may be registered with `email`: Barong's format, and an address a mail can
/// be sent to. Barong's validator also passed addresses no mail can reach (a DNS label of more
/// than 63 characters, a bare `"` in the local part), and such an account's confirmation mail
/// could never be sent: refusing them with `email.invalid` beats an account stuck pending.
pub fn is_valid_email(email: &str) -> bool {
    matches_barong_format(email) && email.trim_matches(is_ruby_space).parse::<lettre::Address>().is_ok()
}

/// email_validator 1.6.0 strict-mode check, applied to the stripped value (Barong stores it unstripped).
pub fn matches_barong_format(email: &str) -> bool {
    if too_long(email) {
        return false;
    }
    let stripped = email.trim_matches(is_ruby_space);
    let Some((local, domain)) = stripped.split_once('@') else {
        return false;
    };
    local.chars().count() <= MAX_LOCAL_CHARS && LOCAL_PART.is_match(local) && DOMAIN_PART.is_match(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts() {
        let local_64 = format!("{}@example.com", "a".repeat(64));
        for email in [
            "a@b",
            "user.name+tag@example.com",
            "user@example.com",
            "USER@EXAMPLE.COM",
            "first.middle.last@sub.domain.example.org",
            "a-b_c@x-y.example.com",
            "1234@example.com",
            "user@123.example.com",
            r#"!#$%^&*{}/=?`|~"'-+_@example.com"#,
            "a&&b~~c--d@example.com",
            "usér@exämple.fr",
            "пользователь@пример.рф",
            " a@b.com ",
            "\t\na@b.com\r\n",
            "a@bcom",
            "a@b.c",
            &local_64,
        ] {
            assert!(matches_barong_format(email), "{email:?} should be accepted");
        }
    }

    #[test]
    fn rejects() {
        let local_65 = format!("{}@example.com", "a".repeat(65));
        let dotted_65 = format!("{}.a@example.com", "a".repeat(63));
        for email in [
            "",
            " ",
            "plainaddress",
            "@example.com",
            "user@",
            "a@b@c.com",
            ".a@b.com",
            "a.@b.com",
            "a..b@c.com",
            "a b@c.com",
            "a@b.c1",
            "a@b.com1",
            "a@-b.com",
            "a@b-.com",
            "a@b..com",
            "a@.b.com",
            "a@b.com.",
            "a@b.c-",
            "a@b_c.com",
            "a@b c.com",
            "a@123",
            "a@[127.0.0.1]",
            "a(b)@c.com",
            "a,b@c.com",
            "a\\b@c.com",
            "\u{a0}a@b.com",
            "a@b.com\u{a0}",
            "a@b.com\0",
            &local_65,
            &dotted_65,
        ] {
            assert!(!matches_barong_format(email), "{email:?} should be rejected");
        }
    }

    #[test]
    fn long_domain_without_dots_still_ends_in_letters() {
        // Labels may omit their dot, so only the final 1–63 letters need to be alphabetic.
        assert!(matches_barong_format(&format!("a@{}", "b".repeat(200))));
        assert!(!matches_barong_format(&format!("a@{}1", "b".repeat(200))));
    }

    #[test]
    fn at_most_255_bytes() {
        assert!(matches_barong_format(&format!("a@{}", "b".repeat(253))));
        assert!(!matches_barong_format(&format!("a@{}", "b".repeat(254))));
        assert!(!too_long(&format!("  a@{}  ", "b".repeat(253))), "surrounding spaces are stripped");
        assert!(too_long(&format!("a@{}", "é".repeat(127))), "bytes, not characters");
    }

    #[test]
    fn registration_needs_an_address_mail_can_reach() {
        for email in
            ["user@example.com", "пользователь@пример.рф", " a@b.com ", "a@b", &format!("a@{}.com", "b".repeat(63))]
        {
            assert!(is_valid_email(email), "{email:?} should be accepted");
        }
        for email in
            [&format!("a@{}", "b".repeat(200)), &format!("a@{}.com", "b".repeat(64)), r#"a"b@example.com"#, "a@b.c1"]
        {
            assert!(!is_valid_email(email), "{email:?} should be rejected");
        }
    }
}
