//! RFC 5322 messages, built once when queued.

use std::time::{Duration, UNIX_EPOCH};

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, SinglePart};

use super::kind::MailError;

/// RFC 5322's hard limit for a line (section 2.1.1), CRLF excluded.
pub(super) const MAX_LINE_OCTETS: usize = 998;

pub(super) fn build_message(
    from: &Mailbox,
    to: Mailbox,
    id: &str,
    subject: &str,
    body: &str,
    now: i64,
) -> Result<Vec<u8>, MailError> {
    let date = UNIX_EPOCH + Duration::from_secs(u64::try_from(now).unwrap_or(0));
    let message = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .date(date)
        .message_id(Some(format!("<{id}@{}>", from.email.domain())))
        .singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(encode_body(body)))
        .map_err(|e| MailError::Build(e.to_string()))?;
    Ok(message.formatted())
}

/// See the module comment for why this avoids quoted-printable. No final CRLF: lettre appends
/// one after a part's body.
pub(super) fn encode_body(text: &str) -> Body {
    let lines: Vec<&str> = text.trim_end_matches(['\r', '\n']).lines().collect();
    if lines.iter().any(|l| l.len() > MAX_LINE_OCTETS || l.contains(['\r', '\0'])) {
        return Body::new(text.to_string());
    }
    let crlf = lines.join("\r\n");
    let encoding = if crlf.is_ascii() { ContentTransferEncoding::SevenBit } else { ContentTransferEncoding::EightBit };
    Body::dangerous_pre_encoded(crlf.into_bytes(), encoding)
}
