//! `both!`: one test body, run on SQLite and on PostgreSQL, within a time limit.

use std::future::Future;
use std::time::Duration;

use crate::server::TestServer;

/// Runs `body` against SQLite and PostgreSQL as two tests.
#[macro_export]
macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let Some(srv) = $crate::TestServer::spawn($crate::Backend::Sqlite).await else { return };
                $crate::within_limit(srv, $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(srv) = $crate::TestServer::spawn($crate::Backend::Postgres).await else { return };
                $crate::within_limit(srv, $body).await;
            }
        }
    };
}

/// How long one test may run. A stuck test fails with the daemon's log instead of holding the
/// suite until CI's own limit.
pub const TEST_LIMIT: Duration = Duration::from_secs(300);

/// Runs a test body against `srv`, failing it with the tail of the daemon's log after
/// [`TEST_LIMIT`].
pub async fn within_limit<F, Fut>(srv: TestServer, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    let logs = srv.logs.clone();
    if tokio::time::timeout(TEST_LIMIT, body(srv)).await.is_err() {
        let logs = logs.lock().map(|l| l.clone()).unwrap_or_default();
        let tail: Vec<&str> = logs.lines().rev().take(80).collect::<Vec<_>>().into_iter().rev().collect();
        panic!("the test ran longer than {TEST_LIMIT:?}; the daemon's last log lines:\n{}", tail.join("\n"));
    }
}
