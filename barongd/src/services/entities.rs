//! Building API entities from rows, with Barong's PII masking on the resource API.

use common::entities::{DataStorage, Label, Phone, Profile, UserWithFullInfo};

use super::App;
use super::clock::iso8601;
use super::error::ServiceResult;
use super::profiles::ProfileState;
use crate::store::UserRow;
use crate::store::profiles::ProfileRow;

/// `UserWithFullInfo` of `user`; `csrf_token` is added by callers that opened a session.
pub async fn user_with_full_info(app: &App, user: &UserRow) -> ServiceResult<UserWithFullInfo> {
    let labels = app.store.labels_of(user.id).await?;
    let phones = app.store.phones_of(user.id).await?;
    let profiles = app.store.profiles_of(user.id).await?;
    let storages = app.store.data_storages_of(user.id).await?;
    let referral_uid = match user.referral_id {
        Some(id) => app.store.user_by_id(id).await?.map(|u| u.uid),
        None => None,
    };
    Ok(UserWithFullInfo {
        email: user.email.clone(),
        uid: user.uid.clone(),
        role: user.role.clone(),
        level: user.level,
        otp: user.otp,
        state: user.state.clone(),
        referral_uid,
        data: user.data.clone(),
        csrf_token: None,
        username: user.username.clone(),
        labels: labels
            .into_iter()
            .map(|l| Label {
                key: l.key,
                value: l.value,
                scope: l.scope,
                created_at: iso8601(l.created_at),
                updated_at: iso8601(l.updated_at),
            })
            .collect(),
        phones: phones.iter().map(|p| phone(app, p)).collect(),
        profiles: profiles.iter().map(|p| profile(app, p)).collect(),
        data_storages: storages
            .into_iter()
            .map(|d| DataStorage {
                title: d.title,
                data: d.data,
                created_at: iso8601(d.created_at),
                updated_at: iso8601(d.updated_at),
            })
            .collect(),
        created_at: iso8601(user.created_at),
        updated_at: iso8601(user.updated_at),
    })
}

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
        state: ProfileState::from_code(p.state).name().to_string(),
        metadata: p.metadata.as_deref().and_then(|m| serde_json::from_str(m).ok()),
        created_at: iso8601(p.created_at),
        updated_at: iso8601(p.updated_at),
    }
}

/// The resource API's `Phone`: number opened, and masked when `api_data_masking_enabled`.
/// `validated_at` is not run through the entity's formatter in Barong, so it keeps milliseconds.
pub fn phone(app: &App, p: &crate::store::users::PhoneRow) -> Phone {
    let number = app.sealer.open_string(&p.number_sealed).unwrap_or_default();
    Phone {
        number: if app.config.api_data_masking_enabled { mask_phone(&number) } else { number },
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
    let keep = super::phones::country_code_len(&digits.iter().collect::<String>());
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
