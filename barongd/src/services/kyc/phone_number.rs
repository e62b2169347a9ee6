//! Phone numbers in Barong's stored form: international digits, read with libphonenumber's
//! rules (as Barong's phonelib did).

/// A number in Barong's stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// International digits without `+` (`447418084106`).
    pub number: String,
    /// ISO 3166 alpha-2 (`GB`); empty for numbers of no country (`+800`).
    pub country: String,
}

/// Barong's normalisation: keep the digits, read them as an international number (libphonenumber
/// rules, as phonelib: `+44 07418084106` → `447418084106`), and refuse numbers that are not valid.
pub fn normalize(raw: &str) -> Option<Normalized> {
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    // E.164 allows 15 digits; the limit also keeps the parser away from absurd input.
    if digits.is_empty() || digits.len() > 17 {
        return None;
    }
    let parsed = phonenumber::parse(None, format!("+{digits}")).ok()?;
    if !parsed.is_valid() {
        return None;
    }
    let e164 = parsed.format().mode(phonenumber::Mode::E164).to_string();
    let number = e164.trim_start_matches('+').to_string();
    let country = parsed.country().id().map(|id| id.as_ref().to_string()).unwrap_or_default();
    Some(Normalized { number, country })
}

/// How many leading digits of a stored number are its country code (2 when unknown, as Barong).
pub fn country_code_len(number: &str) -> usize {
    phonenumber::parse(None, format!("+{number}")).map(|p| p.code().value().to_string().len()).unwrap_or(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> Option<(String, String)> {
        normalize(raw).map(|n| (n.number, n.country))
    }

    #[test]
    fn numbers_normalize_like_phonelib() {
        let gb = Some(("447418084106".to_string(), "GB".to_string()));
        assert_eq!(norm("+44 07418084106"), gb);
        assert_eq!(norm("+44 7418084106"), gb);
        assert_eq!(norm("447418084106"), gb);
        assert_eq!(norm("(+44) 7418-084-106"), gb);
        assert_eq!(norm("+1 (415) 555-2671"), Some(("14155552671".into(), "US".into())));
        assert_eq!(norm("+49 30 901820"), Some(("4930901820".into(), "DE".into())));
    }

    #[test]
    fn invalid_numbers_are_refused() {
        for raw in
            ["", "abc", "+", "123", "+44 12", "00000000000", "+999 1234567", &"9".repeat(40), "+44 074180841069999"]
        {
            assert_eq!(normalize(raw), None, "{raw}");
        }
    }

    #[test]
    fn country_code_lengths() {
        assert_eq!(country_code_len("447418084106"), 2);
        assert_eq!(country_code_len("14155552671"), 1);
        assert_eq!(country_code_len("380501234567"), 3);
        assert_eq!(country_code_len("x"), 2);
    }
}
