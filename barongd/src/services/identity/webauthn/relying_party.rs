//! The relying party: webauthn-rs configured from `webauthn_*`, and its ceremonies' states in a
//! form that survives the database between the two calls of a ceremony.
//!
//! `webauthn_user_verification: required` uses the library's passkeys (user verification on every
//! ceremony); `preferred` and `discouraged` its security keys (`discouraged`: presence only). A
//! stored credential is the library's `Credential` and serves either kind, so changing the setting
//! keeps every enrolled credential usable, under the new policy.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use webauthn_rs::prelude::{
    Credential, Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    SecurityKey, SecurityKeyAuthentication, SecurityKeyRegistration, Url, Uuid, WebauthnError,
};
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::config::Config;
use crate::config::values::WebauthnUserVerification;

pub struct RelyingParty {
    webauthn: Webauthn,
    passkeys: bool,
}

/// A registration in flight, as the kind that began it.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "state", rename_all = "snake_case")]
pub enum Registration {
    Passkey(PasskeyRegistration),
    SecurityKey(SecurityKeyRegistration),
}

/// An authentication in flight, as the kind that began it.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", content = "state", rename_all = "snake_case")]
pub enum Authentication {
    Passkey(PasskeyAuthentication),
    SecurityKey(SecurityKeyAuthentication),
}

/// A verified assertion: which credential, and its new counter and flags.
pub struct Asserted {
    pub credential_id: Vec<u8>,
    pub result: webauthn_rs::prelude::AuthenticationResult,
}

/// Why a ceremony's answer was refused.
#[derive(Debug)]
pub enum Refused {
    /// The authenticator's counter did not move past the stored one: a cloned authenticator.
    CounterRegressed,
    /// Anything else: wrong origin, challenge, signature, flags, or an unreadable answer.
    Invalid(WebauthnError),
}

impl RelyingParty {
    /// `None` when WebAuthn is off; an error (stopping start-up) when the library refuses the
    /// configuration the loader let through.
    pub fn new(c: &Config) -> Result<Option<Self>, String> {
        if !c.webauthn_enabled() {
            return Ok(None);
        }
        let origins: Vec<Url> = c
            .webauthn_origins
            .iter()
            .map(|o| Url::parse(o).map_err(|e| format!("webauthn_origins: {o}: {e}")))
            .collect::<Result<_, _>>()?;
        let Some((first, rest)) = origins.split_first() else { return Ok(None) };
        let rp_id = c.webauthn_rp_id.trim();
        let name = if c.webauthn_rp_name.is_empty() { c.app_name.as_str() } else { c.webauthn_rp_name.as_str() };
        let refused = |e: WebauthnError| format!("webauthn_rp_id `{rp_id}` with webauthn_origins: {e}");
        let mut builder = WebauthnBuilder::new(rp_id, first).map_err(refused)?.rp_name(name);
        for origin in rest {
            builder = builder.append_allowed_origin(origin);
        }
        let timeout = std::time::Duration::from_secs(c.webauthn_challenge_lifetime.max(1) as u64);
        let uv = c.webauthn_user_verification;
        let builder = builder
            .timeout(timeout)
            .danger_set_user_presence_only_security_keys(uv == WebauthnUserVerification::Discouraged);
        let webauthn = builder.build().map_err(refused)?;
        Ok(Some(RelyingParty { webauthn, passkeys: uv == WebauthnUserVerification::Required }))
    }

    /// Options for `navigator.credentials.create()` (the `publicKey` member) and the state.
    pub fn start_registration(
        &self,
        user_handle: Uuid,
        name: &str,
        exclude: Vec<Vec<u8>>,
    ) -> Result<(Value, Registration), WebauthnError> {
        let exclude = Some(exclude);
        let (options, state) = if self.passkeys {
            let (o, s) = self.webauthn.start_passkey_registration(user_handle, name, name, exclude)?;
            (serde_json::to_value(o), Registration::Passkey(s))
        } else {
            let (mut o, s) =
                self.webauthn.start_securitykey_registration(user_handle, name, name, exclude, None, None)?;
            // The library asks for credProtect "userVerificationRequired" with userVerification
            // "preferred"; Chromium refuses that pair outright (NotSupportedError), so no browser
            // could enrol. Verification stays as configured; only the extension goes.
            if let Some(ext) = o.public_key.extensions.as_mut() {
                ext.cred_protect = None;
            }
            (serde_json::to_value(o), Registration::SecurityKey(s))
        };
        Ok((public_key(options)?, state))
    }

    pub fn finish_registration(
        &self,
        answer: &RegisterPublicKeyCredential,
        state: &Registration,
    ) -> Result<Credential, WebauthnError> {
        Ok(match state {
            Registration::Passkey(s) => self.webauthn.finish_passkey_registration(answer, s)?.into(),
            Registration::SecurityKey(s) => self.webauthn.finish_securitykey_registration(answer, s)?.into(),
        })
    }

    /// Options for `navigator.credentials.get()` allowing `credentials`, and the state.
    pub fn start_authentication(&self, credentials: Vec<Credential>) -> Result<(Value, Authentication), WebauthnError> {
        let (options, state) = if self.passkeys {
            let keys: Vec<Passkey> = credentials.into_iter().map(Passkey::from).collect();
            let (o, s) = self.webauthn.start_passkey_authentication(&keys)?;
            (serde_json::to_value(o), Authentication::Passkey(s))
        } else {
            let keys: Vec<SecurityKey> = credentials.into_iter().map(SecurityKey::from).collect();
            let (o, s) = self.webauthn.start_securitykey_authentication(&keys)?;
            (serde_json::to_value(o), Authentication::SecurityKey(s))
        };
        Ok((public_key(options)?, state))
    }

    pub fn finish_authentication(
        &self,
        answer: &PublicKeyCredential,
        state: &Authentication,
    ) -> Result<Asserted, Refused> {
        let result = match state {
            Authentication::Passkey(s) => self.webauthn.finish_passkey_authentication(answer, s),
            Authentication::SecurityKey(s) => self.webauthn.finish_securitykey_authentication(answer, s),
        };
        match result {
            Ok(result) => Ok(Asserted { credential_id: result.cred_id().to_vec(), result }),
            Err(WebauthnError::CredentialPossibleCompromise) => Err(Refused::CounterRegressed),
            Err(e) => Err(Refused::Invalid(e)),
        }
    }
}

/// The inner `publicKey` object of the library's `{"publicKey": {...}}`: what the browser's
/// `parseCreationOptionsFromJSON()` / `parseRequestOptionsFromJSON()` take.
fn public_key(options: Result<Value, serde_json::Error>) -> Result<Value, WebauthnError> {
    let mut v = options.map_err(|_| WebauthnError::Configuration)?;
    v.get_mut("publicKey").map(Value::take).ok_or(WebauthnError::Configuration)
}

/// Applies a verified assertion's counter and flags to the stored credential.
pub fn updated(mut credential: Credential, asserted: &Asserted) -> Credential {
    let r = &asserted.result;
    if r.counter() > credential.counter {
        credential.counter = r.counter();
    }
    credential.backup_state = r.backup_state();
    credential.backup_eligible = r.backup_eligible();
    credential
}
