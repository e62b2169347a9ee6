//! Phones (`resource/phones`): add a number, (re)send its code, verify it. A verified phone
//! gives the private label `phone=verified` (level 2 with the seeded levels).
//!
//! Barong's 5-digit code came from a non-cryptographic `rand`, never expired, could be
//! guessed without limit and resent without limit, and `mock` (any code accepted) was the
//! default. Here the code (still 5 digits, for clients) comes from the OS CSPRNG, is sealed at
//! rest, expires after `phone_code_lifetime`, is void after `phone_code_max_attempts` wrong
//! tries, and sends are limited per phone (`phone_code_resend_interval`,
//! `phone_code_max_sends_per_hour`: 429 `resource.phone.too_many_requests`) and phones per user
//! (`phone_max_per_user`: 400 `resource.phone.limit_reached`).
//! See docs/barong-weaknesses-fixed.md#w-phone-codes.

use crate::config::PhoneVerification;
use common::entities::{Phone, UserWithFullInfo};
use rand::Rng;

use crate::model::CheckState;
use crate::model::labels::keys as label_keys;
use crate::services::App;
use crate::services::account::full_info;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::phone_number::{Normalized, normalize};
use crate::services::kyc::sms::Channel;
use crate::services::kyc::{display, levels, phone_index};
use crate::store::phones::{PhoneRecord, SendLimit};
use crate::store::{StoreError, UserRow};

/// Barong's code length, kept for clients that expect five digits.
const CODE_DIGITS: u32 = 5;

/// The window of `phone_code_max_sends_per_hour`.
const SEND_WINDOW_SECONDS: i64 = 3600;

pub(crate) use crate::services::kyc::phone_index::INDEX_DOMAIN;

/// A fresh code: `CODE_DIGITS` digits from the OS CSPRNG.
fn new_code() -> String {
    let n = rand::rngs::OsRng.gen_range(0..10u32.pow(CODE_DIGITS));
    format!("{n:0width$}", width = CODE_DIGITS as usize)
}

fn invalid_code() -> ServiceError {
    ServiceError::not_found("resource.phone.verification_invalid")
}

/// Barong's `validate_phone!`: a valid number (400 `invalid_num`) that no user has verified
/// (400 `number_exist`). Returns the number and its blind index.
async fn validate(app: &App, raw: &str) -> ServiceResult<(Normalized, String)> {
    let n = normalize(raw).ok_or_else(|| ServiceError::rejected("resource.phone.invalid_num"))?;
    let index = app.sealer.blind_index(INDEX_DOMAIN, &n.number);
    if phone_index::verified_anywhere(app, &n.number).await? {
        return Err(ServiceError::rejected("resource.phone.number_exist"));
    }
    Ok((n, index))
}

/// `GET phones`.
pub async fn list(app: &App, user: &UserRow) -> ServiceResult<Vec<Phone>> {
    Ok(app.store.phones_of(user.id).await?.iter().map(|p| display::phone(app, p)).collect())
}

/// `POST phones`: validate, refuse a number the user has (400 `exists`), add it, send a code.
pub async fn create(app: &App, user: &UserRow, raw: &str, channel: Channel) -> ServiceResult<()> {
    let (n, index) = validate(app, raw).await?;
    // Each phone may receive SMS, so the number of phones bounds what one account can make us
    // send (SMS pumping). A number the user already has keeps Barong's `exists` answer.
    if phone_index::user_phone(app, user.id, &n.number).await?.is_none()
        && app.store.phones_of(user.id).await?.len() as i64 >= app.config.phone_max_per_user
    {
        return Err(ServiceError::rejected("resource.phone.limit_reached"));
    }
    let sealed = app.sealer.seal(n.number.as_bytes());
    let phone = match app.store.insert_phone(user.id, &n.country, &sealed, &index, app.clock.now()).await {
        Ok(p) => p,
        Err(StoreError::Unique(_)) => return Err(ServiceError::rejected("resource.phone.exists")),
        Err(e) => return Err(e.into()),
    };
    deliver(app, &phone, &n.number, channel).await
}

/// The user's phone with this number: 404 `resource.phone.doesnt_exist` when it is not theirs.
async fn own_phone(app: &App, user: &UserRow, number: &str) -> ServiceResult<PhoneRecord> {
    phone_index::user_phone(app, user.id, number)
        .await?
        .ok_or_else(|| ServiceError::not_found("resource.phone.doesnt_exist"))
}

/// `POST phones/send_code`: validate, the user's phone (404 `doesnt_exist`), send its code again.
pub async fn send_code(app: &App, user: &UserRow, raw: &str, channel: Channel) -> ServiceResult<()> {
    let (n, _) = validate(app, raw).await?;
    let phone = own_phone(app, user, &n.number).await?;
    deliver(app, &phone, &n.number, channel).await
}

/// `POST phones/verify`: validate, the user's phone (404 `doesnt_exist`), the code (404
/// `verification_invalid`: wrong, expired or void); then `phone=verified` and the user.
pub async fn verify(app: &App, user: &UserRow, raw: &str, code: &str) -> ServiceResult<UserWithFullInfo> {
    let (n, _) = validate(app, raw).await?;
    let phone = own_phone(app, user, &n.number).await?;
    let now = app.clock.now();
    if app.sms.mode() != PhoneVerification::Mock {
        check_code(app, &phone, &n.number, code.trim(), now).await?;
    }
    match app.store.mark_validated(phone.id, now).await {
        Ok(()) => {}
        // Another user verified the number in the meantime.
        Err(StoreError::Unique(_)) => return Err(ServiceError::rejected("resource.phone.number_exist")),
        Err(e) => return Err(e.into()),
    }
    let user = levels::set_private_label(app, user, label_keys::PHONE, CheckState::Verified.as_str()).await?;
    full_info::user_with_full_info(app, &user).await
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
        return Err(ServiceError::throttled("resource.phone.too_many_requests"));
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

    #[test]
    fn codes_are_five_digits() {
        for _ in 0..200 {
            let c = new_code();
            assert_eq!(c.len(), 5);
            assert!(c.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}
