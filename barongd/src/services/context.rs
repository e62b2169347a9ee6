//! Who is asking: the facts about a request that services need, already parsed by the edge.

/// Client facts taken from the request (client IP resolved through trusted proxies).
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub ip: String,
    pub user_agent: Option<String>,
    /// The raw session id from the cookie, if any.
    pub session_id: Option<String>,
    pub request_id: String,
}
