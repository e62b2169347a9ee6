//! Tables copied as they are: levels, permissions, restrictions, labels, data storages,
//! comments, activities.

use super::{Ctx, Mapping, Skip, int, opt_int, opt_text, row, text};
use crate::model::LabelScope;
use crate::services::operator::import::report::Item;
use crate::services::operator::import::source::rows::{
    Activity, Comment, DataStorage, Label, Level, Permission, Restriction,
};
use crate::store::LabelRow;
use crate::store::import::{TableSpec, TargetRow};
use crate::store::import_tables as t;

impl Mapping for Level {
    const SPEC: &'static TableSpec = &t::LEVELS;
    fn map(&self, _ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                text(&self.key),
                text(self.value.as_deref().unwrap_or_default()),
                opt_text(self.description.as_deref()),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

impl Mapping for Permission {
    const SPEC: &'static TableSpec = &t::PERMISSIONS;
    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        ctx.roles_with_permissions.insert(self.role.clone());
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                text(&self.action.to_uppercase()),
                text(&self.role),
                text(&self.verb.to_uppercase()),
                text(&self.path),
                opt_text(self.topic.as_deref()),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

impl Mapping for Restriction {
    const SPEC: &'static TableSpec = &t::RESTRICTIONS;
    fn map(&self, _ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                text(&self.category),
                text(&self.scope),
                text(&self.value),
                opt_int(self.code),
                text(&self.state),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

impl Mapping for Label {
    const SPEC: &'static TableSpec = &t::LABELS;
    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        let uid = ctx.owner("labels", self.id, self.user_id)?.uid.clone();
        if !matches!(self.scope.as_str(), "public" | "private") {
            return Err(Box::new(Item::new("label_bad_scope", "labels", self.id).uid(Some(&uid))));
        }
        let conforming = |s: &str| {
            (3..=255).contains(&s.len())
                && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        if !conforming(&self.key) || !conforming(&self.value) {
            ctx.report.item(Item::new("value_nonconforming", "labels", self.id).uid(Some(&uid)).detail("key or value"));
        }
        ctx.labels.entry(self.user_id).or_default().push(LabelRow {
            id: self.id,
            user_id: self.user_id,
            key: self.key.clone(),
            value: self.value.clone(),
            scope: if self.scope == "private" { LabelScope::Private } else { LabelScope::Public },
            description: self.description.clone(),
            created_at: self.created_at,
            updated_at: self.updated_at,
        });
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                int(self.user_id),
                text(&self.key),
                text(&self.value),
                text(&self.scope),
                opt_text(self.description.as_deref()),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

impl Mapping for DataStorage {
    const SPEC: &'static TableSpec = &t::DATA_STORAGES;
    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        let uid = ctx.owner("data_storages", self.id, self.user_id)?.uid.clone();
        if !ctx.config.user_storage_titles.iter().any(|t| t == &self.title) {
            ctx.report.item(Item::new("value_nonconforming", "data_storages", self.id).uid(Some(&uid)).detail("title"));
        }
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                int(self.user_id),
                text(&self.title),
                text(&self.data),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

impl Mapping for Comment {
    const SPEC: &'static TableSpec = &t::COMMENTS;
    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        ctx.owner("comments", self.id, self.user_id)?;
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                int(self.user_id),
                text(&self.author_uid),
                text(&self.title),
                text(&self.data),
                int(self.created_at),
                int(self.updated_at),
            ],
        ))
    }
}

impl Mapping for Activity {
    const SPEC: &'static TableSpec = &t::ACTIVITIES;
    fn map(&self, ctx: &mut Ctx, _write: bool) -> Result<TargetRow, Skip> {
        ctx.owner("activities", self.id, self.user_id)?;
        let created_at = self.created_at.unwrap_or(0);
        Ok(row(
            Self::SPEC,
            vec![
                int(self.id),
                opt_int(Some(self.user_id)),
                opt_text(self.target_uid.as_deref()),
                text(self.category.as_deref().unwrap_or("user")),
                text(&self.user_ip),
                opt_text(self.user_ip_country.as_deref()),
                opt_text(Some(&self.user_agent)),
                text(&self.topic),
                text(&self.action),
                text(&self.result),
                opt_text(self.data.as_deref()),
                int(created_at),
            ],
        ))
    }
}
