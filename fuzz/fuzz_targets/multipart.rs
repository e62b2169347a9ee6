//! The multipart reader: any body is a list of parts or a 400, and the parts never hold more
//! bytes than the body (names, text values, file names and file contents together), nor more
//! than the part limit.
//! Input: an optional `Content-Type` line (up to the first newline), then the body.
#![no_main]

use barongd::http::multipart::parse;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};

fn text_len(v: &Value) -> usize {
    match v {
        Value::String(s) => s.len(),
        Value::Array(a) => a.iter().map(text_len).sum(),
        Value::Object(o) => o.iter().map(|(k, v)| k.len() + text_len(v)).sum(),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let (content_type, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) if data.starts_with(b"multipart/") => {
            (String::from_utf8_lossy(&data[..i]).into_owned(), &data[i + 1..])
        }
        _ => ("multipart/form-data; boundary=XyZ".to_string(), data),
    };
    let mut map = Map::new();
    let Ok(files) = parse(&content_type, Bytes::copy_from_slice(body), &mut map) else { return };
    let file_bytes: usize = files.iter().map(|f| f.bytes.len() + f.filename.len() + f.field.len()).sum();
    let text_bytes: usize = map.iter().map(|(k, v)| k.len() + text_len(v)).sum();
    assert!(
        file_bytes + text_bytes <= body.len(),
        "{file_bytes} + {text_bytes} bytes out of a {}-byte body",
        body.len()
    );
    assert!(files.len() + map.len() <= 256);
});
