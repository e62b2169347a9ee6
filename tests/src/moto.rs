//! A real S3-compatible server for the object-storage tests: `moto_server` (PyPI `moto[server]`,
//! installed by `.ci/run` into target/s3-venv), found through `BARONG_TEST_MOTO`. Each test
//! starts its own on a free loopback port. moto accepts unsigned requests, so the test reads the
//! bucket with plain HTTP while barongd signs its own.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `moto_server`, killed when dropped.
pub struct MotoServer {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
}

impl MotoServer {
    /// Starts one, or returns `None` after a loud skip when `BARONG_TEST_MOTO` is not set (a
    /// failure under `CI=true`).
    pub async fn start() -> Option<MotoServer> {
        let Some(bin) = std::env::var("BARONG_TEST_MOTO").ok().filter(|b| !b.is_empty()) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "BARONG_TEST_MOTO is not set, and CI=true requires the object-storage tests"
            );
            eprintln!("SKIPPED (object storage): BARONG_TEST_MOTO (a moto_server binary) is not set");
            return None;
        };
        // moto cannot bind port 0 and say which it got: take a free one and hand it over.
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("BARONG_TEST_MOTO={bin}: {e}"));
        let moto = MotoServer { child, endpoint: format!("http://127.0.0.1:{port}") };
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            if let Ok(r) = client.get(format!("{}/moto-api/", moto.endpoint)).send().await
                && r.status().is_success()
            {
                return Some(moto);
            }
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not answer on port {port}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn create_bucket(&self, bucket: &str) {
        let r = reqwest::Client::new().put(format!("{}/{bucket}", self.endpoint)).send().await.expect("create bucket");
        assert!(r.status().is_success(), "create bucket {bucket}: {}", r.status());
    }

    /// Every key in the bucket, sorted.
    pub async fn keys(&self, bucket: &str) -> Vec<String> {
        let url = format!("{}/{bucket}?list-type=2", self.endpoint);
        let body = reqwest::get(url).await.expect("list").text().await.expect("list body");
        let re = regex::Regex::new("<Key>([^<]*)</Key>").expect("regex");
        let mut keys: Vec<String> = re.captures_iter(&body).map(|c| c[1].to_string()).collect();
        keys.sort();
        keys
    }

    /// The object's size as the bucket lists it (moto refuses anonymous reads of objects that
    /// barongd wrote with its keys, but lists them).
    pub async fn size(&self, bucket: &str, key: &str) -> Option<usize> {
        let url = format!("{}/{bucket}?list-type=2", self.endpoint);
        let body = reqwest::get(url).await.expect("list").text().await.expect("list body");
        let re = regex::Regex::new("<Key>([^<]*)</Key>.*?<Size>([0-9]+)</Size>").expect("regex");
        re.captures_iter(&body).find(|c| &c[1] == key).and_then(|c| c[2].parse().ok())
    }

    /// The barongd settings of a bucket here (`storage_*`, Barong's names).
    pub fn config(&self, bucket: &str) -> String {
        format!(
            "storage_provider: AWS\nstorage_bucket_name: {bucket}\nstorage_access_key: AKIATESTKEY\n\
             storage_secret_key: test-secret-key-not-logged\nstorage_endpoint: {}\nstorage_region: us-east-1\n\
             storage_pathstyle: true\n",
            self.endpoint
        )
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
