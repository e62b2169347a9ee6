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
    if !s.bcrypt_digests.is_empty() {
        let left: Vec<String> = s.bcrypt_digests.iter().map(|(prefix, n)| format!("{prefix}: {n}")).collect();
        t.add_row(vec!["bcrypt digests left".into(), left.join("\n")]);
    }
    println!("{t}");
    // The abilities file as loaded: what each admin role may do in the Admin API.
    let mut a = table(&["role", "abilities"]);
    for r in s.abilities {
        let rules: Vec<String> =
            r.rules.iter().map(|(action, models)| format!("{action}: {}", models.join(", "))).collect();
        a.add_row(vec![r.role, rules.join("\n")]);
    }
    println!("{a}");
}
