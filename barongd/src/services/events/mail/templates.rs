//! Mail templates: built in, or from `mailer.templates_dir`, per language.

use std::collections::HashMap;
use std::path::Path;

use super::kind::{MailError, MailKind};

/// Client-supplied values (user agent) are capped so a hostile header cannot bloat every mail.
pub(super) const MAX_CLIENT_VALUE_CHARS: usize = 300;
/// A reviewer's reason is capped by the socket and the Admin API already; this is a last guard.
const MAX_REASON_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum TemplateName {
    EmailConfirmation,
    PasswordReset,
    PasswordChanged,
    NewLogin,
    OtpReset,
    KycRejected,
}

impl TemplateName {
    /// The template a mail is rendered with.
    pub(super) fn of(mail: &MailKind) -> TemplateName {
        match mail {
            MailKind::EmailConfirmation { .. } => TemplateName::EmailConfirmation,
            MailKind::PasswordReset { .. } => TemplateName::PasswordReset,
            MailKind::PasswordChanged => TemplateName::PasswordChanged,
            MailKind::NewLogin { .. } => TemplateName::NewLogin,
            MailKind::OtpReset => TemplateName::OtpReset,
            MailKind::KycRejected { .. } => TemplateName::KycRejected,
        }
    }

    pub(super) const ALL: [TemplateName; 6] = [
        TemplateName::EmailConfirmation,
        TemplateName::PasswordReset,
        TemplateName::PasswordChanged,
        TemplateName::NewLogin,
        TemplateName::OtpReset,
        TemplateName::KycRejected,
    ];

    pub(super) fn file_stem(self) -> &'static str {
        match self {
            TemplateName::EmailConfirmation => "email_confirmation",
            TemplateName::PasswordReset => "password_reset",
            TemplateName::PasswordChanged => "password_changed",
            TemplateName::NewLogin => "new_login",
            TemplateName::OtpReset => "otp_reset",
            TemplateName::KycRejected => "kyc_rejected",
        }
    }
}

/// Embedded so the daemon works without any files around it.
const BUILT_IN: [(&str, TemplateName, &str); 12] = [
    ("en", TemplateName::EmailConfirmation, include_str!("../../../../../config/templates/en/email_confirmation.txt")),
    ("en", TemplateName::PasswordReset, include_str!("../../../../../config/templates/en/password_reset.txt")),
    ("en", TemplateName::PasswordChanged, include_str!("../../../../../config/templates/en/password_changed.txt")),
    ("en", TemplateName::NewLogin, include_str!("../../../../../config/templates/en/new_login.txt")),
    ("en", TemplateName::OtpReset, include_str!("../../../../../config/templates/en/otp_reset.txt")),
    ("en", TemplateName::KycRejected, include_str!("../../../../../config/templates/en/kyc_rejected.txt")),
    ("ru", TemplateName::EmailConfirmation, include_str!("../../../../../config/templates/ru/email_confirmation.txt")),
    ("ru", TemplateName::PasswordReset, include_str!("../../../../../config/templates/ru/password_reset.txt")),
    ("ru", TemplateName::PasswordChanged, include_str!("../../../../../config/templates/ru/password_changed.txt")),
    ("ru", TemplateName::NewLogin, include_str!("../../../../../config/templates/ru/new_login.txt")),
    ("ru", TemplateName::OtpReset, include_str!("../../../../../config/templates/ru/otp_reset.txt")),
    ("ru", TemplateName::KycRejected, include_str!("../../../../../config/templates/ru/kyc_rejected.txt")),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    pub(super) subject: String,
    pub(super) body: String,
}

/// `Subject: …`, a blank line, then the body.
pub(super) fn parse_template(text: &str) -> Result<Template, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
    let first = first.trim_end_matches('\r');
    let subject = first
        .strip_prefix("Subject:")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or("the first line must be `Subject: ...`")?;
    let body = match rest.split_once('\n') {
        Some((blank, body)) if blank.trim().is_empty() => body,
        None if rest.trim().is_empty() => "",
        _ => return Err("the subject line must be followed by a blank line".into()),
    };
    Ok(Template { subject: subject.to_string(), body: format!("{}\n", body.trim_end()) })
}

/// All templates, loaded once: no disk reads per message.
pub(super) struct Templates {
    pub(super) by_lang: HashMap<String, HashMap<TemplateName, Template>>,
    pub(super) default_language: String,
}

impl Templates {
    pub(super) fn load(templates_dir: &str, default_language: &str) -> Result<Templates, String> {
        let mut by_lang: HashMap<String, HashMap<TemplateName, Template>> = HashMap::new();
        for (lang, name, text) in BUILT_IN {
            let t = parse_template(text).map_err(|e| format!("built-in template {lang}/{}: {e}", name.file_stem()))?;
            by_lang.entry(lang.to_string()).or_default().insert(name, t);
        }
        if !templates_dir.is_empty() {
            Self::load_dir(Path::new(templates_dir), &mut by_lang).map_err(|e| format!("mailer.templates_dir: {e}"))?;
        }
        Ok(Templates { by_lang, default_language: default_language.to_string() })
    }

    /// Overrides built-ins with `<dir>/<lang>/<name>.txt`; absent files keep the built-in.
    fn load_dir(dir: &Path, by_lang: &mut HashMap<String, HashMap<TemplateName, Template>>) -> Result<(), String> {
        let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            let Some(lang) = entry.file_name().to_str().and_then(sanitize_lang).map(str::to_string) else {
                continue;
            };
            if !entry.path().is_dir() {
                continue;
            }
            for name in TemplateName::ALL {
                let path = entry.path().join(format!("{}.txt", name.file_stem()));
                let text = match std::fs::read_to_string(&path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
                };
                let t = parse_template(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                by_lang.entry(lang.clone()).or_default().insert(name, t);
            }
        }
        Ok(())
    }

    /// `lang`, its base language (`pt` for `pt-BR`), the default language and its base, then `en`.
    pub(super) fn pick(&self, lang: &str, name: TemplateName) -> Option<&Template> {
        let mut chain: Vec<&str> = Vec::with_capacity(5);
        for l in [sanitize_lang(lang), sanitize_lang(&self.default_language)].into_iter().flatten() {
            chain.push(l);
            if let Some((base, _)) = l.split_once('-') {
                chain.push(base);
            }
        }
        chain.push("en");
        chain.into_iter().find_map(|l| self.by_lang.get(l).and_then(|m| m.get(&name)))
    }

    /// Subject and body (LF line endings) for `mail` to `email`.
    pub(super) fn render(&self, lang: &str, mail: &MailKind, email: &str) -> Result<(String, String), MailError> {
        let name = TemplateName::of(mail);
        let template =
            self.pick(lang, name).ok_or_else(|| MailError::Build(format!("no template {}", name.file_stem())))?;
        let email = clean_value(email, usize::MAX);
        let mut vars: Vec<(&str, String)> = vec![("email", email)];
        match mail {
            MailKind::EmailConfirmation { link } | MailKind::PasswordReset { link } => {
                // Never truncated: a cut link is useless.
                vars.push(("link", clean_value(link, usize::MAX)));
            }
            MailKind::PasswordChanged | MailKind::OtpReset => {}
            MailKind::KycRejected { check, reason } => {
                vars.push(("check", clean_value(check, MAX_CLIENT_VALUE_CHARS)));
                // The reviewer's words, kept whole; line breaks survive, other controls do not.
                let reason = reason.as_deref().filter(|r| !r.trim().is_empty()).unwrap_or("—");
                let lines: Vec<String> = reason.lines().map(|l| clean_value(l, MAX_REASON_CHARS)).collect();
                vars.push(("reason", lines.join("\n")));
            }
            MailKind::NewLogin { ip, user_agent } => {
                vars.push(("ip", clean_value(ip, MAX_CLIENT_VALUE_CHARS)));
                vars.push(("user_agent", clean_value(user_agent, MAX_CLIENT_VALUE_CHARS)));
            }
        }
        let subject = clean_value(&substitute(&template.subject, &vars), usize::MAX);
        let body = substitute(&template.body, &vars);
        Ok((subject, body))
    }
}

/// Only `xx` or `xx-YY`; anything else (including path tricks like `../x`) is refused.
pub(super) fn sanitize_lang(lang: &str) -> Option<&str> {
    let b = lang.as_bytes();
    let lower2 = |s: &[u8]| s.iter().all(u8::is_ascii_lowercase);
    let ok = match b.len() {
        2 => lower2(b),
        5 => lower2(&b[..2]) && b[2] == b'-' && b[3..].iter().all(u8::is_ascii_uppercase),
        _ => false,
    };
    ok.then_some(lang)
}

/// Values may come from clients (user agent): no control characters, so they cannot add header
/// lines to the subject or forge lines in the body.
pub(super) fn clean_value(value: &str, max_chars: usize) -> String {
    let cleaned: String = value.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    truncate_chars(&cleaned, max_chars)
}

/// Replaces `{{key}}` in one pass, so a value containing `{{…}}` is never expanded itself.
/// Unknown placeholders stay as written.
pub(super) fn substitute(text: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(text.len() + 256);
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}") {
            Some(end) => {
                let key = after[..end].trim();
                match vars.iter().find(|(k, _)| *k == key) {
                    Some((_, v)) => out.push_str(v),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

pub(super) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}
