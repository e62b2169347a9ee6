//! `barongctl kyc show USER --export DIR`: the case and its document files written out to a
//! folder, over one connection.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use base64::Engine;
use common::admin::{KycCase, KycFile, ReplyData, Request};

use crate::client::Session;
use crate::kyc::print_case;
use crate::output::{self, Format};

/// `kyc show USER --export DIR`: the case, then each document's file, over one connection.
pub fn show_and_export(socket: &Path, user: &str, dir: &Path, format: Format) -> ExitCode {
    match export(socket, user, dir) {
        Ok(Exported::Refused(reply)) => output::print(*reply, format),
        Ok(Exported::Done(case, files)) => {
            if format == Format::Json {
                let mut doc = serde_json::to_value(&case).unwrap_or_default();
                let files: Vec<_> = files.iter().map(|(id, p)| serde_json::json!({"id": id, "path": p})).collect();
                doc["exported"] = serde_json::Value::from(files);
                println!("{doc}");
            } else {
                print_case(&case);
                for (id, path) in &files {
                    println!("document {id}: {}", path.display());
                }
                println!("{} file(s) written to {}", files.len(), dir.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("barongctl: {e}");
            ExitCode::from(3)
        }
    }
}

enum Exported {
    Done(Box<KycCase>, Vec<(i64, PathBuf)>),
    Refused(Box<common::admin::Reply>),
}

fn export(socket: &Path, user: &str, dir: &Path) -> Result<Exported, String> {
    let mut session = Session::connect(socket)?;
    let reply = session.send(Request::KycShow { user: user.to_string() })?;
    let case = match reply.data {
        Some(ReplyData::KycCase(c)) if reply.ok => c,
        _ => return Ok(Exported::Refused(Box::new(reply))),
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut written = Vec::new();
    for d in &case.documents {
        let reply = session.send(Request::KycDocumentFile { user: case.user.uid.clone(), id: d.id })?;
        let file = match reply.data {
            Some(ReplyData::KycFile(f)) if reply.ok => f,
            _ => return Ok(Exported::Refused(Box::new(reply))),
        };
        let path = dir.join(file_name(&file, d.doc_type.as_deref()));
        write_private(&path, &file)?;
        written.push((d.id, path));
    }
    Ok(Exported::Done(case, written))
}

/// `<id>-<type>.<ext>`: the type only in safe characters, the extension from our stored name.
fn file_name(f: &KycFile, doc_type: Option<&str>) -> String {
    let kind: String = doc_type
        .unwrap_or("document")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
        .take(40)
        .collect();
    let ext = f.file.rsplit_once('.').map(|(_, e)| e).unwrap_or("bin");
    format!("{}-{kind}.{ext}", f.id)
}

/// Identity documents: readable by the operator only.
fn write_private(path: &Path, f: &KycFile) -> Result<(), String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&f.base64)
        .map_err(|e| format!("document {}: the daemon sent an undecodable file: {e}", f.id))?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut out = options.open(path).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    // An earlier export's file keeps its mode when overwritten: narrow it too.
    #[cfg(unix)]
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
        .map_err(|e| format!("cannot restrict {}: {e}", path.display()))?;
    out.write_all(&bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_id_type_and_stored_extension() {
        let f =
            KycFile { id: 7, file: "0123.pdf".into(), content_type: "application/pdf".into(), base64: String::new() };
        assert_eq!(file_name(&f, Some("Passport")), "7-Passport.pdf");
        assert_eq!(file_name(&f, Some("../../etc/x")), "7-______etc_x.pdf");
        assert_eq!(file_name(&f, None), "7-document.pdf");
    }
}
