//! Entities of Barong's Admin API (`/api/v2/admin`), fields in the order Barong emits them;
//! timestamps ISO-8601 UTC with a `Z`.

use serde::{Deserialize, Serialize};

/// A gateway permission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permission {
    pub id: i64,
    /// `ACCEPT`, `DROP` or `AUDIT`.
    pub action: String,
    pub role: String,
    /// An HTTP method in upper case, or `ALL`.
    pub verb: String,
    pub path: String,
    pub topic: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// A restriction (whitelist, maintenance, blacklist, blocklogin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Restriction {
    pub id: i64,
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: i64,
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
}

/// A KYC level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Level {
    pub id: i64,
    pub key: String,
    pub value: String,
}

/// Barong's admin `User` entity (no timestamps).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub email: String,
    pub uid: String,
    pub role: String,
    pub level: i64,
    pub otp: bool,
    pub state: String,
    pub referral_uid: Option<String>,
    pub data: Option<String>,
    pub username: Option<String>,
}

/// A user's activity with its user (`GET /admin/activities`); no `id`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActivityWithUser {
    pub user_ip: String,
    pub user_ip_country: Option<String>,
    pub user_agent: Option<String>,
    pub topic: String,
    pub action: String,
    pub result: String,
    /// JSON text, returned as a string.
    pub data: Option<String>,
    pub user: User,
    pub created_at: String,
}

/// An admin activity (`GET /admin/activities/admin`): `admin` is the actor (`null` for the
/// operator's barongctl rows), `target` the user named by `target_uid`, if any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminActivity {
    pub user_ip: String,
    pub user_ip_country: Option<String>,
    pub user_agent: Option<String>,
    pub topic: String,
    pub action: String,
    pub result: String,
    pub data: Option<String>,
    pub admin: Option<User>,
    pub target: Option<User>,
    pub created_at: String,
}

/// `UserWithProfile` (`GET /admin/users?extended=true`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserWithProfile {
    pub email: String,
    pub uid: String,
    pub role: String,
    pub level: i64,
    pub otp: bool,
    pub state: String,
    pub referral_uid: Option<String>,
    pub data: Option<String>,
    pub username: Option<String>,
    pub profiles: Vec<crate::entities::Profile>,
    pub created_at: String,
    pub updated_at: String,
}

impl UserWithProfile {
    /// `user`'s fields followed by its profiles and timestamps.
    pub fn new(user: User, profiles: Vec<crate::entities::Profile>, created_at: String, updated_at: String) -> Self {
        UserWithProfile {
            email: user.email,
            uid: user.uid,
            role: user.role,
            level: user.level,
            otp: user.otp,
            state: user.state,
            referral_uid: user.referral_uid,
            data: user.data,
            username: user.username,
            profiles,
            created_at,
            updated_at,
        }
    }
}

/// A label as the Admin API shows it (with its description).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminLabelView {
    pub key: String,
    pub value: String,
    pub scope: String,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// The admin `Document` entity: the resource API's four keys plus metadata and timestamps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminDocument {
    pub upload: crate::entities::UploadUrl,
    pub doc_type: Option<String>,
    pub doc_number: Option<String>,
    pub doc_expire: Option<String>,
    /// JSON text, returned as a string.
    pub metadata: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// An admin's note on a user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub author_uid: String,
    pub title: String,
    pub data: String,
    pub created_at: String,
    pub updated_at: String,
}

/// `UserWithKYC` (`GET /admin/users/:uid`). `profile` (the newest profile or `null`) is not
/// Barong 2.7's: Tower 2.2.8's user page reads it and throws without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserWithKyc {
    pub email: String,
    pub uid: String,
    pub role: String,
    pub level: i64,
    pub otp: bool,
    pub state: String,
    pub referral_uid: Option<String>,
    pub data: Option<String>,
    pub username: Option<String>,
    pub profiles: Vec<crate::entities::Profile>,
    pub profile: Option<crate::entities::Profile>,
    pub labels: Vec<AdminLabelView>,
    pub phones: Vec<crate::entities::Phone>,
    pub documents: Vec<AdminDocument>,
    pub data_storages: Vec<crate::entities::DataStorage>,
    pub comments: Vec<Comment>,
    pub created_at: String,
    pub updated_at: String,
}
