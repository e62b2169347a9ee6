//! TOTP verification for login. Seeds are sealed in the database; a code is accepted once
//! (the last used time step is remembered), as Vault did.

use super::App;
use super::error::{ServiceError, ServiceResult};
use crate::store::UserRow;

/// RFC 6238: SHA1, 6 digits, 30 s steps; the previous, current and next step are accepted.
pub async fn verify_code(app: &App, user: &UserRow, code: &str) -> ServiceResult<bool> {
    let Some(sealed) = &user.otp_secret_sealed else { return Ok(false) };
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    let secret = app.sealer.open(sealed).map_err(ServiceError::internal)?;
    let now = app.clock.now();
    let step_now = now.div_euclid(30);
    for step in [step_now - 1, step_now, step_now + 1] {
        if user.otp_last_step.is_some_and(|last| step <= last) {
            continue;
        }
        if totp_at(&secret, step) == code {
            return app.store.use_otp_step(user.id, step).await.map_err(Into::into);
        }
    }
    Ok(false)
}

fn totp_at(secret: &[u8], step: i64) -> String {
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, secret.to_vec(), None, String::new());
    totp.generate(step.max(0) as u64 * 30)
}

#[cfg(test)]
mod tests {
    use super::totp_at;

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
