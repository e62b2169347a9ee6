//! Where KYC files live: the uploads directory (`storage_provider: local`, the default) or a
//! bucket of an S3-compatible object store (`aws`, `google`, `alicloud`), built once at start-up
//! and held in the App. Files are always read by the daemon and streamed to the client through
//! its own short-lived signed links; the bucket stays private and no presigned URL is handed out.
//!
//! Object keys are `uploads/<name>` (`<32 hex>.<ext>`, ours), apart from Barong's own layout
//! (`uploads/document/upload/<id>/<file>`), so a bucket Barong used can be reused as it is.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as Key;
use object_store::{BackoffConfig, ClientOptions, ObjectStore, PutPayload, RetryConfig};

use crate::config::Config;
use crate::config::storage::{self, Provider};

/// The store of KYC files (cloning shares the client).
#[derive(Clone)]
pub enum FileStore {
    Local(PathBuf),
    Bucket(Bucket),
}

#[derive(Clone)]
pub struct Bucket {
    store: Arc<dyn ObjectStore>,
    /// `aws bucket kyc at http://…`, for logs (never a key).
    shown: String,
    /// Masked out of every error message, in case a server echoes it.
    secret: Arc<str>,
}

/// A request that gets no answer gives up after this; a slow bucket must not hold uploads open
/// for minutes (object_store's default retries for three).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const RETRY_TIMEOUT: Duration = Duration::from_secs(20);

impl FileStore {
    /// From the (validated) settings; no request is made.
    pub fn new(config: &Config) -> Result<FileStore, String> {
        let provider = storage::provider(config);
        if provider == Provider::Local {
            return Ok(FileStore::Local(local_dir(config)));
        }
        let bucket = config.storage_bucket_name.trim();
        let endpoint = storage::endpoint(config);
        let region = match config.storage_region.trim() {
            "" => "us-east-1",
            r => r,
        };
        let retry = RetryConfig { backoff: BackoffConfig::default(), max_retries: 3, retry_timeout: RETRY_TIMEOUT };
        let options = ClientOptions::new()
            .with_timeout(REQUEST_TIMEOUT)
            .with_connect_timeout(Duration::from_secs(5))
            .with_allow_http(endpoint.starts_with("http://"));
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(config.storage_access_key.trim())
            .with_secret_access_key(config.storage_secret_key.expose())
            .with_virtual_hosted_style_request(!config.storage_pathstyle)
            .with_retry(retry)
            .with_client_options(options);
        if !endpoint.is_empty() {
            builder = builder.with_endpoint(bucket_endpoint(&endpoint, bucket, config.storage_pathstyle)?);
        }
        let store = builder.build().map_err(|e| format!("storage_endpoint: {}", one_line(&e)))?;
        let at = if endpoint.is_empty() { format!("S3 region {region}") } else { endpoint };
        Ok(FileStore::Bucket(Bucket {
            store: Arc::new(store),
            shown: format!("{} bucket {bucket} at {at}", provider.as_str()),
            secret: config.storage_secret_key.expose().into(),
        }))
    }

    /// What start-up logs.
    pub fn describe(&self) -> String {
        match self {
            FileStore::Local(dir) => format!("directory {}", dir.display()),
            FileStore::Bucket(b) => b.shown.clone(),
        }
    }

    /// Start-up check that the bucket exists, answers and takes the keys: a listing under a
    /// prefix nothing is stored at (a HEAD could not tell a missing bucket from a missing key).
    pub async fn probe(&self) -> Result<(), String> {
        let FileStore::Bucket(b) = self else { return Ok(()) };
        match b.store.list(Some(&Key::from("uploads/.probe"))).next().await {
            None | Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(format!("storage_bucket_name: {} is not usable: {}", b.shown, b.error(&e))),
        }
    }

    /// The file's bytes, or `None` when it is not there (removed with its user).
    pub async fn get(&self, name: &str) -> Result<Option<Vec<u8>>, String> {
        match self {
            FileStore::Local(dir) => match tokio::fs::read(dir.join(name)).await {
                Ok(b) => Ok(Some(b)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e.to_string()),
            },
            FileStore::Bucket(b) => match b.store.get(&key(name)).await {
                Ok(r) => r.bytes().await.map(|bytes| Some(bytes.to_vec())).map_err(|e| b.error(&e)),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(b.error(&e)),
            },
        }
    }

    /// Removes the file; one already gone is no error.
    pub async fn delete(&self, name: &str) -> Result<(), String> {
        match self {
            FileStore::Local(dir) => match tokio::fs::remove_file(dir.join(name)).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                _ => Ok(()),
            },
            FileStore::Bucket(b) => b.delete(name).await,
        }
    }
}

impl Bucket {
    /// Stores the object under its final key.
    pub async fn put(&self, name: &str, bytes: bytes::Bytes) -> Result<(), String> {
        self.store.put(&key(name), PutPayload::from_bytes(bytes)).await.map(|_| ()).map_err(|e| self.error(&e))
    }

    pub async fn delete(&self, name: &str) -> Result<(), String> {
        match self.store.delete(&key(name)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.error(&e)),
        }
    }

    fn error(&self, e: &dyn std::error::Error) -> String {
        let line = one_line(e);
        if self.secret.is_empty() { line } else { crate::redact::mask(&line, &[self.secret.to_string()]) }
    }

    /// Removes the objects in the background (from `Drop` and other places that cannot wait).
    pub fn delete_later(&self, names: Vec<String>) {
        let Ok(rt) = tokio::runtime::Handle::try_current() else { return };
        let b = self.clone();
        rt.spawn(async move {
            for name in names {
                if let Err(e) = b.delete(&name).await {
                    tracing::warn!(file = %name, error = %e, "stored upload not removed from the bucket");
                }
            }
        });
    }
}

fn key(name: &str) -> Key {
    Key::from(format!("uploads/{name}"))
}

/// `uploads_dir`, or the uploads directory of the data dir.
pub fn local_dir(config: &Config) -> PathBuf {
    if config.uploads_dir.is_empty() {
        Path::new(&config.data_dir).join("uploads")
    } else {
        PathBuf::from(&config.uploads_dir)
    }
}

/// The URL object_store addresses the bucket at: Barong's (fog's) `storage_endpoint` is the
/// service's, and without path style the bucket becomes the first label of its host.
fn bucket_endpoint(endpoint: &str, bucket: &str, pathstyle: bool) -> Result<String, String> {
    if pathstyle {
        return Ok(endpoint.to_string());
    }
    let (scheme, host) =
        storage::host_of(endpoint).ok_or_else(|| format!("storage_endpoint: `{endpoint}` has no host"))?;
    Ok(format!("{scheme}://{bucket}.{host}"))
}

/// object_store's errors span lines (the source chain); start-up and logs want one, and the
/// request URL they may hold carries no secret (signatures go in headers).
fn one_line(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        let t = inner.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        source = inner.source();
    }
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_joins_the_host_unless_path_style() {
        assert_eq!(
            bucket_endpoint("https://oss-cn-hangzhou.aliyuncs.com", "kyc", false).as_deref(),
            Ok("https://kyc.oss-cn-hangzhou.aliyuncs.com")
        );
        assert_eq!(bucket_endpoint("http://127.0.0.1:9000", "kyc", true).as_deref(), Ok("http://127.0.0.1:9000"));
        assert_eq!(key("ab.png").as_ref(), "uploads/ab.png");
    }

    #[test]
    fn the_secret_key_is_not_in_the_description() {
        let c = Config {
            storage_provider: "aws".into(),
            storage_bucket_name: "kyc".into(),
            storage_access_key: "AKIA".into(),
            storage_secret_key: crate::config::Secret("very-secret".into()),
            storage_endpoint: "http://127.0.0.1:1".into(),
            storage_pathstyle: true,
            ..Default::default()
        };
        let s = FileStore::new(&c).expect("built");
        assert_eq!(s.describe(), "aws bucket kyc at http://127.0.0.1:1");
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
        let e = rt.block_on(s.probe()).expect_err("nothing listens on port 1");
        assert!(e.starts_with("storage_bucket_name: aws bucket kyc at http://127.0.0.1:1 is not usable"), "{e}");
        assert!(!e.contains("very-secret") && !e.contains('\n'), "{e}");
    }
}
