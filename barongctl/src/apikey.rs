//! `barongctl apikey ...`: API keys of users and service accounts. Their secrets never reach the
//! operator: the daemon sends none.

use clap::Subcommand;
use common::admin::{ApiKeySummary, Request};

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum ApiKeyVerb {
    /// A user's API keys and those of its service accounts.
    List {
        /// The user, by uid or email.
        #[arg(long)]
        user: String,
    },
    /// Disable one API key, whoever holds it.
    Disable { kid: String },
}

pub fn request(verb: ApiKeyVerb) -> Request {
    match verb {
        ApiKeyVerb::List { user } => Request::ApiKeyList { user },
        ApiKeyVerb::Disable { kid } => Request::ApiKeyDisable { kid },
    }
}

pub fn print_keys(keys: &[ApiKeySummary]) {
    if keys.is_empty() {
        println!("no API keys");
        return;
    }
    let mut t = table(&["kid", "holder", "algorithm", "scope", "state", "created", "updated"]);
    for k in keys {
        t.add_row(vec![
            k.kid.clone(),
            format!("{} ({})", k.holder_uid, k.holder_type),
            k.algorithm.clone(),
            k.scope.join(","),
            if k.secret_unavailable { format!("{} (secret not migrated)", k.state) } else { k.state.clone() },
            k.created_at.clone(),
            k.updated_at.clone(),
        ]);
    }
    println!("{t}");
}
