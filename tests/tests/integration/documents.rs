//! resource documents and addresses: multipart uploads,
//! the checks in Barong's order, atomic saves, signed downloads, KYC labels, body limits.

use hmac::{Hmac, Mac};
use reqwest::multipart::{Form, Part};

use super::*;

/// A complete 1×1 PNG.
pub const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";
/// A minimal PDF.
const PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";

pub const FUTURE: &str = "2099-12-31";

/// `POST <path>` as multipart: text fields, then the files under `upload[]`.
pub async fn upload(
    c: &reqwest::Client,
    url: &str,
    csrf: &str,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> (u16, Value) {
    let mut form = Form::new();
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    for (name, bytes) in files {
        form = form.part("upload[]", Part::bytes(bytes.to_vec()).file_name(name.to_string()));
    }
    read(c.post(url).header("X-CSRF-Token", csrf).multipart(form).send().await.expect("request")).await
}

pub fn passport<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![("doc_type", "Passport"), ("doc_number", "AB123456CD"), ("doc_expire", FUTURE)];
    for (k, v) in extra {
        f.retain(|(key, _)| key != k);
        f.push((k, v));
    }
    f
}

/// The names in `<data-dir>/uploads/`, temporary ones included.
fn stored_files(srv: &TestServer) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(srv.data_dir.join("uploads"))
        .expect("uploads dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The signature barongd gives a download link, computed from the master key the way
/// `Sealer::sign_url` derives its key (to build links the API would not hand out: expired ones).
pub fn sign(master_hex: &str, message: &str) -> String {
    let mac = |key: &[u8], msg: &[u8]| {
        let mut m = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).expect("key");
        m.update(msg);
        m.finalize().into_bytes().to_vec()
    };
    let master = hex::decode(master_hex).expect("master key hex");
    let index_key = mac(&master, b"barong-rs lookup index v1");
    let url_key = mac(&index_key, b"barong-rs signed url v1");
    hex::encode(mac(&url_key, message.as_bytes()))
}

async fn user_id(srv: &TestServer, email: &str) -> String {
    srv.sql_texts(&format!("SELECT CAST(id AS TEXT) FROM users WHERE email = '{email}'")).await.remove(0)
}

both!(documents_are_uploaded_listed_and_downloaded, |srv: TestServer| async move {
    let url = srv.url("resource/documents");
    assert_eq!(get(&srv.client(), &url).await.0, 401);
    assert_eq!(upload(&srv.client(), &url, "x", &passport(&[]), &[("a.png", PNG)]).await.0, 401);

    let (c, csrf) = active_user(&srv, "doc@example.com").await;
    let fields = passport(&[("doc_category", "front_side"), ("metadata", r#"{"side":"front"}"#)]);
    let (s, b) = upload(&c, &url, &csrf, &fields, &[("scan.PNG", PNG), ("back.pdf", PDF)]).await;
    assert_eq!((s, &b), (201, &json!(201)));

    let resp = c.get(&url).send().await.expect("list");
    assert_eq!(resp.status().as_u16(), 200);
    let raw = resp.text().await.expect("body");
    let list: Value = serde_json::from_str(&raw).expect("json");
    let docs = list.as_array().expect("array");
    assert_eq!(docs.len(), 2);
    for d in docs {
        let mut keys: Vec<&str> = d.as_object().expect("object").keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["doc_expire", "doc_number", "doc_type", "upload"], "only the 4 keys: {d}");
        assert_eq!(d["doc_type"], "Passport");
        assert_eq!(d["doc_number"], "AB******CD");
        assert_eq!(d["doc_expire"], FUTURE);
    }
    assert!(keys_in_order(&raw, &["upload", "doc_type", "doc_number", "doc_expire"]), "{raw}");
    assert!(!raw.contains("AB123456CD"));

    // Each link downloads exactly the uploaded bytes, as an attachment that is never sniffed.
    let mut links = Vec::new();
    for (d, (bytes, mime)) in docs.iter().zip([(PNG, "image/png"), (PDF, "application/pdf")]) {
        let link = format!("{}{}", srv.base, d["upload"]["url"].as_str().expect("url"));
        assert!(link.contains("/api/v2/barong/resource/documents/") && link.contains("signature="), "{link}");
        let r = c.get(&link).send().await.expect("download");
        assert_eq!(r.status().as_u16(), 200);
        let h = r.headers().clone();
        assert_eq!(h["content-type"], mime);
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert!(h["content-disposition"].to_str().expect("cd").starts_with("attachment"));
        assert_eq!(&r.bytes().await.expect("bytes")[..], bytes);
        links.push(link);
    }

    // Tampered, unsigned, expired, someone else's, anonymous: refused.
    let tampered = format!("{}0", &links[0][..links[0].len() - 1]);
    let tampered = if tampered == links[0] { format!("{}1", &links[0][..links[0].len() - 1]) } else { tampered };
    assert_err(&get(&c, &tampered).await, 403, &["resource.documents.upload_url_invalid"]);
    let unsigned = links[0].split('?').next().expect("path").to_string();
    assert_err(&get(&c, &unsigned).await, 403, &["resource.documents.upload_url_invalid"]);
    let other_id = links[1].split("/documents/").nth(1).and_then(|s| s.split('/').next()).expect("id");
    let swapped = links[0].replacen(
        &format!("/documents/{}/", links[0].split("/documents/").nth(1).and_then(|s| s.split('/').next()).expect("id")),
        &format!("/documents/{other_id}/"),
        1,
    );
    assert_err(&get(&c, &swapped).await, 403, &["resource.documents.upload_url_invalid"]);
    let (id, uid) = (
        links[0].split("/documents/").nth(1).and_then(|s| s.split('/').next()).expect("id"),
        user_id(&srv, "doc@example.com").await,
    );
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    let at = |expires: i64| {
        format!(
            "{}/api/v2/barong/resource/documents/{id}/upload?expires={expires}&signature={}",
            srv.base,
            sign(&srv.master_key(), &format!("document-upload:{uid}:{id}:{expires}"))
        )
    };
    assert_eq!(c.get(at(now + 30)).send().await.expect("dl").status().as_u16(), 200, "a link signed like ours");
    assert_err(&get(&c, &at(now - 5)).await, 403, &["resource.documents.upload_url_expired"]);
    let (other, _) = active_user(&srv, "other@example.com").await;
    assert_err(&get(&other, &links[0]).await, 404, &["record.not_found"]);
    assert_eq!(get(&srv.client(), &links[0]).await.0, 401);
    // The gateway-stripped prefix serves the same files.
    let internal = links[0].replacen("/api/v2/barong/", "/api/v2/", 1);
    assert_eq!(c.get(&internal).send().await.expect("dl").status().as_u16(), 200);

    // KYC (local): the document step puts the user under review.
    let (_, me) = get(&c, &srv.url("resource/users/me")).await;
    let labels = me["labels"].as_array().expect("labels");
    assert!(
        labels.iter().any(|l| l["key"] == "document" && l["value"] == "pending" && l["scope"] == "private"),
        "{me}"
    );

    // At rest: number sealed and indexed, never in the clear; files ours, 0600.
    let stored = srv
        .sql_texts(
            "SELECT COALESCE(doc_number_sealed, '') || ' ' || COALESCE(doc_number_index, '') || ' ' || upload || ' ' \
             || COALESCE(doc_category, '') || ' ' || COALESCE(metadata, '') || ' ' || COALESCE(identificator, '') \
             FROM documents",
        )
        .await;
    assert_eq!(stored.len(), 2);
    for row in &stored {
        assert!(!row.contains("AB123456CD") && !row.to_lowercase().contains("ab123456cd"), "{row}");
        assert!(!row.contains("scan") && !row.contains("back.pdf"), "client names are not stored: {row}");
        assert!(row.contains("front_side") && row.contains(r#"{"side":"front"}"#), "{row}");
    }
    let ident: Vec<&str> = stored.iter().map(|r| r.rsplit(' ').next().expect("ident")).collect();
    assert_eq!(ident[0], ident[1], "one identificator per batch");
    assert!(ident[0].len() == 32 && ident[0].chars().all(|c| c.is_ascii_hexdigit()), "{}", ident[0]);
    let files = stored_files(&srv);
    assert_eq!(files.len(), 2, "{files:?}");
    for f in &files {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(srv.data_dir.join("uploads").join(f)).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f}");
        assert!(f.ends_with(".png") || f.ends_with(".pdf"), "{f}");
    }
});

both!(document_errors_come_in_the_spec_order, |srv: TestServer| async move {
    let url = srv.url("resource/documents");
    let (c, csrf) = active_user(&srv, "err@example.com").await;
    let post = |fields: Vec<(&'static str, &'static str)>, files: Vec<(&'static str, Vec<u8>)>| {
        let (c, url, csrf) = (c.clone(), url.clone(), csrf.clone());
        async move {
            let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
            upload(&c, &url, &csrf, &fields, &files).await
        }
    };
    let png = || vec![("a.png", PNG.to_vec())];

    assert_err(
        &post(vec![("other", "x")], vec![]).await,
        422,
        &[
            "resource.document.missing_doc_type",
            "resource.document.missing_doc_number",
            "resource.document.missing_upload",
        ],
    );
    assert_err(
        &post(passport(&[("doc_expire", "31/12/2099"), ("doc_category", "front")]), png()).await,
        422,
        &["resource.documents.expire_not_a_date", "resource.documents.doc_category"],
    );
    let no_expire = vec![("doc_type", "Nope"), ("doc_number", "AB123456CD")];
    assert_err(&post(no_expire, png()).await, 422, &["resource.documents.invalid_format"]);
    assert_err(
        &post(passport(&[("doc_expire", "2000-01-01"), ("doc_type", "Nope")]), png()).await,
        422,
        &["resource.documents.already_expired"],
    );
    // The limit (10) comes before the model's checks.
    let eleven: Vec<(&'static str, Vec<u8>)> = (0..11).map(|_| ("a.exe", b"MZ".to_vec())).collect();
    assert_err(
        &post(passport(&[("doc_type", "Nope")]), eleven).await,
        400,
        &["resource.documents.limit_will_be_reached"],
    );
    assert_err(&post(passport(&[("doc_type", "Nope")]), png()).await, 422, &["doc_type.inclusion"]);
    assert_err(&post(passport(&[("doc_number", "AB#1")]), png()).await, 422, &["doc_number.invalid"]);
    assert_err(&post(passport(&[("metadata", "{nope")]), png()).await, 422, &["metadata.invalid_format"]);
    assert_err(&post(passport(&[]), vec![("a.exe", PNG.to_vec())]).await, 422, &["upload.extension_whitelist_error"]);
    assert_err(&post(passport(&[]), vec![("noext", PNG.to_vec())]).await, 422, &["upload.extension_whitelist_error"]);
    assert_err(&post(passport(&[]), vec![("a.png", Vec::new())]).await, 422, &["upload.min_size_error"]);
    let mut big = PNG.to_vec();
    big.resize(10 * 1024 * 1024 + 1, 0);
    assert_err(&post(passport(&[]), vec![("big.png", big)]).await, 422, &["upload.max_size_error"]);
    assert_err(&post(passport(&[]), vec![("fake.png", PDF.to_vec())]).await, 422, &["upload.invalid_content_type"]);
    assert_err(&post(passport(&[]), vec![("fake.jpg", PNG.to_vec())]).await, 422, &["upload.invalid_content_type"]);
    assert_err(&post(passport(&[("upload", "not a file")]), vec![]).await, 422, &["upload.blank"]);

    // Atomic: one bad file in a batch stores no row and no file.
    let (s, b) = post(passport(&[]), vec![("good.png", PNG.to_vec()), ("bad.png", b"MZ not a png".to_vec())]).await;
    assert_err(&(s, b), 422, &["upload.invalid_content_type"]);
    assert!(srv.sql_texts("SELECT upload FROM documents").await.is_empty());
    assert!(stored_files(&srv).is_empty(), "{:?}", stored_files(&srv));
    let (_, me) = get(&c, &srv.url("resource/users/me")).await;
    assert!(!me["labels"].as_array().expect("labels").iter().any(|l| l["key"] == "document"), "{me}");

    // Mass assignment: undeclared columns are not writable.
    let (s, _) = post(passport(&[("doc_issue", "2001-01-01"), ("id", "777"), ("user_id", "1")]), png()).await;
    assert_eq!(s, 201);
    let row = srv.sql_texts("SELECT CAST(id AS TEXT) || ':' || COALESCE(doc_issue, 'none') FROM documents").await;
    assert_eq!(row.len(), 1);
    assert!(row[0].ends_with(":none") && !row[0].starts_with("777:"), "{row:?}");

    // Up to the limit, then no further batch fits.
    let nine: Vec<(&'static str, Vec<u8>)> = (0..9).map(|_| ("p.png", PNG.to_vec())).collect();
    assert_eq!(post(passport(&[]), nine).await.0, 201);
    assert_err(&post(passport(&[]), png()).await, 400, &["resource.documents.limit_will_be_reached"]);
    assert_eq!(srv.sql_texts("SELECT upload FROM documents").await.len(), 10);
    assert_eq!(stored_files(&srv).len(), 10);
    assert_err(
        &upload(
            &c,
            &srv.url("resource/addresses"),
            &csrf,
            &[("country", "DE"), ("address", "x"), ("city", ""), ("postcode", "1")],
            &[("a.png", PNG)],
        )
        .await,
        400,
        &["resource.documents.limit_will_be_reached"],
    );
});

both!(addresses_are_uploaded, |srv: TestServer| async move {
    let url = srv.url("resource/addresses");
    let (c, csrf) = active_user(&srv, "addr@example.com").await;
    assert_eq!(upload(&srv.client(), &url, "x", &[("country", "DE")], &[("a.png", PNG)]).await.0, 401);
    assert_err(
        &upload(&c, &url, &csrf, &[("other", "x")], &[]).await,
        422,
        &[
            "resource.address.missing_country",
            "resource.address.empty_country",
            "resource.address.missing_address",
            "resource.address.empty_address",
            "resource.address.missing_upload",
            "resource.address.missing_city",
            "resource.address.missing_postcode",
        ],
    );
    assert_err(
        &upload(
            &c,
            &url,
            &csrf,
            &[("country", " "), ("address", "Main St 1"), ("city", ""), ("postcode", "")],
            &[("a.png", PNG)],
        )
        .await,
        422,
        &["resource.address.empty_country"],
    );
    let fields = [("country", "DE"), ("address", "Main St 1"), ("city", ""), ("postcode", "10115")];
    assert_err(
        &upload(&c, &url, &csrf, &fields, &[("a.gif", b"GIF89a")]).await,
        422,
        &["upload.extension_whitelist_error"],
    );
    let (s, b) = upload(&c, &url, &csrf, &fields, &[("bill.pdf", PDF), ("bill2.jpg", b"\xFF\xD8\xFF\xE0jpeg")]).await;
    assert_eq!((s, b), (201, json!(201)));
    let rows = srv.sql_texts("SELECT doc_type || ':' || identificator FROM documents ORDER BY id").await;
    assert_eq!(rows.len(), 2);
    assert!(rows[0].starts_with("Address:") && rows[0] == rows[1], "{rows:?}");
    assert_eq!(stored_files(&srv).len(), 2);
    let (_, me) = get(&c, &srv.url("resource/users/me")).await;
    let labels = me["labels"].as_array().expect("labels");
    assert!(labels.iter().any(|l| l["key"] == "address" && l["value"] == "pending" && l["scope"] == "private"), "{me}");
    assert!(!labels.iter().any(|l| l["key"] == "document"), "an address is not an identity document: {me}");
    let (s, list) = get(&c, &srv.url("resource/documents")).await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["doc_type"], "Address");
    assert_eq!(list[0]["doc_number"], Value::Null);
});

both!(upload_bodies_have_their_own_limit, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "big@example.com").await;
    // Everything else keeps the 64 KiB limit, multipart or not.
    let big_json = json!({"key": "k".repeat(70 * 1024), "value": "v"});
    let r = c.post(srv.url("resource/labels")).header("X-CSRF-Token", &csrf).json(&big_json).send().await.expect("req");
    assert_err(&read(r).await, 413, &["request.body_too_large"]);
    let form = Form::new().text("key", "k".repeat(70 * 1024)).text("value", "v");
    let r = c.post(srv.url("resource/labels")).header("X-CSRF-Token", &csrf).multipart(form).send().await.expect("req");
    assert_err(&read(r).await, 413, &["request.body_too_large"]);
    // Only the two upload endpoints take multipart at all.
    let form = Form::new().text("key", "k").text("value", "v");
    let r = c.post(srv.url("resource/labels")).header("X-CSRF-Token", &csrf).multipart(form).send().await.expect("req");
    assert_err(&read(r).await, 415, &["request.unsupported_media_type"]);
    // A 2 MiB document is fine.
    let mut two_mib = PNG.to_vec();
    two_mib.resize(2 * 1024 * 1024, 7);
    let (s, b) = upload(&c, &srv.url("resource/documents"), &csrf, &passport(&[]), &[("big.png", &two_mib)]).await;
    assert_eq!((s, b), (201, json!(201)));
    let link = get(&c, &srv.url("resource/documents")).await.1[0]["upload"]["url"].as_str().expect("url").to_string();
    let got = c.get(format!("{}{link}", srv.base)).send().await.expect("dl").bytes().await.expect("bytes");
    assert_eq!(got.len(), two_mib.len());
    assert!(got[..] == two_mib[..]);
    // A broken multipart body is a 400, never a 500.
    for body in [&b"garbage"[..], b"--x\r\nContent-Disposition: form-data; name=\"doc_type\"\r\n\r\nPass"] {
        let r = c
            .post(srv.url("resource/documents"))
            .header("X-CSRF-Token", &csrf)
            .header("Content-Type", "multipart/form-data; boundary=x")
            .body(body.to_vec())
            .send()
            .await
            .expect("req");
        assert_err(&read(r).await, 400, &["request.malformed_body"]);
    }
    let r = c
        .post(srv.url("resource/documents"))
        .header("X-CSRF-Token", &csrf)
        .header("Content-Type", "multipart/form-data")
        .body("--x--")
        .send()
        .await
        .expect("req");
    assert_err(&read(r).await, 400, &["request.malformed_body"]);
    assert!(!srv.logs().contains("AB123456CD"), "no document number in logs");

    // Another daemon on the same database with other settings: no expiry required, no
    // masking, a 1 MiB cap on upload bodies.
    let sib = srv
        .sibling("required_docs_expire: false\napi_data_masking_enabled: false\nmax_upload_request_bytes: 1048576\n")
        .await;
    let docs_url = sib.url("resource/documents");
    let fields = [("doc_type", "Identity card"), ("doc_number", "XY987654ZW")];
    assert_eq!(upload(&c, &docs_url, &csrf, &fields, &[("id.png", PNG)]).await, (201, json!(201)));
    let (_, list) = get(&c, &docs_url).await;
    let d = list.as_array().expect("list").iter().find(|d| d["doc_type"] == "Identity card").expect("new doc").clone();
    assert_eq!((&d["doc_number"], &d["doc_expire"]), (&json!("XY987654ZW"), &Value::Null));
    let (s, b) = upload(&c, &docs_url, &csrf, &passport(&[]), &[("big.png", &two_mib)]).await;
    assert_err(&(s, b), 413, &["request.body_too_large"]);
});

both!(concurrent_batches_cannot_pass_the_limit_together, |srv: TestServer| async move {
    let url = srv.url("resource/documents");
    let (c, csrf) = active_user(&srv, "race@example.com").await;
    let six: Vec<(&str, &[u8])> = (0..6).map(|_| ("p.png", PNG)).collect();
    let fields = passport(&[]);
    // Each batch fits alone (6 ≤ 10); together they would not.
    let (a, b) = tokio::join!(upload(&c, &url, &csrf, &fields, &six), upload(&c, &url, &csrf, &fields, &six));
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(statuses, [201, 400], "{a:?} {b:?}");
    let refused = if a.0 == 400 { a } else { b };
    assert_err(&refused, 400, &["resource.documents.limit_will_be_reached"]);
    assert_eq!(srv.sql_texts("SELECT upload FROM documents").await.len(), 6);
    assert_eq!(stored_files(&srv).len(), 6, "{:?}", stored_files(&srv));
});

/// Two daemons on one database and one `uploads_dir` (a shared volume): a document uploaded
/// through one downloads through the other.
async fn shared_uploads_dir(backend: Backend) {
    let shared = tempfile::tempdir().expect("tempdir");
    let config = format!("uploads_dir: {}", shared.path().join("kyc").display());
    let opts = Options { config: config.clone(), ..Default::default() };
    let Some(a) = TestServer::spawn_with(backend, opts).await else { return };
    let (c, csrf) = active_user(&a, "shared@example.com").await;
    let b = a.sibling(&config).await;
    let (s, _) = upload(&c, &a.url("resource/documents"), &csrf, &passport(&[]), &[("scan.png", PNG)]).await;
    assert_eq!(s, 201);
    assert!(
        !a.data_dir.join("uploads").exists()
            || std::fs::read_dir(a.data_dir.join("uploads")).expect("dir").next().is_none()
    );
    let files: Vec<_> = std::fs::read_dir(shared.path().join("kyc")).expect("shared dir").collect();
    assert_eq!(files.len(), 1, "stored in uploads_dir");
    let (_, list) = get(&c, &b.url("resource/documents")).await;
    let link = format!("{}{}", b.base, list[0]["upload"]["url"].as_str().expect("url"));
    let r = c.get(&link).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(&r.bytes().await.expect("bytes")[..], PNG);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_uploads_dir_serves_every_daemon_sqlite() {
    shared_uploads_dir(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_uploads_dir_serves_every_daemon_postgres() {
    shared_uploads_dir(Backend::Postgres).await;
}
