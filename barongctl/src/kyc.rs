//! `barongctl kyc ...`: the review queue of local KYC and the operator's decisions on profiles,
//! documents and addresses.

use clap::Subcommand;
use common::admin::{KycQueueItem, Request};
use common::entities::Profile;

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum KycVerb {
    /// What waits for a decision: submitted profiles, pending documents and addresses, oldest first.
    Pending {
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Decide a user's submitted profile.
    Profile {
        #[command(subcommand)]
        decision: Decision,
    },
    /// Decide a user's pending identity documents (label `document`).
    Document {
        #[command(subcommand)]
        decision: Decision,
    },
    /// Decide a user's pending proof of address (label `address`).
    Address {
        #[command(subcommand)]
        decision: Decision,
    },
}

#[derive(Subcommand, Debug)]
pub enum Decision {
    /// Accept (uid or email).
    Verify { user: String },
    /// Refuse (uid or email).
    Reject { user: String },
}

impl Decision {
    fn split(self) -> (String, String) {
        match self {
            Decision::Verify { user } => (user, "verified".into()),
            Decision::Reject { user } => (user, "rejected".into()),
        }
    }
}

pub fn request(verb: KycVerb) -> Request {
    let check = |check: &str, d: Decision| {
        let (user, verdict) = d.split();
        Request::KycCheckReview { user, check: check.into(), verdict }
    };
    match verb {
        KycVerb::Pending { limit } => Request::KycPending { limit: Some(limit) },
        KycVerb::Profile { decision } => {
            let (user, verdict) = decision.split();
            Request::KycProfileReview { user, verdict }
        }
        KycVerb::Document { decision } => check("document", decision),
        KycVerb::Address { decision } => check("address", decision),
    }
}

pub fn print_queue(items: &[KycQueueItem]) {
    if items.is_empty() {
        println!("nothing waits for review");
        return;
    }
    let mut t = table(&["uid", "email", "check", "since"]);
    for i in items {
        t.add_row(vec![i.uid.clone(), i.email.clone(), i.check.clone(), i.since.clone()]);
    }
    println!("{t}");
}

pub fn print_profile(p: &Profile) {
    let mut t = table(&["field", "value"]);
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    for (k, v) in [
        ("state", p.state.clone()),
        ("first name", text(&p.first_name)),
        ("last name", text(&p.last_name)),
        ("date of birth", text(&p.dob)),
        ("address", text(&p.address)),
        ("postcode", text(&p.postcode)),
        ("city", text(&p.city)),
        ("country", text(&p.country)),
        ("metadata", p.metadata.as_ref().map(|m| m.to_string()).unwrap_or_default()),
        ("updated", p.updated_at.clone()),
    ] {
        t.add_row(vec![k.to_string(), v]);
    }
    println!("{t}");
}
