//! `/documents` (W17): a document pushed as base64 lands where users' uploads land.

use base64::Engine;

use super::*;
use crate::documents::PNG;

const EXPIRE: &str = "2099-12-31";

async fn documents(srv: TestServer, keys: Keys) {
    let app = [("applogic", "RS256", "rsa.pem")];
    let ask = |data: Value| keys.sign(&claims(data), &app);
    let (c, _) = active_user(&srv, "pushed@example.com").await;
    let uid = srv.sql_texts("SELECT uid FROM users WHERE email = 'pushed@example.com'").await.remove(0);
    let png = base64::engine::general_purpose::STANDARD.encode(PNG);
    let doc = |extra: Value| {
        let mut d = json!({"uid": uid, "doc_type": "Passport", "doc_number": "AB123456CD", "filename": "scan",
                           "file_ext": ".png", "upload": png, "doc_expire": EXPIRE, "metadata": "{\"k\":1}"});
        for (k, v) in extra.as_object().expect("object") {
            d[k] = v.clone();
        }
        d
    };
    let before = queued_events(&srv).await.len();
    assert_eq!(post_signed(&srv, "documents", &ask(doc(json!({})))).await, (201, json!(201)));
    let events = queued_events(&srv).await[before..].to_vec();
    assert_eq!(events.first().map(String::as_str), Some("model.document.created"), "{events:?}");
    let label = "SELECT l.value FROM labels l JOIN users u ON u.id = l.user_id \
                 WHERE u.email = 'pushed@example.com' AND l.key = 'document' AND l.scope = 'private'";
    assert_eq!(srv.sql_texts(label).await, ["pending"]);

    // The owner sees it among their documents and downloads the very bytes.
    let (s, list) = get(&c, &srv.url("resource/documents")).await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)), "{list}");
    assert_eq!((list[0]["doc_type"].as_str(), list[0]["doc_expire"].as_str()), (Some("Passport"), Some(EXPIRE)));
    let link = format!("{}{}", srv.base, list[0]["upload"]["url"].as_str().expect("url"));
    let r = c.get(&link).send().await.expect("download");
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(&r.bytes().await.expect("bytes")[..], PNG);

    // `update_labels=false` stores the document and leaves the labels alone.
    let (_, _) = active_user(&srv, "nolabel@example.com").await;
    let other = srv.sql_texts("SELECT uid FROM users WHERE email = 'nolabel@example.com'").await.remove(0);
    let quiet = ask(doc(json!({"uid": other, "update_labels": false})));
    assert_eq!(post_signed(&srv, "documents", &quiet).await, (201, json!(201)));
    let docs = "SELECT CAST(COUNT(*) AS TEXT) FROM documents d JOIN users u ON u.id = d.user_id \
                WHERE u.email = 'nolabel@example.com'";
    assert_eq!(srv.sql_texts(docs).await, ["1"]);
    let labels = "SELECT l.key FROM labels l JOIN users u ON u.id = l.user_id \
                  WHERE u.email = 'nolabel@example.com' AND l.key = 'document'";
    assert_eq!(srv.sql_texts(labels).await, Vec::<String>::new());

    for (extra, status, body) in [
        (json!({"upload": "iVBOR w0K"}), 422, error("upload is invalid")),
        (json!({"upload": "iVBORw0KGgo"}), 422, error("upload is invalid")),
        (json!({"uid": "ID0000000000"}), 422, error("user.doesnt_exist")),
        (json!({"doc_expire": null}), 422, error("Doc expire can't be blank")),
        (json!({"upload": ""}), 422, error("Upload can't be blank")),
        (
            json!({"doc_type": "Visa", "doc_number": "#1"}),
            422,
            error("Doc type is not included in the list and Doc number is invalid"),
        ),
        (json!({"doc_expire": "31/12/2099"}), 422, error("doc_expire management.documents.expire_not_a_date")),
        (json!({"filename": ""}), 422, error("filename is empty")),
    ] {
        assert_eq!(post_signed(&srv, "documents", &ask(doc(extra.clone()))).await, (status, body), "{extra}");
    }
    assert_eq!(srv.sql_texts(&docs.replace("nolabel", "pushed")).await, ["1"], "refusals store nothing");
}

both!(documents_are_pushed, per_backend = |b| with_management(b, SCOPES, EVENTS_KEPT, documents));
