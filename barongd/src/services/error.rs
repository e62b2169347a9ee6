//! The service layer's one error type. It says what went wrong, by meaning, with Barong's error
//! keys; the HTTP layer alone turns the meaning into a status code (`http::reply`), and the admin
//! socket into its own `{code, message}` reply.

use crate::store::StoreError;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The input fails validation.
    Invalid,
    /// Something unique is taken (an email, a label key, an open profile).
    Conflict,
    /// Understood, but refused as things stand: already enabled, a limit reached, a wrong
    /// previous password, a captcha missing.
    Rejected,
    /// The request itself cannot be read: a malformed body, forbidden characters.
    Malformed,
    /// No valid credentials (or they no longer hold).
    Unauthenticated,
    /// Authenticated, but not allowed.
    Forbidden,
    NotFound,
    /// Too many attempts or sends; try again later.
    Throttled,
    /// The body is larger than accepted.
    TooLarge,
    /// The body's media type is not one the endpoint takes.
    UnsupportedMedia,
    /// The client stopped sending its request, or sends it too slowly.
    TimedOut,
    /// A restriction (maintenance, blacklist, …) applies; it carries the status code its rule names.
    Restricted(u16),
}

#[derive(Debug, Clone)]
pub enum ServiceError {
    /// A refusal the client caused, with one or more of Barong's keys
    /// (`identity.session.invalid_params`).
    Refused { why: Refusal, keys: Vec<String> },
    /// Something broke on our side; the text goes to the log only.
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn refused(why: Refusal, key: impl Into<String>) -> Self {
        ServiceError::Refused { why, keys: vec![key.into()] }
    }
    pub fn invalid(key: impl Into<String>) -> Self {
        Self::refused(Refusal::Invalid, key)
    }
    /// Validation errors, all at once, in the model's order.
    pub fn invalid_all(keys: Vec<String>) -> Self {
        ServiceError::Refused { why: Refusal::Invalid, keys }
    }
    pub fn conflict(key: impl Into<String>) -> Self {
        Self::refused(Refusal::Conflict, key)
    }
    pub fn rejected(key: impl Into<String>) -> Self {
        Self::refused(Refusal::Rejected, key)
    }
    pub fn malformed(key: impl Into<String>) -> Self {
        Self::refused(Refusal::Malformed, key)
    }
    pub fn unauthenticated(key: impl Into<String>) -> Self {
        Self::refused(Refusal::Unauthenticated, key)
    }
    pub fn forbidden(key: impl Into<String>) -> Self {
        Self::refused(Refusal::Forbidden, key)
    }
    pub fn not_found(key: impl Into<String>) -> Self {
        Self::refused(Refusal::NotFound, key)
    }
    pub fn throttled(key: impl Into<String>) -> Self {
        Self::refused(Refusal::Throttled, key)
    }
    pub fn too_large(key: impl Into<String>) -> Self {
        Self::refused(Refusal::TooLarge, key)
    }
    pub fn unsupported_media(key: impl Into<String>) -> Self {
        Self::refused(Refusal::UnsupportedMedia, key)
    }
    pub fn restricted(code: u16, key: impl Into<String>) -> Self {
        Self::refused(Refusal::Restricted(code), key)
    }
    pub fn internal(what: impl std::fmt::Display) -> Self {
        ServiceError::Internal(what.to_string())
    }
    /// The first key, for tests and the admin socket.
    pub fn key(&self) -> &str {
        match self {
            ServiceError::Refused { keys, .. } => keys.first().map(String::as_str).unwrap_or(""),
            ServiceError::Internal(_) => "server.internal_error",
        }
    }
    /// The keys of a validation failure, to merge with keys found later in the same request
    /// (Grape lists every parameter error at once); other errors are passed on.
    pub fn into_invalid_keys(self) -> ServiceResult<Vec<String>> {
        match self {
            ServiceError::Refused { why: Refusal::Invalid, keys } => Ok(keys),
            other => Err(other),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        ServiceError::Internal(e.to_string())
    }
}

impl std::fmt::Display for ServiceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServiceError::Refused { why, keys } => write!(f, "{why:?}: {}", keys.join(",")),
            ServiceError::Internal(m) => write!(f, "internal: {m}"),
        }
    }
}

impl std::error::Error for ServiceError {}
