//! The log subscriber: `log_level` (or `RUST_LOG`) filters, `log_format` picks text for people
//! or one JSON object a line for shippers. Either way a line written inside a request carries
//! the request span's fields (request id, method, route template, client IP).

use std::io::IsTerminal;

use crate::config::operability::LogFormat;

pub fn init(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_target(false).with_ansi(std::io::stderr().is_terminal()).init(),
        // The current span's fields flattened into `span`, not the whole list: one request span
        // is all there is, and shippers index flat keys.
        LogFormat::Json => builder.json().with_current_span(true).with_span_list(false).init(),
    }
}
