//! The operator's KYC review (issue 14): `kyc show` with documents in clear and their files
//! exported, decisions with a reason that reaches the user (mail, the label's events) and the
//! review history, for decisions made with barongctl and through the Admin API alike.

use reqwest::Method;

use super::documents::{PNG, passport, upload};
use super::events::{Consumer, amqp_url, events_config, for_user, unique_email};
use super::*;

const REASON: &str = "The photo is blurred: upload a sharper scan of the passport page";

both!(a_reviewer_sees_the_case_and_rejects_with_a_reason, per_backend = reviewer_flow);
async fn reviewer_flow(backend: Backend) {
    let bindings = [("barong.events.system", "document.rejected")];
    let Some(mut consumer) = Consumer::connect(&bindings).await else { return };
    let opts = Options { config: events_config(&amqp_url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv| async move {
        let email = unique_email("review");
        let (c, csrf) = active_user(&srv, &email).await;
        let profile = json!({"first_name": "Jean", "last_name": "Müller", "dob": "1990-05-17", "city": "Paris",
            "country": "FR", "confirm": true});
        let (s, p) = send_json(&c, Method::POST, &srv.url("resource/profiles"), Some(&csrf), Some(profile)).await;
        assert_eq!(s, 201, "{p}");
        let pdf: &[u8] = b"%PDF-1.4\n%%EOF\n";
        let files: [(&str, &[u8]); 2] = [("front.png", PNG), ("back.pdf", pdf)];
        let (s, b) = upload(&c, &srv.url("resource/documents"), &csrf, &passport(&[]), &files).await;
        assert_eq!(s, 201, "{b}");
        let mails_before = srv.outbox().len();

        // The queue, for scripts.
        let queue = ctl_json(&srv, &["kyc", "pending"]);
        let mut checks: Vec<&str> =
            queue.as_array().expect("list").iter().filter_map(|i| i["check"].as_str()).collect();
        checks.sort();
        assert_eq!(checks, ["document", "profile"], "{queue}");

        // The case: the number and the profile in clear, each file with its path on disk.
        let case = ctl_json(&srv, &["kyc", "show", &email]);
        assert_eq!(case["user"]["email"], email.as_str());
        assert_eq!(case["user"]["profiles"][0]["last_name"], "Müller", "{case}");
        assert_eq!(case["user"]["profiles"][0]["dob"], "1990-05-17");
        let docs = case["documents"].as_array().expect("documents");
        assert_eq!(docs.len(), 2, "{case}");
        for d in docs {
            assert_eq!((d["doc_type"].as_str(), d["doc_number"].as_str()), (Some("Passport"), Some("AB123456CD")));
            assert_eq!(d["doc_expire"], "2099-12-31");
            let path = std::path::PathBuf::from(d["path"].as_str().expect("path"));
            assert!(path.starts_with(srv.data_dir.join("uploads")) || path.is_absolute(), "{path:?}");
            assert!(path.is_file(), "{path:?} exists");
        }
        let mut pending: Vec<&str> =
            case["pending"].as_array().expect("pending").iter().filter_map(Value::as_str).collect();
        pending.sort();
        assert_eq!(pending, ["document", "profile"]);
        let (code, text, err) = srv.ctl(&["kyc", "show", &email], None);
        assert_eq!(code, 0, "{err}");
        for shown in ["AB123456CD", "Passport", "2099-12-31", "Müller", "waiting for review"] {
            assert!(text.contains(shown), "{shown} in {text}");
        }

        // Export: the bytes as uploaded, readable by the operator only.
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("case");
        let exported = ctl_json(&srv, &["kyc", "show", &email, "--export", out.to_str().expect("utf-8")]);
        let written = exported["exported"].as_array().expect("exported");
        assert_eq!(written.len(), 2, "{exported}");
        let mut contents: Vec<Vec<u8>> = Vec::new();
        for w in written {
            let path = std::path::PathBuf::from(w["path"].as_str().expect("path"));
            assert!(path.starts_with(&out), "{path:?}");
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
            contents.push(std::fs::read(&path).expect("exported file"));
        }
        contents.sort();
        let mut expected = vec![PNG.to_vec(), pdf.to_vec()];
        expected.sort();
        assert_eq!(contents, expected);
        // Another user's document id opens nothing.
        let other = unique_email("other");
        operator_user(&srv, &other);
        let id = docs[0]["id"].as_i64().expect("id").to_string();
        let (code, _, err) = srv.ctl(&["kyc", "show", &other, "--export", out.to_str().expect("utf-8")], None);
        assert_eq!(code, 0, "no documents, nothing to write: {err}");
        assert!(!id.is_empty());

        // A reason with a control character is refused and changes nothing.
        let (code, _, err) = srv.ctl(&["kyc", "document", "reject", &email, "--reason", "bad\u{7}bell"], None);
        assert!(code == 1 && err.contains("admin.kyc.invalid_reason"), "{err}");
        assert_eq!(ctl_json(&srv, &["kyc", "history", &email]), json!([]));

        // Reject with a reason: the label's description, the event, the mail, the history.
        let (code, _, err) = srv.ctl(&["kyc", "document", "reject", &email, "--reason", REASON], None);
        assert_eq!(code, 0, "{err}");
        let label = srv
            .sql_texts(&format!(
                "SELECT l.value || '|' || COALESCE(l.description, '') FROM labels l JOIN users u ON u.id = l.user_id \
                 WHERE u.email = '{email}' AND l.key = 'document' AND l.scope = 'private'"
            ))
            .await;
        assert_eq!(label, [format!("rejected|{REASON}")]);
        let event = consumer.next(Duration::from_secs(20), for_user(&email, "system.document.rejected")).await;
        assert_eq!(event.claims["event"]["record"]["description"], REASON, "{}", event.claims);
        let mails = srv.wait_mail(mails_before + 1, Duration::from_secs(10)).await;
        let mail = mails.iter().rev().find(|m| m.contains("not accepted")).expect("rejection mail");
        assert!(mail.contains(&format!("To: {email}")), "{mail}");
        assert!(mail.contains("The photo is blurred"), "{mail}");

        // The profile, rejected with another reason; the history lists both, newest first.
        let (code, _, err) =
            srv.ctl(&["kyc", "profile", "reject", &email, "--reason", "The name differs from the passport"], None);
        assert_eq!(code, 0, "{err}");
        let history = ctl_json(&srv, &["kyc", "history", &email]);
        let rows: Vec<(String, String, String, String)> = history
            .as_array()
            .expect("history")
            .iter()
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap_or_default().to_string();
                (s("check"), s("verdict"), s("reason"), s("author"))
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("profile".into(), "rejected".into(), "The name differs from the passport".into(), "barongctl".into()),
                ("document".into(), "rejected".into(), REASON.into(), "barongctl".into()),
            ]
        );
        let everyone = ctl_json(&srv, &["kyc", "history"]);
        assert_eq!(everyone.as_array().map(Vec::len), Some(2));
        let (code, table, _) = srv.ctl(&["kyc", "history"], None);
        assert!(code == 0 && table.contains("The name differs"), "{table}");
        let mails = srv.wait_mail(mails_before + 2, Duration::from_secs(10)).await;
        assert!(mails.iter().any(|m| m.contains("The name differs from the passport")), "profile mail");
        assert_eq!(ctl_json(&srv, &["kyc", "pending"]), json!([]));
        let case = ctl_json(&srv, &["kyc", "show", &email]);
        assert_eq!(case["pending"], json!([]));
        assert_eq!(case["decisions"].as_array().map(Vec::len), Some(2));

        // Each look and each decision is in the admin log, as the Admin API's would be.
        let actions = srv
            .sql_texts(
                "SELECT topic || '/' || action || '/' || result FROM activities WHERE user_agent LIKE 'barongctl/%'",
            )
            .await;
        assert!(actions.iter().filter(|a| a.ends_with("/read/succeed")).count() >= 3, "{actions:?}");
        assert!(actions.iter().filter(|a| a.ends_with("/failed")).count() >= 1, "{actions:?}");
    })
    .await;
}
