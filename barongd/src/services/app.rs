//! The composition root: everything a service needs, built once at start-up and shared by
//! reference. It holds the domains' long-lived parts; none of those parts refers back to `App`.

use std::sync::Arc;
use std::time::Instant;

use crate::config::Config;

use crate::services::clock::Clock;
use crate::services::events::mail::mailer::Mailer;
use crate::services::gateway::caches::Authz;
use crate::services::gateway::restrictions::cache::Restrictions;
use crate::services::identity::auth0_keys::Tenant;
use crate::services::identity::captcha::Captcha;
use crate::services::identity::hash_slots::HashSlots;
use crate::services::identity::legacy_passwords::LegacyPasswords;
use crate::services::identity::passwords::{Hasher, Policy};
use crate::services::kyc::file_store::FileStore;
use crate::services::kyc::sms::Sms;
use crate::services::operator::import::job::ImportRuntime;
use crate::services::operator::master_key::RotationRuntime;
use crate::services::seal::Sealer;
use crate::services::tokens::Tokens;
use crate::store::DynStore;

pub struct App {
    pub config: Arc<Config>,
    pub store: DynStore,
    pub clock: Arc<dyn Clock>,
    pub hasher: Hasher,
    /// Password checks in flight per client, bounded before they reach the hasher's queue.
    pub hash_slots: HashSlots,
    /// Barong's bcrypt digests still to migrate, and the sign-in time floor while any remain.
    pub legacy_passwords: Arc<LegacyPasswords>,
    pub policy: Policy,
    pub tokens: Tokens,
    pub sealer: Sealer,
    pub mailer: Mailer,
    pub captcha: Captcha,
    /// The Auth0 tenant whose ID tokens sign users in; `None` when Auth0 login is off.
    pub auth0: Option<Tenant>,
    /// The WebAuthn relying party; `None` when `webauthn_rp_id`/`webauthn_origins` are not set.
    pub webauthn: Option<crate::services::identity::webauthn::relying_party::RelyingParty>,
    /// Delivery and checking of phone verification codes.
    pub sms: Sms,
    /// Where KYC files live: the uploads directory or a bucket (`storage_provider`).
    pub files: FileStore,
    pub authz: Authz,
    pub restrictions: Restrictions,
    /// Barong's `management_api.yml` as loaded at start-up; `None` when `management_api.file`
    /// is not set (every Management API request then fails verification).
    pub management: Option<Arc<crate::config::management_file::ManagementFile>>,
    pub started: Instant,
    /// The address actually bound (port 0 resolved), for status output.
    pub listen: String,
    /// The database URL with any password removed.
    pub database: String,
    /// The Barong importer's run in progress and the import-mode flag (spec migration §2.2).
    pub import: Arc<ImportRuntime>,
    /// Where the master key lives and whether a rotation's re-seal runs in this daemon.
    pub master_key: RotationRuntime,
    /// Set when shutdown begins: `/health/ready` then answers 503 so load balancers stop
    /// sending traffic while in-flight requests finish.
    pub draining: std::sync::atomic::AtomicBool,
}
