use std::time::Duration;

use amqprs::BasicProperties;
use amqprs::channel::{Channel, ExchangeDeclareArguments};
use amqprs::connection::Connection;

use super::broker::{Broker, arguments};
use super::link::{OPERATION_TIMEOUT, PublishError, reconnect_delay};
use super::worker::retry_secs;
use crate::config::amqp::{AmqpTarget, EventApi};

#[test]
fn backoffs_are_capped() {
    assert_eq!(retry_secs(0), 5);
    assert_eq!(retry_secs(1), 10);
    assert_eq!(retry_secs(7), 600);
    assert_eq!(retry_secs(i64::MAX), 600);
    assert_eq!(retry_secs(-3), 5);
    assert_eq!(reconnect_delay(0), Duration::from_secs(1));
    assert_eq!(reconnect_delay(3), Duration::from_secs(8));
    assert_eq!(reconnect_delay(5), Duration::from_secs(30));
    assert_eq!(reconnect_delay(u32::MAX), Duration::from_secs(30));
}

/// A consumer on the test broker (`BARONG_TEST_AMQP_URL`, default the local guest account);
/// None, loudly, when it does not answer (a failure under CI=true).
async fn test_connection() -> Option<(String, Connection)> {
    let url = std::env::var("BARONG_TEST_AMQP_URL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let target = AmqpTarget::parse(&url).expect("BARONG_TEST_AMQP_URL");
    match tokio::time::timeout(Duration::from_secs(10), Connection::open(&arguments(&target))).await {
        Ok(Ok(c)) => Some((url, c)),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "RabbitMQ (BARONG_TEST_AMQP_URL) does not answer, and CI=true requires it"
            );
            eprintln!("SKIPPED (RabbitMQ): {} does not answer", crate::redact::redact_url(&url));
            None
        }
    }
}

async fn bound_queue(channel: &Channel, exchange: &str, key: &str) -> String {
    use amqprs::channel::{QueueBindArguments, QueueDeclareArguments};
    let (queue, _, _) = channel
        .queue_declare(QueueDeclareArguments::exclusive_server_named())
        .await
        .expect("queue.declare")
        .expect("queue name");
    channel.queue_bind(QueueBindArguments::new(&queue, exchange, key)).await.expect("queue.bind");
    queue
}

async fn get_one(channel: &Channel, queue: &str) -> (BasicProperties, Vec<u8>) {
    use amqprs::channel::BasicGetArguments;
    for _ in 0..100 {
        if let Some((_, props, body)) =
            channel.basic_get(BasicGetArguments::new(queue).no_ack(true).finish()).await.expect("basic.get")
        {
            return (props, body);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("nothing arrived in {queue}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishes_with_confirms_declares_as_barong_and_reconnects() {
    let Some((url, consumer)) = test_connection().await else { return };
    let tag = uuid::Uuid::new_v4().simple().to_string();
    let channel = consumer.open_channel(None).await.expect("channel");
    let mut broker = Broker::new(&EventApi::parse(&url).expect("url"));
    broker.connect().await.expect("connect");

    // A fresh exchange is declared direct, not durable, not auto-deleted: redeclaring it so
    // (as bunny's `channel.direct(name)` does) is accepted by the broker.
    let exchange = format!("barong.events.unittest{tag}");
    broker.declare(&exchange).await.expect("declare");
    let same = ExchangeDeclareArguments::new(&exchange, "direct").durable(false).auto_delete(false).finish();
    channel.exchange_declare(same).await.expect("same properties as bunny's direct exchange");
    let queue = bound_queue(&channel, &exchange, "user.created").await;
    broker.publish(&exchange, "user.created", "jti-1", b"{\"a\":1}".to_vec()).await.expect("acked");
    let (props, body) = get_one(&channel, &queue).await;
    assert_eq!(body, b"{\"a\":1}");
    assert_eq!(props.content_type().map(String::as_str), Some("application/json"));
    assert_eq!(props.message_id().map(String::as_str), Some("jti-1"));

    // An exchange someone declared otherwise (durable fanout) is used as it is.
    let foreign = format!("barong.events.foreign{tag}");
    let other = ExchangeDeclareArguments::new(&foreign, "fanout").durable(true).finish();
    channel.exchange_declare(other).await.expect("foreign exchange");
    let fq = bound_queue(&channel, &foreign, "").await;
    broker.publish(&foreign, "x.y", "jti-2", b"{}".to_vec()).await.expect("acked on the foreign exchange");
    assert_eq!(get_one(&channel, &fq).await.1, b"{}");

    // A lost connection is an error of the link, then a reconnect carries on.
    let link = broker.link.take().expect("link");
    link.connection.clone().close().await.expect("close");
    broker.link = Some(link);
    assert!(matches!(
        broker.publish(&exchange, "user.created", "jti-3", b"3".to_vec()).await,
        Err(PublishError::Link(_))
    ));
    broker.link_failed("closed by the test").await;
    assert!(broker.outage);
    broker.connect().await.expect("reconnect");
    assert!(!broker.outage);
    broker.publish(&exchange, "user.created", "jti-4", b"4".to_vec()).await.expect("acked after reconnect");
    assert_eq!(get_one(&channel, &queue).await.1, b"4");

    use amqprs::channel::ExchangeDeleteArguments;
    for e in [&exchange, &foreign] {
        channel.exchange_delete(ExchangeDeleteArguments::new(e)).await.expect("exchange.delete");
    }
    broker.close().await;
}

/// A TCP relay to the test broker that the test can cut (all connections dropped) and
/// restore on the same port.
struct Relay {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(port: u16, upstream: String) -> Relay {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind relay");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                let upstream = upstream.clone();
                conns.spawn(async move {
                    if let Ok(mut out) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                });
            }
        });
        Relay { port, task }
    }

    /// Drops the listener and every relayed connection (the JoinSet aborts them).
    async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_network_is_noticed_and_the_link_comes_back() {
    let Some((url, consumer)) = test_connection().await else { return };
    let target = AmqpTarget::parse(&url).expect("url");
    let upstream = format!("{}:{}", target.host, target.port);
    let relay = Relay::start(0, upstream.clone()).await;
    let port = relay.port;
    let user = percent_encoding::utf8_percent_encode(&target.username, percent_encoding::NON_ALPHANUMERIC);
    let pass = percent_encoding::utf8_percent_encode(&target.password, percent_encoding::NON_ALPHANUMERIC);
    let vhost = percent_encoding::utf8_percent_encode(&target.vhost, percent_encoding::NON_ALPHANUMERIC);
    let mut broker =
        Broker::new(&EventApi::parse(&format!("amqp://{user}:{pass}@127.0.0.1:{port}/{vhost}")).expect("url"));
    let channel = consumer.open_channel(None).await.expect("channel");
    let exchange = format!("barong.events.relay{}", uuid::Uuid::new_v4().simple());
    broker.connect().await.expect("connect through the relay");
    broker.publish(&exchange, "k", "j1", b"1".to_vec()).await.expect("acked");
    let queue = bound_queue(&channel, &exchange, "k").await;

    relay.cut().await;
    let started = tokio::time::Instant::now();
    let r = broker.publish(&exchange, "k", "j2", b"2".to_vec()).await;
    assert!(matches!(r, Err(PublishError::Link(_))), "{r:?}");
    assert!(started.elapsed() < OPERATION_TIMEOUT, "noticed in {:?}", started.elapsed());
    broker.link_failed("cut").await;
    assert!(broker.connect().await.is_err(), "nothing listens while the relay is cut");

    let relay = Relay::start(port, upstream).await;
    broker.connect().await.expect("reconnect");
    broker.publish(&exchange, "k", "j3", b"3".to_vec()).await.expect("acked after the network came back");
    assert_eq!(get_one(&channel, &queue).await.1, b"3");
    use amqprs::channel::ExchangeDeleteArguments;
    channel.exchange_delete(ExchangeDeleteArguments::new(&exchange)).await.expect("exchange.delete");
    broker.close().await;
    relay.cut().await;
}
