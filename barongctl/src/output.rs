//! Printing replies: comfy-table for people, one JSON document for scripts.

use std::process::ExitCode;

use clap::ValueEnum;
use common::admin::{ApiKeySummary, Reply, ReplyData};
use common::entities::{ServiceAccount, UserWithFullInfo};

use crate::table::table;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn print(reply: Reply, format: Format) -> ExitCode {
    if !reply.ok {
        let (code, message) = reply.error.map(|e| (e.code, e.message)).unwrap_or_default();
        if format == Format::Json {
            println!("{}", serde_json::json!({"ok": false, "error": {"code": code, "message": message}}));
        }
        eprintln!("barongctl: refused: {message} ({code})");
        return ExitCode::from(1);
    }
    let Some(data) = reply.data else { return ExitCode::SUCCESS };
    if format == Format::Json {
        let doc = match &data {
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
        };
        match doc {
            Ok(v) => println!("{v}"),
            Err(e) => {
                eprintln!("barongctl: cannot encode output: {e}");
                return ExitCode::from(1);
            }
        }
        return ExitCode::SUCCESS;
    }
    match data {
        ReplyData::Status(s) => {
            let mut t = table(&["setting", "value"]);
            t.add_row(vec!["version".into(), s.version]);
            t.add_row(vec!["listen".into(), s.listen]);
            t.add_row(vec!["database".into(), s.database]);
            t.add_row(vec!["uptime".into(), format!("{} s", s.uptime_seconds)]);
            t.add_row(vec!["users".into(), s.users.to_string()]);
            t.add_row(vec!["mail waiting".into(), s.pending_mail.to_string()]);
            t.add_row(vec!["events waiting".into(), s.pending_events.to_string()]);
            println!("{t}");
        }
        ReplyData::User(u) => print_user(&u),
        ReplyData::Users { total, page, limit, users } => {
            let mut t = table(&["uid", "email", "username", "role", "level", "state", "otp", "created"]);
            for u in users {
                t.add_row(vec![
                    u.uid,
                    u.email,
                    u.username.unwrap_or_default(),
                    u.role,
                    u.level.to_string(),
                    u.state,
                    u.otp.to_string(),
                    u.created_at,
                ]);
            }
            println!("{t}");
            println!("page {page} of {} ({total} users)", (total + limit - 1).max(1) / limit.max(1));
        }
        ReplyData::Migrations { migrations } => {
            let mut t = table(&["version", "name", "state", "applied at"]);
            for m in migrations {
                let state = if m.applied { "applied" } else { "pending" };
                t.add_row(vec![m.version.to_string(), m.name, state.into(), m.applied_at.unwrap_or_default()]);
            }
            println!("{t}");
        }
        ReplyData::UserDetail(d) => {
            print_user(&d.user);
            if !d.api_keys.is_empty() {
                print_keys(&d.api_keys);
            }
            if !d.service_accounts.is_empty() {
                print_service_accounts(&d.service_accounts);
            }
        }
        ReplyData::ServiceAccount(sa) => print_service_accounts(&[sa]),
        ReplyData::ServiceAccounts { service_accounts } => print_service_accounts(&service_accounts),
        ReplyData::ApiKey(k) => print_keys(&[k]),
        ReplyData::ApiKeys { api_keys } => print_keys(&api_keys),
        ReplyData::Restriction(r) => crate::restriction::print_restrictions(&[r]),
        ReplyData::Restrictions { restrictions } => crate::restriction::print_restrictions(&restrictions),
        ReplyData::Whitelink(w) => crate::restriction::print_whitelink(&w),
        ReplyData::SigningKey(k) => crate::gateway::print_keys(&[k]),
        ReplyData::SigningKeys { keys } => crate::gateway::print_keys(&keys),
        ReplyData::Permission(p) => crate::gateway::print_permissions(&[p]),
        ReplyData::Permissions { permissions } => crate::gateway::print_permissions(&permissions),
        ReplyData::PermissionsLoaded { added, existing } => {
            println!("{added} permissions added, {existing} already present")
        }
        ReplyData::Labels { labels } => crate::label::print_labels(&labels),
        ReplyData::Seeded { levels, permissions, users, restrictions } => {
            println!("added {levels} levels, {permissions} permissions, {users} users, {restrictions} restrictions")
        }
        ReplyData::Profile(p) => crate::kyc::print_profile(&p),
        ReplyData::KycQueue { items } => crate::kyc::print_queue(&items),
    }
    ExitCode::SUCCESS
}

fn print_keys(keys: &[ApiKeySummary]) {
    if keys.is_empty() {
        println!("no API keys");
        return;
    }
    let mut t = table(&["kid", "holder", "algorithm", "scope", "state", "created", "updated"]);
    for k in keys {
        t.add_row(vec![
            k.kid.clone(),
            format!("{} ({})", k.holder_uid, k.holder_type),
            k.algorithm.clone(),
            k.scope.join(","),
            k.state.clone(),
            k.created_at.clone(),
            k.updated_at.clone(),
        ]);
    }
    println!("{t}");
}

fn print_service_accounts(accounts: &[ServiceAccount]) {
    if accounts.is_empty() {
        println!("no service accounts");
        return;
    }
    let mut t = table(&["uid", "owner id", "email", "role", "level", "state", "created"]);
    for sa in accounts {
        t.add_row(vec![
            sa.uid.clone(),
            sa.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            sa.email.clone(),
            sa.role.clone(),
            sa.level.to_string(),
            sa.state.clone(),
            sa.created_at.clone(),
        ]);
    }
    println!("{t}");
}

fn print_user(u: &UserWithFullInfo) {
    let mut t = table(&["field", "value"]);
    for (k, v) in [
        ("uid", u.uid.clone()),
        ("email", u.email.clone()),
        ("username", u.username.clone().unwrap_or_default()),
        ("role", u.role.clone()),
        ("level", u.level.to_string()),
        ("state", u.state.clone()),
        ("otp", u.otp.to_string()),
        ("referral", u.referral_uid.clone().unwrap_or_default()),
        ("created", u.created_at.clone()),
        ("updated", u.updated_at.clone()),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    let labels: Vec<String> = u.labels.iter().map(|l| format!("{}={} ({})", l.key, l.value, l.scope)).collect();
    t.add_row(vec!["labels".to_string(), labels.join(", ")]);
    println!("{t}");
}
