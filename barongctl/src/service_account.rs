//! `barongctl service-account ...`: machine identities owned by a user, who manages their API keys.

use clap::Subcommand;
use common::admin::Request;
use common::entities::ServiceAccount;

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum ServiceAccountVerb {
    /// Create a service account; it starts active.
    Create {
        /// The owning user, by uid or email.
        #[arg(long)]
        owner: String,
        /// Role (must have permissions).
        #[arg(long)]
        role: String,
        /// Default: <owner name>+<uid>@<owner domain>.
        #[arg(long)]
        email: Option<String>,
    },
    /// List service accounts, all or one owner's.
    List {
        /// Only this owner's (uid or email).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Disable a service account and its active API keys.
    Disable { uid: String },
}

pub fn request(verb: ServiceAccountVerb) -> Request {
    match verb {
        ServiceAccountVerb::Create { owner, role, email } => Request::ServiceAccountCreate { owner, role, email },
        ServiceAccountVerb::List { owner } => Request::ServiceAccountList { owner },
        ServiceAccountVerb::Disable { uid } => Request::ServiceAccountDisable { uid },
    }
}

pub fn print_service_accounts(accounts: &[ServiceAccount]) {
    if accounts.is_empty() {
        println!("no service accounts");
        return;
    }
    let mut t = table(&["uid", "owner id", "email", "role", "level", "state", "created"]);
    for sa in accounts {
        t.add_row(vec![
            sa.uid.clone(),
            sa.owner_id.map(|id| id.to_string()).unwrap_or_default(),
            sa.email.clone(),
            sa.role.clone(),
            sa.level.to_string(),
            sa.state.clone(),
            sa.created_at.clone(),
        ]);
    }
    println!("{t}");
}
