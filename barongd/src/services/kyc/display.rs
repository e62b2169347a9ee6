//! KYC records as the API shows them: PII opened from its sealed form, and masked the way
//! Barong masked it on the resource API (`api_data_masking_enabled`).

use common::entities::{Phone, Profile};

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::kyc::phone_number::country_code_len;
use crate::store::profiles::ProfileRow;
use crate::store::users::PhoneRow;

/// The resource API's `Profile`: PII opened, and masked when `api_data_masking_enabled`.
pub fn profile(app: &App, p: &ProfileRow) -> Profile {
    profile_masked(app, p, app.config.api_data_masking_enabled)
}

/// A `Profile` with PII opened; `mask` as the resource API masks (operators see clear values).
pub fn profile_masked(app: &App, p: &ProfileRow, mask: bool) -> Profile {
    let open = |sealed: &Option<String>| sealed.as_deref().and_then(|s| app.sealer.open_string(s).ok());
    let last_name = open(&p.last_name_sealed);
    let dob = open(&p.dob_sealed);
    Profile {
        first_name: open(&p.first_name_sealed),
        last_name: if mask { last_name.map(|n| mask_after(&n, 1)) } else { last_name },
        dob: if mask { dob.map(|d| mask_after(&d, 8)) } else { dob },
        address: open(&p.address_sealed),
        postcode: p.postcode.clone(),
        city: p.city.clone(),
        country: p.country.clone(),
        state: p.state.name().to_string(),
        metadata: p.metadata.as_deref().and_then(|m| serde_json::from_str(m).ok()),
        created_at: iso8601(p.created_at),
        updated_at: iso8601(p.updated_at),
    }
}

/// The resource API's `Phone`: number opened, and masked when `api_data_masking_enabled`.
/// `validated_at` is not run through the entity's formatter in Barong, so it keeps milliseconds.
pub fn phone(app: &App, p: &PhoneRow) -> Phone {
    phone_masked(app, p, app.config.api_data_masking_enabled)
}

/// A `Phone` with the number opened; `mask` as the resource API masks.
pub fn phone_masked(app: &App, p: &PhoneRow, mask: bool) -> Phone {
    let number = app.sealer.open_string(&p.number_sealed).unwrap_or_default();
    Phone {
        number: if mask { mask_phone(&number) } else { number },
        country: p.country.clone(),
        validated_at: p.validated_at.map(iso8601_millis),
    }
}

/// Rails' JSON time (`2020-06-01T07:01:20.000Z`).
fn iso8601_millis(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string())
        .unwrap_or_default()
}

/// Keeps the first `keep` characters and stars the rest (`Smith` → `S****`).
pub fn mask_after(s: &str, keep: usize) -> String {
    s.chars().enumerate().map(|(i, c)| if i < keep { c } else { '*' }).collect()
}

/// Keeps the country-code digits (2 when unknown) and the last 4 digits (`44******4106`).
pub fn mask_phone(number: &str) -> String {
    let digits: Vec<char> = number.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    let keep = country_code_len(&digits.iter().collect::<String>());
    if n <= keep + 4 {
        return digits.into_iter().collect();
    }
    digits.iter().enumerate().map(|(i, c)| if i < keep || i >= n - 4 { *c } else { '*' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_follows_barong() {
        assert_eq!(mask_after("Smith", 1), "S****");
        assert_eq!(mask_after("S", 1), "S");
        assert_eq!(mask_after("1990-05-17", 8), "1990-05-**");
        assert_eq!(mask_phone("447911124106"), "44******4106");
        assert_eq!(mask_phone("14155552671"), "1******2671");
        assert_eq!(mask_phone("380501234567"), "380*****4567");
        assert_eq!(iso8601_millis(1_590_994_880), "2020-06-01T07:01:20.000Z");
    }
}
