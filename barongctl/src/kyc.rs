//! `barongctl kyc ...`: the review queue of local KYC and the operator's decisions on profiles,
//! documents and addresses.

use std::path::PathBuf;

use clap::Subcommand;
use common::admin::{KycCase, KycDecision, KycQueueItem, Request};
use common::entities::Profile;

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum KycVerb {
    /// What waits for a decision: submitted profiles, pending documents and addresses, oldest first.
    Pending {
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Everything to review for one user (uid or email): profiles, documents with their numbers
    /// and files, labels, phones and earlier decisions.
    Show {
        user: String,
        /// Also write each document's file into this folder (created if missing), as
        /// `<document id>-<type>.<ext>`, readable by you only.
        #[arg(long, value_name = "DIR")]
        export: Option<PathBuf>,
    },
    /// Earlier decisions with their reasons, newest first: of one user (uid or email), or of all.
    History {
        user: Option<String>,
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
    Verify {
        user: String,
        /// A note kept in the review history.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Refuse (uid or email); the user is mailed the reason.
    Reject {
        user: String,
        /// Why, in words the user can act on: mailed to the user, sent with the label's events
        /// (its description) and kept in the review history. At most 1000 characters.
        #[arg(long)]
        reason: Option<String>,
    },
}

impl Decision {
    fn split(self) -> (String, String, Option<String>) {
        match self {
            Decision::Verify { user, reason } => (user, "verified".into(), reason),
            Decision::Reject { user, reason } => (user, "rejected".into(), reason),
        }
    }
}

pub fn request(verb: KycVerb) -> Request {
    let check = |check: &str, d: Decision| {
        let (user, verdict, reason) = d.split();
        Request::KycCheckReview { user, check: check.into(), verdict, reason }
    };
    match verb {
        KycVerb::Pending { limit } => Request::KycPending { limit: Some(limit) },
        KycVerb::Show { user, .. } => Request::KycShow { user },
        KycVerb::History { user, limit } => Request::KycHistory { user, limit: Some(limit) },
        KycVerb::Profile { decision } => {
            let (user, verdict, reason) = decision.split();
            Request::KycProfileReview { user, verdict, reason }
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

pub fn print_history(decisions: &[KycDecision]) {
    if decisions.is_empty() {
        println!("no decisions recorded");
        return;
    }
    let mut t = table(&["at", "uid", "email", "check", "verdict", "by", "reason"]);
    for d in decisions {
        t.add_row(vec![
            d.at.clone(),
            d.uid.clone(),
            d.email.clone(),
            d.check.clone(),
            d.verdict.clone(),
            d.author.clone(),
            d.reason.clone().unwrap_or_default(),
        ]);
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

pub fn print_case(c: &KycCase) {
    let u = &c.user;
    let pending = if c.pending.is_empty() { "nothing".to_string() } else { c.pending.join(", ") };
    println!("{} <{}>  state {}  level {}  waiting for review: {pending}", u.uid, u.email, u.state, u.level);
    for p in &u.profiles {
        print_profile(p);
    }
    if c.documents.is_empty() {
        println!("no documents");
    } else {
        let mut t = table(&["id", "type", "number", "expires", "category", "uploaded", "file"]);
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        for d in &c.documents {
            t.add_row(vec![
                d.id.to_string(),
                text(&d.doc_type),
                text(&d.doc_number),
                text(&d.doc_expire),
                text(&d.doc_category),
                d.created_at.clone(),
                d.path.clone().unwrap_or_else(|| d.file.clone()),
            ]);
        }
        println!("{t}");
    }
    let mut t = table(&["label", "value", "scope", "description"]);
    for l in &u.labels {
        t.add_row(vec![l.key.clone(), l.value.clone(), l.scope.clone(), l.description.clone().unwrap_or_default()]);
    }
    println!("{t}");
    if !u.phones.is_empty() {
        let mut t = table(&["phone", "country", "validated"]);
        for p in &u.phones {
            t.add_row(vec![p.number.clone(), p.country.clone(), p.validated_at.clone().unwrap_or_default()]);
        }
        println!("{t}");
    }
    print_history(&c.decisions);
}
