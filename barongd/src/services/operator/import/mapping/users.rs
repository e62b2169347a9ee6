//! users and service accounts (spec §2.5, §2.7, §2.8.1).

use super::{Ctx, Mapping, Skip, UserInfo, int, opt_int, opt_text, row, text};
use crate::services::identity::legacy_passwords;
use crate::services::operator::import::report::Item;
use crate::services::operator::import::source::rows::{ServiceAccount, User};
use crate::store::import::{TableSpec, TargetRow, Val};
use crate::store::import_tables as t;

/// The stored digest of a user whose Barong digest is not bcrypt (`users/import` saved any
/// string): a `$2` value no bcrypt variant accepts, so sign-in burns the same dummy work as for
/// a wrong password and refuses (services/identity/passwords.rs), and the legacy count, which
/// only counts accepted prefixes, ignores it. The user resets the password by email.
pub const UNUSABLE_DIGEST: &str = "$2-unusable-imported-from-barong";

impl Mapping for User {
    const SPEC: &'static TableSpec = &t::USERS;

    fn extras(&self, ctx: &mut Ctx) -> String {
        // A seed that became available (or went away) rewrites the user.
        let seed = self.otp == Some(1) && ctx.secrets.has_totp(&self.uid);
        format!("seed={seed}")
    }

    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        let uid = Some(self.uid.as_str());
        let email = self.email.trim();
        let email_key = email.to_lowercase();
        if let Some(holder) = ctx.email_keys.get(&email_key)
            && *holder != self.id
        {
            return Err(Box::new(
                Item::new("email_conflict", "users", self.id).uid(uid).detail(format!("same email as user {holder}")),
            ));
        }
        ctx.email_keys.insert(email_key.clone(), self.id);
        if let Some(name) = &self.username
            && (!(4..=12).contains(&name.len()) || !name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
        {
            ctx.report.item(Item::new("value_nonconforming", "users", self.id).uid(uid).detail("username"));
        }
        let digest = if legacy_passwords::accepted(&self.password_digest) {
            *ctx.report.passwords.bcrypt.entry(self.password_digest[..6].to_string()).or_default() += 1;
            self.password_digest.clone()
        } else {
            ctx.report.passwords.unusable += 1;
            ctx.report.item(Item::new("password_unusable", "users", self.id).uid(uid));
            UNUSABLE_DIGEST.to_string()
        };
        if !ctx.roles_with_permissions.contains(&self.role) {
            let detail = format!("role '{}' has no permission row", self.role);
            if !ctx.report.warnings.iter().any(|w| w.detail == detail) {
                ctx.report.warn("role_without_permissions", detail);
            }
        }
        if let Some(data) = &self.data
            && serde_json::from_str::<serde_json::Value>(data).is_err()
        {
            ctx.report.item(Item::new("value_nonconforming", "users", self.id).uid(uid).detail("data is not JSON"));
        }
        let otp = self.otp == Some(1);
        let mut sealed_seed = None;
        if otp {
            ctx.report.secrets.totp.needed += 1;
            match ctx.secrets.totp_seed(&self.uid) {
                Ok(seed) => {
                    ctx.report.secrets.totp.carried += 1;
                    sealed_seed = Some(ctx.sealer.seal(&seed));
                }
                Err(code) => {
                    // The safe state (§2.8.5): otp stays on, no seed.
                    ctx.report.secrets.totp.missing += 1;
                    if code == "totp_invalid" || code == "totp_unsupported" {
                        ctx.report.secrets.totp.invalid += 1;
                    }
                    ctx.report.item(Item::new(code, "users", self.id).uid(uid));
                    if code != "totp_missing" {
                        ctx.report.item(Item::new("totp_missing", "users", self.id).uid(uid));
                    }
                }
            }
        } else if ctx.secrets.has_totp(&self.uid) {
            // A stale Vault key must not become active.
            ctx.report.secrets.totp.unused += 1;
            ctx.report.item(Item::new("totp_unused", "users", self.id).uid(uid));
        }
        if let Some(referrer) = self.referral_id {
            ctx.referrals.push((self.id, referrer));
        }
        ctx.users
            .insert(self.id, UserInfo { uid: self.uid.clone(), otp, state: self.state.clone(), level: self.level });
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                text(&self.uid),
                opt_text(self.username.as_deref()),
                text(email),
                text(&email_key),
                text(&digest),
                text(&self.role),
                opt_text(self.data.as_deref()),
                int(self.level),
                Val::Bool(otp),
                text(&self.state),
                // Referrers may come later in id order: linked in the post-pass (§2.4 phase 8).
                opt_int(None),
                text(&language(self.data.as_deref(), &ctx.config.default_language)),
                opt_text(sealed_seed.as_deref()),
                int(0),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

/// The mail language from `users.data` (`{"language":"en"}`), else the configured default.
fn language(data: Option<&str>, default: &str) -> String {
    data.and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .and_then(|v| v.get("language").and_then(|l| l.as_str()).map(str::to_string))
        .filter(|l| (2..=5).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_'))
        .unwrap_or_else(|| default.to_string())
}

impl Mapping for ServiceAccount {
    const SPEC: &'static TableSpec = &t::SERVICE_ACCOUNTS;

    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        let owner = match self.owner_id {
            Some(o) if ctx.users.contains_key(&o) => Some(o),
            Some(o) => {
                ctx.report.warn("owner_dangling", format!("service account {} names missing owner {o}", self.uid));
                None
            }
            None => None,
        };
        ctx.service_accounts.insert(self.id, self.uid.clone());
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                text(&self.uid),
                opt_int(owner),
                text(self.email.trim()),
                text(&self.role),
                int(self.level),
                text(&self.state),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unusable_digest_is_never_verified_nor_counted() {
        assert!(legacy_passwords::is_legacy(UNUSABLE_DIGEST));
        assert!(!legacy_passwords::accepted(UNUSABLE_DIGEST));
        assert_eq!(legacy_passwords::accepted_cost(&UNUSABLE_DIGEST[..7]), None);
    }

    #[test]
    fn language_comes_from_user_data() {
        assert_eq!(language(Some(r#"{"language":"ru"}"#), "en"), "ru");
        assert_eq!(language(Some("not json"), "en"), "en");
        assert_eq!(language(None, "de"), "de");
    }
}
