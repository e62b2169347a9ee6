//! The source checks of spec §2.3 that need only the source: schema version, tables and
//! columns, storage engine. Every refusal is collected, so the operator sees all at once.

use super::Source;

/// Barong 2.7's last migration.
pub const SCHEMA_VERSION: &str = "20210407094208";

/// The columns the importer reads, per table (§1.2).
const COLUMNS: &[(&str, &[&str])] = &[
    ("levels", &["id", "key", "value", "description", "created_at", "updated_at"]),
    ("permissions", &["id", "action", "role", "verb", "path", "topic", "created_at", "updated_at"]),
    ("restrictions", &["id", "category", "scope", "value", "code", "state", "created_at", "updated_at"]),
    (
        "users",
        &[
            "id",
            "uid",
            "username",
            "email",
            "password_digest",
            "role",
            "data",
            "level",
            "otp",
            "state",
            "referral_id",
            "created_at",
            "updated_at",
        ],
    ),
    ("service_accounts", &["id", "uid", "owner_id", "email", "role", "level", "state", "created_at", "updated_at"]),
    ("labels", &["id", "user_id", "key", "value", "scope", "description", "created_at", "updated_at"]),
    (
        "profiles",
        &[
            "id",
            "user_id",
            "author",
            "applicant_id",
            "first_name_encrypted",
            "last_name_encrypted",
            "dob_encrypted",
            "address_encrypted",
            "postcode",
            "city",
            "country",
            "state",
            "metadata",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "phones",
        &[
            "id",
            "user_id",
            "country",
            "code",
            "number_encrypted",
            "number_index",
            "validated_at",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "documents",
        &[
            "id",
            "user_id",
            "upload",
            "doc_type",
            "doc_expire",
            "doc_number_encrypted",
            "doc_number_index",
            "doc_issue",
            "doc_category",
            "identificator",
            "metadata",
            "created_at",
            "updated_at",
        ],
    ),
    ("data_storages", &["id", "user_id", "title", "data", "created_at", "updated_at"]),
    ("comments", &["id", "user_id", "author_uid", "title", "data", "created_at", "updated_at"]),
    (
        "apikeys",
        &[
            "id",
            "key_holder_account_id",
            "key_holder_account_type",
            "kid",
            "algorithm",
            "scope",
            "secret_encrypted",
            "state",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "activities",
        &[
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
    ),
];

/// Refusals and warnings of the source checks.
#[derive(Debug, Default)]
pub struct Findings {
    pub refusals: Vec<String>,
    pub warnings: Vec<(String, String)>,
    /// `ar_internal_metadata.environment`.
    pub environment: Option<String>,
}

pub async fn check(source: &mut Source) -> Findings {
    let mut f = Findings::default();
    let conn = source.conn();
    let newest: Result<(Option<String>,), _> =
        sqlx::query_as("SELECT MAX(version) FROM schema_migrations").fetch_one(&mut *conn).await;
    match newest {
        Ok((Some(v),)) if v == SCHEMA_VERSION => {}
        Ok((Some(v),)) if v.as_str() < SCHEMA_VERSION => f.refusals.push(format!(
            "import.schema_unsupported: schema {v} is older than Barong 2.7 ({SCHEMA_VERSION}): upgrade Barong to 2.7 \
             and run its migrations first"
        )),
        Ok((Some(v),)) => f.refusals.push(format!(
            "import.schema_unsupported: schema {v} is newer than Barong 2.7 ({SCHEMA_VERSION}): unknown changes"
        )),
        Ok((None,)) | Err(_) => {
            f.refusals.push("import.schema_unsupported: no schema_migrations table (not a Barong database?)".into())
        }
    }
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT CAST(table_name AS CHAR), CAST(column_name AS CHAR) FROM information_schema.columns \
         WHERE table_schema = DATABASE()",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    let mut missing = Vec::new();
    for (table, cols) in COLUMNS {
        for col in *cols {
            if !columns.iter().any(|(t, c)| t == table && c == col) {
                missing.push(format!("{table}.{col}"));
            }
        }
    }
    if !missing.is_empty() {
        f.refusals.push(format!("import.schema_unsupported: missing {}", missing.join(", ")));
    }
    let engines: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT CAST(table_name AS CHAR), CAST(engine AS CHAR) FROM information_schema.tables \
         WHERE table_schema = DATABASE()",
    )
    .fetch_all(&mut *conn)
    .await
    .unwrap_or_default();
    let not_innodb: Vec<&str> = engines
        .iter()
        .filter(|(t, e)| {
            COLUMNS.iter().any(|(c, _)| c == t) && !e.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("InnoDB"))
        })
        .map(|(t, _)| t.as_str())
        .collect();
    if !not_innodb.is_empty() {
        f.refusals.push(format!("import.not_innodb: {} (no consistent snapshot)", not_innodb.join(", ")));
    }
    for (t, _) in &engines {
        let known = COLUMNS.iter().any(|(c, _)| c == t) || t == "schema_migrations" || t == "ar_internal_metadata";
        if !known {
            f.warnings.push(("extra_table".into(), format!("table {t} is not Barong's and is not imported")));
        }
    }
    let env: Result<Option<(Option<String>,)>, _> =
        sqlx::query_as("SELECT value FROM ar_internal_metadata WHERE `key` = 'environment'")
            .fetch_optional(&mut *conn)
            .await;
    f.environment = env.ok().flatten().and_then(|(v,)| v);
    if let Some(e) = &f.environment
        && !matches!(e.as_str(), "production" | "development" | "test" | "staging")
    {
        f.warnings.push(("unknown_environment".into(), format!("ar_internal_metadata.environment is {e}")));
    }
    let tz: Result<(String,), _> =
        sqlx::query_as("SELECT CAST(@@global.time_zone AS CHAR)").fetch_one(&mut *conn).await;
    if let Ok((tz,)) = tz
        && !matches!(tz.as_str(), "UTC" | "+00:00" | "SYSTEM")
    {
        f.warnings.push((
            "time_zone".into(),
            format!("the source's time zone is {tz}: activities.created_at may be shifted around DST changes"),
        ));
    }
    f
}
