//! What every handler receives about its request (built by the filter in `request.rs`).

use warp::http::{HeaderMap, Method};

use crate::http::body::UploadSlot;
use crate::http::params::Params;
use crate::services::context::RequestContext;
use crate::services::error::ServiceResult;
use crate::store::UserRow;

/// Everything a handler receives about its request.
pub struct Incoming {
    pub ctx: RequestContext,
    pub params: ServiceResult<Params>,
    pub headers: HeaderMap,
    pub method: Method,
    /// The path and the raw query string as received (for pagination links).
    pub path: String,
    pub query: String,
    /// An upload is authenticated before its body is read: the outcome, so the handler does not
    /// authenticate twice (an API-key nonce is good once).
    pub authenticated: Option<ServiceResult<UserRow>>,
    /// The body as received (shared, not copied), for signatures over the exact bytes (the KYC
    /// provider's callback); empty when it could not be read.
    pub raw_body: bytes::Bytes,
    /// Held for the whole request when its body may be as large as an upload.
    pub upload_slot: Option<UploadSlot>,
}

impl Incoming {
    /// The parsed parameters, or the body error to answer with.
    pub fn params(&self) -> ServiceResult<&Params> {
        self.params.as_ref().map_err(Clone::clone)
    }
}
