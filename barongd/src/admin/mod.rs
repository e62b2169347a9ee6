//! The admin socket: a Unix socket (0600, peer uid checked) speaking newline-delimited JSON,
//! one request and one reply per line, each at most `MAX_FRAME` bytes.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::admin::{
    AdminError, Envelope, MAX_FRAME, MigrationInfo, PROTOCOL_VERSION, Reply, ReplyData, Request, StatusInfo, UserDetail,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::services::App;
use crate::services::admin_users::{self, NewAccount};
use crate::services::clock::iso8601;
use crate::services::error::ServiceError;
use crate::services::restrictions;
use crate::services::{admin_labels, api_keys, entities, kyc_review, profiles, service_accounts};

/// Binds the socket, replacing a stale one, with owner-only permissions.
pub fn bind(path: &Path) -> Result<UnixListener, String> {
    if path.exists() {
        // A live daemon would answer; a dead one left its socket behind.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "admin socket {} is in use: is another barongd running on this data dir?",
                path.display()
            ));
        }
        std::fs::remove_file(path).map_err(|e| format!("admin socket {}: {e}", path.display()))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| format!("admin socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("admin socket {}: {e}", path.display()))?;
    Ok(listener)
}

pub async fn serve(app: Arc<App>, listener: UnixListener, path: PathBuf) {
    let owner = std::fs::metadata(&path).map(|m| m.uid()).ok();
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let peer = stream.peer_cred().ok().map(|c| c.uid());
        if owner.is_none() || peer != owner {
            tracing::warn!(peer_uid = ?peer, "admin socket: refused a connection from another user");
            continue;
        }
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(app, stream).await {
                tracing::debug!(error = %e, "admin connection ended");
            }
        });
    }
}

async fn connection(app: Arc<App>, stream: UnixStream) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    loop {
        let mut line = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(300),
            (&mut reader).take(MAX_FRAME as u64 + 1).read_until(b'\n', &mut line),
        )
        .await;
        let n = match read {
            Ok(r) => r?,
            Err(_) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        let reply = if line.len() > MAX_FRAME {
            let r = Reply::err("admin.frame_too_large", format!("requests are limited to {MAX_FRAME} bytes"));
            write_reply(&mut write, &r).await?;
            return Ok(());
        } else {
            match serde_json::from_slice::<Envelope>(&line) {
                // No stored value may hold a NUL (PostgreSQL refuses it in text).
                Ok(env) if serde_json::to_value(&env.request).is_ok_and(|v| crate::http::params::holds_nul(&v)) => {
                    Reply::err("admin.bad_request", "NUL characters are not accepted")
                }
                Ok(env) if env.v != PROTOCOL_VERSION => Reply::err(
                    "admin.version_mismatch",
                    format!("daemon speaks protocol {PROTOCOL_VERSION}, client sent {}", env.v),
                ),
                Ok(env) => {
                    tracing::info!(request = ?env.request, "admin request");
                    handle(&app, env.request).await
                }
                Err(e) => Reply::err("admin.bad_request", format!("cannot parse request: {e}")),
            }
        };
        write_reply(&mut write, &reply).await?;
    }
}

async fn write_reply(w: &mut tokio::net::unix::OwnedWriteHalf, r: &Reply) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(r).unwrap_or_else(|_| br#"{"ok":false}"#.to_vec());
    bytes.push(b'\n');
    w.write_all(&bytes).await
}

fn refused(e: ServiceError) -> Reply {
    match e {
        ServiceError::Api { keys, .. } => Reply {
            ok: false,
            data: None,
            error: Some(AdminError { code: keys.first().cloned().unwrap_or_default(), message: keys.join(", ") }),
        },
        ServiceError::Internal(detail) => {
            tracing::error!(error = %detail, "admin request failed");
            Reply::err("server.internal_error", "internal error; see the daemon log")
        }
    }
}

pub async fn handle(app: &App, request: Request) -> Reply {
    let result = match request {
        Request::Status => status(app).await,
        Request::UserCreate { email, password, username, role, state, level } => {
            admin_users::create(app, NewAccount { email, password, username, role, state, level })
                .await
                .map(|u| ReplyData::User(Box::new(u)))
        }
        Request::UserList { page, limit } => {
            let (page, limit) = (page.unwrap_or(1).max(1), limit.unwrap_or(100).clamp(1, 1000));
            admin_users::list(app, page, limit).await.map(|(total, users)| ReplyData::Users {
                total,
                page,
                limit,
                users,
            })
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
        Request::ApiKeyList { user } => match admin_users::find(app, &user).await {
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
            restrictions::create_whitelink(app, days, hours).await.map(ReplyData::Whitelink)
        }
        Request::KeysList => crate::services::authz::admin::keys(app).await.map(|keys| ReplyData::SigningKeys { keys }),
        Request::KeysRotate { algorithm } => {
            crate::services::authz::admin::rotate(app, algorithm).await.map(ReplyData::SigningKey)
        }
        Request::PermissionList => crate::services::authz::admin::permissions(app)
            .await
            .map(|permissions| ReplyData::Permissions { permissions }),
        Request::PermissionAdd(p) => crate::services::authz::admin::add(app, p).await.map(ReplyData::Permission),
        Request::PermissionRemove { id } => {
            crate::services::authz::admin::remove(app, id).await.map(ReplyData::Permission)
        }
        Request::PermissionLoad { permissions } => crate::services::authz::admin::load(app, permissions)
            .await
            .map(|(added, existing)| ReplyData::PermissionsLoaded { added, existing }),
        Request::LabelList { user } => match admin_users::find(app, &user).await {
            Ok(u) => admin_labels::list(app, &u).await.map(|labels| ReplyData::Labels { labels }),
            Err(e) => Err(e),
        },
        Request::LabelSet { user, key, value, scope } => match admin_users::find(app, &user).await {
            Ok(u) => admin_labels::set(app, &u, &key, &value, &scope).await.map(|u| ReplyData::User(Box::new(u))),
            Err(e) => Err(e),
        },
        Request::LabelRemove { user, key, scope } => match admin_users::find(app, &user).await {
            Ok(u) => admin_labels::remove(app, &u, &key, &scope).await.map(|u| ReplyData::User(Box::new(u))),
            Err(e) => Err(e),
        },
        Request::Seed { yaml } => crate::services::seeds::apply_file(app, &yaml).await.map(|s| ReplyData::Seeded {
            levels: s.levels,
            permissions: s.permissions,
            users: s.users,
            restrictions: s.restrictions,
        }),
        Request::KycPending { limit } => {
            kyc_review::queue(app, limit.unwrap_or(100)).await.map(|items| ReplyData::KycQueue { items })
        }
        Request::KycProfileReview { user, verdict } => profile_review(app, &user, &verdict).await,
        Request::KycCheckReview { user, check, verdict } => match admin_users::find(app, &user).await {
            Ok(u) => kyc_review::review_check(app, &u, &check, &verdict).await.map(|u| ReplyData::User(Box::new(u))),
            Err(e) => Err(e),
        },
    };
    match result {
        Ok(data) => Reply::ok(data),
        Err(e) => refused(e),
    }
}

/// `kyc profile verify|reject`.
async fn profile_review(app: &App, who: &str, verdict: &str) -> Result<ReplyData, ServiceError> {
    let user = admin_users::find(app, who).await?;
    let state = match kyc_review::verdict(verdict)? {
        "verified" => profiles::ProfileState::Verified,
        _ => profiles::ProfileState::Rejected,
    };
    // The operator is the socket's owner; Barong recorded the admin's uid as the author.
    let profile = profiles::review(app, &user, state, "barongctl").await?;
    Ok(ReplyData::Profile(Box::new(profile)))
}

/// `user show`: the user, its keys (never secrets) and its service accounts.
async fn user_detail(app: &App, who: &str) -> Result<ReplyData, ServiceError> {
    let user = admin_users::find(app, who).await?;
    let detail = UserDetail {
        user: entities::user_with_full_info(app, &user).await?,
        api_keys: api_keys::of_user(app, &user).await?,
        service_accounts: service_accounts::list_owned(app, &user).await?,
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
