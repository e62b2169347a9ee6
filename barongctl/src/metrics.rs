//! `barongctl metrics`: the Admin API's dashboard counts (`GET /metrics`) per UTC day.

use std::collections::BTreeSet;

use clap::Args;
use common::admin::{Metrics, Request};

use crate::table::table;

#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// First day (YYYY-MM-DD or epoch seconds); default: 29 days before today.
    #[arg(long)]
    from: Option<String>,
    /// Last day (YYYY-MM-DD or epoch seconds), inclusive; default: now.
    #[arg(long)]
    to: Option<String>,
}

pub fn request(a: MetricsArgs) -> Request {
    Request::Metrics { from: a.from, to: a.to }
}

pub fn print_metrics(m: &Metrics) {
    let days: BTreeSet<&String> =
        m.signups.keys().chain(m.sucessful_logins.keys()).chain(m.failed_logins.keys()).collect();
    let mut t = table(&["day", "signups", "successful logins", "failed logins"]);
    let n = |map: &std::collections::BTreeMap<String, i64>, d: &String| map.get(d).copied().unwrap_or(0).to_string();
    for d in days {
        t.add_row(vec![d.clone(), n(&m.signups, d), n(&m.sucessful_logins, d), n(&m.failed_logins, d)]);
    }
    println!("{t}");
    println!("pending KYC applications: {}", m.pending_applications);
}
