//! `barongctl keys rotate-master`: re-seal every secret at rest under a new master key, online.
//! The command starts the rotation (or continues an unfinished one) and shows where it stands;
//! `--wait` follows it to the end. Key ids are shown, never keys.

use std::path::Path;
use std::time::Duration;

use common::admin::{MasterKeyRotation, Reply, ReplyData, Request};

use crate::client;

/// Asks on a terminal unless `--yes`; without a terminal only `--yes` confirms.
pub fn confirmed(yes: bool) -> bool {
    use std::io::IsTerminal;
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    dialoguer::Confirm::new()
        .with_prompt("Re-seal every secret under a new master key? Back up keys/master.key.next once it exists.")
        .default(false)
        .interact()
        .unwrap_or(false)
}

/// After `reply` to the rotate request, polls until the rotation is no longer running, with
/// progress on stderr; returns the last reply, for stdout.
pub fn wait(socket: &Path, mut reply: Reply) -> Result<Reply, String> {
    loop {
        let Some(ReplyData::MasterKey(s)) = reply.data.as_ref().filter(|_| reply.ok) else { return Ok(reply) };
        if s.state != "running" {
            return Ok(reply);
        }
        eprintln!("{}", progress(s));
        std::thread::sleep(Duration::from_secs(1));
        reply = client::call(socket, Request::MasterKeyStatus)?;
    }
}

fn progress(s: &MasterKeyRotation) -> String {
    format!(
        "master-key rotation {}: {} values re-sealed ({} rows hold sealed values), now in {}",
        s.state,
        s.resealed,
        s.sealed_rows,
        s.table.as_deref().unwrap_or("-")
    )
}

pub fn print(s: &MasterKeyRotation) {
    println!("{}", progress(s));
    println!("master key from: {} (key id {})", s.key_source, s.current_key_id);
    if let (Some(old), Some(new)) = (&s.old_key_id, &s.new_key_id) {
        println!("rotation: key {old} -> key {new}, started {}", s.started_at.as_deref().unwrap_or("-"));
    }
    if let Some(t) = &s.finished_at {
        println!(
            "finished {t}: destroy every backup of the old key file (key {})",
            s.old_key_id.as_deref().unwrap_or("-")
        );
    }
    if let Some(e) = &s.error {
        eprintln!("stopped: {e}");
        eprintln!("run `barongctl keys rotate-master --yes` again to continue");
    }
}
