//! The admin-socket protocol: newline-delimited JSON, one request object and one reply object
//! per line, at most [`MAX_FRAME`] bytes each. Every request carries the protocol version `v` so
//! an old CLI talking to a new daemon gets a clear refusal instead of a misread.

mod gateway;
mod import;
mod kyc;
mod management;
mod metrics;
mod request;
mod status;
mod users;

use serde::{Deserialize, Serialize};

use crate::admin_api::{ActivityWithUser, AdminActivity, Comment, User};
use crate::entities::{Label, Profile, ServiceAccount, UserSummary, UserWithFullInfo, WebauthnCredential};

pub use gateway::{
    ImportedKeyInfo, PermissionInfo, PermissionSpec, PublicKeyExport, PublicKeyFormat, RestrictionInfo, SigningKeyInfo,
    Whitelink,
};
pub use import::{ImportOptions, ImportSecrets, ImportStatus, TableCounters, VaultOptions};
pub use kyc::{KycCase, KycDecision, KycDocument, KycFile, KycQueueItem};
pub use management::{ManagementReport, ManagementSettings, Problem, ScopeInfo, Severity, SignerInfo};
pub use metrics::Metrics;
pub use request::{ActivityQuery, Request};
pub use status::{AbilityRole, BackupInfo, MasterKeyRotation, MigrationInfo, StatusInfo};
pub use users::{ApiKeySummary, TotpStatus, TwoFactorReset, UserDetail};

/// Protocol version spoken by this build.
pub const PROTOCOL_VERSION: u32 = 1;
/// Longest accepted request line, in bytes; a longer frame is refused and the connection closed.
/// Larger inputs (secrets files) travel as `ImportStage` pieces.
pub const MAX_FRAME: usize = 1024 * 1024;
/// Longest reply line a client reads: replies come from the trusted daemon and an import report
/// over a large exchange (every user left without a seed, say) passes a megabyte.
pub const MAX_REPLY_FRAME: usize = 256 * 1024 * 1024;
/// Raw text per `ImportStage` piece: JSON escaping at most sextuples it (`\u0001`), which stays
/// inside `MAX_FRAME`.
pub const STAGE_PIECE: usize = 128 * 1024;
/// Most bytes one connection may stage.
pub const MAX_STAGED: usize = 512 * 1024 * 1024;
/// File name of the socket inside the data dir.
pub const SOCKET_FILE: &str = "barongd.sock";

/// One request line: `{"v":1,"op":"user_create",...}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Envelope {
    pub v: u32,
    #[serde(flatten)]
    pub request: Request,
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
    /// `keys import`.
    KeyImported(ImportedKeyInfo),
    /// `keys export-public`.
    PublicKey(PublicKeyExport),
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
    KycCase(Box<KycCase>),
    KycFile(Box<KycFile>),
    KycHistory {
        decisions: Vec<KycDecision>,
    },
    /// A user after an operator's change, as the Admin API's `User` entity.
    AdminUser(Box<User>),
    /// `user reset-2fa`: what the reset changed.
    TwoFactorReset(Box<TwoFactorReset>),
    /// `user webauthn list|remove`: the user's WebAuthn credentials (after a removal: those left).
    WebauthnCredentials {
        uid: String,
        credentials: Vec<WebauthnCredential>,
    },
    /// A user's notes (`comment add|edit|rm|list`).
    Comments {
        uid: String,
        comments: Vec<Comment>,
    },
    /// A page of the users' activity log and how many rows match.
    UserActivities {
        total: i64,
        items: Vec<ActivityWithUser>,
    },
    /// A page of the admin log and how many rows match.
    AdminActivities {
        total: i64,
        items: Vec<AdminActivity>,
    },
    Metrics(Metrics),
    /// `management check`: the loaded Management API file and its problems.
    ManagementCheck(Box<ManagementReport>),
    Backup(BackupInfo),
    /// `keys rotate-master`: where the master-key rotation stands.
    MasterKey(MasterKeyRotation),
    /// `ImportStage`: bytes now held for staged file `file`.
    Staged {
        file: usize,
        bytes: usize,
    },
    /// An import job's progress (`import barong`, `import status`, `cancel`, `finish`).
    ImportStatus(Box<ImportStatus>),
    /// An import job's report (spec migration-from-barong §2.9), one JSON document.
    ImportReport {
        report: serde_json::Value,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwt::JwtAlgorithm;

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
        let detail = UserDetail { user, api_keys: vec![], service_accounts: vec![], totp: TotpStatus::SeedMissing };
        let reply = Reply::ok(ReplyData::UserDetail(Box::new(detail.clone())));
        let line = serde_json::to_string(&reply).expect("encodes");
        assert!(line.contains(r#""kind":"user_detail""#) && line.contains(r#""otp":true"#), "{line}");
        assert!(line.contains(r#""totp":"seed_missing""#), "{line}");
        let back: Reply = serde_json::from_str(&line).expect("decodes");
        assert!(matches!(back.data, Some(ReplyData::UserDetail(d)) if *d == detail));
    }

    #[test]
    fn reset_2fa_reads_the_earlier_name_and_needs_no_reason_to_parse() {
        // The daemon refuses the blank reason with its own key; the line must still parse.
        let old: Envelope = serde_json::from_str(r#"{"v":1,"op":"user_otp_reset","uid":"ID1"}"#).expect("parses");
        assert!(
            matches!(old.request, Request::UserReset2fa { ref uid, ref reason, yes: false } if uid == "ID1" && reason.is_empty())
        );
        let new: Envelope = serde_json::from_str(
            r#"{"v":1,"op":"user_reset_2fa","uid":"ID1","reason":"verified by phone","yes":true}"#,
        )
        .expect("parses");
        assert!(
            matches!(new.request, Request::UserReset2fa { ref reason, yes: true, .. } if reason == "verified by phone")
        );
    }

    #[test]
    fn keys_rotate_names_its_algorithm_only_when_asked() {
        let plain: Envelope = serde_json::from_str(r#"{"v":1,"op":"keys_rotate"}"#).expect("parses");
        assert!(matches!(plain.request, Request::KeysRotate { algorithm: None, now: false }));
        let line = serde_json::to_string(&plain).expect("encodes");
        assert_eq!(line, r#"{"v":1,"op":"keys_rotate"}"#);
        let es: Envelope = serde_json::from_str(r#"{"v":1,"op":"keys_rotate","algorithm":"ES256"}"#).expect("parses");
        assert!(matches!(es.request, Request::KeysRotate { algorithm: Some(JwtAlgorithm::Es256), now: false }));
        let now: Envelope = serde_json::from_str(r#"{"v":1,"op":"keys_rotate","now":true}"#).expect("parses");
        assert!(matches!(now.request, Request::KeysRotate { algorithm: None, now: true }));
        assert!(serde_json::from_str::<Envelope>(r#"{"v":1,"op":"keys_rotate","algorithm":"HS256"}"#).is_err());
    }

    #[test]
    fn key_import_debug_never_shows_the_key_or_its_passphrase() {
        let r = Request::KeysImport {
            pem: "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecret\n".into(),
            passphrase: Some("hunter2-pass".into()),
            activate: true,
        };
        let shown = format!("{r:?}");
        assert!(!shown.contains("MIIEsecret") && !shown.contains("hunter2-pass"), "{shown}");
        let line = serde_json::to_string(&Envelope {
            v: 1,
            request: Request::KeysExportPublic { kid: None, format: PublicKeyFormat::Peatio },
        })
        .expect("encodes");
        assert_eq!(line, r#"{"v":1,"op":"keys_export_public","kid":null,"format":"peatio"}"#);
    }

    #[test]
    fn envelope_is_internally_tagged_and_versioned() {
        let line = r#"{"v":1,"op":"user_show","user":"ID0000000001"}"#;
        let env: Envelope = serde_json::from_str(line).expect("parses");
        assert_eq!(env.v, 1);
        assert!(matches!(env.request, Request::UserShow { ref user } if user == "ID0000000001"));
    }
}
