//! DocumentStore: KYC uploads and the per-user document limit.

use barongd::store::documents::{DocumentBatch, DocumentRow, NewDocument};
use barongd::store::labels::{Description, LabelMode, LabelWrite};
use barongd::store::{LabelRow, PendingEvent};

use super::events::{event, queued, refuse_events_named_refused};
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

/// `document=pending` for `user_id`, moving the user to level 2.
fn pending_label(user_id: i64) -> LabelWrite<'static> {
    LabelWrite {
        user_id,
        key: "document",
        value: "pending",
        scope: LabelScope::Private,
        description: Description::Keep,
        mode: LabelMode::Upsert,
        now: NOW,
        state_level: Some((&AccountState::Active, 2)),
        review: None,
    }
}

/// An event per document plus one naming the label the store handed over.
fn batch_events(names: &'static str) -> impl Fn(Option<&LabelRow>) -> Vec<PendingEvent> + Send + Sync {
    move |label| {
        let mut v = vec![event("d", names, "r", NOW)];
        v.extend(label.map(|l| event("l", &format!("label.{}.{}", l.key, l.id > 0), "r", NOW)));
        v
    }
}

contract!(a_document_batch_commits_with_its_label_and_events_or_not_at_all, |db: Db| async move {
    let u = new_user(&db, "batch@example.com").await;
    let write = pending_label(u.id);
    let rows = [doc("a"), doc("b")];
    let placed = std::sync::atomic::AtomicUsize::new(0);
    let place = || {
        placed.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    };
    let nothing_kept = |why: &'static str| {
        let db = &db;
        async move {
            assert_eq!(db.count_documents(u.id).await.expect("count"), 0, "{why}: rows");
            assert!(db.labels_of(u.id).await.expect("labels").is_empty(), "{why}: label");
            assert_eq!(db.user_by_id(u.id).await.expect("u").expect("u").level, 0, "{why}: level");
            assert!(queued(db).await.is_empty(), "{why}: events");
        }
    };

    // The files cannot be put in place: the rows, the label and the events go too.
    let events = batch_events("model.document.created");
    let fails = || Err(std::io::Error::other("disk full"));
    let batch = DocumentBatch {
        user_id: u.id,
        rows: &rows,
        limit: 10,
        now: NOW,
        label: Some(&write),
        events: &events,
        before_commit: &fails,
    };
    assert!(matches!(db.insert_document_batch(&batch).await, Err(StoreError::Files(_))));
    nothing_kept("files failed").await;

    // An event cannot be written: the files are never put in place.
    refuse_events_named_refused(&db).await;
    let refused = batch_events("refused");
    let batch = DocumentBatch { events: &refused, before_commit: &place, ..batch };
    assert!(db.insert_document_batch(&batch).await.is_err());
    assert_eq!(placed.load(std::sync::atomic::Ordering::SeqCst), 0, "placed before its event was written");
    nothing_kept("event refused").await;

    // Over the limit: nothing is written or placed.
    let batch = DocumentBatch { limit: 1, events: &events, ..batch };
    assert!(!db.insert_document_batch(&batch).await.expect("over the limit"));
    assert_eq!(placed.load(std::sync::atomic::Ordering::SeqCst), 0);
    nothing_kept("over the limit").await;

    // All of it together.
    let batch = DocumentBatch { limit: 10, ..batch };
    assert!(db.insert_document_batch(&batch).await.expect("saved"));
    assert_eq!(placed.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(uploads(&db.documents_of(u.id).await.expect("docs")), ["a", "b"]);
    let label = db.labels_of(u.id).await.expect("labels");
    assert_eq!((label[0].key.as_str(), label[0].value.as_str()), ("document", "pending"));
    assert_eq!(db.user_by_id(u.id).await.expect("u").expect("u").level, 2);
    assert_eq!(queued(&db).await, ["model.document.created", "label.document.true"]);

    // Without a label the events see none.
    let batch = DocumentBatch { rows: &rows[..1], label: None, ..batch };
    assert!(db.insert_document_batch(&batch).await.expect("saved"));
    assert_eq!(queued(&db).await, ["model.document.created", "label.document.true", "model.document.created"]);
});
