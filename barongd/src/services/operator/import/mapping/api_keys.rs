//! apikeys (spec §2.5, §2.8.2): holder checked, scope parsed, the secret carried from wherever
//! it is available and sealed; a key without one is imported disabled with no secret.

use barong_legacy::scope;

use super::{Ctx, Mapping, Skip, int, row, text};
use crate::services::operator::import::report::Item;
use crate::services::operator::import::source::rows::ApiKey;
use crate::store::import::{TableSpec, TargetRow, Val};
use crate::store::import_tables as t;

impl ApiKey {
    /// The holder's uid, or why the key is an orphan.
    fn holder_uid(&self, ctx: &Ctx) -> Result<String, Skip> {
        let found = match self.key_holder_account_type.as_str() {
            "User" => ctx.uid_of(self.key_holder_account_id).map(str::to_string),
            "ServiceAccount" => ctx.service_accounts.get(&self.key_holder_account_id).cloned(),
            _ => None,
        };
        found.ok_or_else(|| {
            Box::new(
                Item::new("orphan", "apikeys", self.id)
                    .kid(&self.kid)
                    .detail(format!("holder {} {} missing", self.key_holder_account_type, self.key_holder_account_id)),
            )
        })
    }
}

impl Mapping for ApiKey {
    const SPEC: &'static TableSpec = &t::API_KEYS;

    fn extras(&self, ctx: &mut Ctx) -> String {
        let carried = ctx.secrets.api_key_secret(&self.kid, self.secret_encrypted.as_deref()).is_ok();
        format!("secret={carried}")
    }

    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        let holder = self.holder_uid(ctx)?;
        let item = |code: &str| Item::new(code, "apikeys", self.id).uid(Some(&holder)).kid(&self.kid);
        let mut active = self.state == "active";
        if !active && self.state != "inactive" {
            ctx.report.item(item("value_nonconforming").detail(format!("state '{}' imported disabled", self.state)));
        }
        if self.algorithm != "HS256" {
            ctx.report.item(item("algorithm_unsupported"));
            active = false;
        }
        let scopes = match scope::parse(self.scope.as_deref()) {
            Ok(s) => s,
            Err(_) => {
                ctx.report.item(item("scope_unparseable"));
                active = false;
                Vec::new()
            }
        };
        ctx.report.secrets.api_keys.total += 1;
        let mut unavailable = false;
        let sealed = match ctx.secrets.api_key_secret(&self.kid, self.secret_encrypted.as_deref()) {
            Ok((secret, source)) => {
                ctx.report.secrets.api_keys.carried += 1;
                *ctx.report.secrets.api_keys.by_source.entry(source.to_string()).or_default() += 1;
                ctx.sealer.seal(secret.as_bytes())
            }
            Err(code) => {
                // `secret_unavailable` (§2.8.5): disabled, no secret.
                ctx.report.secrets.api_keys.unavailable += 1;
                ctx.report.item(item(code));
                active = false;
                unavailable = true;
                String::new()
            }
        };
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                int(self.key_holder_account_id),
                text(&self.key_holder_account_type),
                text(&self.kid),
                text(&self.algorithm),
                text(&serde_json::to_string(&scopes).unwrap_or_else(|_| "[]".into())),
                text(&sealed),
                Val::Bool(unavailable),
                text(if active { "active" } else { "disabled" }),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}
