//! The service layer's one error type. It carries Barong's status and error keys; the HTTP layer
//! renders it in one place and the admin socket turns it into `{code, message}`.

use crate::store::StoreError;

#[derive(Debug, Clone)]
pub enum ServiceError {
    /// A refusal the client caused: HTTP status and Barong keys (`identity.session.invalid_params`).
    Api { status: u16, keys: Vec<String> },
    /// Something broke on our side; the text goes to the log only.
    Internal(String),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    pub fn new(status: u16, key: impl Into<String>) -> Self {
        ServiceError::Api { status, keys: vec![key.into()] }
    }
    /// 422 with one or more keys.
    pub fn unprocessable(key: impl Into<String>) -> Self {
        Self::new(422, key)
    }
    pub fn keys(status: u16, keys: Vec<String>) -> Self {
        ServiceError::Api { status, keys }
    }
    pub fn internal(what: impl std::fmt::Display) -> Self {
        ServiceError::Internal(what.to_string())
    }
    /// The first key, for tests and the admin socket.
    pub fn key(&self) -> &str {
        match self {
            ServiceError::Api { keys, .. } => keys.first().map(String::as_str).unwrap_or(""),
            ServiceError::Internal(_) => "server.internal_error",
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
            ServiceError::Api { status, keys } => write!(f, "{status} {}", keys.join(",")),
            ServiceError::Internal(m) => write!(f, "internal: {m}"),
        }
    }
}

impl std::error::Error for ServiceError {}
