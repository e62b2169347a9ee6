//! What a request's access-log line says beyond what the HTTP layer sees: who the caller turned
//! out to be and why it was refused. Both are recorded on the request span (the only span there
//! is), so every later line of the request carries them too, in text and JSON logs alike.

/// The caller is known: its uid goes on the request's log lines.
pub fn note_uid(uid: &str) {
    tracing::Span::current().record("uid", uid);
}

/// The request is refused with Barong's error `key` (the first of its `errors`).
pub fn note_error(key: &str) {
    tracing::Span::current().record("error", key);
}
