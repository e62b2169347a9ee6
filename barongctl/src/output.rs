//! Printing replies: comfy-table for people, one JSON document for scripts. The tables themselves
//! are drawn by each noun's printers; this module only picks the printer for a reply.

use std::process::ExitCode;

use clap::ValueEnum;
use common::admin::{Reply, ReplyData, Request};

use crate::{
    activity, apikey, backup, comment, gateway, keys, kyc, label, management, master_key, metrics, migrate,
    restriction, seed, service_account, status, user,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The refusal code the daemon answers a change that needs `--yes` with.
pub const CONFIRMATION_REQUIRED: &str = "operator.confirmation_required";

/// Whether the daemon asks for a confirmation.
pub fn asks_confirmation(reply: &Reply) -> bool {
    !reply.ok && reply.error.as_ref().is_some_and(|e| e.code == CONFIRMATION_REQUIRED)
}

/// As [`print`], worded for the request where a table alone would not say what happened.
pub fn print_for(request: &Request, reply: Reply, format: Format) -> ExitCode {
    if let (Request::RestrictionRemove { .. }, Some(ReplyData::Restriction(r)), Format::Text) =
        (request, &reply.data, format)
    {
        restriction::print_removed(r);
        return ExitCode::SUCCESS;
    }
    print(reply, format)
}

pub fn print(reply: Reply, format: Format) -> ExitCode {
    if !reply.ok {
        let (code, message) = reply.error.map(|e| (e.code, e.message)).unwrap_or_default();
        if format == Format::Json {
            println!("{}", serde_json::json!({"ok": false, "error": {"code": code, "message": message}}));
        }
        eprintln!("barongctl: refused: {}", refusal_line(&code, &message));
        return ExitCode::from(1);
    }
    let Some(data) = reply.data else { return ExitCode::SUCCESS };
    // Its own printer: the exit code follows the report (1 when it holds errors).
    if let ReplyData::ManagementCheck(r) = &data {
        return management::print(r, format == Format::Json);
    }
    if format == Format::Json {
        return print_json(&data);
    }
    print_text(data);
    ExitCode::SUCCESS
}

/// The code once, then the daemon's explanation when it gave one beyond the code itself.
fn refusal_line(code: &str, message: &str) -> String {
    if message.is_empty() || message == code {
        code.to_string()
    } else if message.starts_with(code) {
        message.to_string()
    } else {
        format!("{code}: {message}")
    }
}

fn print_json(data: &ReplyData) -> ExitCode {
    let doc = match data {
        ReplyData::Status(s) => serde_json::to_value(s),
        ReplyData::User(u) => serde_json::to_value(u),
        ReplyData::Users { total, page, limit, users } => {
            Ok(serde_json::json!({"total": total, "page": page, "limit": limit, "users": users}))
        }
        ReplyData::Migrations { migrations } => serde_json::to_value(migrations),
        ReplyData::UserDetail(d) => serde_json::to_value(d),
        ReplyData::ServiceAccount(sa) => serde_json::to_value(sa),
        ReplyData::ServiceAccounts { service_accounts } => serde_json::to_value(service_accounts),
        ReplyData::ApiKey(k) => serde_json::to_value(k),
        ReplyData::ApiKeys { api_keys } => serde_json::to_value(api_keys),
        ReplyData::Restriction(r) => serde_json::to_value(r),
        ReplyData::Restrictions { restrictions } => serde_json::to_value(restrictions),
        ReplyData::Whitelink(w) => serde_json::to_value(w),
        ReplyData::SigningKey(k) => serde_json::to_value(k),
        ReplyData::SigningKeys { keys } => serde_json::to_value(keys),
        ReplyData::KeyImported(k) => serde_json::to_value(k),
        ReplyData::PublicKey(k) => serde_json::to_value(k),
        ReplyData::Permission(p) => serde_json::to_value(p),
        ReplyData::Permissions { permissions } => serde_json::to_value(permissions),
        ReplyData::PermissionsLoaded { added, existing } => {
            Ok(serde_json::json!({"added": added, "existing": existing}))
        }
        ReplyData::Labels { labels } => serde_json::to_value(labels),
        ReplyData::Seeded { levels, permissions, users, restrictions } => Ok(serde_json::json!({
            "levels": levels, "permissions": permissions, "users": users, "restrictions": restrictions
        })),
        ReplyData::Profile(p) => serde_json::to_value(p),
        ReplyData::KycQueue { items } => serde_json::to_value(items),
        ReplyData::KycCase(c) => serde_json::to_value(c),
        ReplyData::KycFile(f) => serde_json::to_value(f),
        ReplyData::KycHistory { decisions } => serde_json::to_value(decisions),
        ReplyData::AdminUser(u) => serde_json::to_value(u),
        ReplyData::TwoFactorReset(r) => serde_json::to_value(r),
        ReplyData::WebauthnCredentials { credentials, .. } => serde_json::to_value(credentials),
        ReplyData::Comments { comments, .. } => serde_json::to_value(comments),
        // The Admin API's entities with the count its `Total` header carries.
        ReplyData::UserActivities { total, items } => Ok(serde_json::json!({"total": total, "items": items})),
        ReplyData::AdminActivities { total, items } => Ok(serde_json::json!({"total": total, "items": items})),
        ReplyData::Metrics(m) => serde_json::to_value(m),
        ReplyData::ManagementCheck(r) => serde_json::to_value(r),
        ReplyData::ImportStatus(s) => serde_json::to_value(s),
        ReplyData::ImportReport { report } => Ok(report.clone()),
        ReplyData::Staged { file, bytes } => Ok(serde_json::json!({"file": file, "bytes": bytes})),
        ReplyData::Backup(b) => serde_json::to_value(b),
        ReplyData::MasterKey(m) => serde_json::to_value(m),
    };
    match doc {
        Ok(v) => {
            println!("{v}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("barongctl: cannot encode output: {e}");
            ExitCode::from(1)
        }
    }
}

fn print_text(data: ReplyData) {
    match data {
        ReplyData::Status(s) => status::print_status(s),
        ReplyData::User(u) => user::print_user(&u, None),
        ReplyData::Users { total, page, limit, users } => user::print_users(total, page, limit, users),
        ReplyData::Migrations { migrations } => migrate::print_migrations(migrations),
        // `user show` spans three nouns; composing it here keeps the noun modules independent.
        ReplyData::UserDetail(d) => {
            user::print_user(&d.user, Some(d.totp));
            if !d.api_keys.is_empty() {
                apikey::print_keys(&d.api_keys);
            }
            if !d.service_accounts.is_empty() {
                service_account::print_service_accounts(&d.service_accounts);
            }
        }
        ReplyData::ServiceAccount(sa) => service_account::print_service_accounts(&[sa]),
        ReplyData::ServiceAccounts { service_accounts } => service_account::print_service_accounts(&service_accounts),
        ReplyData::ApiKey(k) => apikey::print_keys(&[k]),
        ReplyData::ApiKeys { api_keys } => apikey::print_keys(&api_keys),
        ReplyData::Restriction(r) => restriction::print_restrictions(&[r]),
        ReplyData::Restrictions { restrictions } => restriction::print_restrictions(&restrictions),
        ReplyData::Whitelink(w) => restriction::print_whitelink(&w),
        ReplyData::SigningKey(k) => keys::print_keys(&[k]),
        ReplyData::SigningKeys { keys } => keys::print_keys(&keys),
        ReplyData::KeyImported(k) => keys::print_imported(&k),
        ReplyData::PublicKey(k) => keys::print_public(&k),
        ReplyData::Permission(p) => gateway::print_permissions(&[p]),
        ReplyData::Permissions { permissions } => gateway::print_permissions(&permissions),
        ReplyData::PermissionsLoaded { added, existing } => gateway::print_loaded(added, existing),
        ReplyData::Labels { labels } => label::print_labels(&labels),
        ReplyData::Seeded { levels, permissions, users, restrictions } => {
            seed::print_seeded(levels, permissions, users, restrictions)
        }
        ReplyData::Profile(p) => kyc::print_profile(&p),
        ReplyData::KycQueue { items } => kyc::print_queue(&items),
        ReplyData::KycCase(c) => kyc::print_case(&c),
        ReplyData::KycFile(f) => println!("document {}: {} ({})", f.id, f.file, f.content_type),
        ReplyData::KycHistory { decisions } => kyc::print_history(&decisions),
        ReplyData::AdminUser(u) => user::print_admin_user(&u),
        ReplyData::TwoFactorReset(r) => user::print_two_factor_reset(&r),
        ReplyData::WebauthnCredentials { uid, credentials } => user::print_webauthn(&uid, &credentials),
        ReplyData::Comments { uid, comments } => comment::print_comments(&uid, &comments),
        ReplyData::UserActivities { total, items } => activity::print_user_log(total, &items),
        ReplyData::AdminActivities { total, items } => activity::print_admin_log(total, &items),
        ReplyData::Metrics(m) => metrics::print_metrics(&m),
        ReplyData::ManagementCheck(r) => {
            management::print(&r, false);
        }
        // `import` prints its own replies (import.rs); these arms keep the match whole.
        ReplyData::ImportStatus(s) => println!("{}", serde_json::to_string(&s).unwrap_or_default()),
        ReplyData::ImportReport { report } => println!("{report}"),
        ReplyData::Staged { file, bytes } => println!("staged file {file}: {bytes} bytes"),
        ReplyData::Backup(b) => backup::print_backup(&b),
        ReplyData::MasterKey(m) => master_key::print(&m),
    }
}

#[cfg(test)]
mod tests {
    use super::refusal_line;

    #[test]
    fn the_code_is_printed_once() {
        assert_eq!(refusal_line("user.not_found", "user.not_found"), "user.not_found");
        assert_eq!(refusal_line("user.not_found", ""), "user.not_found");
        assert_eq!(
            refusal_line("keys.pinned", "keys.pinned: unset JWT_PRIVATE_KEY_PATH"),
            "keys.pinned: unset JWT_PRIVATE_KEY_PATH"
        );
        assert_eq!(refusal_line("import.in_progress", "an import is open"), "import.in_progress: an import is open");
    }
}
