//! The admin-socket protocol: newline-delimited JSON, one request object and one reply object
//! per line, at most [`MAX_FRAME`] bytes each. Every request carries the protocol version `v` so
//! an old CLI talking to a new daemon gets a clear refusal instead of a misread.

use serde::{Deserialize, Serialize};

use crate::entities::{Label, Profile, ServiceAccount, UserSummary, UserWithFullInfo};
use crate::jwt::JwtAlgorithm;

/// Protocol version spoken by this build.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest accepted line, in bytes; a longer frame is refused and the connection closed.
pub const MAX_FRAME: usize = 1024 * 1024;
/// File name of the socket inside the data dir.
pub const SOCKET_FILE: &str = "barongd.sock";

/// One request line: `{"v":1,"op":"user_create",...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u32,
    #[serde(flatten)]
    pub request: Request,
}

/// What the operator asks for.
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// Daemon health, version and counts.
    Status,
    /// Create a user directly (no email confirmation); the password is never echoed back.
    UserCreate {
        email: String,
        password: String,
        #[serde(default)]
        username: Option<String>,
        #[serde(default)]
        role: Option<String>,
        #[serde(default)]
        state: Option<String>,
        #[serde(default)]
        level: Option<i64>,
    },
    /// List users, newest first.
    UserList {
        #[serde(default)]
        page: Option<i64>,
        #[serde(default)]
        limit: Option<i64>,
    },
    /// One user by uid or email.
    UserShow { user: String },
    /// Applied and pending schema migrations.
    MigrateStatus,
    /// Apply pending migrations (the daemon also does this at start).
    MigrateRun,
    /// Create a service account owned by a user (uid or email). It starts `active`; `email`
    /// defaults to `<owner name>+<uid>@<owner domain>`.
    ServiceAccountCreate {
        owner: String,
        role: String,
        #[serde(default)]
        email: Option<String>,
    },
    /// Service accounts, all of them or one owner's (uid or email).
    ServiceAccountList {
        #[serde(default)]
        owner: Option<String>,
    },
    /// Disable a service account; its active API keys are disabled with it.
    ServiceAccountDisable { uid: String },
    /// A user's API keys and those of its service accounts (never their secrets).
    ApiKeyList { user: String },
    /// Disable one API key, whoever holds it (a leaked key).
    ApiKeyDisable { kid: String },
    /// Every restriction, with whether this daemon enforces it now.
    RestrictionList,
    /// Add a restriction (category whitelist/maintenance/blacklist/blocklogin, scope
    /// all/ip/ip_subnet/continent/country); `code` defaults per Barong, `state` to enabled.
    RestrictionAdd {
        category: String,
        scope: String,
        value: String,
        #[serde(default)]
        code: Option<i64>,
        #[serde(default)]
        state: Option<String>,
    },
    /// Delete a restriction by id.
    RestrictionRemove { id: i64 },
    /// Set a restriction's state: `enabled` or `disabled`.
    RestrictionSetState { id: i64, state: String },
    /// Issue a one-time whitelink token valid for `days` or `hours` (1–30; default one day).
    RestrictionWhitelink {
        #[serde(default)]
        days: Option<i64>,
        #[serde(default)]
        hours: Option<i64>,
    },
    /// The JWT signing keys (active first, then the previous ones that still verify).
    KeysList,
    /// Make a fresh signing key the active one; the old one verifies until its tokens expire.
    KeysRotate {
        /// Algorithm of the new key; `None` means the daemon's `jwt_algorithm`. The next start
        /// rotates back to `jwt_algorithm` when they differ.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        algorithm: Option<JwtAlgorithm>,
    },
    /// Gateway permissions.
    PermissionList,
    /// Add one permission.
    PermissionAdd(PermissionSpec),
    /// Delete a permission by id.
    PermissionRemove { id: i64 },
    /// Add every permission of a YAML file in the `config/seeds.yml` format (the CLI sends its
    /// text; its `permissions:` list is read), skipping the ones that exist.
    PermissionLoad { yaml: String },
    /// A user's labels, every scope.
    LabelList { user: String },
    /// Create or overwrite a label (`scope` private or public); private ones set level and state.
    LabelSet { user: String, key: String, value: String, scope: String },
    /// Delete a label.
    LabelRemove { user: String, key: String, scope: String },
    /// Apply a seeds file (YAML text: levels, permissions, users, restrictions); idempotent.
    Seed { yaml: String },
    /// The KYC review queue: submitted profiles and pending document/address checks, oldest first.
    KycPending {
        #[serde(default)]
        limit: Option<i64>,
    },
    /// Decide a user's (uid or email) submitted profile: `verdict` is `verified` or `rejected`.
    KycProfileReview { user: String, verdict: String },
    /// Decide a user's pending `document` or `address` check (`verdict` as above).
    KycCheckReview { user: String, check: String, verdict: String },
}

impl std::fmt::Debug for Request {
    // Hand-written so that a password can never reach a log line through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Status => f.write_str("Status"),
            Request::UserCreate { email, role, state, level, .. } => f
                .debug_struct("UserCreate")
                .field("email", email)
                .field("password", &"[redacted]")
                .field("role", role)
                .field("state", state)
                .field("level", level)
                .finish(),
            Request::UserList { page, limit } => {
                f.debug_struct("UserList").field("page", page).field("limit", limit).finish()
            }
            Request::UserShow { user } => f.debug_struct("UserShow").field("user", user).finish(),
            Request::LabelList { user } => f.debug_struct("LabelList").field("user", user).finish(),
            Request::LabelSet { user, key, value, scope } => f
                .debug_struct("LabelSet")
                .field("user", user)
                .field("key", key)
                .field("value", value)
                .field("scope", scope)
                .finish(),
            Request::LabelRemove { user, key, scope } => {
                f.debug_struct("LabelRemove").field("user", user).field("key", key).field("scope", scope).finish()
            }
            // Seeds may carry passwords.
            Request::Seed { yaml } => f.debug_struct("Seed").field("bytes", &yaml.len()).finish(),
            Request::KycPending { limit } => f.debug_struct("KycPending").field("limit", limit).finish(),
            Request::KycProfileReview { user, verdict } => {
                f.debug_struct("KycProfileReview").field("user", user).field("verdict", verdict).finish()
            }
            Request::KycCheckReview { user, check, verdict } => f
                .debug_struct("KycCheckReview")
                .field("user", user)
                .field("check", check)
                .field("verdict", verdict)
                .finish(),
            Request::MigrateStatus => f.write_str("MigrateStatus"),
            Request::MigrateRun => f.write_str("MigrateRun"),
            Request::ServiceAccountCreate { owner, role, email } => f
                .debug_struct("ServiceAccountCreate")
                .field("owner", owner)
                .field("role", role)
                .field("email", email)
                .finish(),
            Request::ServiceAccountList { owner } => {
                f.debug_struct("ServiceAccountList").field("owner", owner).finish()
            }
            Request::ServiceAccountDisable { uid } => {
                f.debug_struct("ServiceAccountDisable").field("uid", uid).finish()
            }
            Request::ApiKeyList { user } => f.debug_struct("ApiKeyList").field("user", user).finish(),
            Request::ApiKeyDisable { kid } => f.debug_struct("ApiKeyDisable").field("kid", kid).finish(),
            Request::RestrictionList => f.write_str("RestrictionList"),
            Request::RestrictionAdd { category, scope, value, code, state } => f
                .debug_struct("RestrictionAdd")
                .field("category", category)
                .field("scope", scope)
                .field("value", value)
                .field("code", code)
                .field("state", state)
                .finish(),
            Request::RestrictionRemove { id } => f.debug_struct("RestrictionRemove").field("id", id).finish(),
            Request::RestrictionSetState { id, state } => {
                f.debug_struct("RestrictionSetState").field("id", id).field("state", state).finish()
            }
            Request::RestrictionWhitelink { days, hours } => {
                f.debug_struct("RestrictionWhitelink").field("days", days).field("hours", hours).finish()
            }
            Request::KeysList => f.write_str("KeysList"),
            Request::KeysRotate { algorithm } => f.debug_struct("KeysRotate").field("algorithm", algorithm).finish(),
            Request::PermissionList => f.write_str("PermissionList"),
            Request::PermissionAdd(p) => f.debug_tuple("PermissionAdd").field(p).finish(),
            Request::PermissionRemove { id } => f.debug_struct("PermissionRemove").field("id", id).finish(),
            Request::PermissionLoad { yaml } => f.debug_struct("PermissionLoad").field("bytes", &yaml.len()).finish(),
        }
    }
}

/// The daemon's answer: `{"ok":true,"data":...}` or `{"ok":false,"error":{"code":..,"message":..}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reply {
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub data: Option<ReplyData>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<AdminError>,
}

impl Reply {
    pub fn ok(data: ReplyData) -> Self {
        Reply { ok: true, data: Some(data), error: None }
    }
    pub fn err(code: impl Into<String>, message: impl Into<String>) -> Self {
        Reply { ok: false, data: None, error: Some(AdminError { code: code.into(), message: message.into() }) }
    }
}

/// A refused operation: `code` is a stable machine key (Barong's error keys where one exists).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AdminError {
    pub code: String,
    pub message: String,
}

/// Payloads of successful replies.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplyData {
    Status(StatusInfo),
    User(Box<UserWithFullInfo>),
    Users {
        total: i64,
        page: i64,
        limit: i64,
        users: Vec<UserSummary>,
    },
    Migrations {
        migrations: Vec<MigrationInfo>,
    },
    /// `user show`: the user with its API keys and service accounts.
    UserDetail(Box<UserDetail>),
    ServiceAccount(ServiceAccount),
    ServiceAccounts {
        service_accounts: Vec<ServiceAccount>,
    },
    ApiKey(ApiKeySummary),
    ApiKeys {
        api_keys: Vec<ApiKeySummary>,
    },
    Restriction(RestrictionInfo),
    Restrictions {
        restrictions: Vec<RestrictionInfo>,
    },
    /// A new whitelink token, shown once.
    Whitelink(Whitelink),
    SigningKey(SigningKeyInfo),
    SigningKeys {
        keys: Vec<SigningKeyInfo>,
    },
    Permission(PermissionInfo),
    Permissions {
        permissions: Vec<PermissionInfo>,
    },
    /// `permission load`: how many rows were added and how many existed.
    PermissionsLoaded {
        added: usize,
        existing: usize,
    },
    Labels {
        labels: Vec<Label>,
    },
    /// `seed`: rows added (the rest existed already).
    Seeded {
        levels: usize,
        permissions: usize,
        users: usize,
        restrictions: usize,
    },
    /// A reviewed profile, in clear.
    Profile(Box<Profile>),
    KycQueue {
        items: Vec<KycQueueItem>,
    },
}

/// One entry of the KYC review queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KycQueueItem {
    pub uid: String,
    pub email: String,
    /// `profile`, `document` or `address`.
    pub check: String,
    pub since: String,
}

/// A user as the operator sees it: the API entity plus what only the operator lists.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserDetail {
    #[serde(flatten)]
    pub user: UserWithFullInfo,
    pub api_keys: Vec<ApiKeySummary>,
    pub service_accounts: Vec<ServiceAccount>,
}

/// An API key for the operator: its holder, never its secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ApiKeySummary {
    pub kid: String,
    /// `User` or `ServiceAccount`.
    pub holder_type: String,
    pub holder_uid: String,
    pub algorithm: String,
    pub scope: Vec<String>,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A gateway permission: role × verb × path prefix → action (ACCEPT, DROP or AUDIT).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PermissionSpec {
    pub role: String,
    /// GET, POST, PUT, PATCH, DELETE, HEAD or ALL (any case).
    pub verb: String,
    /// Path prefix without a leading slash, e.g. `api/v2/peatio/admin`.
    pub path: String,
    /// accept, drop or audit (any case).
    pub action: String,
    #[serde(default)]
    pub topic: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PermissionInfo {
    pub id: i64,
    pub role: String,
    pub verb: String,
    pub path: String,
    pub action: String,
    pub topic: Option<String>,
}

/// A JWT signing key (its public half only).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SigningKeyInfo {
    pub kid: String,
    pub algorithm: String,
    /// `active` (signs) or `previous` (verifies until its tokens expire).
    pub state: String,
    pub created_at: String,
}

/// A restriction as the operator sees it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RestrictionInfo {
    pub id: i64,
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: i64,
    pub state: String,
    /// Whether the answering daemon enforces it now (enabled, and its cache has caught up).
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// A whitelink token for `POST identity/users/access`; only its hash is stored.
#[derive(Clone, Serialize, Deserialize, PartialEq)]
pub struct Whitelink {
    pub token: String,
    pub expires_at: String,
}

impl std::fmt::Debug for Whitelink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Whitelink").field("token", &"[redacted]").field("expires_at", &self.expires_at).finish()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusInfo {
    pub version: String,
    pub listen: String,
    pub database: String,
    pub uptime_seconds: u64,
    pub users: i64,
    pub pending_mail: i64,
    /// Event API messages not yet confirmed by RabbitMQ.
    #[serde(default)]
    pub pending_events: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MigrationInfo {
    pub version: i64,
    pub name: String,
    pub applied: bool,
    pub applied_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_debug_never_shows_the_password() {
        let r = Request::UserCreate {
            email: "a@b.c".into(),
            password: "Sup3r-Secret!".into(),
            username: None,
            role: None,
            state: None,
            level: None,
        };
        let shown = format!("{r:?}");
        assert!(!shown.contains("Sup3r-Secret!"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn user_detail_keeps_the_user_fields_at_the_top_level() {
        let user = UserWithFullInfo {
            email: "a@b.c".into(),
            uid: "ID0000000001".into(),
            role: "member".into(),
            level: 1,
            otp: true,
            state: "active".into(),
            referral_uid: None,
            data: None,
            csrf_token: None,
            username: None,
            labels: vec![],
            phones: vec![],
            profiles: vec![],
            data_storages: vec![],
            created_at: "2020-06-01T07:01:20Z".into(),
            updated_at: "2020-06-01T07:01:20Z".into(),
        };
        let detail = UserDetail { user, api_keys: vec![], service_accounts: vec![] };
        let reply = Reply::ok(ReplyData::UserDetail(Box::new(detail.clone())));
        let line = serde_json::to_string(&reply).expect("encodes");
        assert!(line.contains(r#""kind":"user_detail""#) && line.contains(r#""otp":true"#), "{line}");
        let back: Reply = serde_json::from_str(&line).expect("decodes");
        assert!(matches!(back.data, Some(ReplyData::UserDetail(d)) if *d == detail));
    }

    #[test]
    fn keys_rotate_names_its_algorithm_only_when_asked() {
        let plain: Envelope = serde_json::from_str(r#"{"v":1,"op":"keys_rotate"}"#).expect("parses");
        assert!(matches!(plain.request, Request::KeysRotate { algorithm: None }));
        let line = serde_json::to_string(&plain).expect("encodes");
        assert_eq!(line, r#"{"v":1,"op":"keys_rotate"}"#);
        let es: Envelope = serde_json::from_str(r#"{"v":1,"op":"keys_rotate","algorithm":"ES256"}"#).expect("parses");
        assert!(matches!(es.request, Request::KeysRotate { algorithm: Some(JwtAlgorithm::Es256) }));
        assert!(serde_json::from_str::<Envelope>(r#"{"v":1,"op":"keys_rotate","algorithm":"HS256"}"#).is_err());
    }

    #[test]
    fn envelope_is_internally_tagged_and_versioned() {
        let line = r#"{"v":1,"op":"user_show","user":"ID0000000001"}"#;
        let env: Envelope = serde_json::from_str(line).expect("parses");
        assert_eq!(env.v, 1);
        assert!(matches!(env.request, Request::UserShow { ref user } if user == "ID0000000001"));
    }
}
