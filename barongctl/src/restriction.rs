//! `barongctl restriction ...`: whitelist, maintenance, blacklist and blocklogin rules, and
//! whitelink tokens.

use clap::Subcommand;
use common::admin::{Request, RestrictionInfo, Whitelink};

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum RestrictionVerb {
    /// Every restriction; `active` says whether this daemon enforces it now.
    List,
    /// Add a restriction.
    Add {
        /// whitelist, maintenance, blacklist or blocklogin.
        #[arg(long)]
        category: String,
        /// all, ip, ip_subnet, continent or country.
        #[arg(long)]
        scope: String,
        /// An IP (v4 or v6), a CIDR, a continent or country (ISO code or name), or anything for `all`.
        #[arg(long)]
        value: String,
        /// HTTP status to answer with (default: maintenance 471, continent/country 423,
        /// ip_subnet 403, ip/all 401; ignored for whitelist).
        #[arg(long)]
        code: Option<i64>,
        /// enabled (default) or disabled.
        #[arg(long)]
        state: Option<String>,
    },
    /// Delete a restriction.
    Remove { id: i64 },
    /// Enable a restriction (an enabled blocklogin ends the sessions it matches).
    Enable { id: i64 },
    /// Disable a restriction.
    Disable { id: i64 },
    /// Issue a one-time token for `POST identity/users/access`, which whitelists the caller's IP.
    Whitelink {
        /// Valid for N days (1-30); the default is one day.
        #[arg(long, conflicts_with = "hours")]
        days: Option<i64>,
        /// Valid for N hours (1-30).
        #[arg(long)]
        hours: Option<i64>,
    },
}

pub fn request(verb: RestrictionVerb) -> Request {
    match verb {
        RestrictionVerb::List => Request::RestrictionList,
        RestrictionVerb::Add { category, scope, value, code, state } => {
            Request::RestrictionAdd { category, scope, value, code, state }
        }
        RestrictionVerb::Remove { id } => Request::RestrictionRemove { id },
        RestrictionVerb::Enable { id } => Request::RestrictionSetState { id, state: "enabled".into() },
        RestrictionVerb::Disable { id } => Request::RestrictionSetState { id, state: "disabled".into() },
        RestrictionVerb::Whitelink { days, hours } => Request::RestrictionWhitelink { days, hours },
    }
}

pub fn print_restrictions(list: &[RestrictionInfo]) {
    let mut t = table(&["id", "category", "scope", "value", "code", "state", "active", "updated"]);
    for r in list {
        t.add_row(vec![
            r.id.to_string(),
            r.category.clone(),
            r.scope.clone(),
            r.value.clone(),
            r.code.to_string(),
            r.state.clone(),
            if r.active { "yes".into() } else { "no".into() },
            r.updated_at.clone(),
        ]);
    }
    println!("{t}");
}

/// `restriction remove`: what is gone, in one line.
pub fn print_removed(r: &RestrictionInfo) {
    println!("removed restriction {}: {} {} {} (code {}, {})", r.id, r.category, r.scope, r.value, r.code, r.state);
}

pub fn print_whitelink(w: &Whitelink) {
    println!("{}", w.token);
    eprintln!("whitelink token valid until {}; it is shown only this once and works once", w.expires_at);
}
