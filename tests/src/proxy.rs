//! A TCP proxy the test can cut: every relayed connection is dropped and new ones are refused
//! until it is restored on the same port. It stands for a network failure or a restart of a
//! shared server (RabbitMQ, PostgreSQL) that other tests use and so must not be restarted.

use std::sync::{Arc, Mutex};

use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};

pub struct TcpProxy {
    pub port: u16,
    upstream: String,
    task: Mutex<Option<JoinHandle<()>>>,
    /// Connections accepted since the start (for tests that check the client went through it).
    pub accepted: Arc<std::sync::atomic::AtomicUsize>,
}

impl TcpProxy {
    /// Listens on a free loopback port and relays to `upstream` (`host:port`).
    pub async fn start(upstream: &str) -> TcpProxy {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let proxy = TcpProxy { port, upstream: upstream.to_string(), task: Mutex::new(None), accepted: Arc::default() };
        proxy.serve(listener);
        proxy
    }

    fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let accepted = self.accepted.clone();
        let task = tokio::spawn(async move {
            // Dropping the set (when the task is aborted) aborts every relayed connection.
            let mut conns = JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let upstream = upstream.clone();
                conns.spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
                while conns.try_join_next().is_some() {}
            }
        });
        if let Ok(mut t) = self.task.lock() {
            *t = Some(task);
        }
    }

    /// Severs every connection and stops listening: connecting is refused until [`Self::restore`].
    pub async fn cut(&self) {
        let task = self.task.lock().ok().and_then(|mut t| t.take());
        if let Some(task) = task {
            task.abort();
            let _ = task.await;
        }
    }

    /// Listens again on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.expect("rebind proxy port");
        self.serve(listener);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Ok(mut t) = self.task.lock()
            && let Some(task) = t.take()
        {
            task.abort();
        }
    }
}
