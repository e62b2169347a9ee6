//! TOTP verification (login, 2FA set-up, API-key writes). Seeds are sealed in the database; a
//! code is accepted once (the last used time step is remembered), as Vault did.

use common::admin::TotpStatus;
use subtle::ConstantTimeEq;

use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::attempts;
use crate::store::UserRow;

/// The second factor as stored. `otp` on without a seed is an account imported from Barong whose
/// seed could not be carried (migration spec §2.8.5): no code can match, and only the operator's
/// `user reset-2fa` lets it sign in again. Nothing else leaves that combination: enrolment sets
/// the seed before `otp`, and every reset clears both.
pub fn status(user: &UserRow) -> TotpStatus {
    match (user.otp, user.otp_secret_sealed.is_some()) {
        (false, _) => TotpStatus::Off,
        (true, true) => TotpStatus::Active,
        (true, false) => TotpStatus::SeedMissing,
    }
}

/// Vault's answer to a code it has already accepted ("code already used"), which Barong turned
/// into this key on every endpoint that checks a code.
pub fn already_used() -> ServiceError {
    ServiceError::invalid("totp.error")
}

/// RFC 6238: SHA1, 6 digits, 30 s steps; the previous, current and next step are accepted.
/// `Ok(false)` for a wrong code (or no seed); `Err(totp.error)` for a code of a step that was
/// used already — including by a concurrent request on another daemon.
///
/// Each check is reserved first in the account's guessing bucket, shared with login and the
/// password checks (`login_throttle`): past the limit every check is refused (429
/// `totp.too_many_attempts`) until the window ends, whatever the concurrency. Barong had no such
/// guard, so anyone holding a password or a session could try all million codes.
pub async fn verify_code(app: &App, user: &UserRow, code: &str, ip: &str) -> ServiceResult<bool> {
    let attempt = attempts::reserve(app, &user.email, ip, "totp.too_many_attempts").await?;
    let verdict = check_reserved(app, user, code).await?;
    if verdict {
        attempt.succeeded(app).await?;
    }
    Ok(verdict)
}

/// The check alone, for a caller that reserved the attempt itself (login covers password and
/// code with one reservation).
pub async fn check_reserved(app: &App, user: &UserRow, code: &str) -> ServiceResult<bool> {
    check(app, user, code.trim(), app.clock.now()).await
}

async fn check(app: &App, user: &UserRow, code: &str, now: i64) -> ServiceResult<bool> {
    let Some(sealed) = &user.otp_secret_sealed else { return Ok(false) };
    // Vault trims the code before checking its length (the caller trimmed it).
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let secret = app.sealer.open(sealed).map_err(ServiceError::internal)?;
    let step_now = now.div_euclid(30);
    for step in [step_now - 1, step_now, step_now + 1] {
        if !bool::from(totp_at(&secret, step).as_bytes().ct_eq(code.as_bytes())) {
            continue;
        }
        if user.otp_last_step.is_some_and(|last| step <= last) {
            return Err(already_used());
        }
        return if app.store.use_otp_step(user.id, step).await? { Ok(true) } else { Err(already_used()) };
    }
    Ok(false)
}

/// The code of `step` for a raw seed.
fn totp_at(secret: &[u8], step: i64) -> String {
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.to_vec(), None, String::new());
    totp.generate(step.max(0) as u64 * 30)
}

#[cfg(test)]
mod tests {
    use super::{TotpStatus, status, totp_at};
    use crate::model::{AccountState, Role};
    use crate::store::UserRow;

    fn user(otp: bool, seed: Option<&str>) -> UserRow {
        UserRow {
            id: 1,
            uid: "ID0000000001".into(),
            username: None,
            email: "a@example.com".into(),
            email_key: "a@example.com".into(),
            password_digest: String::new(),
            role: Role::member(),
            data: None,
            level: 1,
            otp,
            state: AccountState::Active,
            referral_id: None,
            language: "en".into(),
            otp_secret_sealed: seed.map(str::to_string),
            otp_last_step: None,
            claims_version: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn status_follows_the_flag_and_the_seed() {
        assert_eq!(status(&user(false, None)), TotpStatus::Off);
        // A seed of an enrolment never finished, or kept by Barong's disable: still off.
        assert_eq!(status(&user(false, Some("sealed"))), TotpStatus::Off);
        assert_eq!(status(&user(true, Some("sealed"))), TotpStatus::Active);
        assert_eq!(status(&user(true, None)), TotpStatus::SeedMissing);
    }

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B, SHA1 seed "12345678901234567890", truncated to 6 digits.
        let seed = b"12345678901234567890";
        assert_eq!(totp_at(seed, 59 / 30), "287082");
        assert_eq!(totp_at(seed, 1_111_111_109 / 30), "081804");
        assert_eq!(totp_at(seed, 1_234_567_890 / 30), "005924");
        assert_eq!(totp_at(seed, 2_000_000_000 / 30), "279037");
    }
}
