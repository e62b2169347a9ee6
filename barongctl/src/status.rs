//! `barongctl status`: the daemon's health at a glance.

use common::admin::{Request, StatusInfo};

use crate::table::table;

pub fn request() -> Request {
    Request::Status
}

pub fn print_status(s: StatusInfo) {
    let mut t = table(&["setting", "value"]);
    t.add_row(vec!["version".into(), s.version]);
    t.add_row(vec!["listen".into(), s.listen]);
    t.add_row(vec!["database".into(), s.database]);
    t.add_row(vec!["uptime".into(), format!("{} s", s.uptime_seconds)]);
    t.add_row(vec!["users".into(), s.users.to_string()]);
    t.add_row(vec!["mail waiting".into(), s.pending_mail.to_string()]);
    t.add_row(vec!["events waiting".into(), s.pending_events.to_string()]);
    println!("{t}");
}
