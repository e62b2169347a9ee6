//! The upstream JWT's `amr` claim (RFC 8176): how the session's login was proven. Barong's
//! claims are unchanged; `amr` is added for upstreams that want a second factor, or a
//! phishing-resistant one (`webauthn`), before a sensitive action.

/// A session's authentication methods, as `sessions.amr` stores them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Amr {
    /// The password alone (or an email-confirmation or Auth0 login without a second factor).
    Pwd,
    /// Password and a TOTP code.
    PwdOtp,
    /// Password and a WebAuthn assertion (passkey or security key).
    PwdWebauthn,
}

impl Amr {
    /// The stored form; anything unknown reads as the password alone (claims no more than that).
    pub fn parse(stored: &str) -> Amr {
        match stored {
            "pwd,otp" => Amr::PwdOtp,
            "pwd,webauthn" => Amr::PwdWebauthn,
            _ => Amr::Pwd,
        }
    }

    /// The claim's values.
    pub fn values(self) -> &'static [&'static str] {
        match self {
            Amr::Pwd => &["pwd"],
            Amr::PwdOtp => &["pwd", "otp"],
            Amr::PwdWebauthn => &["pwd", "webauthn"],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Amr;

    #[test]
    fn stored_forms_round_trip_and_unknown_is_the_password() {
        for a in [Amr::Pwd, Amr::PwdOtp, Amr::PwdWebauthn] {
            assert_eq!(Amr::parse(&a.values().join(",")), a);
        }
        assert_eq!(Amr::parse("hwk"), Amr::Pwd);
    }
}
