//! Barong's password entropy: a literal port of strong_password 0.0.9's
//! `StrengthChecker#calculate_entropy` (`EntropyCalculator`, `NistBonusBits`, `QwertyAdjuster`,
//! `DictionaryAdjuster`, `PasswordVariants`). The gem's quirks are kept on purpose so a password
//! scores exactly what it scored in Barong; each one is pointed out where it happens.

use std::collections::HashMap;
use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use regex::{NoExpand, Regex};

/// `StrengthChecker::PASSWORD_LIMIT`, in characters: caps the work a huge password can cause.
const PASSWORD_LIMIT: usize = 1000;

/// `DictionaryAdjuster`'s default `min_word_length`, which Barong never overrides.
const MIN_WORD_LENGTH: usize = 4;

/// Barong's password entropy (strong_password 0.0.9 `calculate_entropy`).
pub fn entropy(password: &str, min_entropy: f64, use_dictionary: bool) -> f64 {
    let base: String = password.chars().take(PASSWORD_LIMIT).collect();
    let mut lowest = calculate(&base).min(calculate(&downcase(&base))).min(qwerty_adjusted(&base, min_entropy));
    if use_dictionary {
        lowest = lowest.min(dictionary_adjusted(&base));
    }
    lowest
}

/// Builds the lazily built matchers now, on the calling thread (see barongd's start-up).
pub fn warm_up() {
    LazyLock::force(&DECIMAL_DIGIT);
    LazyLock::force(&QWERTY_WINDOWS);
    LazyLock::force(&DICTIONARY);
}

/// `EntropyCalculator.bits_with_repeats_weakened`: NIST position weights, each repeat of a
/// character worth 0.75 of its previous occurrence (the first character's weight decays too,
/// although position 0 always counts 4), plus the bonus bits.
fn calculate(password: &str) -> f64 {
    let mut multipliers: HashMap<char, f64> = HashMap::new();
    let mut bits = 0.0;
    for (index, c) in password.chars().enumerate() {
        let multiplier = multipliers.entry(c).or_insert(1.0);
        let base = *multiplier;
        *multiplier *= 0.75;
        bits += match index {
            0 => 4.0,
            1..=7 => base * 2.0,
            8..=19 => base * 1.5,
            _ => base,
        };
    }
    bits + bonus_bits(password)
}

/// Ruby's `[[:digit:]]` is Unicode `Decimal_Number`, which std has no predicate for.
static DECIMAL_DIGIT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\p{Nd}").expect("static pattern \\p{Nd} compiles"));

/// `NistBonusBits.calculate_bonus_bits_for`. Ruby's `[[:upper:]]`/`[[:lower:]]` are the Unicode
/// Uppercase/Lowercase properties (what `char::is_uppercase`/`is_lowercase` test), while "other"
/// and "space" are ASCII-only patterns.
fn bonus_bits(password: &str) -> f64 {
    let upper = password.chars().any(char::is_uppercase);
    let lower = password.chars().any(char::is_lowercase);
    let numeric = DECIMAL_DIGIT.is_match(password);
    let other = password.chars().any(|c| !(c.is_ascii_alphanumeric() || c == ' '));
    let space = password.contains(' ');

    let mut bonus = if upper && lower && other && numeric {
        6.0
    } else if upper && lower && other {
        5.0
    } else if numeric && other && !upper && !lower {
        -2.0
    } else if numeric && !other && !upper && !lower {
        -6.0
    } else {
        0.0
    };
    if !space {
        bonus -= 2.0;
    } else if ruby_split_whitespace_len(password) > 3 {
        bonus += 1.0;
    }
    bonus
}

/// Ruby's `\s`: ASCII whitespace including vertical tab (`char::is_ascii_whitespace` lacks it).
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

/// `password.split(/\s+/).length`: Ruby keeps a leading empty field when the string starts with
/// whitespace and drops trailing empty ones, so " a b c" has 4 fields and "a b c " has 3.
fn ruby_split_whitespace_len(password: &str) -> usize {
    let words = password.split(is_ruby_space).filter(|w| !w.is_empty()).count();
    if words > 0 && password.starts_with(is_ruby_space) { words + 1 } else { words }
}

/// Ruby's `String#downcase`: full Unicode lowercase mapping, but without the context-dependent
/// final-sigma rule that `str::to_lowercase` applies.
fn downcase(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn reverse(s: &str) -> String {
    s.chars().rev().collect()
}

/// `QwertyAdjuster::QWERTY_STRINGS`, in the gem's order (it decides which window wins).
const QWERTY_STRINGS: [&str; 14] = [
    "1234567890-",
    "qwertyuiop",
    "asdfghjkl;",
    "zxcvbnm,./",
    r#"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]:?_{"+}"#,
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
    r#"qazwsxedcrfvtgbyhnujmik,ol.p;/-['=]:?_{"+}"#,
    "qazwsxedcrfvtgbyhnujmikolp",
    r#"]"/=[;.-pl,0okm9ijn8uhb7ygv6tfc5rdx4esz3wa2q1"#,
    "pl0okm9ijn8uhb7ygv6tfc5rdx4esz3wa2q1",
    r#"]"/[;.pl,okmijnuhbygvtfcrdxeszwaq"#,
    "plokmijnuhbygvtfcrdxeszwaq",
    "014725836914702583697894561230258/369*+-*/",
    "abcdefghijklmnopqrstuvwxyz",
];

/// `QwertyAdjuster#all_qwerty_strings`: `Regexp.union` of every 6-, 5-, 4- and 3-character window
/// of each string, in that order. The gem runs `sub('-', '\\-')` on each window before
/// `Regexp.union` escapes it, so a window containing `-` only matches with a literal backslash
/// before the dash; that quirk is kept.
static QWERTY_WINDOWS: LazyLock<Regex> = LazyLock::new(|| {
    let mut alternatives = Vec::new();
    for qwerty in QWERTY_STRINGS {
        let chars: Vec<char> = qwerty.chars().collect();
        for size in (3..=6).rev() {
            for window in chars.windows(size) {
                let window: String = window.iter().collect();
                alternatives.push(regex::escape(&window.replacen('-', "\\-", 1)));
            }
        }
    }
    Regex::new(&alternatives.join("|")).expect("escaped literal alternation compiles")
});

/// `QwertyAdjuster#adjusted_entropy`, with the threshold `StrengthChecker` gives it
/// (`min_entropy`). Bailing out early is part of the result: a password already below the
/// threshold keeps its unmasked entropy.
fn qwerty_adjusted(password: &str, threshold: f64) -> f64 {
    let reversed = reverse(password);
    let mut lowest = calculate(password).min(calculate(&reversed));
    if lowest < threshold {
        return lowest;
    }
    let masked = QWERTY_WINDOWS.replace_all(password, NoExpand("*"));
    if masked != password {
        lowest = lowest.min(calculate(&masked));
    }
    if lowest < threshold {
        return lowest;
    }
    let masked = QWERTY_WINDOWS.replace_all(&reversed, NoExpand("*"));
    if masked != reversed {
        lowest = lowest.min(calculate(&masked));
    }
    lowest
}

/// `DictionaryAdjuster#adjusted_entropy`: for each variant, only the *first* dictionary word
/// (Ruby `sub`) becomes `*`; variants without a word still count with their own entropy.
fn dictionary_adjusted(password: &str) -> f64 {
    let base = downcase(password);
    all_variants(&base)
        .iter()
        .map(|variant| match DICTIONARY.find(variant) {
            Some(m) => calculate(&format!("{}*{}", &variant[..m.start()], &variant[m.end()..])),
            None => calculate(variant),
        })
        .fold(calculate(&base), f64::min)
}

/// `PasswordVariants.all_variants` (its `uniq` only saves work, the minimum is the same).
fn all_variants(password: &str) -> Vec<String> {
    let mut variants = vec![downcase(password)];
    variants.extend(keyboard_shift_variants(password));
    variants.extend(leet_speak_variants(password));
    let mut unique = Vec::with_capacity(variants.len());
    for variant in variants {
        if !unique.contains(&variant) {
            unique.push(variant);
        }
    }
    unique
}

/// `PasswordVariants::BOTTOM_ROW_REGEXP`: shifting down from the bottom row is impossible.
const BOTTOM_ROW: &[char] = &['z', 'x', 'c', 'v', 'b', 'n', 'm', ',', '.', '/', '<', '>', '?'];

/// `PasswordVariants::LEET_SPEAK_REGEXP`.
const LEET_SPEAK_CHARS: &[char] = &['@', '!', '$', '1', '2', '3', '4', '5', '6', '7', '8', '9', '0'];

/// `PasswordVariants::KEYBOARDMAP_DOWNRIGHT` as `tr(map.keys.join, map.values.join)` uses it.
const KEYBOARD_DOWN_RIGHT: (&str, &str) = ("aq1sw2de3fr4gt5hy6ju7i8o90", "zaqxswcdevfrbgtnhymjukilop");

/// `PasswordVariants::KEYBOARDMAP_DOWNLEFT`; the trailing `-` is literal in Ruby's `tr`.
const KEYBOARD_DOWN_LEFT: (&str, &str) = ("2w3se4dr5ft6gy7hu8ji9ko0p-", "qawzsexdrcftvgybhunjimkolp");

/// `PasswordVariants::LEET_SPEAK`.
const LEET_SPEAK: (&str, &str) = ("@!$1234567890", "aisizeasgtbgo");

/// `PasswordVariants::LEET_SPEAK_ALT`: the same with `1` read as `l`.
const LEET_SPEAK_ALT: (&str, &str) = ("@!$1234567890", "aislzeasgtbgo");

fn keyboard_shift_variants(password: &str) -> Vec<String> {
    let password = downcase(password);
    if password.contains(BOTTOM_ROW) {
        return Vec::new();
    }
    variants(&password, [KEYBOARD_DOWN_RIGHT, KEYBOARD_DOWN_LEFT])
}

fn leet_speak_variants(password: &str) -> Vec<String> {
    let password = downcase(password);
    if !password.contains(LEET_SPEAK_CHARS) {
        return Vec::new();
    }
    variants(&password, [LEET_SPEAK, LEET_SPEAK_ALT])
}

/// `PasswordVariants.variants`: each transliteration and its reverse.
fn variants(password: &str, mappings: [(&str, &str); 2]) -> Vec<String> {
    let mut out = Vec::with_capacity(mappings.len() * 2);
    for (from, to) in mappings {
        let variant = tr(password, from, to);
        out.push(reverse(&variant));
        out.push(variant);
    }
    out
}

/// Ruby's `String#tr` for the plain (no ranges, no `^`) equal-length tables used here.
fn tr(s: &str, from: &str, to: &str) -> String {
    s.chars().map(|c| from.chars().position(|f| f == c).and_then(|i| to.chars().nth(i)).unwrap_or(c)).collect()
}

/// `DictionaryAdjuster::COMMON_PASSWORDS` joined by `Regexp.union` after dropping words shorter
/// than `min_word_length`. The gem sorts the list longest first and builds a regexp alternation,
/// so at the leftmost match position the longest word wins: that is leftmost-longest matching.
/// An Aho-Corasick NFA does it in ~1 MB; the same alternation as a `regex` grew lazy DFA caches
/// of about 60 MB on the first registration.
static DICTIONARY: LazyLock<AhoCorasick> = LazyLock::new(|| {
    let words = COMMON_PASSWORDS.split_whitespace().filter(|w| w.chars().count() >= MIN_WORD_LENGTH);
    AhoCorasick::builder()
        .match_kind(MatchKind::LeftmostLongest)
        .kind(Some(AhoCorasickKind::ContiguousNFA))
        .build(words)
        .expect("the dictionary builds")
});

/// strong_password 0.0.9's word list (`%w(...)` in dictionary_adjuster.rb), copied verbatim in
/// the gem's line layout into `common_passwords.txt` so it can be diffed against the source; `pic\'s` keeps its backslash
/// because `%w` does not treat `\'` as an escape.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_entropy(password: &str, expected: f64) {
        let got = entropy(password, 14.0, true);
        assert!((got - expected).abs() < 1e-9, "{password:?}: expected {expected}, got {got}");
    }

    #[test]
    fn reference_values() {
        assert_entropy("Password1", 2.0);
        assert_entropy("ZahSh8ei", 15.5);
        assert_entropy("Tecohvi0", 15.5);
        assert_entropy("testPassword111", 14.125);
        assert_entropy("eeC2BiCucxWEQ", 21.1875);
        assert_entropy("Qwerty123!", 4.0);
        assert_entropy("a", 2.0);
        assert_entropy("", -2.0);
        assert_entropy("correct horse battery staple", 35.3515625);
    }

    /// strong_password's strength_checker_spec tables: `is_strong?` holds exactly when
    /// `calculate_entropy` reaches `min_entropy`.
    #[test]
    fn gem_strength_checker_spec() {
        let strong = |p: &str, min: f64, dict: bool| entropy(p, min, dict) >= min;
        for (p, expected) in
            [("blahblah", true), ("password", true), ("wwwwwwww", false), ("adamruge", true), ("aB$1", false)]
        {
            assert_eq!(strong(p, 12.0, false), expected, "{p} at 12 bits, no dictionary");
        }
        for (p, expected) in [
            ("blahblah", true),
            ("password", false),
            ("wwwwwwww", false),
            ("adamruge", false),
            ("madaegur", true),
            ("aB$1", false),
        ] {
            assert_eq!(strong(p, 12.0, true), expected, "{p} at 12 bits with dictionary");
        }
        for (p, expected) in [
            ("blahblah", false),
            ("password", false),
            ("wwwwwwww", false),
            ("adamruge", false),
            ("aB$1", false),
            ("correct horse battery staple", true),
        ] {
            assert_eq!(strong(p, 18.0, true), expected, "{p} at 18 bits with dictionary");
        }
        for (p, expected) in [("correct horse battery staple", false), ("c0rr#ct h0rs3 Batt$ry st@pl3 is Gr34t", true)]
        {
            assert_eq!(strong(p, 40.0, true), expected, "{p} at 40 bits with dictionary");
        }
    }

    /// strong_password's qwerty_adjuster_spec table. The gem stubs the bonus bits to 0, so the
    /// bonus of the string that scored lowest is added back here.
    #[test]
    fn gem_qwerty_adjuster_spec() {
        for (password, gem_bits, lowest) in [
            ("qwertyuio", 5.5, "**"),
            ("1234567", 6.0, "*7"),
            ("lkjhgfd", 6.0, "*l"),
            ("0987654321", 5.5, "**"),
            ("zxcvbnm", 6.0, "*m"),
            ("/.,mnbvcx", 5.5, "**"),
            ("password", 17.5, "password"),
        ] {
            let expected = gem_bits + bonus_bits(lowest);
            assert_eq!(qwerty_adjusted(password, 0.0), expected, "{password}");
        }
        // "returns the higher entropy before running qwerty adjustments" (threshold 18).
        assert_eq!(qwerty_adjusted("1234567", 18.0), 16.0 + bonus_bits("1234567"));
    }

    #[test]
    fn qwerty_windows_with_a_dash_need_a_backslash() {
        // `sub('-', '\\-')` before `Regexp.union`: the window "890-" only matches as "890\-".
        assert_eq!(QWERTY_WINDOWS.replace_all("x7890-", "*"), "x*-");
        assert_eq!(QWERTY_WINDOWS.replace_all("x890\\-", "*"), "x*");
    }

    #[test]
    fn the_dictionary_matches_what_the_gems_regexp_alternation_matches() {
        let mut words: Vec<&str> =
            COMMON_PASSWORDS.split_whitespace().filter(|w| w.chars().count() >= MIN_WORD_LENGTH).collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
        let alternation = words.iter().map(|w| regex::escape(w)).collect::<Vec<_>>().join("|");
        let gem = Regex::new(&alternation).expect("alternation");
        let samples = [
            "xxpasswordxx",
            "iloveyou123",
            "monkeymonkey",
            "1dallas1900",
            "qwertyuiop",
            "zzzz",
            "bulls23bulls1",
            "pic's",
            "dragonball",
            "superman1",
            "letmeinn",
            "a",
            "",
            "batmanbatman",
            "trustno1!",
            "ёжикpassword",
        ];
        for w in words.iter().step_by(7).chain(samples.iter()) {
            for v in [w.to_string(), format!("x{w}y"), format!("{w}{w}"), format!("12{w}")] {
                let ours = match DICTIONARY.find(&v) {
                    Some(m) => format!("{}*{}", &v[..m.start()], &v[m.end()..]),
                    None => v.clone(),
                };
                assert_eq!(ours, gem.replace(&v, NoExpand("*")), "{v}");
            }
        }
    }

    #[test]
    fn dictionary_checks_leet_and_keyboard_variants() {
        assert_entropy("p4ssw0rd", 2.0);
        assert!(entropy("p4ssw0rd", 14.0, false) > 2.0);
        // "drowssap" reversed, found through the reversed leet variant of "testpassword111".
        assert_eq!(dictionary_adjusted("testPassword111"), 14.125);
        assert!(all_variants("abc").len() == 1, "bottom-row letters and no leet characters");
        assert_eq!(all_variants("qwe1").len(), 9);
    }

    #[test]
    fn ruby_string_semantics() {
        assert_eq!(ruby_split_whitespace_len(" a b c"), 4);
        assert_eq!(ruby_split_whitespace_len("a b c "), 3);
        assert_eq!(ruby_split_whitespace_len("a\u{0B}b\tc d"), 4);
        assert_eq!(ruby_split_whitespace_len("   "), 0);
        assert_eq!(bonus_bits(" a b c"), 1.0);
        assert_eq!(bonus_bits("a b c "), 0.0);
        assert_eq!(downcase("ΣΑΣ"), "σασ");
        assert_eq!(downcase("İ"), "i\u{307}");
        // Unicode digits and letters count like Ruby's [[:digit:]], [[:upper:]], [[:lower:]].
        assert_eq!(bonus_bits("Éé٣!"), 6.0 - 2.0);
        // ...but "other" is ASCII-only `[^a-zA-Z0-9 ]`, so a non-ASCII digit is "other" too.
        assert_eq!(bonus_bits("٣٣"), -2.0 - 2.0);
        assert_eq!(bonus_bits("33"), -6.0 - 2.0);
    }

    #[test]
    fn unicode_input_does_not_panic() {
        for password in
            ["Пароль123!", "日本語のパスワード", "🔥🔥🔥🔥🔥🔥", "e\u{301}e\u{301}", "ΣΑΣ σας", "\0\u{FFFF}"]
        {
            for dictionary in [false, true] {
                assert!(entropy(password, 14.0, dictionary).is_finite(), "{password:?}");
            }
        }
    }

    #[test]
    fn long_input_is_truncated_and_fast() {
        let long: String = "Ab1!xyz\u{e9}".chars().cycle().take(5000).collect();
        let head: String = long.chars().take(PASSWORD_LIMIT).collect();
        assert_eq!(entropy(&long, 14.0, true), entropy(&head, 14.0, true));
        let started = std::time::Instant::now();
        for _ in 0..10 {
            entropy(&long, 14.0, true);
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
    }
}
