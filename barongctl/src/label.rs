//! `barongctl label ...`: a user's labels as the operator manages them. Private labels drive
//! level and state (`ban`, `lock`, `delete` and the level keys), public ones are the user's own.

use clap::{Subcommand, ValueEnum};
use common::admin::Request;
use common::entities::Label;

use crate::table::table;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Scope {
    Private,
    Public,
}

impl Scope {
    fn as_str(self) -> &'static str {
        match self {
            Scope::Private => "private",
            Scope::Public => "public",
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum LabelVerb {
    /// Every label of a user (uid or email).
    List { user: String },
    /// Create or overwrite a label, e.g. `label set UID ban true` to ban (private by default).
    Set {
        user: String,
        key: String,
        value: String,
        #[arg(long, value_enum, default_value_t = Scope::Private)]
        scope: Scope,
    },
    /// Delete a label (private by default); the user's level and state follow.
    Remove {
        user: String,
        key: String,
        #[arg(long, value_enum, default_value_t = Scope::Private)]
        scope: Scope,
    },
}

pub fn request(verb: LabelVerb) -> Request {
    match verb {
        LabelVerb::List { user } => Request::LabelList { user },
        LabelVerb::Set { user, key, value, scope } => {
            Request::LabelSet { user, key, value, scope: scope.as_str().into() }
        }
        LabelVerb::Remove { user, key, scope } => Request::LabelRemove { user, key, scope: scope.as_str().into() },
    }
}

pub fn print_labels(labels: &[Label]) {
    if labels.is_empty() {
        println!("no labels");
        return;
    }
    let mut t = table(&["key", "value", "scope", "created", "updated"]);
    for l in labels {
        t.add_row(vec![l.key.clone(), l.value.clone(), l.scope.clone(), l.created_at.clone(), l.updated_at.clone()]);
    }
    println!("{t}");
}
