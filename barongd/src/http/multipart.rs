//! `multipart/form-data` bodies (document and address uploads).
//! The body has already been read in full under its size cap (body.rs), so parsing works on
//! bytes in memory: text parts become parameters the Rack way (`upload[]` → an array, `a[b]` →
//! an object), parts with a file name become [`UploadedFile`]s. Any framing error is a 400.

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::services::error::{ServiceError, ServiceResult};

/// Most parts one request may carry (text fields and files together); far above what the
/// upload endpoints declare, and it bounds the work a body of tiny parts can cause.
const MAX_PARTS: usize = 256;

/// One uploaded file as the client sent it. The client's file name is kept only as data
/// (its extension is checked); it never becomes a path.
#[derive(Clone)]
pub struct UploadedFile {
    /// The form field without Rack's `[]` suffix (`upload[]` → `upload`).
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

impl std::fmt::Debug for UploadedFile {
    // The bytes are an identity document: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploadedFile").field("field", &self.field).field("size", &self.bytes.len()).finish()
    }
}

fn malformed() -> ServiceError {
    ServiceError::malformed("request.malformed_body")
}

/// Parses `body` with the boundary of `content_type` into text parameters (merged into `map`)
/// and files.
pub fn parse(content_type: &str, body: Bytes, map: &mut Map<String, Value>) -> ServiceResult<Vec<UploadedFile>> {
    let boundary = multer::parse_boundary(content_type).map_err(|_| malformed())?;
    let stream = futures::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    // The whole body is already in memory, so every poll is ready: this never blocks a worker.
    futures::executor::block_on(async {
        let mut files = Vec::new();
        let mut parts = 0usize;
        while let Some(field) = multipart.next_field().await.map_err(|_| malformed())? {
            parts += 1;
            if parts > MAX_PARTS {
                return Err(malformed());
            }
            let name = field.name().unwrap_or_default().to_string();
            if name.is_empty() {
                return Err(malformed());
            }
            match field.file_name().map(str::to_string) {
                Some(filename) => {
                    let content_type = field.content_type().map(|m| m.essence_str().to_string());
                    let bytes = field.bytes().await.map_err(|_| malformed())?;
                    let field = name.strip_suffix("[]").unwrap_or(&name).to_string();
                    files.push(UploadedFile { field, filename, content_type, bytes });
                }
                None => {
                    let bytes = field.bytes().await.map_err(|_| malformed())?;
                    let text = String::from_utf8(bytes.to_vec()).map_err(|_| malformed())?;
                    insert_rack(map, &name, text);
                }
            }
        }
        Ok(files)
    })
}

/// Rack's nesting for one level: `a[]=x` appends to an array, `a[b]=x` sets a key of an object,
/// anything else is a plain value (the last one wins).
fn insert_rack(map: &mut Map<String, Value>, name: &str, text: String) {
    let v = Value::String(text);
    if let Some(outer) = name.strip_suffix("[]").filter(|o| !o.is_empty() && !o.contains('[')) {
        match map.entry(outer.to_string()).or_insert_with(|| Value::Array(Vec::new())) {
            Value::Array(a) => a.push(v),
            other => *other = Value::Array(vec![v]),
        }
        return;
    }
    match name.find('[') {
        Some(open) if open > 0 && name.ends_with(']') => {
            let inner = name[open + 1..name.len() - 1].to_string();
            match map.entry(name[..open].to_string()).or_insert_with(|| Value::Object(Map::new())) {
                Value::Object(o) => {
                    o.insert(inner, v);
                }
                other => *other = v,
            }
        }
        _ => {
            map.insert(name.to_string(), v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::error::Refusal;

    fn body(parts: &[(&str, Option<&str>, &[u8])]) -> Bytes {
        let mut b = Vec::new();
        for (name, file, data) in parts {
            b.extend_from_slice(b"--XyZ\r\n");
            match file {
                Some(f) => b.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: image/png\r\n\r\n"
                    )
                    .as_bytes(),
                ),
                None => b.extend_from_slice(format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes()),
            }
            b.extend_from_slice(data);
            b.extend_from_slice(b"\r\n");
        }
        b.extend_from_slice(b"--XyZ--\r\n");
        b.into()
    }

    #[test]
    fn text_parts_become_params_and_files_are_collected() {
        let mut map = Map::new();
        let files = parse(
            "multipart/form-data; boundary=XyZ",
            body(&[
                ("doc_type", None, b"Passport"),
                ("tags[]", None, b"a"),
                ("tags[]", None, b"b"),
                ("meta[k]", None, b"v"),
                ("upload[]", Some("a.png"), b"\x89PNG"),
                ("upload[]", Some("b.pdf"), b"%PDF-1.4"),
            ]),
            &mut map,
        )
        .expect("parses");
        assert_eq!(map["doc_type"], "Passport");
        assert_eq!(map["tags"], serde_json::json!(["a", "b"]));
        assert_eq!(map["meta"], serde_json::json!({"k": "v"}));
        assert_eq!(files.len(), 2);
        assert_eq!((files[0].field.as_str(), files[0].filename.as_str()), ("upload", "a.png"));
        assert_eq!(&files[1].bytes[..], b"%PDF-1.4");
        assert_eq!(files[0].content_type.as_deref(), Some("image/png"));
        assert!(!format!("{:?}", files[0]).contains("PNG"));
    }

    #[test]
    fn broken_bodies_are_400() {
        let mut map = Map::new();
        for (ct, b) in [
            ("multipart/form-data", &b"--x\r\n"[..]),
            ("multipart/form-data; boundary=x", b"--x"),
            ("multipart/form-data; boundary=x", b"--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end"),
            ("multipart/form-data; boundary=x", b"garbage"),
        ] {
            let got = parse(ct, Bytes::copy_from_slice(b), &mut map);
            assert!(matches!(got, Err(ServiceError::Refused { why: Refusal::Malformed, .. })), "{ct} {b:?}");
        }
    }
}
