//! What a mail is about, and why one could not be queued.

use std::fmt;

use crate::store::StoreError;

/// What to send; the caller builds the links.
#[derive(Debug, Clone)]
pub enum MailKind {
    /// Registration confirmation: link `<frontend_url>/accounts/confirmation?confirmation_token=TOKEN&lang=LANG`
    EmailConfirmation { link: String },
    /// Password reset: link `<frontend_url>/accounts/password_reset?reset_token=TOKEN&lang=LANG`
    PasswordReset { link: String },
    /// Sent after a password reset or change.
    PasswordChanged,
    /// New login notice (Barong's "New Login" template): IP and user agent.
    NewLogin { ip: String, user_agent: String },
    /// An admin or the operator turned the user's 2FA off (W11: the reset is never silent, so
    /// a social-engineered reset reaches the account's real owner).
    OtpReset,
    /// A KYC reviewer rejected the user's `check` (`profile`, `document` or `address`), with the
    /// reason they gave, if any.
    KycRejected { check: String, reason: Option<String> },
}

#[derive(Debug)]
pub enum MailError {
    /// The message could not be rendered or built (e.g. an invalid recipient address).
    Build(String),
    /// The queue could not be written.
    Store(StoreError),
}

impl fmt::Display for MailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MailError::Build(m) => write!(f, "cannot build mail: {m}"),
            MailError::Store(e) => write!(f, "cannot queue mail: {e}"),
        }
    }
}

impl std::error::Error for MailError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MailError::Build(_) => None,
            MailError::Store(e) => Some(e),
        }
    }
}

impl From<StoreError> for MailError {
    fn from(e: StoreError) -> Self {
        MailError::Store(e)
    }
}
