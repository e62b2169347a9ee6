//! `barongctl activity list`: the users' activity log, or the admin log with `--admin` (the
//! Admin API's `GET /activities` and `/activities/admin`), newest first.

use clap::Args;
use common::admin::{ActivityQuery, Request};
use common::admin_api::{ActivityWithUser, AdminActivity};

use crate::table::table;

#[derive(Args, Debug)]
pub struct ListArgs {
    /// The admin log (admins' and the operator's writes) instead of the users' log.
    #[arg(long)]
    admin: bool,
    /// The acting user's uid.
    #[arg(long)]
    uid: Option<String>,
    /// The acting user's e-mail.
    #[arg(long)]
    email: Option<String>,
    #[arg(long)]
    topic: Option<String>,
    #[arg(long)]
    action: Option<String>,
    /// The user an admin acted on (with --admin).
    #[arg(long, requires = "admin")]
    target_uid: Option<String>,
    /// From this time on (epoch seconds or YYYY-MM-DD), inclusive.
    #[arg(long)]
    from: Option<String>,
    /// Up to this time (epoch seconds or YYYY-MM-DD, the whole day), inclusive.
    #[arg(long)]
    to: Option<String>,
    #[arg(long, default_value_t = 1)]
    page: i64,
    /// Rows per page, 1 to 100.
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

#[derive(clap::Subcommand, Debug)]
pub enum ActivityVerb {
    /// A page of a log, newest first.
    List(ListArgs),
}

pub fn request(verb: ActivityVerb) -> Request {
    let ActivityVerb::List(a) = verb;
    Request::ActivityList(ActivityQuery {
        admin: a.admin,
        uid: a.uid,
        email: a.email,
        topic: a.topic,
        action: a.action,
        target_uid: a.target_uid,
        from: a.from,
        to: a.to,
        page: Some(a.page),
        limit: Some(a.limit),
    })
}

pub fn print_user_log(total: i64, items: &[ActivityWithUser]) {
    let mut t = table(&["time", "uid", "email", "topic", "action", "result", "ip", "user agent"]);
    for a in items {
        t.add_row(vec![
            a.created_at.clone(),
            a.user.uid.clone(),
            a.user.email.clone(),
            a.topic.clone(),
            a.action.clone(),
            a.result.clone(),
            a.user_ip.clone(),
            a.user_agent.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!("{} of {total} rows", items.len());
}

pub fn print_admin_log(total: i64, items: &[AdminActivity]) {
    let mut t = table(&["time", "admin", "target", "topic", "action", "result", "ip", "data"]);
    for a in items {
        t.add_row(vec![
            a.created_at.clone(),
            a.admin.as_ref().map(|u| u.email.clone()).unwrap_or_else(|| "(operator)".into()),
            a.target.as_ref().map(|u| u.uid.clone()).unwrap_or_default(),
            a.topic.clone(),
            a.action.clone(),
            a.result.clone(),
            a.user_ip.clone(),
            a.data.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
    println!("{} of {total} rows", items.len());
}
