//! The parts of identity mails that depend on the request and the configuration: links into
//! the front-end and the language of the message.

use crate::services::App;

/// A language code safe to store and to use in template lookups.
pub fn language(app: &App, lang: Option<&str>) -> String {
    match lang.map(str::trim) {
        Some(l) if (2..=5).contains(&l.len()) && l.chars().all(|c| c.is_ascii_alphabetic() || c == '-') => {
            l.to_ascii_lowercase()
        }
        _ => app.config.default_language.clone(),
    }
}

/// `<frontend_url><path>?<param>=<token>&lang=<lang>`, Barong's link form; without a
/// `frontend_url`, under `https://<domain>`.
pub fn link(app: &App, path: &str, param: &str, token: &str, lang: &str) -> String {
    let base = if app.config.frontend_url.is_empty() {
        format!("https://{}", app.config.domain)
    } else {
        app.config.frontend_url.trim_end_matches('/').to_string()
    };
    format!("{base}{path}?{param}={token}&lang={lang}")
}
