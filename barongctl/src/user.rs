//! `barongctl user ...`: create, list and show users; the Admin API's changes of role, state and
//! 2FA (a superadmin or admin-role account needs `--yes`, or a confirmation on a terminal); and
//! notes (`user comment`).

use std::io::{IsTerminal, Read};

use clap::Subcommand;
use common::admin::{Request, TotpStatus, TwoFactorReset};
use common::admin_api::User;
use common::entities::{UserSummary, UserWithFullInfo, WebauthnCredential};

use crate::comment::{self, CommentVerb};
use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum UserVerb {
    /// Create a user (no email confirmation). The password is prompted on a terminal, or read
    /// from stdin with --password-stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: Option<String>,
        /// Role (must have permissions), default member.
        #[arg(long)]
        role: Option<String>,
        /// pending, active, banned, locked or deleted.
        #[arg(long)]
        state: Option<String>,
        /// Grant the private labels of levels 1..=LEVEL.
        #[arg(long)]
        level: Option<i64>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, newest first.
    List {
        /// Page number, from 1.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(i64).range(1..))]
        page: i64,
        /// Users per page, 1 to 1000.
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=1000))]
        limit: i64,
    },
    /// Show one user by uid or email.
    Show { user: String },
    /// Change a user's role (as `POST /admin/users/role`); the role must have permissions.
    Role {
        uid: String,
        role: String,
        /// Confirm a change to a superadmin, or granting or removing an admin role.
        #[arg(long)]
        yes: bool,
    },
    /// Set a user's state: pending, active or a state_triggers state (banned, locked, deleted).
    /// A restrictive state stays until a state is set again.
    State {
        uid: String,
        state: String,
        /// Confirm a change to a superadmin or an admin-role account.
        #[arg(long)]
        yes: bool,
    },
    /// Turn a user's 2FA off after support verified the user out of band: the TOTP seed is
    /// discarded, the `otp` label removed (level and state recomputed), the active API keys of
    /// the user and its service accounts disabled, its sessions ended, the user mailed. The way
    /// out for an account whose seed was not carried from Barong.
    #[command(name = "reset-2fa", visible_alias = "otp-reset")]
    Reset2fa {
        uid: String,
        /// Why (how support verified the user); recorded in the admin activity log.
        #[arg(long)]
        reason: String,
        /// Confirm a change to a superadmin or an admin-role account.
        #[arg(long)]
        yes: bool,
    },
    /// A user's WebAuthn credentials (passkeys, security keys): list them, or remove one for a
    /// user who lost it.
    Webauthn {
        #[command(subcommand)]
        verb: WebauthnVerb,
    },
    /// Notes on a user (author `barongctl`).
    Comment {
        #[command(subcommand)]
        verb: CommentVerb,
    },
}

#[derive(Subcommand, Debug)]
pub enum WebauthnVerb {
    /// The user's credentials: id, name, created, last used (never a key).
    List { uid: String },
    /// Remove one credential (support's "lost my key"), recorded in the admin activity log. When
    /// it was the user's only second factor, the user signs in with the password alone again.
    #[command(visible_alias = "rm")]
    Remove {
        uid: String,
        /// The credential's id (`user webauthn list`).
        id: i64,
        /// Why (how support verified the user); recorded in the admin activity log.
        #[arg(long)]
        reason: String,
    },
}

pub fn request(verb: UserVerb) -> Result<Request, String> {
    Ok(match verb {
        UserVerb::Create { email, username, role, state, level, password_stdin } => {
            let password = read_password(password_stdin)?;
            Request::UserCreate { email, password, username, role, state, level }
        }
        UserVerb::List { page, limit } => Request::UserList { page: Some(page), limit: Some(limit) },
        UserVerb::Show { user } => Request::UserShow { user },
        UserVerb::Role { uid, role, yes } => Request::UserRole { uid, role, yes },
        UserVerb::State { uid, state, yes } => Request::UserState { uid, state, yes },
        UserVerb::Reset2fa { uid, reason, yes } => {
            if reason.trim().is_empty() {
                return Err("--reason must say why the 2FA is reset".into());
            }
            Request::UserReset2fa { uid, reason, yes }
        }
        UserVerb::Webauthn { verb: WebauthnVerb::List { uid } } => Request::UserWebauthnList { uid },
        UserVerb::Webauthn { verb: WebauthnVerb::Remove { uid, id, reason } } => {
            if reason.trim().is_empty() {
                return Err("--reason must say why the credential is removed".into());
            }
            Request::UserWebauthnRemove { uid, id, reason }
        }
        UserVerb::Comment { verb } => comment::request(verb),
    })
}

/// The same request, confirmed: what is sent again after a yes on the terminal. `None` for
/// requests that never ask.
pub fn confirmed(request: &Request) -> Option<Request> {
    Some(match request.clone() {
        Request::UserRole { uid, role, .. } => Request::UserRole { uid, role, yes: true },
        Request::UserState { uid, state, .. } => Request::UserState { uid, state, yes: true },
        Request::UserReset2fa { uid, reason, .. } => Request::UserReset2fa { uid, reason, yes: true },
        _ => return None,
    })
}

/// A user after a change (the Admin API's `User` entity).
pub fn print_admin_user(u: &User) {
    let mut t = table(&["uid", "email", "role", "level", "state", "otp"]);
    t.add_row(vec![
        u.uid.clone(),
        u.email.clone(),
        u.role.clone(),
        u.level.to_string(),
        u.state.clone(),
        u.otp.to_string(),
    ]);
    println!("{t}");
}

/// A user's WebAuthn credentials.
pub fn print_webauthn(uid: &str, credentials: &[WebauthnCredential]) {
    if credentials.is_empty() {
        println!("{uid} has no WebAuthn credentials");
        return;
    }
    let mut t = table(&["id", "name", "created_at", "last_used_at"]);
    for c in credentials {
        let last = c.last_used_at.clone().unwrap_or_else(|| "never".into());
        t.add_row(vec![c.id.to_string(), c.name.clone(), c.created_at.clone(), last]);
    }
    println!("{t}");
}

/// What `reset-2fa` changed, one line per field.
pub fn print_two_factor_reset(r: &TwoFactorReset) {
    let mut t = table(&["field", "value"]);
    let keys = if r.api_keys_disabled.is_empty() { "none".to_string() } else { r.api_keys_disabled.join(", ") };
    for (k, v) in [
        ("uid", r.uid.clone()),
        ("email", r.email.clone()),
        ("2fa", format!("{} -> off", r.totp_before.as_str())),
        ("otp label", if r.otp_label_removed { "removed" } else { "was absent" }.to_string()),
        ("level", format!("{} -> {}", r.level_before, r.level)),
        ("state", format!("{} -> {}", r.state_before, r.state)),
        ("api keys disabled", keys),
        ("sessions ended", r.sessions_ended.to_string()),
        ("reason", r.reason.clone()),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    println!("{t}");
}

/// Scripts pipe the password in; a person is prompted twice. Never a prompt without a terminal,
/// where it would hang a script.
fn read_password(from_stdin: bool) -> Result<String, String> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().take(64 * 1024).read_to_string(&mut s).map_err(|e| format!("reading stdin: {e}"))?;
        let line = s.lines().next().unwrap_or("").to_string();
        if line.is_empty() {
            return Err("--password-stdin: stdin held no password".into());
        }
        return Ok(line);
    }
    if !std::io::stdin().is_terminal() {
        return Err("no terminal to prompt for the password: pass --password-stdin".into());
    }
    dialoguer::Password::new()
        .with_prompt("Password")
        .with_confirmation("Repeat password", "passwords do not match")
        .interact()
        .map_err(|e| format!("password prompt: {e}"))
}

pub fn print_users(total: i64, page: i64, limit: i64, users: Vec<UserSummary>) {
    let mut t = table(&["uid", "email", "username", "role", "level", "state", "otp", "created"]);
    for u in users {
        t.add_row(vec![
            u.uid,
            u.email,
            u.username.unwrap_or_default(),
            u.role,
            u.level.to_string(),
            u.state,
            u.otp.to_string(),
            u.created_at,
        ]);
    }
    println!("{t}");
    println!("page {page} of {} ({total} users)", (total + limit - 1).max(1) / limit.max(1));
}

/// `totp` (`user show` only) says whether a 2FA account can sign in at all.
pub fn print_user(u: &UserWithFullInfo, totp: Option<TotpStatus>) {
    let mut t = table(&["field", "value"]);
    for (k, v) in [
        ("uid", u.uid.clone()),
        ("email", u.email.clone()),
        ("username", u.username.clone().unwrap_or_default()),
        ("role", u.role.clone()),
        ("level", u.level.to_string()),
        ("state", u.state.clone()),
        ("otp", u.otp.to_string()),
        ("referral", u.referral_uid.clone().unwrap_or_default()),
        ("created", u.created_at.clone()),
        ("updated", u.updated_at.clone()),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    if let Some(totp) = totp {
        t.add_row(vec!["totp".to_string(), totp.as_str().to_string()]);
    }
    let labels: Vec<String> = u.labels.iter().map(|l| format!("{}={} ({})", l.key, l.value, l.scope)).collect();
    t.add_row(vec!["labels".to_string(), labels.join(", ")]);
    println!("{t}");
}
