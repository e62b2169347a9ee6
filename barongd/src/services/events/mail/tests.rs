use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentTransferEncoding;

use super::kind::*;
use super::mailer::*;
use super::message::*;
use super::templates::*;
use super::transport::*;
use crate::config::{MailTransport, MailerSettings};
use crate::redact::mask;
use crate::services::clock::{Clock, SystemClock};
use crate::store::MailRow;

fn clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

fn templates() -> Templates {
    Templates::load("", "en").expect("load")
}

fn from() -> Mailbox {
    "Barong <noreply@barong.io>".parse().expect("parse")
}

fn confirmation_eml(lang: &str, token: &str) -> (Vec<u8>, String) {
    let link = format!("https://example.com/accounts/confirmation?confirmation_token={token}&lang={lang}");
    let (subject, body) = templates()
        .render(lang, &MailKind::EmailConfirmation { link: link.clone() }, "alice@example.com")
        .expect("render");
    let to: Mailbox = "alice@example.com".parse().expect("parse");
    (
        build_message(&from(), to, "0b7e3f1c-1111-4222-8333-944455556666", &subject, &body, 1_700_000_000)
            .expect("build_message"),
        link,
    )
}

/// Splits a CRLF message into (headers unfolded, body).
fn split(eml: &[u8]) -> (Vec<(String, String)>, String) {
    let text = String::from_utf8(eml.to_vec()).expect("from_utf8");
    let (head, body) = text.split_once("\r\n\r\n").expect("split_once");
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            headers.last_mut().expect("last_mut").1.push_str(line);
        } else {
            let (k, v) = line.split_once(':').expect("split_once");
            headers.push((k.to_string(), v.trim().to_string()));
        }
    }
    (headers, body.to_string())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

#[test]
fn built_in_templates_parse() {
    let t = templates();
    for lang in ["en", "ru"] {
        for name in TemplateName::ALL {
            let tpl = t.by_lang.get(lang).and_then(|m| m.get(&name)).expect("and_then");
            assert!(!tpl.subject.is_empty());
            assert!(!tpl.body.starts_with('\n'), "{lang}/{name:?} body starts with a blank line");
        }
    }
}

#[test]
fn unknown_language_falls_back_to_default_then_en() {
    let t = templates();
    let (subject, body) = t.render("de", &MailKind::PasswordChanged, "a@b.io").expect("render");
    assert_eq!(subject, "Your password has been changed");
    assert!(body.contains("a@b.io"));

    let ru_default = Templates::load("", "ru").expect("load");
    let (subject, _) = ru_default.render("de", &MailKind::PasswordChanged, "a@b.io").expect("render");
    assert_eq!(subject, "Ваш пароль изменён");

    let bad_default = Templates::load("", "../etc").expect("load");
    let (subject, _) = bad_default.render("xx", &MailKind::PasswordChanged, "a@b.io").expect("render");
    assert_eq!(subject, "Your password has been changed");
}

#[test]
fn region_falls_back_to_base_language() {
    let (subject, _) = templates().render("ru-RU", &MailKind::PasswordChanged, "a@b.io").expect("render");
    assert_eq!(subject, "Ваш пароль изменён");
}

#[test]
fn russian_rendering() {
    let kind = MailKind::NewLogin { ip: "203.0.113.7".into(), user_agent: "Firefox/130".into() };
    let (subject, body) = templates().render("ru", &kind, "ivan@example.ru").expect("render");
    assert_eq!(subject, "Новый вход в учётную запись");
    assert!(body.contains("IP-адрес: 203.0.113.7"));
    assert!(body.contains("Браузер: Firefox/130"));
    assert!(body.contains("ivan@example.ru"));
    assert!(!body.contains("{{"));
}

#[test]
fn kyc_rejection_carries_the_reason_whole() {
    let kind =
        MailKind::KycRejected { check: "document".into(), reason: Some("Blurred.\nSend\r a new\u{7} scan".into()) };
    let (subject, body) = templates().render("en", &kind, "a@b.io").expect("render");
    assert_eq!(subject, "Your document verification was not accepted");
    assert!(body.contains("Blurred.\nSend  a new  scan\n"), "{body}");
    let kind = MailKind::KycRejected { check: "profile".into(), reason: None };
    let (subject, body) = templates().render("ru", &kind, "a@b.io").expect("render");
    assert_eq!(subject, "Проверка не пройдена: profile");
    assert!(body.contains("проверяющим:\n—\n"), "{body}");
    assert!(!body.contains("{{"));
}

#[test]
fn lang_sanitising() {
    assert_eq!(sanitize_lang("en"), Some("en"));
    assert_eq!(sanitize_lang("pt-BR"), Some("pt-BR"));
    for bad in ["", "e", "EN", "eng", "en-us", "en_US", "../en", "en/..", "..", "en-BR1", "ru\0", "ру"] {
        assert_eq!(sanitize_lang(bad), None, "{bad:?}");
    }
    let (subject, _) = templates().render("../../etc/passwd", &MailKind::PasswordChanged, "a@b.io").expect("render");
    assert_eq!(subject, "Your password has been changed");
}

#[test]
fn substitution_is_single_pass_and_values_are_cleaned() {
    let vars = vec![("ip", "{{link}}".to_string()), ("link", "L".to_string())];
    assert_eq!(substitute("a {{ip}} b {{link}} {{nope}} {{", &vars), "a {{link}} b L {{nope}} {{");
    let kind =
        MailKind::NewLogin { ip: "1.2.3.4".into(), user_agent: format!("evil\r\nBcc: x@y.z{}", "a".repeat(1000)) };
    let (_, body) = templates().render("en", &kind, "a@b.io").expect("render");
    assert!(!body.contains("\r"));
    let ua_line = body.lines().find(|l| l.starts_with("Browser:")).expect("find");
    assert!(ua_line.contains("evil  Bcc: x@y.z"));
    assert!(ua_line.chars().count() <= "Browser: ".len() + MAX_CLIENT_VALUE_CHARS);
}

#[test]
fn template_parsing() {
    let t = parse_template("Subject: Hi {{email}}\r\n\r\nBody {{link}}\r\n\r\n").expect("parse_template");
    assert_eq!(t, Template { subject: "Hi {{email}}".into(), body: "Body {{link}}\n".into() });
    assert!(parse_template("Hello\n\nbody").is_err());
    assert!(parse_template("Subject: x\nbody").is_err());
    assert!(parse_template("Subject:\n\nbody").is_err());
    assert_eq!(parse_template("\u{feff}Subject: x").expect("parse_template").body, "\n");
}

#[test]
fn long_link_stays_on_one_line() {
    let token: String = "eyJhbGciOiJSUzI1NiJ9.".chars().chain(std::iter::repeat_n('x', 700)).collect();
    for lang in ["en", "ru"] {
        let (eml, link) = confirmation_eml(lang, &token);
        let text = String::from_utf8(eml.clone()).expect("from_utf8");
        let line = text.lines().find(|l| l.contains("confirmation_token=")).expect("link line");
        assert_eq!(line.trim_end_matches('\r'), link, "{lang}: link not on one line");
        // What `grep -o 'confirmation_token=[^&[:space:]]*'` extracts.
        let start = text.find("confirmation_token=").expect("find") + "confirmation_token=".len();
        let grepped: String = text[start..].chars().take_while(|c| *c != '&' && !c.is_whitespace()).collect();
        assert_eq!(grepped, token);
        let (headers, _) = split(&eml);
        let cte = header(&headers, "Content-Transfer-Encoding").expect("header");
        assert_eq!(cte, if lang == "en" { "7bit" } else { "8bit" });
    }
}

#[test]
fn eml_is_headers_and_body() {
    let (eml, link) = confirmation_eml("ru", "abc.def.ghi");
    let (headers, body) = split(&eml);
    assert_eq!(header(&headers, "From"), Some("Barong <noreply@barong.io>"));
    assert_eq!(header(&headers, "To"), Some("alice@example.com"));
    assert_eq!(header(&headers, "MIME-Version"), Some("1.0"));
    assert_eq!(header(&headers, "Content-Type"), Some("text/plain; charset=utf-8"));
    assert_eq!(header(&headers, "Message-ID"), Some("<0b7e3f1c-1111-4222-8333-944455556666@barong.io>"));
    assert_eq!(header(&headers, "Date"), Some("Tue, 14 Nov 2023 22:13:20 +0000"));
    // Non-ASCII subjects are RFC 2047 encoded words; the head stays ASCII.
    let subject = header(&headers, "Subject").expect("header");
    assert!(subject.starts_with("=?utf-8?"), "{subject}");
    assert!(eml.split(|b| *b == b'\n').take_while(|l| *l != b"\r").all(|l| l.is_ascii()));
    assert!(body.contains("Здравствуйте!"));
    assert!(body.contains(&link));
    assert!(body.ends_with("\r\n") && !body.ends_with("\r\n\r\n"));
    assert!(!body.replace("\r\n", "").contains('\n'), "bare LF in body");
}

#[test]
fn overlong_lines_fall_back_to_a_legal_encoding() {
    let body = encode_body(&"y".repeat(MAX_LINE_OCTETS + 1));
    assert!(matches!(body.encoding(), ContentTransferEncoding::QuotedPrintable | ContentTransferEncoding::Base64));
    let body = encode_body(&"y".repeat(MAX_LINE_OCTETS));
    assert_eq!(body.encoding(), ContentTransferEncoding::SevenBit);
}

#[test]
fn invalid_recipient_is_a_build_error() {
    assert!("not an address".parse::<Mailbox>().is_err());
}

#[test]
fn atomic_write_leaves_only_the_eml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = dir.path().join("outbox");
    let a = write_eml(&outbox, "id-1", b"Subject: a\r\n\r\nx\r\n", 1_700_000_000_000).expect("write_eml");
    let b = write_eml(&outbox, "../../id-2", b"Subject: b\r\n\r\ny\r\n", 1_700_000_000_000).expect("write_eml");
    assert_eq!(a.parent(), Some(outbox.as_path()));
    assert_eq!(b.parent(), Some(outbox.as_path()));
    assert!(b.file_name().expect("file name").to_str().expect("utf-8 name").ends_with("-id-2.eml"));
    let mut names: Vec<String> = std::fs::read_dir(&outbox)
        .expect("read_dir")
        .map(|e| e.expect("dir entry").file_name().into_string().expect("into_string"))
        .collect();
    names.sort();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.iter().all(|n| n.ends_with(".eml") && !n.starts_with('.')), "{names:?}");
    assert_eq!(std::fs::read(&a).expect("read"), b"Subject: a\r\n\r\nx\r\n");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&a).expect("metadata").permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::metadata(&outbox).expect("metadata").permissions().mode() & 0o777, 0o700);
}

#[test]
fn backoff_schedule() {
    assert_eq!(backoff_secs(0), 5);
    assert_eq!(backoff_secs(1), 10);
    assert_eq!(backoff_secs(2), 20);
    assert_eq!(backoff_secs(9), 2560);
    assert_eq!(backoff_secs(10), 3600);
    assert_eq!(backoff_secs(1000), 3600);
    assert_eq!(backoff_secs(-1), 5);
}

#[test]
fn templates_dir_overrides_and_falls_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("en")).expect("create_dir_all");
    std::fs::create_dir_all(dir.path().join("de")).expect("create_dir_all");
    std::fs::create_dir_all(dir.path().join("..evil")).expect("create_dir_all");
    std::fs::write(dir.path().join("en/password_changed.txt"), "Subject: Custom {{email}}\n\nHi\n")
        .expect("write template");
    std::fs::write(dir.path().join("de/password_changed.txt"), "Subject: Passwort geändert\n\nHallo\n")
        .expect("write template");
    let t = Templates::load(dir.path().to_str().expect("to_str"), "en").expect("load");
    assert_eq!(t.render("en", &MailKind::PasswordChanged, "a@b.io").expect("render").0, "Custom a@b.io");
    assert_eq!(t.render("de", &MailKind::PasswordChanged, "a@b.io").expect("render").0, "Passwort geändert");
    // Missing in the directory: built-in of the same language, then the fallback chain.
    assert_eq!(
        t.render("de", &MailKind::PasswordReset { link: "L".into() }, "a@b.io").expect("render").0,
        "Reset your password"
    );
    assert_eq!(t.render("ru", &MailKind::PasswordChanged, "a@b.io").expect("render").0, "Ваш пароль изменён");

    std::fs::write(dir.path().join("en/new_login.txt"), "no subject line\n").expect("write");
    let err = Templates::load(dir.path().to_str().expect("to_str"), "en").err().expect("load must fail");
    assert!(err.starts_with("mailer.templates_dir: "), "{err}");

    let err = Templates::load("/nonexistent/barong-templates", "en").err().expect("load must fail");
    assert!(err.starts_with("mailer.templates_dir: "), "{err}");
}

fn smtp_settings(url: &str) -> MailerSettings {
    MailerSettings {
        transport: MailTransport::Smtp,
        smtp_url: crate::config::Secret(url.into()),
        ..MailerSettings::default()
    }
}

#[test]
fn smtp_url_errors_name_the_key_and_hide_the_password() {
    for url in ["smtpx://me:hunter2@mail.example.com", "smtp://me:hunter2@", "smtp://me:hunter2@host?tls=bogus"] {
        let err = Transport::new(&smtp_settings(url), PathBuf::new(), clock()).err().expect("must fail");
        assert!(err.starts_with("mailer.smtp_url: "), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }
    assert!(Transport::new(&smtp_settings(""), PathBuf::new(), clock()).is_err());
    for url in
        ["smtp://127.0.0.1:2525", "smtps://me:p%40ss@mail.example.com", "smtp://mail.example.com:587?tls=required"]
    {
        assert!(Transport::new(&smtp_settings(url), PathBuf::new(), clock()).is_ok(), "{url}");
    }
}

#[test]
fn password_forms_are_masked() {
    let forms = url_password_forms("smtps://me:p%40ss@mail.example.com:465/x?y");
    assert_eq!(forms, vec!["p%40ss".to_string(), "p@ss".to_string()]);
    assert_eq!(mask("auth p@ss failed", &forms), "auth *** failed");
    assert!(url_password_forms("smtp://127.0.0.1:25").is_empty());
    assert!(url_password_forms("smtp://user@host").is_empty());
}

/// A minimal SMTP sink: plain TCP, no AUTH, no TLS, announcing 8BITMIME.
async fn smtp_sink(listener: tokio::net::TcpListener) -> (Vec<String>, Vec<u8>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let (stream, _) = listener.accept().await.expect("accept");
    let (r, mut w) = stream.into_split();
    let mut r = BufReader::new(r);
    let mut commands = Vec::new();
    let mut data = Vec::new();
    w.write_all(b"220 sink ESMTP\r\n").await.expect("write_all");
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).await.expect("read_line") == 0 {
            break;
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        commands.push(cmd);
        if upper.starts_with("EHLO") {
            w.write_all(b"250-sink\r\n250 8BITMIME\r\n").await.expect("write_all");
        } else if upper == "DATA" {
            w.write_all(b"354 go ahead\r\n").await.expect("write_all");
            loop {
                let mut l = Vec::new();
                r.read_until(b'\n', &mut l).await.expect("read_until");
                if l == b".\r\n" {
                    break;
                }
                data.extend_from_slice(&l);
            }
            w.write_all(b"250 queued\r\n").await.expect("write_all");
        } else if upper == "QUIT" {
            w.write_all(b"221 bye\r\n").await.expect("write_all");
            break;
        } else {
            w.write_all(b"250 ok\r\n").await.expect("write_all");
        }
    }
    (commands, data)
}

#[tokio::test]
async fn plain_smtp_delivers_to_a_local_sink() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("local_addr").port();
    let sink = tokio::spawn(smtp_sink(listener));
    let transport = Transport::new(&smtp_settings(&format!("smtp://127.0.0.1:{port}")), PathBuf::new(), clock())
        .expect("transport");
    let token = "t".repeat(700);
    let (eml, _) = confirmation_eml("ru", &token);
    let row = MailRow {
        id: "m1".into(),
        recipient: "alice@example.com".into(),
        message: eml.clone(),
        attempts: 0,
        next_attempt_at: 0,
    };
    transport.deliver(&from(), &row).await.expect("deliver");
    let (commands, data) =
        tokio::time::timeout(Duration::from_secs(10), sink).await.expect("sink in time").expect("sink task");
    assert!(commands.iter().any(|c| c.starts_with("MAIL FROM:<noreply@barong.io>")), "{commands:?}");
    assert!(commands.iter().any(|c| c == "RCPT TO:<alice@example.com>"), "{commands:?}");
    // lettre ends DATA with CRLF.CRLF even after a final CRLF: one extra empty line.
    assert_eq!(data.strip_suffix(b"\r\n").expect("strip_suffix"), eml.as_slice());
}

#[tokio::test]
async fn file_transport_delivers_an_eml() {
    let dir = tempfile::tempdir().expect("tempdir");
    let outbox = dir.path().join("outbox");
    let settings = MailerSettings::default();
    let transport = Transport::new(&settings, outbox.clone(), clock()).expect("new");
    assert!(outbox.is_dir());
    let (eml, _) = confirmation_eml("en", "abc");
    let row = MailRow {
        id: "m2".into(),
        recipient: "alice@example.com".into(),
        message: eml.clone(),
        attempts: 0,
        next_attempt_at: 0,
    };
    transport.deliver(&from(), &row).await.expect("deliver");
    let files: Vec<_> = std::fs::read_dir(&outbox).expect("read_dir").map(|e| e.expect("dir entry").path()).collect();
    assert_eq!(files.len(), 1);
    assert_eq!(std::fs::read(&files[0]).expect("read"), eml);
}
