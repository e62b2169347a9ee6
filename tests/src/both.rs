//! `both!`: one test body, run on SQLite and on PostgreSQL, within a time limit.

use std::future::Future;
use std::time::Duration;

use crate::server::{Backend, Options, TestServer};

/// Declares a test as two tests, `<name>::sqlite` and `<name>::postgres`, in a module `name`
/// that sees the caller's items (`use super::*`). The PostgreSQL half is skipped loudly when
/// `BARONG_TEST_PG_URL` is not set (and fails under `CI=true`).
///
/// - `both!(name, |srv: TestServer| async move { ... })` starts a daemon with the default
///   options and runs the body on it, within [`TEST_LIMIT`].
/// - `both!(name, config = "key: value\n", |srv: TestServer| async move { ... })` does the same
///   with extra YAML config (anything `ToString`).
/// - `both!(name, options = Options { env: ..., ..Default::default() }, |srv: TestServer| ...)`
///   does the same with any [`Options`].
/// - `both!(name, per_backend = some_async_fn)` calls `some_async_fn(backend).await`, for tests
///   that must do something before the daemon starts, or start several: the function spawns its
///   own [`TestServer`]s, returns when [`TestServer::spawn_with`] gives `None`, and calls
///   [`within_limit`] itself.
///
/// A body may also be the name of an `async fn(TestServer)`. The `key = value` forms are plain
/// Rust expressions, so rustfmt still formats the test bodies.
#[macro_export]
macro_rules! both {
    ($name:ident, per_backend = $run:expr $(,)?) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($run)($crate::Backend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($run)($crate::Backend::Postgres).await;
            }
        }
    };
    ($name:ident, options = $options:expr, $body:expr $(,)?) => {
        $crate::both!($name, per_backend = |backend| $crate::spawn_and_run(backend, $options, $body));
    };
    ($name:ident, config = $config:expr, $body:expr $(,)?) => {
        $crate::both!(
            $name,
            options = $crate::Options {
                config: ::std::string::ToString::to_string(&$config),
                ..::std::default::Default::default()
            },
            $body
        );
    };
    ($name:ident, $body:expr $(,)?) => {
        $crate::both!($name, options = $crate::Options::default(), $body);
    };
}

/// How long one test may run. A stuck test fails with the daemon's log instead of holding the
/// suite until CI's own limit.
pub const TEST_LIMIT: Duration = Duration::from_secs(300);

/// Starts a daemon on `backend` with `options` and runs `body` on it within [`TEST_LIMIT`];
/// returns at once when the backend is skipped (PostgreSQL without `BARONG_TEST_PG_URL`).
pub async fn spawn_and_run<F, Fut>(backend: Backend, options: Options, body: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(srv) = TestServer::spawn_with(backend, options).await else { return };
    within_limit(srv, body).await;
}

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
