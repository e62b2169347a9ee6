//! Stand-ins for the services barongd calls out to: a one-route HTTP server (reCAPTCHA, Geetest,
//! Twilio) and an SMTP sink, both on loopback port 0.

use std::sync::{Arc, Mutex};

/// A one-route HTTP server on loopback answering every request with `status` and `body`
/// (a stand-in for reCAPTCHA or Geetest). Returns its base URL and the request bodies it saw.
pub async fn fake_http(status: u16, body: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    fake_server(status, body, false).await
}

/// As [`fake_http`], but keeps each whole request (request line, headers and body), for tests
/// that check the path and the credentials an external API received.
pub async fn fake_http_requests(status: u16, body: &'static str) -> (String, Arc<Mutex<Vec<String>>>) {
    fake_server(status, body, true).await
}

async fn fake_server(status: u16, body: &'static str, whole: bool) -> (String, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let url = fake_router(move |req: &FakeRequest| {
        if let Ok(mut l) = log.lock() {
            l.push(if whole { req.raw.clone() } else { req.body.clone() });
        }
        (status, body.to_string())
    })
    .await;
    (url, seen)
}

/// One request as a fake server read it.
pub struct FakeRequest {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// Request line, headers and body.
    pub raw: String,
}

impl FakeRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// An HTTP server on loopback whose `route` answers each request with a status and a JSON body;
/// one request per connection. Returns its base URL.
pub async fn fake_router<F>(route: F) -> String
where
    F: Fn(&FakeRequest) -> (u16, String) + Send + Sync + 'static,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let route = Arc::new(route);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let route = route.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let request = loop {
                    let Ok(n) = s.read(&mut chunk).await else { return };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(r) = parse_request(&buf) {
                        break r;
                    }
                };
                let (status, body) = route(&request);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(reply.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

/// The request in `buf` once its head and `content-length` bytes of body have arrived.
fn parse_request(buf: &[u8]) -> Option<FakeRequest> {
    let text = String::from_utf8_lossy(buf).to_string();
    let end = text.find("\r\n\r\n")?;
    let mut lines = text[..end].lines();
    let mut first = lines.next().unwrap_or_default().split(' ');
    let (method, path) = (first.next().unwrap_or_default().to_string(), first.next().unwrap_or_default().to_string());
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let len = headers.iter().find(|(n, _)| n == "content-length").and_then(|(_, v)| v.parse().ok()).unwrap_or(0);
    if buf.len() < end + 4 + len {
        return None;
    }
    let body = text[end + 4..].to_string();
    Some(FakeRequest { method, path, headers, body, raw: text })
}

/// A minimal SMTP server on loopback that accepts every message (no auth, no TLS) and keeps the
/// DATA of each one. `port` 0 picks a free port; a fixed port lets a test start it late.
pub async fn smtp_sink(port: u16) -> (u16, Arc<Mutex<Vec<String>>>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind smtp");
    let port = listener.local_addr().expect("addr").port();
    let messages = Arc::new(Mutex::new(Vec::new()));
    let store = messages.clone();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = s.into_split();
                let mut lines = BufReader::new(r).lines();
                let _ = w.write_all(b"220 sink ESMTP\r\n").await;
                let mut in_data = false;
                let mut data = String::new();
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            in_data = false;
                            if let Ok(mut m) = store.lock() {
                                m.push(std::mem::take(&mut data));
                            }
                            let _ = w.write_all(b"250 OK queued\r\n").await;
                        } else {
                            data.push_str(line.strip_prefix('.').unwrap_or(&line));
                            data.push('\n');
                        }
                        continue;
                    }
                    let cmd = line.to_ascii_uppercase();
                    let reply: &[u8] = if cmd.starts_with("EHLO") {
                        b"250-sink\r\n250 8BITMIME\r\n"
                    } else if cmd.starts_with("DATA") {
                        in_data = true;
                        b"354 go ahead\r\n"
                    } else if cmd.starts_with("QUIT") {
                        let _ = w.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 OK\r\n"
                    };
                    let _ = w.write_all(reply).await;
                }
            });
        }
    });
    (port, messages)
}
