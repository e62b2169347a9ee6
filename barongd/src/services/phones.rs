//! Phones (resource-admin-kyc §2.6): add a number, (re)send its code, verify it. A verified phone
//! gives the private label `phone=verified` (level 2 with the seeded levels).
//!
//! Fix §17.5: Barong's 5-digit code came from a non-cryptographic `rand`, never expired, could be
//! guessed without limit and resent without limit, and `mock` (any code accepted) was the
//! default. Here the code (still 5 digits, for clients) comes from the OS CSPRNG, is sealed at
//! rest, expires after `phone_code_lifetime`, is void after `phone_code_max_attempts` wrong
//! tries, and sends are limited per phone (`phone_code_resend_interval`,
//! `phone_code_max_sends_per_hour`: 429 `resource.phone.too_many_requests`) and phones per user
//! (`phone_max_per_user`: 400 `resource.phone.limit_reached`).

use common::config::PhoneVerification;
use common::entities::{Phone, UserWithFullInfo};
use rand::Rng;

use super::error::{ServiceError, ServiceResult};
use super::sms::Channel;
use super::{App, entities, levels};
use crate::store::phones::{PhoneRecord, SendLimit};
use crate::store::{StoreError, UserRow};

/// Barong's code length, kept for clients that expect five digits.
const CODE_DIGITS: u32 = 5;

/// The window of `phone_code_max_sends_per_hour`.
const SEND_WINDOW_SECONDS: i64 = 3600;

/// Blind-index domain of phone numbers.
const INDEX_DOMAIN: &str = "phone";

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

/// A fresh code: `CODE_DIGITS` digits from the OS CSPRNG.
fn new_code() -> String {
    let n = rand::rngs::OsRng.gen_range(0..10u32.pow(CODE_DIGITS));
    format!("{n:0width$}", width = CODE_DIGITS as usize)
}

fn invalid_code() -> ServiceError {
    ServiceError::new(404, "resource.phone.verification_invalid")
}

/// Barong's `validate_phone!`: a valid number (400 `invalid_num`) that no user has verified
/// (400 `number_exist`). Returns the number and its blind index.
async fn validate(app: &App, raw: &str) -> ServiceResult<(Normalized, String)> {
    let n = normalize(raw).ok_or_else(|| ServiceError::new(400, "resource.phone.invalid_num"))?;
    let index = app.sealer.blind_index(INDEX_DOMAIN, &n.number);
    if app.store.verified_number_exists(&index).await? {
        return Err(ServiceError::new(400, "resource.phone.number_exist"));
    }
    Ok((n, index))
}

/// `GET phones`.
pub async fn list(app: &App, user: &UserRow) -> ServiceResult<Vec<Phone>> {
    Ok(app.store.phones_of(user.id).await?.iter().map(|p| entities::phone(app, p)).collect())
}

/// `POST phones`: validate, refuse a number the user has (400 `exists`), add it, send a code.
pub async fn create(app: &App, user: &UserRow, raw: &str, channel: Channel) -> ServiceResult<()> {
    let (n, index) = validate(app, raw).await?;
    // Each phone may receive SMS, so the number of phones bounds what one account can make us
    // send (SMS pumping). A number the user already has keeps Barong's `exists` answer.
    if app.store.user_phone(user.id, &index).await?.is_none()
        && app.store.phones_of(user.id).await?.len() as i64 >= app.config.phone_max_per_user
    {
        return Err(ServiceError::new(400, "resource.phone.limit_reached"));
    }
    let sealed = app.sealer.seal(n.number.as_bytes());
    let phone = match app.store.insert_phone(user.id, &n.country, &sealed, &index, app.clock.now()).await {
        Ok(p) => p,
        Err(StoreError::Unique(_)) => return Err(ServiceError::new(400, "resource.phone.exists")),
        Err(e) => return Err(e.into()),
    };
    deliver(app, &phone, &n.number, channel).await
}

/// The user's phone with this number: 404 `resource.phone.doesnt_exist` when it is not theirs.
async fn own_phone(app: &App, user: &UserRow, index: &str) -> ServiceResult<PhoneRecord> {
    app.store.user_phone(user.id, index).await?.ok_or_else(|| ServiceError::new(404, "resource.phone.doesnt_exist"))
}

/// `POST phones/send_code`: validate, the user's phone (404 `doesnt_exist`), send its code again.
pub async fn send_code(app: &App, user: &UserRow, raw: &str, channel: Channel) -> ServiceResult<()> {
    let (n, index) = validate(app, raw).await?;
    let phone = own_phone(app, user, &index).await?;
    deliver(app, &phone, &n.number, channel).await
}

/// `POST phones/verify`: validate, the user's phone (404 `doesnt_exist`), the code (404
/// `verification_invalid`: wrong, expired or void); then `phone=verified` and the user.
pub async fn verify(app: &App, user: &UserRow, raw: &str, code: &str) -> ServiceResult<UserWithFullInfo> {
    let (n, index) = validate(app, raw).await?;
    let phone = own_phone(app, user, &index).await?;
    let now = app.clock.now();
    if app.sms.mode() != PhoneVerification::Mock {
        check_code(app, &phone, &n.number, code.trim(), now).await?;
    }
    match app.store.mark_validated(phone.id, now).await {
        Ok(()) => {}
        // Another user verified the number in the meantime.
        Err(StoreError::Unique(_)) => return Err(ServiceError::new(400, "resource.phone.number_exist")),
        Err(e) => return Err(e.into()),
    }
    let user = levels::set_private_label(app, user, "phone", "verified").await?;
    entities::user_with_full_info(app, &user).await
}

/// Accepts `code` for `phone` or fails with `verification_invalid`. Every check uses up one
/// attempt before the comparison, so concurrent guesses cannot exceed the limit.
async fn check_code(app: &App, phone: &PhoneRecord, number: &str, code: &str, now: i64) -> ServiceResult<()> {
    let live = phone.code_expires_at.is_some_and(|t| t > now) && (phone.code.is_some() || !app.sms.makes_codes());
    if !live || !app.store.take_attempt(phone.id, app.config.phone_code_max_attempts).await? {
        return Err(invalid_code());
    }
    let accepted = if app.sms.makes_codes() {
        let expected = phone.code.as_deref().and_then(|s| app.sealer.open_string(s).ok()).unwrap_or_default();
        !expected.is_empty() && bool::from(subtle::ConstantTimeEq::ct_eq(code.as_bytes(), expected.as_bytes()))
    } else {
        app.sms.check(number, code).await?
    };
    if accepted { Ok(()) } else { Err(invalid_code()) }
}

/// Sends the phone's code when the resend limits allow it (429 otherwise). A send that fails
/// is not counted against the user.
async fn deliver(app: &App, phone: &PhoneRecord, number: &str, channel: Channel) -> ServiceResult<()> {
    let c = &app.config;
    let now = app.clock.now();
    let limit = SendLimit {
        now,
        last_sent_before: now - c.phone_code_resend_interval,
        window_start: now - SEND_WINDOW_SECONDS,
        max_in_window: c.phone_code_max_sends_per_hour,
    };
    if !app.store.reserve_send(phone.id, limit).await? {
        return Err(ServiceError::new(429, "resource.phone.too_many_requests"));
    }
    let sent = send_current_code(app, phone, number, channel, now).await;
    if sent.is_err()
        && let Err(e) = app.store.release_send(phone.id, phone.code_sent_at).await
    {
        tracing::warn!(error = %e, "phone send counter not released");
    }
    sent
}

/// Resends the current code while it is usable (unexpired, attempts left); otherwise makes a
/// fresh one (under Twilio Verify: starts a fresh expiry and attempt count).
async fn send_current_code(
    app: &App,
    phone: &PhoneRecord,
    number: &str,
    channel: Channel,
    now: i64,
) -> ServiceResult<()> {
    let c = &app.config;
    let usable = phone.code_expires_at.is_some_and(|t| t > now) && phone.code_attempts < c.phone_code_max_attempts;
    let expires_at = now + c.phone_code_lifetime;
    let code = if app.sms.makes_codes() {
        let current = phone.code.as_deref().filter(|_| usable).and_then(|s| app.sealer.open_string(s).ok());
        match current {
            Some(code) => Some(code),
            None => {
                let fresh = new_code();
                app.store.set_code(phone.id, Some(&app.sealer.seal(fresh.as_bytes())), expires_at, now).await?;
                Some(fresh)
            }
        }
    } else {
        if !usable {
            app.store.set_code(phone.id, None, expires_at, now).await?;
        }
        None
    };
    app.sms.send(number, channel, code.as_deref()).await
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

    #[test]
    fn codes_are_five_digits() {
        for _ in 0..200 {
            let c = new_code();
            assert_eq!(c.len(), 5);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
