//! The target tables the importer writes, as column lists: one upsert statement per table
//! (`INSERT … ON CONFLICT (id) DO UPDATE`, which SQLite and PostgreSQL both speak) built from
//! static names, so a row keeps Barong's id whether it is new or changed.

/// A value bound to a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Int(i64),
    OptInt(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bool(bool),
}

/// One target table.
#[derive(Debug)]
pub struct TableSpec {
    /// barong-rs's table.
    pub table: &'static str,
    /// Barong's table name (the id map's `source_table`).
    pub source: &'static str,
    /// Columns in bind order; `id` first.
    pub columns: &'static [&'static str],
    /// Columns an update leaves alone: values barong-rs owns (a referral set in the post-pass,
    /// the TOTP replay step, the sign-in's rehash target) or sets itself.
    pub keep_on_update: &'static [&'static str],
    /// An extra assignment on update (users drop their cached claims).
    pub on_update: &'static str,
    /// Whether PostgreSQL generates its ids (a sequence to move past the imported ones).
    pub identity: bool,
}

impl TableSpec {
    /// The upsert statement; placeholders `$1..$n` in column order.
    pub fn upsert_sql(&self) -> String {
        let cols = self.columns.join(", ");
        let params = (1..=self.columns.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ");
        let mut sets: Vec<String> = self
            .columns
            .iter()
            .filter(|c| **c != "id" && !self.keep_on_update.contains(c))
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        if !self.on_update.is_empty() {
            sets.push(self.on_update.to_string());
        }
        format!(
            "INSERT INTO {} ({cols}) VALUES ({params}) ON CONFLICT (id) DO UPDATE SET {}",
            self.table,
            sets.join(", ")
        )
    }
}

pub static LEVELS: TableSpec = TableSpec {
    table: "levels",
    source: "levels",
    columns: &["id", "key", "value", "description", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: false,
};

pub static PERMISSIONS: TableSpec = TableSpec {
    table: "permissions",
    source: "permissions",
    columns: &["id", "action", "role", "verb", "path", "topic", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static RESTRICTIONS: TableSpec = TableSpec {
    table: "restrictions",
    source: "restrictions",
    columns: &["id", "category", "scope", "value", "code", "state", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static USERS: TableSpec = TableSpec {
    table: "users",
    source: "users",
    columns: &[
        "id",
        "uid",
        "username",
        "email",
        "email_key",
        "password_digest",
        "role",
        "data",
        "level",
        "otp",
        "state",
        "referral_id",
        "language",
        "otp_secret_sealed",
        "claims_version",
        "created_at",
        "updated_at",
    ],
    keep_on_update: &["referral_id", "claims_version"],
    on_update: "claims_version = users.claims_version + 1",
    identity: true,
};

pub static SERVICE_ACCOUNTS: TableSpec = TableSpec {
    table: "service_accounts",
    source: "service_accounts",
    columns: &["id", "uid", "owner_id", "email", "role", "level", "state", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static LABELS: TableSpec = TableSpec {
    table: "labels",
    source: "labels",
    columns: &["id", "user_id", "key", "value", "scope", "description", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static PROFILES: TableSpec = TableSpec {
    table: "profiles",
    source: "profiles",
    columns: &[
        "id",
        "user_id",
        "author",
        "applicant_id",
        "first_name_sealed",
        "last_name_sealed",
        "dob_sealed",
        "address_sealed",
        "postcode",
        "city",
        "country",
        "state",
        "metadata",
        "created_at",
        "updated_at",
    ],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static PHONES: TableSpec = TableSpec {
    table: "phones",
    source: "phones",
    columns: &["id", "user_id", "country", "number_sealed", "number_index", "validated_at", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static DOCUMENTS: TableSpec = TableSpec {
    table: "documents",
    source: "documents",
    columns: &[
        "id",
        "user_id",
        "upload",
        "doc_type",
        "doc_expire",
        "doc_number_sealed",
        "doc_number_index",
        "doc_issue",
        "doc_category",
        "identificator",
        "metadata",
        "created_at",
        "updated_at",
    ],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static DATA_STORAGES: TableSpec = TableSpec {
    table: "data_storages",
    source: "data_storages",
    columns: &["id", "user_id", "title", "data", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static COMMENTS: TableSpec = TableSpec {
    table: "comments",
    source: "comments",
    columns: &["id", "user_id", "author_uid", "title", "data", "created_at", "updated_at"],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static API_KEYS: TableSpec = TableSpec {
    table: "api_keys",
    source: "apikeys",
    columns: &[
        "id",
        "key_holder_account_id",
        "key_holder_account_type",
        "kid",
        "algorithm",
        "scope",
        "secret_sealed",
        "secret_unavailable",
        "state",
        "created_at",
        "updated_at",
    ],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

pub static ACTIVITIES: TableSpec = TableSpec {
    table: "activities",
    source: "activities",
    columns: &[
        "id",
        "user_id",
        "target_uid",
        "category",
        "user_ip",
        "user_ip_country",
        "user_agent",
        "topic",
        "action",
        "result",
        "data",
        "created_at",
    ],
    keep_on_update: &[],
    on_update: "",
    identity: true,
};

/// Every target table in import order (§2.4).
pub static ALL: [&TableSpec; 13] = [
    &LEVELS,
    &PERMISSIONS,
    &RESTRICTIONS,
    &USERS,
    &SERVICE_ACCOUNTS,
    &LABELS,
    &PROFILES,
    &PHONES,
    &DOCUMENTS,
    &DATA_STORAGES,
    &COMMENTS,
    &API_KEYS,
    &ACTIVITIES,
];

/// Tables that must hold nothing but imported rows before a job starts (`import.target_not_empty`):
/// (barong-rs table, Barong table).
pub static USER_BOUND: [(&str, &str); 3] =
    [("users", "users"), ("service_accounts", "service_accounts"), ("api_keys", "apikeys")];

/// The spec of a Barong table.
pub fn spec_of(source: &str) -> Option<&'static TableSpec> {
    ALL.iter().copied().find(|s| s.source == source)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_keep_their_referral_and_drop_cached_claims_on_update() {
        let sql = USERS.upsert_sql();
        assert!(sql.starts_with("INSERT INTO users (id, uid,"), "{sql}");
        assert!(sql.contains("$17)"), "{sql}");
        assert!(!sql.contains("referral_id = excluded"), "{sql}");
        assert!(sql.ends_with("claims_version = users.claims_version + 1"), "{sql}");
    }

    #[test]
    fn every_table_has_its_id_first_and_a_spec_by_source_name() {
        for s in ALL {
            assert_eq!(s.columns[0], "id");
            assert!(spec_of(s.source).is_some_and(|f| f.table == s.table));
        }
        assert_eq!(spec_of("apikeys").map(|s| s.table), Some("api_keys"));
    }
}
