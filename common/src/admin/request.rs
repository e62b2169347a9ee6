//! Admin-socket request lines.

use serde::{Deserialize, Serialize};

use super::{ImportOptions, ImportSecrets, PermissionSpec, PublicKeyFormat};
use crate::jwt::JwtAlgorithm;

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
    /// Publish a fresh signing key, which signs after `jwt_key_activation_delay` (at once with
    /// `now`); the old one verifies until its tokens expire.
    KeysRotate {
        /// Algorithm of the new key; `None` means the daemon's `jwt_algorithm`. The next start
        /// rotates back to `jwt_algorithm` when they differ.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        algorithm: Option<JwtAlgorithm>,
        /// Sign with it at once (an emergency: consumers caching the JWKS refuse its tokens until
        /// they refresh it).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        now: bool,
    },
    /// Add a private key (PEM text, read by barongctl) to the keyring; `activate` makes it the
    /// signing key at once on every daemon. `passphrase` opens an encrypted PKCS#8 key.
    KeysImport {
        pem: String,
        #[serde(default)]
        passphrase: Option<String>,
        #[serde(default)]
        activate: bool,
    },
    /// Make a stored key the signing key once it has been published for
    /// `jwt_key_activation_delay` (at once with `now`); the active one stays verify-only as
    /// `previous`.
    KeysActivate {
        kid: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        now: bool,
    },
    /// A public key (default: the active one) in a consumer's format.
    KeysExportPublic {
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        format: PublicKeyFormat,
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
    /// Decide a user's (uid or email) submitted profile: `verdict` is `verified` or `rejected`;
    /// `reason` is mailed to a rejected user and kept in the review history.
    KycProfileReview {
        user: String,
        verdict: String,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Decide a user's pending `document` or `address` check (`verdict` and `reason` as above).
    KycCheckReview {
        user: String,
        check: String,
        verdict: String,
        #[serde(default)]
        reason: Option<String>,
    },
    /// What a reviewer looks at for one user: profiles, documents, labels, decisions.
    KycShow { user: String },
    /// One stored document file of a user, by the document's id.
    KycDocumentFile { user: String, id: i64 },
    /// The newest decisions, of one user or of everyone, newest first.
    KycHistory {
        #[serde(default)]
        user: Option<String>,
        #[serde(default)]
        limit: Option<i64>,
    },
    /// Change a user's role (the Admin API's `POST /users/role`). A superadmin target, or
    /// granting or removing a role with an abilities entry, needs `yes`.
    UserRole {
        uid: String,
        role: String,
        #[serde(default)]
        yes: bool,
    },
    /// Set a user's state (`POST /users/update {uid, state}`): `pending`, `active` or a
    /// `state_triggers` state; `yes` as for `UserRole`.
    UserState {
        uid: String,
        state: String,
        #[serde(default)]
        yes: bool,
    },
    /// Reset a user's 2FA (`POST /users/update {uid, otp: false}`) and end its sessions, for
    /// a reason support states (required, recorded in the admin activity); `yes` as for
    /// `UserRole`. The way out of the safe state of an account whose seed was not carried from
    /// Barong (migration spec §2.8.5). Earlier clients sent it as `user_otp_reset`.
    #[serde(rename = "user_reset_2fa", alias = "user_otp_reset")]
    UserReset2fa {
        uid: String,
        #[serde(default)]
        reason: String,
        #[serde(default)]
        yes: bool,
    },
    /// A user's WebAuthn credentials (name, dates; never a key).
    UserWebauthnList { uid: String },
    /// Remove one of a user's WebAuthn credentials (support's "lost my key"), for a reason
    /// recorded in the admin activity log.
    UserWebauthnRemove {
        uid: String,
        id: i64,
        #[serde(default)]
        reason: String,
    },
    /// Add an operator's note on a user (author `barongctl`).
    CommentAdd { uid: String, title: String, data: String },
    /// Change a note's title and/or data.
    CommentEdit {
        id: i64,
        #[serde(default)]
        title: Option<String>,
        #[serde(default)]
        data: Option<String>,
    },
    /// Delete a note.
    CommentRemove { id: i64 },
    /// A user's notes.
    CommentList { uid: String },
    /// A page of the users' or the admins' activity log.
    ActivityList(ActivityQuery),
    /// The Admin API's dashboard counts; `from`/`to` are epoch seconds or `YYYY-MM-DD`.
    Metrics {
        #[serde(default)]
        from: Option<String>,
        #[serde(default)]
        to: Option<String>,
    },
    /// The Management API file the daemon loaded, as `management check` reports it.
    ManagementCheck,
    /// A consistent online copy of the database into `path` (absolute, must not exist).
    Backup { path: String },
    /// Start re-sealing every sealed value under a new master key (or, when one runs or is
    /// unfinished, continue it); answers where it stands.
    MasterKeyRotate,
    /// Where the latest master-key rotation stands.
    MasterKeyStatus,
    /// One piece of a secrets file too large for one frame, held by the daemon for this
    /// connection only: pieces of file `file` (0, 1, …, in order) are joined, and the next
    /// `ImportStart` on the same connection takes the staged files after its own.
    ImportStage { file: usize, part: String },
    /// Start an import job (or the next run of the open one) in the background.
    ImportStart { options: Box<ImportOptions>, secrets: ImportSecrets },
    /// A job's progress; the open (or newest) one when `job` is absent.
    ImportStatus {
        #[serde(default)]
        job: Option<i64>,
    },
    /// A job's report (§2.9), or one `section` of it.
    ImportReport {
        #[serde(default)]
        job: Option<i64>,
        #[serde(default)]
        section: Option<String>,
    },
    /// Stop a job at its next batch; `purge` also deletes every row it wrote.
    ImportCancel {
        #[serde(default)]
        job: Option<i64>,
        #[serde(default)]
        purge: bool,
    },
    /// Close a completed job once the source is quiet; import mode ends.
    ImportFinish {
        #[serde(default)]
        job: Option<i64>,
    },
}

/// `activity list`: the Admin API's `GET /activities` (or `/activities/admin` with `admin`)
/// filters; `from`/`to` are epoch seconds or `YYYY-MM-DD`, both inclusive.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ActivityQuery {
    #[serde(default)]
    pub admin: bool,
    #[serde(default)]
    pub uid: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub topic: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub target_uid: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub page: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
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
            Request::KycProfileReview { user, verdict, reason } => f
                .debug_struct("KycProfileReview")
                .field("user", user)
                .field("verdict", verdict)
                .field("reason", reason)
                .finish(),
            Request::KycCheckReview { user, check, verdict, reason } => f
                .debug_struct("KycCheckReview")
                .field("user", user)
                .field("check", check)
                .field("verdict", verdict)
                .field("reason", reason)
                .finish(),
            Request::KycShow { user } => f.debug_struct("KycShow").field("user", user).finish(),
            Request::KycDocumentFile { user, id } => {
                f.debug_struct("KycDocumentFile").field("user", user).field("id", id).finish()
            }
            Request::KycHistory { user, limit } => {
                f.debug_struct("KycHistory").field("user", user).field("limit", limit).finish()
            }
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
            Request::KeysRotate { algorithm, now } => {
                f.debug_struct("KeysRotate").field("algorithm", algorithm).field("now", now).finish()
            }
            // A private key and its passphrase never reach a log: their sizes only.
            Request::KeysImport { pem, passphrase, activate } => f
                .debug_struct("KeysImport")
                .field("pem_bytes", &pem.len())
                .field("passphrase", &passphrase.as_ref().map(|_| "[redacted]"))
                .field("activate", activate)
                .finish(),
            Request::KeysActivate { kid, now } => {
                f.debug_struct("KeysActivate").field("kid", kid).field("now", now).finish()
            }
            Request::KeysExportPublic { kid, format } => {
                f.debug_struct("KeysExportPublic").field("kid", kid).field("format", format).finish()
            }
            Request::PermissionList => f.write_str("PermissionList"),
            Request::PermissionAdd(p) => f.debug_tuple("PermissionAdd").field(p).finish(),
            Request::PermissionRemove { id } => f.debug_struct("PermissionRemove").field("id", id).finish(),
            Request::PermissionLoad { yaml } => f.debug_struct("PermissionLoad").field("bytes", &yaml.len()).finish(),
            Request::UserRole { uid, role, yes } => {
                f.debug_struct("UserRole").field("uid", uid).field("role", role).field("yes", yes).finish()
            }
            Request::UserState { uid, state, yes } => {
                f.debug_struct("UserState").field("uid", uid).field("state", state).field("yes", yes).finish()
            }
            Request::UserReset2fa { uid, reason, yes } => f
                .debug_struct("UserReset2fa")
                .field("uid", uid)
                .field("reason_chars", &reason.chars().count())
                .field("yes", yes)
                .finish(),
            Request::UserWebauthnList { uid } => f.debug_struct("UserWebauthnList").field("uid", uid).finish(),
            Request::UserWebauthnRemove { uid, id, reason } => f
                .debug_struct("UserWebauthnRemove")
                .field("uid", uid)
                .field("id", id)
                .field("reason_chars", &reason.chars().count())
                .finish(),
            // Notes may hold personal data: their sizes only.
            Request::CommentAdd { uid, title, data } => f
                .debug_struct("CommentAdd")
                .field("uid", uid)
                .field("title_chars", &title.chars().count())
                .field("data_chars", &data.chars().count())
                .finish(),
            Request::CommentEdit { id, title, data } => f
                .debug_struct("CommentEdit")
                .field("id", id)
                .field("title_chars", &title.as_ref().map(|t| t.chars().count()))
                .field("data_chars", &data.as_ref().map(|d| d.chars().count()))
                .finish(),
            Request::CommentRemove { id } => f.debug_struct("CommentRemove").field("id", id).finish(),
            Request::CommentList { uid } => f.debug_struct("CommentList").field("uid", uid).finish(),
            Request::ActivityList(q) => f.debug_tuple("ActivityList").field(q).finish(),
            Request::Metrics { from, to } => f.debug_struct("Metrics").field("from", from).field("to", to).finish(),
            Request::ManagementCheck => f.write_str("ManagementCheck"),
            Request::Backup { path } => f.debug_struct("Backup").field("path", path).finish(),
            Request::MasterKeyRotate => f.write_str("MasterKeyRotate"),
            Request::MasterKeyStatus => f.write_str("MasterKeyStatus"),
            Request::ImportStart { options, secrets } => {
                f.debug_struct("ImportStart").field("options", options).field("secrets", secrets).finish()
            }
            Request::ImportStage { file, part } => {
                f.debug_struct("ImportStage").field("file", file).field("bytes", &part.len()).finish()
            }
            Request::ImportStatus { job } => f.debug_struct("ImportStatus").field("job", job).finish(),
            Request::ImportReport { job, section } => {
                f.debug_struct("ImportReport").field("job", job).field("section", section).finish()
            }
            Request::ImportCancel { job, purge } => {
                f.debug_struct("ImportCancel").field("job", job).field("purge", purge).finish()
            }
            Request::ImportFinish { job } => f.debug_struct("ImportFinish").field("job", job).finish(),
        }
    }
}
