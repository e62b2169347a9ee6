//! One admin request to the service call it names, and the reply. The operator surfaces
//! (this socket, later the Admin and Management APIs) call the same service functions.

use common::admin::{AbilityRole, AdminError, MigrationInfo, Reply, ReplyData, Request, StatusInfo, UserDetail};

use crate::ctl_socket::admin_api::{self, Caller};
use crate::ctl_socket::{explain, kyc, webauthn};

use crate::services::App;
use crate::services::account::{full_info, service_accounts as owned_service_accounts};
use crate::services::clock::iso8601;
use crate::services::error::ServiceError;
use crate::services::gateway::poller;
use crate::services::gateway::restrictions::whitelinks;
use crate::services::identity::totp;
use crate::services::kyc::review;
use crate::services::operator::users::{self, NewAccount};
use crate::services::operator::{
    api_keys, backup, gateway, import, keys, labels, master_key, restrictions, seeds, service_accounts,
};

fn refused(e: ServiceError, config: &crate::config::Config) -> Reply {
    match e {
        // A key may carry its explanation after ": " (`keys.pinned: unset …`); the code is the key.
        ServiceError::Refused { keys, .. } => {
            let first = keys.first().map(String::as_str).unwrap_or_default();
            let code = first.split_once(": ").map_or(first, |(code, _)| code).to_string();
            let message = explain::message(&keys, config);
            Reply { ok: false, data: None, error: Some(AdminError { code, message }) }
        }
        ServiceError::Internal(detail) => {
            tracing::error!(error = %detail, "admin request failed");
            Reply::err("server.internal_error", "internal error; see the daemon log")
        }
    }
}

/// Answers one request from the socket peer whose OS uid is `os_uid`.
pub async fn handle(app: &std::sync::Arc<App>, request: Request, os_uid: Option<u32>) -> Reply {
    let caller = Caller { os_uid };
    if app.import.in_import_mode() && writes_imported_data(&request) {
        return Reply::err(
            "import.in_progress",
            "an import is open: finish or cancel it before changing users, labels, keys or KYC data",
        );
    }
    let result = match request {
        Request::Status => status(app).await,
        Request::UserCreate { email, password, username, role, state, level } => {
            users::create(app, NewAccount { email, password, username, role, state, level })
                .await
                .map(|u| ReplyData::User(Box::new(u)))
        }
        Request::UserList { page, limit } => {
            let (page, limit) = (page.unwrap_or(1).max(1), limit.unwrap_or(100).clamp(1, 1000));
            users::list(app, page, limit).await.map(|(total, users)| ReplyData::Users { total, page, limit, users })
        }
        Request::UserShow { user } => user_detail(app, &user).await,
        Request::MigrateStatus => migrations(app).await,
        Request::MigrateRun => match app.store.migrate(app.clock.now()).await {
            Ok(_) => migrations(app).await,
            Err(e) => Err(e.into()),
        },
        Request::ServiceAccountCreate { owner, role, email } => {
            service_accounts::create(app, &owner, &role, email.as_deref()).await.map(ReplyData::ServiceAccount)
        }
        Request::ServiceAccountList { owner } => service_accounts::list(app, owner.as_deref())
            .await
            .map(|service_accounts| ReplyData::ServiceAccounts { service_accounts }),
        Request::ServiceAccountDisable { uid } => {
            service_accounts::disable(app, &uid).await.map(ReplyData::ServiceAccount)
        }
        Request::ApiKeyList { user } => match users::find(app, &user).await {
            Ok(u) => api_keys::of_user(app, &u).await.map(|api_keys| ReplyData::ApiKeys { api_keys }),
            Err(e) => Err(e),
        },
        Request::ApiKeyDisable { kid } => api_keys::disable_by_kid(app, &kid).await.map(ReplyData::ApiKey),
        Request::RestrictionList => {
            restrictions::list(app).await.map(|restrictions| ReplyData::Restrictions { restrictions })
        }
        Request::RestrictionAdd { category, scope, value, code, state } => {
            restrictions::add(app, restrictions::NewRule { category, scope, value, code, state })
                .await
                .map(ReplyData::Restriction)
        }
        Request::RestrictionRemove { id } => restrictions::remove(app, id).await.map(ReplyData::Restriction),
        Request::RestrictionSetState { id, state } => {
            restrictions::set_state(app, id, &state).await.map(ReplyData::Restriction)
        }
        Request::RestrictionWhitelink { days, hours } => {
            whitelinks::create_whitelink(app, days, hours).await.map(ReplyData::Whitelink)
        }
        Request::KeysList => keys::list(app).await.map(|keys| ReplyData::SigningKeys { keys }),
        Request::KeysRotate { algorithm, now } => keys::rotate(app, algorithm, now).await.map(ReplyData::SigningKey),
        Request::KeysActivate { kid, now } => keys::activate(app, &kid, now).await.map(ReplyData::SigningKey),
        Request::KeysImport { pem, passphrase, activate } => {
            keys::import(app, pem, passphrase, activate).await.map(ReplyData::KeyImported)
        }
        Request::KeysExportPublic { kid, format } => {
            keys::export_public(app, kid.as_deref(), format).map(ReplyData::PublicKey)
        }
        Request::PermissionList => {
            gateway::permissions(app).await.map(|permissions| ReplyData::Permissions { permissions })
        }
        Request::PermissionAdd(p) => gateway::add(app, p).await.map(ReplyData::Permission),
        Request::PermissionRemove { id } => gateway::remove(app, id).await.map(ReplyData::Permission),
        Request::PermissionLoad { yaml } => gateway::load_file(app, &yaml)
            .await
            .map(|(added, existing)| ReplyData::PermissionsLoaded { added, existing }),
        Request::LabelList { user } => match users::find(app, &user).await {
            Ok(u) => labels::list(app, &u).await.map(|labels| ReplyData::Labels { labels }),
            Err(e) => Err(e),
        },
        Request::LabelSet { user, key, value, scope } => match users::find(app, &user).await {
            Ok(u) => labels::set(app, &u, &key, &value, &scope).await.map(|u| ReplyData::User(Box::new(u))),
            Err(e) => Err(e),
        },
        Request::LabelRemove { user, key, scope } => match users::find(app, &user).await {
            Ok(u) => labels::remove(app, &u, &key, &scope).await.map(|u| ReplyData::User(Box::new(u))),
            Err(e) => Err(e),
        },
        Request::Seed { yaml } => seeds::apply_file(app, &yaml).await.map(|s| ReplyData::Seeded {
            levels: s.levels,
            permissions: s.permissions,
            users: s.users,
            restrictions: s.restrictions,
        }),
        Request::KycPending { limit } => {
            review::queue(app, limit.unwrap_or(100)).await.map(|items| ReplyData::KycQueue { items })
        }
        Request::KycProfileReview { user, verdict, reason } => {
            kyc::profile(app, caller, &user, &verdict, reason.as_deref()).await
        }
        Request::KycCheckReview { user, check, verdict, reason } => {
            kyc::check(app, caller, &user, &check, &verdict, reason.as_deref()).await
        }
        Request::KycShow { user } => kyc::show(app, caller, &user).await,
        Request::KycDocumentFile { user, id } => kyc::file(app, caller, &user, id).await,
        Request::KycHistory { user, limit } => kyc::history(app, user.as_deref(), limit).await,
        Request::UserRole { uid, role, yes } => admin_api::role(app, caller, &uid, &role, yes).await,
        Request::UserState { uid, state, yes } => admin_api::state(app, caller, &uid, &state, yes).await,
        Request::UserReset2fa { uid, reason, yes } => admin_api::reset_2fa(app, caller, &uid, &reason, yes).await,
        Request::UserWebauthnList { uid } => webauthn::list(app, &uid).await,
        Request::UserWebauthnRemove { uid, id, reason } => webauthn::remove(app, caller, &uid, id, &reason).await,
        Request::CommentAdd { uid, title, data } => admin_api::comment_add(app, caller, &uid, &title, &data).await,
        Request::CommentEdit { id, title, data } => {
            admin_api::comment_edit(app, caller, id, title.as_deref(), data.as_deref()).await
        }
        Request::CommentRemove { id } => admin_api::comment_remove(app, caller, id).await,
        Request::CommentList { uid } => admin_api::comment_list(app, &uid).await,
        Request::ActivityList(q) => admin_api::activity_list(app, q).await,
        Request::Metrics { from, to } => admin_api::metrics(app, from.as_deref(), to.as_deref()).await,
        Request::ManagementCheck => admin_api::management_check(app),
        Request::Backup { path } => backup::backup(app, &path).await.map(ReplyData::Backup),
        Request::MasterKeyRotate => master_key::rotate(app).await.map(ReplyData::MasterKey),
        Request::MasterKeyStatus => master_key::status(app).await.map(ReplyData::MasterKey),
        // Staged pieces live with their connection (server.rs); one arriving here had none.
        Request::ImportStage { .. } => Err(ServiceError::invalid("admin.stage_outside_connection")),
        Request::ImportStart { options, secrets } => {
            import::start(app, *options, secrets).await.map(|s| ReplyData::ImportStatus(Box::new(s)))
        }
        Request::ImportStatus { job } => import::status(app, job).await.map(|s| ReplyData::ImportStatus(Box::new(s))),
        Request::ImportReport { job, section } => {
            import::report(app, job, section.as_deref()).await.map(|report| ReplyData::ImportReport { report })
        }
        Request::ImportCancel { job, purge } => {
            import::cancel(app, job, purge).await.map(|s| ReplyData::ImportStatus(Box::new(s)))
        }
        Request::ImportFinish { job } => {
            import::finish(app, job, os_uid).await.map(|s| ReplyData::ImportStatus(Box::new(s)))
        }
    };
    // This daemon's gateway caches take in what the operator just changed before barongctl hears
    // back (other daemons follow at their next poll). After reads too: one feed read is cheaper
    // than a list of which requests write that could fall behind.
    poller::catch_up(app).await;
    match result {
        Ok(data) => Reply::ok(data),
        Err(e) => refused(e, &app.config),
    }
}

/// Requests that write what an import run would overwrite (migration spec §2.2); JWT `keys`
/// commands, reads and the import's own requests stay available.
fn writes_imported_data(request: &Request) -> bool {
    matches!(
        request,
        Request::UserCreate { .. }
            | Request::ServiceAccountCreate { .. }
            | Request::ServiceAccountDisable { .. }
            | Request::ApiKeyDisable { .. }
            | Request::LabelSet { .. }
            | Request::LabelRemove { .. }
            | Request::Seed { .. }
            | Request::KycProfileReview { .. }
            | Request::KycCheckReview { .. }
            | Request::UserRole { .. }
            | Request::UserState { .. }
            | Request::UserReset2fa { .. }
            | Request::UserWebauthnRemove { .. }
            | Request::CommentAdd { .. }
            | Request::CommentEdit { .. }
            | Request::CommentRemove { .. }
            | Request::PermissionAdd(_)
            | Request::PermissionRemove { .. }
            | Request::PermissionLoad { .. }
            | Request::RestrictionAdd { .. }
            | Request::RestrictionRemove { .. }
            | Request::RestrictionSetState { .. }
            // An import run checks its SECRET_KEY_BASE by an index a rotation re-keys.
            | Request::MasterKeyRotate
    )
}

/// `user show`: the user, its keys (never secrets) and its service accounts.
async fn user_detail(app: &App, who: &str) -> Result<ReplyData, ServiceError> {
    let user = users::find(app, who).await?;
    let detail = UserDetail {
        user: full_info::user_with_full_info(app, &user).await?,
        api_keys: api_keys::of_user(app, &user).await?,
        service_accounts: owned_service_accounts::list_owned(app, &user).await?,
        totp: totp::status(&user),
    };
    Ok(ReplyData::UserDetail(Box::new(detail)))
}

async fn status(app: &App) -> Result<ReplyData, ServiceError> {
    Ok(ReplyData::Status(StatusInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        listen: app.listen.clone(),
        database: app.database.clone(),
        uptime_seconds: app.started.elapsed().as_secs(),
        users: app.store.count_users().await?,
        pending_mail: app.store.pending_mail().await?,
        pending_events: app.store.pending_events().await?,
        abilities: app
            .config
            .abilities
            .roles
            .iter()
            .map(|(role, rules)| AbilityRole { role: role.clone(), rules: rules.clone() })
            .collect(),
        bcrypt_digests: app
            .store
            .legacy_password_counts()
            .await?
            .into_iter()
            .map(|(prefix, n)| (prefix.trim_end_matches('$').to_string(), n))
            .collect(),
    }))
}

async fn migrations(app: &App) -> Result<ReplyData, ServiceError> {
    let list = app.store.migration_status().await?;
    Ok(ReplyData::Migrations {
        migrations: list
            .into_iter()
            .map(|m| MigrationInfo {
                version: m.version,
                name: m.name,
                applied: m.applied_at.is_some(),
                applied_at: m.applied_at.map(iso8601),
            })
            .collect(),
    })
}
