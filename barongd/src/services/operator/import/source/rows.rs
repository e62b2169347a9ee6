//! Barong's rows as the importer reads them, one typed struct per table (spec §1.2). Every
//! SELECT casts to predictable types: integers to signed 64-bit (Barong mixes signed, unsigned
//! and `int` user ids), `datetime` to unix seconds counted from the stored wall-clock value (UTC,
//! whatever the session time zone), dates to `YYYY-MM-DD`. A row serializes to JSON for its
//! digest (§2.2), ciphertexts included.

use serde::Serialize;

/// Seconds since the epoch of a UTC wall-clock `datetime`, free of the session's time zone.
macro_rules! secs {
    ($col:literal) => {
        concat!("CAST(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', ", $col, ") AS SIGNED)")
    };
}

/// `WHERE id > ? ORDER BY id LIMIT ?` on every table: keyset batches, never OFFSET.
macro_rules! batch_sql {
    ($cols:expr, $table:literal) => {
        concat!("SELECT ", $cols, " FROM ", $table, " WHERE id > ? ORDER BY id LIMIT ?")
    };
}

/// A table's rows: its SELECT and its id.
pub trait SourceRow: for<'r> sqlx::FromRow<'r, sqlx::mysql::MySqlRow> + Serialize + Send + Unpin {
    const TABLE: &'static str;
    const SQL: &'static str;
    fn id(&self) -> i64;
}

macro_rules! source_row {
    ($ty:ident, $table:literal, $cols:expr) => {
        impl SourceRow for $ty {
            const TABLE: &'static str = $table;
            const SQL: &'static str = batch_sql!($cols, $table);
            fn id(&self) -> i64 {
                self.id
            }
        }
    };
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Level {
    pub id: i64,
    pub key: String,
    pub value: Option<String>,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    Level,
    "levels",
    concat!(
        "CAST(id AS SIGNED) AS id, `key`, value, description, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Permission {
    pub id: i64,
    pub action: String,
    pub role: String,
    pub verb: String,
    pub path: String,
    pub topic: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    Permission,
    "permissions",
    concat!(
        "CAST(id AS SIGNED) AS id, action, role, verb, path, topic, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Restriction {
    pub id: i64,
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: Option<i64>,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    Restriction,
    "restrictions",
    concat!(
        "CAST(id AS SIGNED) AS id, category, scope, value, CAST(code AS SIGNED) AS code, state, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub uid: String,
    pub username: Option<String>,
    pub email: String,
    pub password_digest: String,
    pub role: String,
    pub data: Option<String>,
    pub level: i64,
    pub otp: Option<i64>,
    pub state: String,
    pub referral_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    User,
    "users",
    concat!(
        "CAST(id AS SIGNED) AS id, uid, username, email, password_digest, role, data, CAST(level AS SIGNED) AS level, \
         CAST(otp AS SIGNED) AS otp, state, CAST(referral_id AS SIGNED) AS referral_id, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

impl std::fmt::Debug for User {
    // The digest stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User").field("id", &self.id).field("uid", &self.uid).finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct ServiceAccount {
    pub id: i64,
    pub uid: String,
    pub owner_id: Option<i64>,
    pub email: String,
    pub role: String,
    pub level: i64,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    ServiceAccount,
    "service_accounts",
    concat!(
        "CAST(id AS SIGNED) AS id, uid, CAST(owner_id AS SIGNED) AS owner_id, email, role, CAST(level AS SIGNED) AS level, \
         state, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct Label {
    pub id: i64,
    pub user_id: i64,
    pub key: String,
    pub value: String,
    pub scope: String,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    Label,
    "labels",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, `key`, value, scope, description, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct Profile {
    pub id: i64,
    pub user_id: Option<i64>,
    pub author: Option<String>,
    pub applicant_id: Option<String>,
    pub first_name_encrypted: Option<String>,
    pub last_name_encrypted: Option<String>,
    pub dob_encrypted: Option<String>,
    pub address_encrypted: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub state: i64,
    pub metadata: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    Profile,
    "profiles",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, author, applicant_id, first_name_encrypted, \
         last_name_encrypted, dob_encrypted, address_encrypted, postcode, city, country, \
         CAST(COALESCE(state, 0) AS SIGNED) AS state, metadata, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct Phone {
    pub id: i64,
    pub user_id: i64,
    pub country: String,
    pub number_encrypted: String,
    pub number_index: i64,
    pub validated_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}
// `code` (the last SMS code, in clear) is not read: it is dropped (§2.5).
source_row!(
    Phone,
    "phones",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, country, number_encrypted, \
         CAST(number_index AS SIGNED) AS number_index, ",
        secs!("validated_at"),
        " AS validated_at, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct Document {
    pub id: i64,
    pub user_id: i64,
    pub upload: Option<String>,
    pub doc_type: Option<String>,
    pub doc_expire: Option<String>,
    pub doc_number_encrypted: Option<String>,
    pub doc_number_index: Option<i64>,
    pub doc_issue: Option<String>,
    pub doc_category: Option<String>,
    pub identificator: Option<String>,
    pub metadata: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    Document,
    "documents",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, upload, doc_type, \
         DATE_FORMAT(doc_expire, '%Y-%m-%d') AS doc_expire, doc_number_encrypted, \
         CAST(doc_number_index AS SIGNED) AS doc_number_index, DATE_FORMAT(doc_issue, '%Y-%m-%d') AS doc_issue, \
         doc_category, identificator, metadata, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct DataStorage {
    pub id: i64,
    pub user_id: i64,
    pub title: String,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    DataStorage,
    "data_storages",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, title, data, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub user_id: i64,
    pub author_uid: String,
    pub title: String,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    Comment,
    "comments",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, author_uid, title, data, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct ApiKey {
    pub id: i64,
    pub key_holder_account_id: i64,
    pub key_holder_account_type: String,
    pub kid: String,
    pub algorithm: String,
    pub scope: Option<String>,
    pub secret_encrypted: Option<String>,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}
source_row!(
    ApiKey,
    "apikeys",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(key_holder_account_id AS SIGNED) AS key_holder_account_id, \
         key_holder_account_type, kid, algorithm, scope, secret_encrypted, state, ",
        secs!("created_at"),
        " AS created_at, ",
        secs!("updated_at"),
        " AS updated_at"
    )
);

#[derive(Serialize, sqlx::FromRow)]
pub struct Activity {
    pub id: i64,
    pub user_id: i64,
    pub target_uid: Option<String>,
    pub category: Option<String>,
    pub user_ip: String,
    pub user_ip_country: Option<String>,
    pub user_agent: String,
    pub topic: String,
    pub action: String,
    pub result: String,
    pub data: Option<String>,
    pub created_at: Option<i64>,
}
// `timestamp` goes through the session time zone, which Barong's own sessions shared (§2.3).
source_row!(
    Activity,
    "activities",
    concat!(
        "CAST(id AS SIGNED) AS id, CAST(user_id AS SIGNED) AS user_id, target_uid, category, user_ip, user_ip_country, \
         user_agent, topic, action, result, data, ",
        secs!("created_at"),
        " AS created_at"
    )
);
