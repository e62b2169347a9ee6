//! Upload bodies (docs/barong-weaknesses-fixed.md#w-slow-uploads): authenticated before they are
//! read, held to a pace, and capped per client address. Idle clients are raw TCP connections that
//! announce a large body, send its first bytes and then nothing.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::documents::{PNG, passport, upload};
use super::*;

/// Announced by every idle upload: far more than it ever sends.
const ANNOUNCED: usize = 1_000_000;

/// Opens `POST resource/documents` with `headers` (each ending in CRLF), sends the first boundary
/// of a body of `ANNOUNCED` bytes, and stops there.
async fn idle_upload(srv: &TestServer, headers: &str) -> TcpStream {
    let mut s = TcpStream::connect(&srv.addr).await.expect("connect");
    let head = format!(
        "POST /api/v2/barong/resource/documents HTTP/1.1\r\nHost: {}\r\nUser-Agent: {TEST_UA}\r\n\
         Content-Type: multipart/form-data; boundary=XyZ\r\nContent-Length: {ANNOUNCED}\r\n{headers}\r\n--XyZ\r\n",
        srv.addr
    );
    s.write_all(head.as_bytes()).await.expect("send");
    s
}

/// The status of the answer on `s`, or `None` when none comes within `within`.
async fn status_within(s: &mut TcpStream, within: Duration) -> Option<u16> {
    let read = async {
        let mut got = Vec::new();
        let mut chunk = [0u8; 1024];
        while !got.windows(2).any(|w| w == b"\r\n") {
            let n = s.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            got.extend_from_slice(&chunk[..n]);
        }
        String::from_utf8_lossy(&got).split(' ').nth(1)?.parse().ok()
    };
    tokio::time::timeout(within, read).await.ok().flatten()
}

/// The `Cookie` and `X-CSRF-Token` header lines of a fresh session of an active user.
async fn session_headers(srv: &TestServer, email: &str) -> String {
    active_user(srv, email).await;
    let (cookie, csrf) = login_cookie(srv, email).await;
    format!("Cookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\n")
}

both!(idle_anonymous_uploads_do_not_delay_a_signed_in_one, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "uploader@example.com").await;
    let mut idle = Vec::new();
    for _ in 0..6 {
        idle.push(idle_upload(&srv, "").await);
    }
    // Before the fix the six held the four body permits for good and this upload waited forever.
    let url = srv.url("resource/documents");
    let fields = passport(&[]);
    let signed_in = upload(&c, &url, &csrf, &fields, &[("scan.png", PNG)]);
    let got = tokio::time::timeout(Duration::from_secs(30), signed_in).await.expect("the upload was held up");
    assert_eq!(got, (201, json!(201)));
    // Each anonymous one was answered at once, without its body.
    for s in &mut idle {
        assert_eq!(status_within(s, Duration::from_secs(10)).await, Some(401));
    }
});

both!(
    idle_signed_in_uploads_are_cut_off_and_capped_per_address,
    config = "request_body: {idle_timeout_seconds: 2}\n",
    |srv: TestServer| async move {
        let session = session_headers(&srv, "slow@example.com").await;
        let mut idle = Vec::new();
        for _ in 0..3 {
            idle.push(idle_upload(&srv, &session).await);
        }
        // Two open uploads per address (the default): the third is refused at once, the two others
        // are cut off once silent for two seconds. Before the fix none of them was ever answered.
        let mut statuses = Vec::new();
        for s in &mut idle {
            statuses.push(status_within(s, Duration::from_secs(20)).await);
        }
        statuses.sort();
        assert_eq!(statuses, [Some(408), Some(408), Some(429)]);
        // The slots are free again.
        let (c, csrf) = active_user(&srv, "next@example.com").await;
        let got = upload(&c, &srv.url("resource/documents"), &csrf, &passport(&[]), &[("scan.png", PNG)]).await;
        assert_eq!(got, (201, json!(201)));
    }
);
