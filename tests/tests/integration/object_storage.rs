//! KYC files in object storage (issue 15): with Barong's `storage_*` settings the files go to an
//! S3-compatible bucket (a real moto_server per test), downloads still go through barongd's own
//! signed links, daemons with no shared disk serve each other's uploads, and a deleted user's
//! files leave the bucket (and the uploads directory, with the local store).

use std::process::Command;

use reqwest::Method;

use super::admin_labels::{Admin, admin, uid_of};
use super::documents::{PNG, passport, upload};
use super::import_barong::{import_from, write_secret_files};
use super::*;

const BUCKET: &str = "barong-kyc";
const PDF: &[u8] = b"%PDF-1.4\n%%EOF\n";

/// Downloads every document of `c` through the links `srv` gives; the bytes, in list order.
async fn downloads(srv: &TestServer, c: &reqwest::Client) -> Vec<Vec<u8>> {
    let (s, list) = get(c, &srv.url("resource/documents")).await;
    assert_eq!(s, 200, "{list}");
    let mut out = Vec::new();
    for d in list.as_array().expect("list") {
        let link = format!("{}{}", srv.base, d["upload"]["url"].as_str().expect("url"));
        let r = c.get(&link).send().await.expect("download");
        assert_eq!(r.status().as_u16(), 200, "{link}");
        out.push(r.bytes().await.expect("bytes").to_vec());
    }
    out
}

/// The first document of `uid` opened by an admin through its Admin API link: (status, body).
async fn admin_opens(srv: &TestServer, who: &Admin<'_>, uid: &str) -> (u16, Vec<u8>) {
    let (s, v) = who.send(Method::GET, &format!("users/{uid}"), None).await;
    assert_eq!(s, 200, "{v}");
    let url = v["documents"][0]["upload"]["url"].as_str().expect("upload.url");
    let r = who.c.get(format!("{}{url}", srv.base)).send().await.expect("request");
    (r.status().as_u16(), r.bytes().await.expect("body").to_vec())
}

/// The user's own `DELETE resource/users/me`.
async fn delete_account(srv: &TestServer, c: &reqwest::Client, csrf: &str) {
    let r = c.delete(srv.url("resource/users/me")).header("X-CSRF-Token", csrf).json(&json!({"password": PASSWORD}));
    assert_eq!(read(r.send().await.expect("request")).await, (200, json!(200)));
}

async fn upload_names(srv: &TestServer, email: &str) -> Vec<String> {
    srv.sql_texts(&format!(
        "SELECT d.upload FROM documents d JOIN users u ON u.id = d.user_id WHERE u.email = '{email}' ORDER BY d.id"
    ))
    .await
}

async fn in_bucket(backend: Backend) {
    let Some(moto) = MotoServer::start().await else { return };
    moto.create_bucket(BUCKET).await;
    let opts = Options { config: moto.config(BUCKET), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        assert!(srv.logs().contains("aws bucket barong-kyc at http://127.0.0.1:"), "start-up names the store");
        let (c, csrf) = active_user(&srv, "bucket@example.com").await;
        let (keep, keep_csrf) = active_user(&srv, "keep@example.com").await;
        let url = srv.url("resource/documents");
        let files: &[(&str, &[u8])] = &[("front.png", PNG), ("back.pdf", PDF)];
        assert_eq!(upload(&c, &url, &csrf, &passport(&[]), files).await.0, 201);
        assert_eq!(upload(&keep, &url, &keep_csrf, &passport(&[]), &[("id.png", PNG)]).await.0, 201);

        // In the bucket under their stored names, and not on the daemon's disk.
        let names = upload_names(&srv, "bucket@example.com").await;
        let kept = upload_names(&srv, "keep@example.com").await;
        let mut expected: Vec<String> = names.iter().chain(&kept).map(|n| format!("uploads/{n}")).collect();
        expected.sort();
        assert_eq!(moto.keys(BUCKET).await, expected);
        assert_eq!(moto.size(BUCKET, &format!("uploads/{}", names[1])).await, Some(PDF.len()));
        let local = srv.data_dir.join("uploads");
        assert!(!local.exists() || std::fs::read_dir(&local).expect("dir").next().is_none());

        // Through barongd's signed links, byte for byte.
        assert_eq!(downloads(&srv, &c).await, vec![PNG.to_vec(), PDF.to_vec()]);

        // A rejected batch leaves nothing behind in the bucket.
        let (s, _) = upload(&c, &url, &csrf, &passport(&[]), &[("ok.png", PNG), ("bad.png", b"GIF89a")]).await;
        assert_eq!(s, 422);
        assert_eq!(moto.keys(BUCKET).await, expected);

        // The operator's review: no disk path to show, the files exported from the bucket.
        let case = ctl_json(&srv, &["kyc", "show", "bucket@example.com"]);
        let docs = case["documents"].as_array().expect("documents");
        assert!(docs.len() == 2 && docs.iter().all(|d| d["path"].is_null()), "{case}");
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().to_str().expect("utf-8");
        let exported = ctl_json(&srv, &["kyc", "show", "bucket@example.com", "--export", out]);
        let mut contents: Vec<Vec<u8>> = exported["exported"]
            .as_array()
            .expect("exported")
            .iter()
            .map(|e| std::fs::read(e["path"].as_str().expect("path")).expect("exported file"))
            .collect();
        contents.sort();
        let mut uploaded = vec![PNG.to_vec(), PDF.to_vec()];
        uploaded.sort();
        assert_eq!(contents, uploaded);

        // An admin opens them through the Admin API's links too.
        let co = admin(&srv, "co@example.com", "compliance").await;
        let uid = uid_of(&srv, "bucket@example.com").await;
        assert_eq!(admin_opens(&srv, &co, &uid).await, (200, PNG.to_vec()));

        // Deleting the account removes its files, and only its files.
        delete_account(&srv, &c, &csrf).await;
        assert_eq!(moto.keys(BUCKET).await, vec![format!("uploads/{}", kept[0])]);
        assert_eq!(upload_names(&srv, "bucket@example.com").await, names, "the rows stay");
        let (s, body) = admin_opens(&srv, &co, &uid).await;
        assert_eq!(
            (s, serde_json::from_slice::<Value>(&body).ok()),
            (404, Some(json!({"errors": ["record.not_found"]})))
        );
        assert_eq!(downloads(&srv, &keep).await, vec![PNG.to_vec()]);
        assert!(!srv.logs().contains("test-secret-key-not-logged"), "the secret key is never logged");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kyc_files_live_in_the_bucket_and_leave_with_their_user_sqlite() {
    in_bucket(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kyc_files_live_in_the_bucket_and_leave_with_their_user_postgres() {
    in_bucket(Backend::Postgres).await;
}

/// Two daemons on one PostgreSQL database, each with its own data dir and no shared volume:
/// what one stores, the other serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_without_a_shared_disk_serve_each_others_uploads() {
    let Some(moto) = MotoServer::start().await else { return };
    moto.create_bucket(BUCKET).await;
    let config = moto.config(BUCKET);
    let opts = Options { config: config.clone(), ..Default::default() };
    let Some(a) = TestServer::spawn_with(Backend::Postgres, opts).await else { return };
    let b = a.sibling(&config).await;
    assert_ne!(a.data_dir, b.data_dir);
    let (c, csrf) = active_user(&a, "two@example.com").await;
    assert_eq!(upload(&c, &a.url("resource/documents"), &csrf, &passport(&[]), &[("scan.png", PNG)]).await.0, 201);
    // The same session cookie works on both daemons (one database).
    assert_eq!(downloads(&b, &c).await, vec![PNG.to_vec()]);
    assert_eq!(upload(&c, &b.url("resource/documents"), &csrf, &passport(&[]), &[("b.pdf", PDF)]).await.0, 201);
    assert_eq!(downloads(&a, &c).await, vec![PNG.to_vec(), PDF.to_vec()]);
    assert_eq!(moto.keys(BUCKET).await.len(), 2);
}

/// `barongctl import barong --uploads DIR` copies Barong's files into the bucket.
async fn import_into_bucket(backend: Backend) {
    let Some(moto) = MotoServer::start().await else { return };
    moto.create_bucket(BUCKET).await;
    let Some(fx) = BarongFixture::build(20, 11, &[]) else { return };
    let config = format!("{}document_types: {}\n", moto.config(BUCKET), fx.manifest["barong_yml"]["document_types"]);
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    write_secret_files(&fx);
    let (code, out, err) = import_from(&srv, &fx, &[]);
    assert_eq!(code, 0, "import: {err}\n{out}");
    let mut stored: Vec<String> = srv
        .sql_texts("SELECT upload FROM documents WHERE upload <> ''")
        .await
        .into_iter()
        .map(|n| format!("uploads/{n}"))
        .collect();
    stored.sort();
    assert!(!stored.is_empty(), "the fixture has document files: {out}");
    assert_eq!(moto.keys(BUCKET).await, stored);
    let local = srv.data_dir.join("uploads");
    assert!(!local.exists() || std::fs::read_dir(&local).expect("dir").next().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barongs_files_are_imported_into_the_bucket_sqlite() {
    import_into_bucket(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barongs_files_are_imported_into_the_bucket_postgres() {
    import_into_bucket(Backend::Postgres).await;
}

// The local store: a deleted user's files leave the uploads directory too.
both!(a_deleted_users_files_leave_the_uploads_dir, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "gone@example.com").await;
    let (keep, keep_csrf) = active_user(&srv, "stays@example.com").await;
    let url = srv.url("resource/documents");
    assert_eq!(upload(&c, &url, &csrf, &passport(&[]), &[("a.png", PNG), ("b.pdf", PDF)]).await.0, 201);
    assert_eq!(upload(&keep, &url, &keep_csrf, &passport(&[]), &[("c.png", PNG)]).await.0, 201);
    let dir = srv.data_dir.join("uploads");
    let files = || {
        let mut v: Vec<String> = std::fs::read_dir(&dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into())
            .collect();
        v.sort();
        v
    };
    assert_eq!(files().len(), 3);
    delete_account(&srv, &c, &csrf).await;
    assert_eq!(files(), upload_names(&srv, "stays@example.com").await);
    assert_eq!(downloads(&srv, &keep).await, vec![PNG.to_vec()]);
    assert!(srv.logs().contains("files_removed=2"), "{}", srv.logs());
});

/// Runs barongd (a real start, no subcommand) until it exits; its code and stderr.
fn start_fails(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("barong.yml");
    std::fs::write(&path, format!("listen: 127.0.0.1:0\n{config}")).expect("write");
    let out = Command::new(binary("barongd"))
        .arg("--config")
        .arg(&path)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env_remove("DATABASE_URL")
        .env_remove("BARONG_CONFIG")
        .env_remove("PORT")
        .output()
        .expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_half_configured_bucket_stops_start_up_with_one_line() {
    let (code, err) = start_fails("storage_provider: AWS\nstorage_access_key: AK\nstorage_secret_key: SECRET\n");
    assert_eq!(code, 2, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.contains("storage_")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains("storage_bucket_name: required when storage_provider is aws"), "{err}");
    let (code, err) = start_fails("storage_provider: dropbox\n");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("storage_provider at line 2: unknown `dropbox`"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_bucket_stops_start_up_with_one_line() {
    // A port nothing listens on: taken, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let config = format!(
        "storage_provider: aws\nstorage_bucket_name: kyc\nstorage_access_key: AK\nstorage_secret_key: SECRET-VALUE\n\
         storage_endpoint: http://127.0.0.1:{port}\nstorage_pathstyle: true\n"
    );
    let (code, err) = tokio::task::spawn_blocking(move || start_fails(&config)).await.expect("joined");
    assert_eq!(code, 2, "{err}");
    // The one line barongd ends with (the log also records why it stopped).
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("barongd: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(lines[0].contains(&format!("aws bucket kyc at http://127.0.0.1:{port} is not usable")), "{err}");
    assert!(!err.contains("SECRET-VALUE"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_bucket_stops_start_up_with_one_line() {
    let Some(moto) = MotoServer::start().await else { return };
    let config = moto.config("no-such-bucket");
    let (code, err) = tokio::task::spawn_blocking(move || start_fails(&config)).await.expect("joined");
    assert_eq!(code, 2, "{err}");
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("barongd: ")).collect();
    assert_eq!(lines.len(), 1, "{err}");
    assert!(
        lines[0].starts_with("barongd: storage_bucket_name: aws bucket no-such-bucket at http://127.0.0.1:"),
        "{err}"
    );
    assert!(!err.contains("test-secret-key-not-logged"), "{err}");
}
