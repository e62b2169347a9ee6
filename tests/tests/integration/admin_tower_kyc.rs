//! Tower's KYC flows (§8, flows 5 and 7) end to end: a compliance officer signs in with the
//! session cookie and CSRF token as Tower does, reviews the pending documents with their images,
//! approves one user's documents and rejects another's the way Tower 2.2.8 does, bans and unbans
//! by label, and verifies a profile; and who may open document images (W8).

use reqwest::Method;

use super::admin_api::admin_rows;
use super::admin_labels::{Admin, admin, uid_of};
use super::documents::{PNG, passport, sign, upload};
use super::*;

/// Tower's session: a cookie jar and the CSRF token sent on writes.
struct Tower<'a> {
    srv: &'a TestServer,
    c: reqwest::Client,
    csrf: String,
}

impl Tower<'_> {
    async fn call(&self, method: Method, rest: &str, body: Option<Value>) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut r = self.c.request(method, self.srv.url(&format!("admin/{rest}"))).header("X-CSRF-Token", &self.csrf);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("request");
        let headers = resp.headers().clone();
        let (s, v) = read(resp).await;
        (s, headers, v)
    }

    async fn write(&self, method: Method, rest: &str, body: Option<Value>) {
        let (s, _, v) = self.call(method.clone(), rest, body).await;
        assert_eq!((s, v), (200, json!(200)), "{method} {rest}");
    }

    async fn user(&self, uid: &str) -> Value {
        let (s, _, v) = self.call(Method::GET, &format!("users/{uid}"), None).await;
        assert_eq!(s, 200, "{v}");
        v
    }

    /// The uids on the pending-documents page, and its `Total`.
    async fn pending(&self) -> (Vec<String>, String, Value) {
        let (s, h, v) = self.call(Method::GET, "users/documents/pending?extended=true&limit=10&page=1", None).await;
        assert_eq!(s, 200, "{v}");
        let uids = v.as_array().expect("array").iter().map(|u| u["uid"].as_str().expect("uid").to_string()).collect();
        (uids, h["total"].to_str().expect("Total").to_string(), v)
    }
}

/// An active user with a verified phone (level 2) who uploaded a passport; its uid.
async fn applicant(srv: &TestServer, email: &str) -> (String, reqwest::Client, String) {
    let (c, csrf) = active_user(srv, email).await;
    let uid = srv.sql_texts(&format!("SELECT uid FROM users WHERE email = '{email}'")).await.remove(0);
    let (code, _, err) = srv.ctl(&["label", "set", &uid, "phone", "verified"], None);
    assert_eq!(code, 0, "label set: {err}");
    let (s, b) = upload(&c, &srv.url("resource/documents"), &csrf, &passport(&[]), &[("front.png", PNG)]).await;
    assert_eq!(s, 201, "{b}");
    (uid, c, csrf)
}

both!(tower_reviews_documents_and_bans_by_label, |srv: TestServer| async move {
    let (alice, alice_c, alice_csrf) = applicant(&srv, "alice@example.com").await;
    let (bob, _, _) = applicant(&srv, "bob@example.com").await;
    let body = json!({"first_name": "Alice", "last_name": "Martin", "dob": "1990-05-17", "city": "Lyon",
        "confirm": true});
    let (s, p) = send_json(&alice_c, Method::POST, &srv.url("resource/profiles"), Some(&alice_csrf), Some(body)).await;
    assert_eq!(s, 201, "{p}");

    // Sign in as Tower does: the session cookie and the CSRF token of the login reply.
    operator_staff(&srv, "officer@example.com", "compliance");
    let c = srv.client();
    let (s, me) = post(
        &c,
        &srv.url("identity/sessions"),
        json!({"email": "officer@example.com",
        "password": PASSWORD}),
    )
    .await;
    assert_eq!((s, me["role"].as_str()), (200, Some("compliance")), "{me}");
    let officer = me["uid"].as_str().expect("uid").to_string();
    let tower = Tower { srv: &srv, c, csrf: me["csrf_token"].as_str().expect("csrf_token").to_string() };
    let (s, _, abilities) = tower.call(Method::GET, "abilities", None).await;
    assert_eq!(s, 200);
    assert!(abilities["manage"].as_array().expect("manage").contains(&json!("Label")), "{abilities}");
    // Writes without the token are refused.
    let (s, _) = post(&tower.c, &srv.url("admin/users/labels"), json!({})).await;
    assert_eq!(s, 401);

    // The review queue, oldest first, with the documents and their admin image links.
    let (uids, total, page) = tower.pending().await;
    assert_eq!((uids, total), (vec![alice.clone(), bob.clone()], "2".to_string()));
    let url = page[0]["documents"][0]["upload"]["url"].as_str().expect("upload.url").to_string();
    let image = tower.c.get(format!("{}{url}", srv.base)).send().await.expect("image");
    assert_eq!(image.status().as_u16(), 200);
    assert_eq!(&image.bytes().await.expect("bytes")[..], PNG);

    // Approve: the level rises to 3 and the user leaves the queue.
    assert_eq!(tower.user(&alice).await["level"], 2);
    let approve = json!({"uid": alice, "key": "document", "value": "verified", "scope": "private"});
    tower.write(Method::POST, "users/labels/update", Some(approve)).await;
    let a = tower.user(&alice).await;
    assert_eq!((a["level"].as_i64(), a["state"].as_str()), (Some(3), Some("active")), "{a}");
    let (uids, total, _) = tower.pending().await;
    assert_eq!((uids, total), (vec![bob.clone()], "1".to_string()));

    // Reject as Tower 2.2.8 does: delete the label (params in the query string).
    tower.write(Method::DELETE, &format!("users/labels?uid={bob}&key=document&scope=private"), None).await;
    let b = tower.user(&bob).await;
    assert_eq!(b["level"], 2, "{b}");
    assert!(b["labels"].as_array().expect("labels").iter().all(|l| l["key"] != "document"), "{b}");
    let (uids, total, _) = tower.pending().await;
    assert_eq!((uids, total), (Vec::<String>::new(), "0".to_string()));

    // Ban by label, then lift it.
    let ban = json!({"uid": bob, "key": "ban", "value": "chargeback", "scope": "private"});
    tower.write(Method::POST, "users/labels", Some(ban)).await;
    assert_eq!(tower.user(&bob).await["state"], "banned");
    tower.write(Method::DELETE, &format!("users/labels?uid={bob}&key=ban&scope=private"), None).await;
    assert_eq!(tower.user(&bob).await["state"], "active");

    // Verify the submitted profile.
    let (s, _, p) = tower.call(Method::PUT, "profiles", Some(json!({"uid": alice, "state": "verified"}))).await;
    assert_eq!((s, p["state"].as_str()), (200, Some("verified")), "{p}");
    let a = tower.user(&alice).await;
    assert_eq!(a["profile"]["state"], "verified", "{a}");
    // Tower's decisions are in the review history under the officer's uid.
    let history = ctl_json(&srv, &["kyc", "history", &alice]);
    let decisions: Vec<(&str, &str, &str)> = history
        .as_array()
        .expect("history")
        .iter()
        .map(|d| {
            (d["check"].as_str().unwrap_or(""), d["verdict"].as_str().unwrap_or(""), d["author"].as_str().unwrap_or(""))
        })
        .collect();
    assert_eq!(decisions, [("profile", "verified", officer.as_str()), ("document", "verified", officer.as_str())]);

    // The trail: each write and each image opening, by target.
    let rows = admin_rows(&srv).await;
    for row in [
        format!("users/read/succeed/{alice}"),
        format!("users/create/succeed/{alice}"),
        format!("users/delete/succeed/{bob}"),
        format!("users/create/succeed/{bob}"),
        format!("profiles/update/succeed/{alice}"),
    ] {
        assert!(rows.contains(&row), "{row} in {rows:?}");
    }
});

/// An active level-1 account of `role` made by the operator.
fn operator_staff(srv: &TestServer, email: &str, role: &str) {
    let args = ["user", "create", "--email", email, "--role", role, "--level", "1", "--password-stdin"];
    let (code, _, err) = srv.ctl(&args, Some(PASSWORD));
    assert_eq!(code, 0, "user create {role}: {err}");
}

both!(admin_opens_document_images, |srv: TestServer| async move {
    let (c, csrf) = active_user(&srv, "kyc@example.com").await;
    let (s, b) = upload(&c, &srv.url("resource/documents"), &csrf, &passport(&[]), &[("front.png", PNG)]).await;
    assert_eq!(s, 201, "{b}");
    let kyc = uid_of(&srv, "kyc@example.com").await;
    let co = admin(&srv, "co@example.com", "compliance").await;
    let sup = admin(&srv, "support@example.com", "support").await;
    let acc = admin(&srv, "acc@example.com", "accountant").await;

    let (s, v) = co.send(Method::GET, &format!("users/{kyc}"), None).await;
    assert_eq!(s, 200, "{v}");
    let url = v["documents"][0]["upload"]["url"].as_str().expect("upload.url").to_string();
    assert!(url.starts_with("/api/v2/barong/admin/users/documents/"), "{url}");
    assert!(url.contains("expires=") && url.contains("&signature="), "{url}");
    let open = |who: &Admin<'_>, url: String| {
        let r = who.c.get(format!("{}{url}", srv.base)).send();
        async move { r.await.expect("request") }
    };

    // Compliance (read Document) and support (manage User) get the bytes.
    let before = admin_rows(&srv).await.len();
    for who in [&co, &sup] {
        let r = open(who, url.clone()).await;
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        assert_eq!(r.headers()["cache-control"], "private, no-store");
        assert_eq!(&r.bytes().await.expect("body")[..], PNG);
    }
    // Each opening is a PII read naming the user.
    let rows = admin_rows(&srv).await;
    assert_eq!(rows[before..], [format!("users/read/succeed/{kyc}"), format!("users/read/succeed/{kyc}")]);

    // The accountant reads users but may not open their documents.
    let (s, v) = read(open(&acc, url.clone()).await).await;
    assert_err(&(s, v), 401, &["admin.ability.not_permitted"]);
    // Tampered, unknown, and the owner's link on the admin route.
    let tampered = format!("{}0", &url[..url.len() - 1]);
    let tampered = if tampered == url { format!("{}1", &url[..url.len() - 1]) } else { tampered };
    assert_err(&read(open(&co, tampered).await).await, 403, &["admin.documents.upload_url_invalid"]);
    let id = url.trim_start_matches("/api/v2/barong/admin/users/documents/").split('/').next().expect("id");
    let unknown = url.replacen(&format!("/documents/{id}/"), "/documents/999999/", 1);
    assert_err(&read(open(&co, unknown).await).await, 404, &["record.not_found"]);
    // A link signed right but past its time (made with the master key, as the API never would).
    let owner = srv.sql_texts("SELECT CAST(id AS TEXT) FROM users WHERE email = 'kyc@example.com'").await.remove(0);
    let past = now_ms() / 1000 - 60;
    let signature = sign(&srv.master_key(), &format!("admin-document-upload:{owner}:{id}:{past}"));
    let expired = format!("/api/v2/barong/admin/users/documents/{id}/upload?expires={past}&signature={signature}");
    assert_err(&read(open(&co, expired).await).await, 403, &["admin.documents.upload_url_expired"]);
    let (s, mine) = get(&c, &srv.url("resource/documents")).await;
    assert_eq!(s, 200, "{mine}");
    let own = mine[0]["upload"]["url"].as_str().expect("owner's url").to_string();
    assert!(own.starts_with("/api/v2/barong/resource/documents/"), "{own}");
    let query = own.split_once('?').expect("query").1;
    let own_on_admin = format!("/api/v2/barong/admin/users/documents/{id}/upload?{query}");
    assert_err(&read(open(&co, own_on_admin).await).await, 403, &["admin.documents.upload_url_invalid"]);
    // The owner's own link still works for the owner, and the admin link not for the owner.
    let r = c.get(format!("{}{own}", srv.base)).send().await.expect("own download");
    assert_eq!(r.status().as_u16(), 200);
    let (s, _) = read(c.get(format!("{}{url}", srv.base)).send().await.expect("request")).await;
    assert_eq!(s, 401, "a member is stopped by the permissions");
    // Refused openings are no reads (the member's leaves the gateway's denied row).
    let rows = admin_rows(&srv).await;
    let reads = rows.iter().filter(|r| r.contains("/read/succeed/")).count();
    assert_eq!(reads, 3, "the user page and two openings: {rows:?}");
});
