//! The admin socket: a Unix socket (0600, peer uid checked) speaking newline-delimited JSON,
//! one request and one reply per line, each at most `MAX_FRAME` bytes.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::admin::{Envelope, MAX_FRAME, MAX_STAGED, PROTOCOL_VERSION, Reply, ReplyData, Request};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::ctl_socket::handle::handle;
use crate::input::holds_nul;
use crate::services::App;

/// Binds the socket, replacing a stale one, with owner-only permissions.
pub fn bind(path: &Path) -> Result<UnixListener, String> {
    if path.exists() {
        // A live daemon would answer; a dead one left its socket behind.
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "admin socket {} is in use: is another barongd running on this data dir?",
                path.display()
            ));
        }
        std::fs::remove_file(path).map_err(|e| format!("admin socket {}: {e}", path.display()))?;
    }
    let listener = UnixListener::bind(path).map_err(|e| format!("admin socket {}: {e}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .map_err(|e| format!("admin socket {}: {e}", path.display()))?;
    Ok(listener)
}

/// After a failed accept the loop waits this long, doubling up to `ACCEPT_BACKOFF_MAX`: errors
/// such as EMFILE (no file descriptors left) repeat at once, and retrying them in a tight loop
/// would spin a core while the condition lasts.
const ACCEPT_BACKOFF_MIN: Duration = Duration::from_millis(50);
const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(2);

pub async fn serve(app: Arc<App>, listener: UnixListener, path: PathBuf) {
    let owner = std::fs::metadata(&path).map(|m| m.uid()).ok();
    let mut backoff = ACCEPT_BACKOFF_MIN;
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => {
                backoff = ACCEPT_BACKOFF_MIN;
                stream
            }
            Err(e) => {
                tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "admin socket: accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        let peer = stream.peer_cred().ok().map(|c| c.uid());
        if owner.is_none() || peer != owner {
            tracing::warn!(peer_uid = ?peer, "admin socket: refused a connection from another user");
            continue;
        }
        let app = app.clone();
        tokio::spawn(async move {
            if let Err(e) = connection(app, stream, peer).await {
                tracing::debug!(error = %e, "admin connection ended");
            }
        });
    }
}

async fn connection(app: Arc<App>, stream: UnixStream, peer: Option<u32>) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::new(read);
    let mut staged = Staged::default();
    loop {
        let mut line = Vec::new();
        let read = tokio::time::timeout(
            Duration::from_secs(300),
            (&mut reader).take(MAX_FRAME as u64 + 1).read_until(b'\n', &mut line),
        )
        .await;
        let n = match read {
            Ok(r) => r?,
            Err(_) => return Ok(()),
        };
        if n == 0 {
            return Ok(());
        }
        let reply = if line.len() > MAX_FRAME {
            let r = Reply::err("admin.frame_too_large", format!("requests are limited to {MAX_FRAME} bytes"));
            write_reply(&mut write, &r).await?;
            return Ok(());
        } else {
            match decode_frame(&line) {
                Ok(Request::ImportStage { file, part }) => staged.add(file, part),
                Ok(request) => {
                    tracing::info!(?request, "admin request");
                    handle(&app, staged.attach(request), peer).await
                }
                Err(refusal) => *refusal,
            }
        };
        write_reply(&mut write, &reply).await?;
    }
}

/// Secrets files sent in pieces on this connection (`ImportStage`), wiped when dropped.
#[derive(Default)]
struct Staged {
    files: Vec<zeroize::Zeroizing<String>>,
    bytes: usize,
}

impl Staged {
    fn add(&mut self, file: usize, part: String) -> Reply {
        let part = zeroize::Zeroizing::new(part);
        if self.bytes + part.len() > MAX_STAGED {
            return Reply::err("admin.frame_too_large", format!("staged secrets are limited to {MAX_STAGED} bytes"));
        }
        if file == self.files.len() {
            self.files.push(zeroize::Zeroizing::new(String::new()));
        } else if file + 1 != self.files.len() {
            return Reply::err(
                "admin.bad_request",
                format!("staged file {file} out of order: {} file(s) staged", self.files.len()),
            );
        }
        self.files[file].push_str(&part);
        self.bytes += part.len();
        Reply::ok(ReplyData::Staged { file, bytes: self.files[file].len() })
    }

    /// The staged files go with the first `ImportStart`, after the ones it carries itself.
    fn attach(&mut self, request: Request) -> Request {
        match request {
            Request::ImportStart { options, mut secrets } if !self.files.is_empty() => {
                secrets.secrets_files.extend(self.files.drain(..).map(|f| f.to_string()));
                self.bytes = 0;
                Request::ImportStart { options, secrets }
            }
            other => other,
        }
    }
}

/// The request one frame (a line, at most `MAX_FRAME` bytes, its newline included) carries, or
/// the reply that refuses it.
pub fn decode_frame(line: &[u8]) -> Result<Request, Box<Reply>> {
    match serde_json::from_slice::<Envelope>(line) {
        // No stored value may hold a NUL (PostgreSQL refuses it in text).
        Ok(env) if serde_json::to_value(&env.request).is_ok_and(|v| holds_nul(&v)) => {
            Err(Box::new(Reply::err("admin.bad_request", "NUL characters are not accepted")))
        }
        Ok(env) if env.v != PROTOCOL_VERSION => Err(Box::new(Reply::err(
            "admin.version_mismatch",
            format!("daemon speaks protocol {PROTOCOL_VERSION}, client sent {}", env.v),
        ))),
        Ok(env) => Ok(env.request),
        Err(e) => Err(Box::new(Reply::err("admin.bad_request", format!("cannot parse request: {e}")))),
    }
}

async fn write_reply(w: &mut tokio::net::unix::OwnedWriteHalf, r: &Reply) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(r).unwrap_or_else(|_| br#"{"ok":false}"#.to_vec());
    bytes.push(b'\n');
    w.write_all(&bytes).await
}
