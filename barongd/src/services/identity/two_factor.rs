//! A user turning 2FA on and off (`resource/otp/...`). Barong kept the TOTP seeds in
//! Vault; here they are sealed with the master key in `users.otp_secret_sealed`. Every refusal
//! writes an `otp` activity with its reason, as Barong's `otp_error!` did.

use serde::Serialize;

use crate::model::labels::{self, keys as label_keys};
use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::events::event_api as events;
use crate::services::identity::webauthn::factor::{self, Factor};
use crate::services::identity::{sessions, totp};
use crate::services::kyc::levels;
use crate::store::UserRow;

const QR_ACTION: &str = "request QR code for 2FA";
const ENABLE_ACTION: &str = "enable 2FA";
const DISABLE_ACTION: &str = "disable 2FA";
const VERIFY_ACTION: &str = "verify 2FA code";

const ALREADY_ENABLED: &str = "2FA has been already enabled for this account";
const NOT_ENABLED: &str = "2FA has not been enabled for this account";
const INVALID: &str = "OTP code is invalid";
const USED: &str = "OTP code has already been used";
const THROTTLED: &str = "Too many invalid OTP codes";

/// The body of `otp/generate_qrcode`: Vault's TOTP key answer, whose `data` clients read.
#[derive(Serialize)]
pub struct QrCode {
    pub data: QrData,
}

#[derive(Serialize)]
pub struct QrData {
    /// A PNG of the QR code, base64 (no `data:` prefix, as Vault answered).
    pub barcode: String,
    /// `otpauth://totp/<issuer>:<email>?algorithm=SHA1&digits=6&issuer=<issuer>&period=30&secret=<B32>`
    pub url: String,
}

impl std::fmt::Debug for QrCode {
    // Both fields carry the seed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QrCode([redacted])")
    }
}

async fn refuse(
    app: &App,
    ctx: &RequestContext,
    user: &UserRow,
    action: &'static str,
    reason: &str,
    error: ServiceError,
) -> ServiceError {
    activity::record(app, ctx, user.id, "otp", action, Outcome::Failed, Some(reason)).await;
    error
}

/// Checks `code`, recording the failure (wrong code, or a code already used) under `action`.
async fn check_code(
    app: &App,
    ctx: &RequestContext,
    user: &UserRow,
    code: &str,
    action: &'static str,
) -> ServiceResult<()> {
    match totp::verify_code(app, user, code, &ctx.ip).await {
        Ok(true) => Ok(()),
        Ok(false) => Err(refuse(app, ctx, user, action, INVALID, ServiceError::invalid("resource.otp.invalid")).await),
        Err(e) if e.key() == "totp.error" => Err(refuse(app, ctx, user, action, USED, e).await),
        Err(e) if e.key() == "totp.too_many_attempts" => Err(refuse(app, ctx, user, action, THROTTLED, e).await),
        Err(e) => Err(e),
    }
}

/// `POST otp/generate_qrcode`: a new seed (160 random bits, Vault's default size), replacing
/// any earlier one that was never enabled. The success activity is written first, as Barong did.
pub async fn generate_qrcode(app: &App, user: &UserRow, ctx: &RequestContext) -> ServiceResult<QrCode> {
    let already = || ServiceError::rejected("resource.otp.already_enabled");
    if user.otp {
        return Err(refuse(app, ctx, user, QR_ACTION, ALREADY_ENABLED, already()).await);
    }
    activity::record(app, ctx, user.id, "otp", QR_ACTION, Outcome::Succeed, None).await;
    let seed = totp_rs::Secret::generate_secret()
        .to_bytes()
        .map_err(|_| ServiceError::internal("TOTP seed generation failed"))?;
    let issuer = app.config.app_name.as_str();
    let totp = totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        seed.clone(),
        Some(issuer.to_string()),
        user.email.clone(),
    );
    let url = otpauth_url(issuer, &user.email, &totp.get_secret_base32());
    // The QR code encodes totp-rs's form of the same key (it leaves out the default algorithm,
    // digits and period); authenticator apps read both alike.
    let barcode = totp.get_qr_base64().map_err(|_| ServiceError::internal("QR code rendering failed"))?;
    if !app.store.replace_otp_secret(user.id, &app.sealer.seal(&seed)).await? {
        // 2FA was enabled by a concurrent request.
        return Err(already());
    }
    Ok(QrCode { data: QrData { barcode, url } })
}

/// Vault's URL form: label `issuer:account` path-escaped as Go's `url.URL` does (`@` and `:`
/// kept), then the query parameters in alphabetical order, form-encoded.
fn otpauth_url(issuer: &str, account: &str, secret_b32: &str) -> String {
    use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
    const PATH: &AsciiSet =
        &CONTROLS.add(b' ').add(b'"').add(b'#').add(b'%').add(b'<').add(b'>').add(b'?').add(b'`').add(b'{').add(b'}');
    let label = format!("{issuer}:{account}");
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("algorithm", "SHA1")
        .append_pair("digits", "6")
        .append_pair("issuer", issuer)
        .append_pair("period", "30")
        .append_pair("secret", secret_b32)
        .finish();
    format!("otpauth://totp/{}?{query}", utf8_percent_encode(&label, PATH))
}

/// `POST otp/enable`: checks a code of the generated seed, turns 2FA on, sets the private label
/// `otp=enabled` (level and state recomputed) and ends every other session of the user.
pub async fn enable(app: &App, user: &UserRow, code: &str, ctx: &RequestContext) -> ServiceResult<()> {
    let already = || ServiceError::rejected("resource.otp.already_enabled");
    if user.otp {
        return Err(refuse(app, ctx, user, ENABLE_ACTION, ALREADY_ENABLED, already()).await);
    }
    check_code(app, ctx, user, code, ENABLE_ACTION).await?;
    // A valid code implies a seed; a concurrent request may still have enabled 2FA or replaced
    // the seed since this request read the user.
    let checked_seed = user.otp_secret_sealed.as_deref().unwrap_or_default();
    let now = app.clock.now();
    let on = UserRow { otp: true, updated_at: now, ..user.clone() };
    let updated = events::user_updated_events(app, user, &on).await;
    if !app.store.enable_otp_with_events(user.id, checked_seed, now, &updated).await? {
        let now_on = app.store.user_by_id(user.id).await?.is_some_and(|u| u.otp);
        return Err(if now_on { already() } else { ServiceError::invalid("resource.otp.invalid") });
    }
    levels::set_private_label(app, &on, label_keys::OTP, labels::OTP_ENABLED).await?;
    activity::record(app, ctx, user.id, "otp", ENABLE_ACTION, Outcome::Succeed, None).await;
    // Sessions opened before 2FA did not pass the second factor.
    let keep = ctx.session_id.as_deref().map(sessions::hash_id).unwrap_or_default();
    let ended = app.store.delete_other_sessions(user.id, &keep).await?;
    tracing::info!(uid = %user.uid, sessions_ended = ended, "2FA enabled");
    Ok(())
}

/// `POST otp/disable`: turns 2FA off, removes the `otp` label and disables the active keys of the
/// user and of its service accounts. The label removal recomputes level and state (Barong
/// deleted it without callbacks, so the level stayed stale:
/// docs/barong-weaknesses-fixed.md#w-otp-label-callbacks). The seed is kept, as Vault kept it;
/// `generate_qrcode` replaces it.
pub async fn disable(app: &App, user: &UserRow, proof: &Factor, ctx: &RequestContext) -> ServiceResult<()> {
    let not_enabled = || ServiceError::rejected("resource.otp.not_enabled");
    if !user.otp {
        return Err(refuse(app, ctx, user, DISABLE_ACTION, NOT_ENABLED, not_enabled()).await);
    }
    match proof {
        Factor::Totp(code) => check_code(app, ctx, user, code, DISABLE_ACTION).await?,
        // A WebAuthn assertion in place of the code (`webauthn`).
        Factor::Webauthn(_) => {
            if !factor::verify(app, user, proof, ctx).await? {
                let e = ServiceError::invalid("resource.otp.invalid");
                return Err(refuse(app, ctx, user, DISABLE_ACTION, "WebAuthn assertion is invalid", e).await);
            }
        }
    }
    let now = app.clock.now();
    let off = UserRow { otp: false, updated_at: now, ..user.clone() };
    let updated = events::user_updated_events(app, user, &off).await;
    if !app.store.disable_otp_with_events(user.id, now, &updated).await? {
        return Err(not_enabled());
    }
    levels::recompute(app, &off).await?;
    activity::record(app, ctx, user.id, "otp", DISABLE_ACTION, Outcome::Succeed, None).await;
    tracing::info!(uid = %user.uid, "2FA disabled");
    Ok(())
}

/// `POST otp/verify`: checks a code and changes nothing else.
///
/// Barong answered a user without 2FA with `resource.otp.already_enabled` here, a wrong key
/// (docs/barong-weaknesses-fixed.md#w-otp-verify-key). We answer `resource.otp.not_enabled`, the
/// key `otp/disable` gives for the same condition: the status (400) is unchanged, and a client
/// that shows the key's message now shows the true one.
pub async fn verify(app: &App, user: &UserRow, code: &str, ctx: &RequestContext) -> ServiceResult<()> {
    if !user.otp {
        let e = ServiceError::rejected("resource.otp.not_enabled");
        return Err(refuse(app, ctx, user, VERIFY_ACTION, NOT_ENABLED, e).await);
    }
    check_code(app, ctx, user, code, VERIFY_ACTION).await
}

#[cfg(test)]
mod tests {
    use super::otpauth_url;

    #[test]
    fn url_has_vaults_shape() {
        assert_eq!(
            otpauth_url("Barong", "alice@example.com", "JBSWY3DPEHPK3PXP"),
            "otpauth://totp/Barong:alice@example.com?algorithm=SHA1&digits=6&issuer=Barong&period=30&secret=JBSWY3DPEHPK3PXP"
        );
        assert_eq!(
            otpauth_url("My Exchange", "a+b@x.io", "AB"),
            "otpauth://totp/My%20Exchange:a+b@x.io?algorithm=SHA1&digits=6&issuer=My+Exchange&period=30&secret=AB"
        );
    }

    #[test]
    fn url_round_trips_through_an_authenticator_parser() {
        let url = otpauth_url("Barong", "alice@example.com", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        let totp = totp_rs::TOTP::from_url_unchecked(&url).expect("parses");
        assert_eq!(totp.get_secret_base32(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!((totp.digits, totp.step), (6, 30));
        assert_eq!(totp.issuer.as_deref(), Some("Barong"));
        assert_eq!(totp.account_name, "alice@example.com");
    }
}
