use super::*;

fn smtp_config(port: u16) -> String {
    format!(
        "mailer: {{transport: smtp, smtp_url: \"smtp://127.0.0.1:{port}\", from: \"Barong <noreply@example.com>\"}}\n"
    )
}

async fn wait_for(messages: &Arc<std::sync::Mutex<Vec<String>>>, n: usize, timeout: Duration) -> Vec<String> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let got = messages.lock().expect("lock").clone();
        if got.len() >= n || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn mail_goes_out_through_a_real_smtp_server() {
    let (port, messages) = smtp_sink(0).await;
    let srv = TestServer::spawn_with(Backend::Sqlite, Options { config: smtp_config(port), ..Default::default() })
        .await
        .expect("sqlite");
    register(&srv, &srv.client(), "smtp@example.com").await;
    let got = wait_for(&messages, 1, Duration::from_secs(15)).await;
    assert_eq!(got.len(), 1, "one message delivered");
    assert!(got[0].contains("To: smtp@example.com"), "{}", got[0]);
    let token = token_in(&got[0], "confirmation_token").expect("token in the message");
    let (s, _) = post(&srv.client(), &srv.url("identity/users/email/confirm_code"), json!({"token": token})).await;
    assert_eq!(s, 201);
    assert!(srv.outbox().is_empty(), "the file outbox is not used with SMTP");
}

#[tokio::test]
async fn an_smtp_outage_neither_fails_the_request_nor_loses_the_mail() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let srv = TestServer::spawn_with(Backend::Sqlite, Options { config: smtp_config(port), ..Default::default() })
        .await
        .expect("sqlite");
    let started = std::time::Instant::now();
    register(&srv, &srv.client(), "later@example.com").await;
    assert!(started.elapsed() < Duration::from_secs(3), "the request did not wait for SMTP");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let queued = srv.sql_texts("SELECT recipient FROM mail_queue").await;
    assert_eq!(queued, vec!["later@example.com"]);
    let (_, messages) = smtp_sink(port).await;
    let got = wait_for(&messages, 1, Duration::from_secs(40)).await;
    assert_eq!(got.len(), 1, "delivered once the server came back");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(srv.sql_texts("SELECT recipient FROM mail_queue").await.is_empty());
}
