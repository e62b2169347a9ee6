//! profiles, phones and documents: PII decrypted and resealed (spec §2.6), document files
//! copied into barong-rs's upload store.

use std::path::PathBuf;

use super::{Ctx, Mapping, Skip, int, opt_int, opt_text, row, text};
use crate::services::kyc::file_store::FileStore;
use crate::services::kyc::{phones, uploads};
use crate::services::operator::import::pii::{Kind, seal};
use crate::services::operator::import::report::Item;
use crate::services::operator::import::source::rows::{Document, Phone, Profile};
use crate::services::seal::write_private_file;
use crate::store::import::{TableSpec, TargetRow, Val};
use crate::store::import_tables as t;

/// Barong's profile states (0 drafted, 1 submitted, 3 verified, 4 rejected) are barong-rs's codes.
fn profile_state(code: i64) -> Option<i64> {
    matches!(code, 0 | 1 | 3 | 4).then_some(code)
}

impl Mapping for Profile {
    const SPEC: &'static TableSpec = &t::PROFILES;

    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        let user_id = self.user_id.unwrap_or(0);
        let uid = ctx.owner("profiles", self.id, user_id)?.uid.clone();
        let state = match profile_state(self.state) {
            Some(s) => s,
            None => {
                ctx.report.item(Item::new("profile_bad_state", "profiles", self.id).uid(Some(&uid)));
                4
            }
        };
        if matches!(state, 0 | 1) && !ctx.open_profiles.insert(user_id) {
            ctx.report.warn("several_open_profiles", format!("user {uid} has more than one open profile"));
        }
        if state == 1 {
            ctx.report.review.profiles_submitted += 1;
        }
        let mut sealed = Vec::new();
        for (column, stored, kind) in [
            ("first_name", &self.first_name_encrypted, Kind::Text),
            ("last_name", &self.last_name_encrypted, Kind::Text),
            ("dob", &self.dob_encrypted, Kind::Date),
            ("address", &self.address_encrypted, Kind::Text),
        ] {
            let clear = ctx.pii.clear(&mut ctx.report, ("profiles", self.id, column), stored.as_deref(), kind);
            sealed.push(Val::OptText(clear.map(|c| seal(&ctx.sealer, &c))));
        }
        let mut values =
            vec![int(self.id), int(user_id), opt_text(self.author.as_deref()), opt_text(self.applicant_id.as_deref())];
        values.extend(sealed);
        values.extend([
            opt_text(self.postcode.as_deref()),
            opt_text(self.city.as_deref()),
            opt_text(self.country.as_deref()),
            int(state),
            opt_text(self.metadata.as_deref()),
            int(self.created_at),
            int(self.updated_at),
        ]);
        Ok(row(Self::SPEC, values))
    }
}

impl Mapping for Phone {
    const SPEC: &'static TableSpec = &t::PHONES;

    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        let uid = ctx.owner("phones", self.id, self.user_id)?.uid.clone();
        let at = ("phones", self.id, "number");
        let Some(number) = ctx.pii.clear(&mut ctx.report, at, Some(&self.number_encrypted), Kind::Text) else {
            // A phone without its number is nothing (§2.6).
            return Err(Box::new(
                Item::new("pii_undecryptable", "phones", self.id).uid(Some(&uid)).detail("phone skipped"),
            ));
        };
        ctx.pii.check_index(&mut ctx.report, at, &number, Some(self.number_index));
        let index = ctx.sealer.blind_index(phones::INDEX_DOMAIN, &number);
        let mut validated_at = self.validated_at;
        // barong-rs lets one user at most hold a verified number (a unique index); a second
        // verified holder is imported unverified and listed.
        if validated_at.is_some() && !ctx.verified_phones.insert(index.clone()) {
            ctx.report.item(Item::new("phone_shared", "phones", self.id).uid(Some(&uid)).detail("imported unverified"));
            validated_at = None;
        }
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                int(self.user_id),
                text(&self.country),
                text(&seal(&ctx.sealer, &number)),
                text(&index),
                opt_int(validated_at),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

impl Document {
    /// Where Barong's file is under `--uploads DIR` (`uploads/document/upload/<id>/<upload>`).
    fn source_file(&self, ctx: &Ctx) -> Option<PathBuf> {
        let dir = ctx.uploads.as_ref()?;
        let name = self.upload.as_deref().filter(|u| !u.is_empty() && !u.contains('/') && *u != ".." && *u != ".")?;
        Some(dir.join("uploads/document/upload").join(self.id.to_string()).join(name))
    }

    /// Copies the file into barong-rs's store under a fresh name; `Err(code)` when it cannot.
    fn copy_file(&self, ctx: &Ctx, path: &PathBuf) -> Result<String, &'static str> {
        let bytes = std::fs::read(path).map_err(|_| "file_missing")?;
        let name = self.upload.as_deref().unwrap_or_default();
        let mut errors = Vec::new();
        let accepted =
            uploads::check(&ctx.config, name, &bytes::Bytes::from(bytes), &mut errors).ok_or("file_rejected")?;
        match &ctx.files {
            FileStore::Local(dir) => {
                write_private_file(&dir.join(&accepted.name), &accepted.bytes).map_err(|_| "file_rejected")?
            }
            // Mapping is synchronous; the import runs on the daemon's multi-threaded runtime,
            // where this worker may block on the upload while others go on.
            FileStore::Bucket(b) => tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(b.put(&accepted.name, accepted.bytes.clone()))
            })
            .map_err(|e| {
                tracing::warn!(error = %e, "imported document file not stored in the bucket");
                "file_rejected"
            })?,
        }
        Ok(accepted.name)
    }
}

impl Mapping for Document {
    const SPEC: &'static TableSpec = &t::DOCUMENTS;

    fn extras(&self, ctx: &mut Ctx) -> String {
        format!("file={}", self.source_file(ctx).is_some_and(|p| p.is_file()))
    }

    fn map(&self, ctx: &mut Ctx, write: bool) -> Result<TargetRow, Skip> {
        let uid = ctx.owner("documents", self.id, self.user_id)?.uid.clone();
        let at = ("documents", self.id, "doc_number");
        let number = ctx.pii.clear(&mut ctx.report, at, self.doc_number_encrypted.as_deref(), Kind::Text);
        if let Some(n) = &number {
            ctx.pii.check_index(&mut ctx.report, at, n, self.doc_number_index);
        }
        if let Some(doc_type) = &self.doc_type
            && !ctx.config.document_types.iter().any(|d| d == doc_type)
        {
            ctx.report.item(Item::new("value_nonconforming", "documents", self.id).uid(Some(&uid)).detail("doc_type"));
        }
        // A document without a file keeps an empty upload name: reviewers see the row, and
        // barong-rs serves only names of its own form.
        let mut upload = String::new();
        match self.source_file(ctx) {
            None if ctx.uploads.is_none() => {}
            None => {
                ctx.report.files.missing += 1;
                ctx.report.item(Item::new("file_missing", "documents", self.id).uid(Some(&uid)));
            }
            Some(path) if !path.is_file() => {
                ctx.report.files.missing += 1;
                ctx.report.item(Item::new("file_missing", "documents", self.id).uid(Some(&uid)));
            }
            Some(path) if write && !ctx.dry_run => match self.copy_file(ctx, &path) {
                Ok(name) => {
                    ctx.report.files.copied += 1;
                    upload = name;
                }
                Err(code) => {
                    if code == "file_missing" {
                        ctx.report.files.missing += 1;
                    } else {
                        ctx.report.files.rejected += 1;
                    }
                    ctx.report.item(Item::new(code, "documents", self.id).uid(Some(&uid)));
                }
            },
            Some(_) => ctx.report.files.copied += 1,
        }
        let (sealed, index) = match &number {
            Some(n) => (Some(seal(&ctx.sealer, n)), Some(ctx.sealer.blind_index("document", n))),
            None => (None, None),
        };
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                int(self.user_id),
                text(&upload),
                opt_text(self.doc_type.as_deref()),
                opt_text(self.doc_expire.as_deref()),
                Val::OptText(sealed),
                Val::OptText(index),
                opt_text(self.doc_issue.as_deref()),
                opt_text(self.doc_category.as_deref()),
                opt_text(self.identificator.as_deref()),
                opt_text(self.metadata.as_deref()),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}
