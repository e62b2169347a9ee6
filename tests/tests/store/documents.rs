//! DocumentStore: KYC uploads and the per-user document limit.

use barongd::store::documents::{DocumentRow, NewDocument};

use super::*;

fn doc(upload: &str) -> NewDocument<'_> {
    NewDocument {
        upload,
        doc_type: "Passport",
        doc_expire: None,
        doc_number_sealed: None,
        doc_number_index: None,
        doc_category: None,
        identificator: "ident",
        metadata: None,
    }
}

fn uploads(rows: &[DocumentRow]) -> Vec<&str> {
    rows.iter().map(|d| d.upload.as_str()).collect()
}

contract!(documents_round_trip_every_column, |db: Db| async move {
    let u = new_user(&db, "doc@example.com").await;
    let other = new_user(&db, "doc2@example.com").await;
    let full = NewDocument {
        upload: "0123456789abcdef0123456789abcdef.jpg",
        doc_type: "Passport",
        doc_expire: Some("2031-12-31"),
        doc_number_sealed: Some("sealed-number"),
        doc_number_index: Some("number-index"),
        doc_category: Some("front_side"),
        identificator: "batch-1",
        metadata: Some("{\"country\":\"DE\"}"),
    };
    assert!(db.insert_documents(u.id, &[full, doc("second.png")], 10, NOW).await.expect("insert"));
    let rows = db.documents_of(u.id).await.expect("documents");
    assert_eq!(uploads(&rows), ["0123456789abcdef0123456789abcdef.jpg", "second.png"], "oldest first");
    let d = &rows[0];
    assert_eq!(
        (d.user_id, d.doc_type.as_deref(), d.doc_expire.as_deref()),
        (u.id, Some("Passport"), Some("2031-12-31"))
    );
    assert_eq!(
        (d.doc_number_sealed.as_deref(), d.doc_number_index.as_deref()),
        (Some("sealed-number"), Some("number-index"))
    );
    assert_eq!((d.doc_category.as_deref(), d.identificator.as_deref()), (Some("front_side"), Some("batch-1")));
    assert_eq!((d.metadata.as_deref(), d.created_at, d.updated_at), (Some("{\"country\":\"DE\"}"), NOW, NOW));
    let bare = &rows[1];
    assert_eq!(
        (bare.doc_expire.as_deref(), bare.doc_number_sealed.as_deref(), bare.metadata.as_deref()),
        (None, None, None)
    );

    let one = db.document_of(u.id, d.id).await.expect("one").expect("found");
    assert_eq!((one.id, one.upload.as_str()), (d.id, d.upload.as_str()));
    assert!(db.document_of(other.id, d.id).await.expect("not theirs").is_none());
    assert!(db.document_of(u.id, bare.id + 100).await.expect("unknown").is_none());
    assert_eq!(db.count_documents(u.id).await.expect("count"), 2);
    assert_eq!(db.count_documents(other.id).await.expect("count"), 0);
    assert!(db.documents_of(other.id).await.expect("none").is_empty());
});

contract!(the_limit_refuses_a_whole_batch, |db: Db| async move {
    let u = new_user(&db, "lim@example.com").await;
    let other = new_user(&db, "lim2@example.com").await;
    assert!(db.insert_documents(u.id, &[doc("a"), doc("b")], 4, NOW).await.expect("2 of 4"));
    // Three more would make five: none of them is stored.
    assert!(!db.insert_documents(u.id, &[doc("c"), doc("d"), doc("e")], 4, NOW).await.expect("over"));
    assert_eq!(uploads(&db.documents_of(u.id).await.expect("docs")), ["a", "b"]);
    // Exactly reaching the limit is allowed; one more is not.
    assert!(db.insert_documents(u.id, &[doc("c"), doc("d")], 4, NOW).await.expect("4 of 4"));
    assert!(!db.insert_documents(u.id, &[doc("e")], 4, NOW).await.expect("5 of 4"));
    assert_eq!(db.count_documents(u.id).await.expect("count"), 4);
    // The limit is per user.
    assert!(db.insert_documents(other.id, &[doc("a")], 4, NOW).await.expect("other user"));
    // An empty batch within the limit inserts nothing and succeeds.
    assert!(db.insert_documents(other.id, &[], 4, NOW).await.expect("empty"));
    assert_eq!(db.count_documents(other.id).await.expect("count"), 1);
});

contract!(concurrent_uploads_cannot_pass_the_limit, |db: Db| async move {
    const LIMIT: i64 = 5;
    let u = new_user(&db, "race@example.com").await;
    let daemons = db.daemons(3).await;
    let names: Vec<String> = (0..6).flat_map(|i| [format!("{i}-front"), format!("{i}-back")]).collect();
    // Six batches of two racing for five slots: two batches fit.
    let calls = (0..6).map(|i| {
        let batch = [doc(&names[2 * i]), doc(&names[2 * i + 1])];
        let store = daemons[i % 3].clone();
        let id = u.id;
        async move { store.insert_documents(id, &batch, LIMIT, NOW).await }
    });
    let won = winners(join_all(calls).await);
    let count = db.count_documents(u.id).await.expect("count");
    assert_eq!((won, count), (2, 4), "every winner's batch is whole and the limit held");

    // And single documents into the last slot: one wins.
    let calls = (0..4).map(|i| {
        let store = daemons[i % 3].clone();
        let name = format!("single-{i}");
        let id = u.id;
        async move { store.insert_documents(id, &[doc(&name)], LIMIT, NOW).await }
    });
    assert_eq!(winners(join_all(calls).await), 1);
    assert_eq!(db.count_documents(u.id).await.expect("count"), LIMIT);
});

contract!(deleting_by_upload_undoes_only_those_rows, |db: Db| async move {
    let u = new_user(&db, "undo@example.com").await;
    let other = new_user(&db, "undo2@example.com").await;
    assert!(db.insert_documents(u.id, &[doc("a"), doc("b"), doc("c")], 10, NOW).await.expect("u"));
    assert!(db.insert_documents(other.id, &[doc("a")], 10, NOW).await.expect("other"));
    db.delete_documents_by_upload(u.id, &["a".to_string(), "c".to_string(), "missing".to_string()])
        .await
        .expect("delete");
    assert_eq!(uploads(&db.documents_of(u.id).await.expect("docs")), ["b"]);
    assert_eq!(uploads(&db.documents_of(other.id).await.expect("docs")), ["a"], "another user's file of that name");
    db.delete_documents_by_upload(u.id, &[]).await.expect("nothing to delete");
    assert_eq!(db.count_documents(u.id).await.expect("count"), 1);
});
