//! The admin-socket client: request lines out, one reply line back for each, bounded and timed
//! out.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use common::admin::{Envelope, MAX_REPLY_FRAME, PROTOCOL_VERSION, Reply, Request};

/// One request on its own connection.
pub fn call(socket: &Path, request: Request) -> Result<Reply, String> {
    Session::connect(socket)?.send(request)
}

/// One connection for several requests: the daemon keeps per-connection state (staged secrets
/// files) between them.
pub struct Session {
    stream: UnixStream,
}

impl Session {
    pub fn connect(socket: &Path) -> Result<Session, String> {
        let stream = UnixStream::connect(socket).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such socket: is barongd running with this --data-dir?".to_string(),
                std::io::ErrorKind::ConnectionRefused => {
                    "connection refused: barongd is not running (stale socket)".into()
                }
                std::io::ErrorKind::PermissionDenied => "permission denied: run as the user that runs barongd".into(),
                _ => e.to_string(),
            };
            format!("cannot reach barongd at {}: {why}", socket.display())
        })?;
        stream.set_read_timeout(Some(Duration::from_secs(120))).map_err(|e| e.to_string())?;
        Ok(Session { stream })
    }

    pub fn send(&mut self, request: Request) -> Result<Reply, String> {
        let mut line = serde_json::to_vec(&Envelope { v: PROTOCOL_VERSION, request })
            .map_err(|e| format!("encoding request: {e}"))?;
        line.push(b'\n');
        self.stream.write_all(&line).map_err(|e| format!("sending request: {e}"))?;
        // A fresh buffered reader per reply loses nothing: the daemon writes one reply per
        // request and nothing before the next request arrives.
        let mut reader = BufReader::new((&self.stream).take(MAX_REPLY_FRAME as u64 + 1));
        let mut reply = Vec::new();
        reader.read_until(b'\n', &mut reply).map_err(|e| format!("reading reply: {e}"))?;
        if reply.is_empty() {
            return Err("barongd closed the connection without a reply (see the daemon log)".into());
        }
        serde_json::from_slice(&reply).map_err(|e| format!("unreadable reply from barongd: {e}"))
    }
}
