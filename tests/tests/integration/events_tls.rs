//! The Event API over TLS (`amqps://`): each test starts a RabbitMQ node of its own with a TLS
//! listener, its server certificate signed by a CA the test makes with the openssl CLI. The node
//! also has a plain listener, for the test's consumer only; barongd is given the TLS one.
//!
//! Needs `rabbitmq-server` and `openssl` (both installed where `.ci/run` runs); without them a
//! test prints a loud skip, or fails under CI=true.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::events::{Consumer, SYSTEM, events_config, for_user, outbox_count, unique_email};
use super::*;

/// A RabbitMQ node of the test's own, stopped when dropped.
struct TlsBroker {
    child: Child,
    dir: tempfile::TempDir,
    tls_port: u16,
    tcp_port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn skip_or_fail(why: &str) -> Option<TlsBroker> {
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{why}, and CI=true requires the amqps:// tests");
    eprintln!("SKIPPED (RabbitMQ over TLS): {why}");
    None
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl runs");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// A self-signed CA `<name>.pem` (key `<name>.key`) in `dir`.
fn make_ca(dir: &Path, name: &str) -> PathBuf {
    let (key, pem) = (format!("{name}.key"), format!("{name}.pem"));
    let subject = format!("/CN=barong test CA {name}");
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", &key, "-out", &pem, "-days", "2", "-subj",
            &subject,
        ],
    );
    dir.join(pem)
}

impl TlsBroker {
    /// Makes a CA and a server certificate for `localhost` signed by it, and starts a node with
    /// a TLS listener using them; waits until it accepts connections.
    fn start() -> Option<TlsBroker> {
        let Some(server) = ["/usr/lib/rabbitmq/bin/rabbitmq-server", "/usr/sbin/rabbitmq-server"]
            .into_iter()
            .find(|p| Path::new(p).exists())
        else {
            return skip_or_fail("rabbitmq-server is not installed");
        };
        if Command::new("openssl").arg("version").output().is_err() {
            return skip_or_fail("the openssl CLI is missing");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        make_ca(d, "ca");
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        std::fs::write(d.join("ext.cnf"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
            .expect("ext");
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                "server.pem",
                "-days",
                "2",
                "-extfile",
                "ext.cnf",
            ],
        );
        let (tls_port, tcp_port, dist_port) = (free_port(), free_port(), free_port());
        let conf = format!(
            "listeners.tcp.default = 127.0.0.1:{tcp_port}\nlisteners.ssl.default = 127.0.0.1:{tls_port}\n\
             ssl_options.cacertfile = {d}/ca.pem\nssl_options.certfile = {d}/server.pem\n\
             ssl_options.keyfile = {d}/server.key\nssl_options.verify = verify_none\n\
             ssl_options.fail_if_no_peer_cert = false\nloopback_users = none\n",
            d = d.display()
        );
        std::fs::write(d.join("rabbit.conf"), conf).expect("conf");
        std::fs::write(d.join("enabled_plugins"), "[].\n").expect("plugins");
        for sub in ["home", "mnesia", "log"] {
            std::fs::create_dir_all(d.join(sub)).expect("dir");
        }
        let node = format!("barongtls{}x{tls_port}@localhost", std::process::id());
        let child = Command::new(server)
            .env("HOME", d.join("home"))
            .env("RABBITMQ_NODENAME", &node)
            .env("RABBITMQ_CONFIG_FILE", d.join("rabbit.conf"))
            .env("RABBITMQ_MNESIA_BASE", d.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", d.join("log"))
            .env("RABBITMQ_DIST_PORT", dist_port.to_string())
            .env("RABBITMQ_ENABLED_PLUGINS_FILE", d.join("enabled_plugins"))
            .env("RABBITMQ_PID_FILE", d.join("node.pid"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => return skip_or_fail(&format!("{server} does not start: {e}")),
        };
        let broker = TlsBroker { child, dir, tls_port, tcp_port };
        let deadline = std::time::Instant::now() + Duration::from_secs(90);
        while std::time::Instant::now() < deadline {
            let up = |p: u16| std::net::TcpStream::connect(("127.0.0.1", p)).is_ok();
            if up(tls_port) && up(tcp_port) {
                return Some(broker);
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("the test's RabbitMQ node did not listen within 90 s (logs in {})", broker.dir.path().display());
    }

    fn ca(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A plain listener of the same node, for the test's consumer.
    fn plain_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.tcp_port)
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        // SIGTERM: the start script stops the Erlang node it started (SIGKILL would orphan it).
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
    }
}

async fn start_broker() -> Option<TlsBroker> {
    tokio::task::spawn_blocking(TlsBroker::start).await.expect("broker start")
}

both!(events_are_published_over_amqps, per_backend = events_are_published_over_amqps);
async fn events_are_published_over_amqps(backend: Backend) {
    let Some(broker) = start_broker().await else { return };
    let Some(mut consumer) = Consumer::connect_to(&broker.plain_url(), &[(SYSTEM, "session.create")]).await else {
        return;
    };

    // A CA that did not sign the server's certificate: nothing is published, the events wait in
    // the outbox, and the log says why without the password.
    let stranger = tempfile::tempdir().expect("tempdir");
    let wrong_ca = make_ca(stranger.path(), "stranger");
    let secret = "tls-Pa55-w0rd";
    let config = format!(
        "{}event_api_rabbitmq_ca_file: {}\n",
        events_config(&format!("amqps://guest:{secret}@localhost:{}/%2f", broker.tls_port)),
        wrong_ca.display()
    );
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    let email = unique_email("tls-refused");
    {
        let email = email.clone();
        within_limit(srv, |srv| async move {
            active_user(&srv, &email).await;
            eventually(Duration::from_secs(20), || async {
                let logs = srv.logs();
                logs.contains("RabbitMQ unavailable") && logs.to_ascii_lowercase().contains("certificate")
            })
            .await;
            assert_ne!(outbox_count(&srv, "").await, "0", "the events stay pending");
            assert!(!srv.logs().contains(secret), "the password is never logged");
        })
        .await;
    }
    consumer.none(Duration::from_millis(300), for_user(&email, "system.session.create")).await;

    // The CA that signed it: the events arrive, over TLS (the URL names the TLS listener).
    let config = format!(
        "{}event_api_rabbitmq_ca_file: {}\n",
        events_config(&format!("amqps://guest:guest@localhost:{}/%2f", broker.tls_port)),
        broker.ca().display()
    );
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    within_limit(srv, |srv| async move {
        let email = unique_email("tls");
        active_user(&srv, &email).await;
        let event = consumer.next(Duration::from_secs(30), for_user(&email, "system.session.create")).await;
        assert_eq!((event.exchange.as_str(), event.routing_key.as_str()), (SYSTEM, "session.create"));
        eventually(Duration::from_secs(20), || async { outbox_count(&srv, "").await == "0" }).await;
        assert!(srv.logs().contains("connected to RabbitMQ"), "{}", srv.logs());
    })
    .await;
    drop(broker);
}
