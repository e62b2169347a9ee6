//! `barongctl user comment ...`: the operator's notes on a user (the Admin API's comments).

use clap::Subcommand;
use common::admin::Request;
use common::admin_api::Comment;

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum CommentVerb {
    /// Add a note (title at most 64 characters).
    Add {
        uid: String,
        #[arg(long)]
        title: String,
        #[arg(long)]
        data: String,
    },
    /// Change a note's title and/or data.
    Edit {
        id: i64,
        #[arg(long)]
        title: Option<String>,
        #[arg(long)]
        data: Option<String>,
    },
    /// Delete a note.
    Rm { id: i64 },
    /// A user's notes.
    List { uid: String },
}

pub fn request(verb: CommentVerb) -> Request {
    match verb {
        CommentVerb::Add { uid, title, data } => Request::CommentAdd { uid, title, data },
        CommentVerb::Edit { id, title, data } => Request::CommentEdit { id, title, data },
        CommentVerb::Rm { id } => Request::CommentRemove { id },
        CommentVerb::List { uid } => Request::CommentList { uid },
    }
}

pub fn print_comments(uid: &str, comments: &[Comment]) {
    let mut t = table(&["id", "author", "title", "data", "created", "updated"]);
    for c in comments {
        t.add_row(vec![
            c.id.to_string(),
            c.author_uid.clone(),
            c.title.clone(),
            c.data.clone(),
            c.created_at.clone(),
            c.updated_at.clone(),
        ]);
    }
    println!("{t}");
    println!("{} note(s) on {uid}", comments.len());
}
