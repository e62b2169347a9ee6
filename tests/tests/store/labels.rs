//! LabelStore (labels and levels) and the account methods on a user's public labels.

use barongd::store::LabelRow;
use barongd::store::kyc_reviews::ReviewNote;
use barongd::store::labels::{Description, LabelMode, LabelWrite};

use super::events::{event, queued, refuse_events_named_refused};
use super::*;

fn kv(labels: &[LabelRow]) -> Vec<(&str, &str, &str)> {
    labels.iter().map(|l| (l.key.as_str(), l.value.as_str(), l.scope.as_str())).collect()
}

contract!(upsert_label_creates_then_overwrites_per_scope, |db: Db| async move {
    let u = new_user(&db, "lab@example.com").await;
    let other = new_user(&db, "lab2@example.com").await;
    assert!(db.labels_of(u.id).await.expect("labels").is_empty());

    db.upsert_label(u.id, "email", "verified", LabelScope::Private, NOW).await.expect("insert");
    db.upsert_label(u.id, "email", "pending", LabelScope::Public, NOW + 1).await.expect("same key, other scope");
    db.upsert_label(other.id, "email", "rejected", LabelScope::Private, NOW).await.expect("other user");
    let labels = db.labels_of(u.id).await.expect("labels");
    assert_eq!(kv(&labels), [("email", "verified", "private"), ("email", "pending", "public")]);
    let first = labels[0].clone();
    assert_eq!((first.user_id, first.description, first.created_at, first.updated_at), (u.id, None, NOW, NOW));

    // Overwrite: same row (id, created_at), new value and updated_at.
    db.upsert_label(u.id, "email", "rejected", LabelScope::Private, NOW + 5).await.expect("overwrite");
    let labels = db.labels_of(u.id).await.expect("labels");
    assert_eq!(kv(&labels), [("email", "rejected", "private"), ("email", "pending", "public")]);
    assert_eq!((labels[0].id, labels[0].created_at, labels[0].updated_at), (first.id, NOW, NOW + 5));

    assert!(db.delete_label(u.id, "email", LabelScope::Private).await.expect("delete"));
    assert!(!db.delete_label(u.id, "email", LabelScope::Private).await.expect("delete again"));
    assert!(!db.delete_label(u.id, "phone", LabelScope::Public).await.expect("never there"));
    assert_eq!(kv(&db.labels_of(u.id).await.expect("labels")), [("email", "pending", "public")]);
    assert_eq!(kv(&db.labels_of(other.id).await.expect("labels")), [("email", "rejected", "private")]);
});

contract!(levels_are_seeded_once_and_listed_by_id, |db: Db| async move {
    assert!(db.levels().await.expect("levels").is_empty());
    assert!(db.insert_level_if_absent(2, "phone", "verified", "Phone verified", NOW).await.expect("seed 2"));
    assert!(db.insert_level_if_absent(1, "email", "verified", "Email verified", NOW).await.expect("seed 1"));
    // Same key:value under another id, or the same id: nothing added, nothing overwritten.
    assert!(!db.insert_level_if_absent(3, "email", "verified", "again", NOW).await.expect("dup key:value"));
    assert!(!db.insert_level_if_absent(1, "document", "verified", "other", NOW).await.expect("dup id"));
    let levels = db.levels().await.expect("levels");
    let got: Vec<_> =
        levels.iter().map(|l| (l.id, l.key.as_str(), l.value.as_str(), l.description.as_deref())).collect();
    assert_eq!(
        got,
        [(1, "email", "verified", Some("Email verified")), (2, "phone", "verified", Some("Phone verified"))]
    );
});

contract!(labels_ordered_by_creation_either_way, |db: Db| async move {
    let u = new_user(&db, "ord@example.com").await;
    db.upsert_label(u.id, "b", "1", LabelScope::Private, NOW + 2).await.expect("b");
    db.upsert_label(u.id, "a", "1", LabelScope::Private, NOW).await.expect("a");
    db.upsert_label(u.id, "c", "1", LabelScope::Public, NOW + 2).await.expect("c, same time as b");
    db.upsert_label(u.id, "d", "1", LabelScope::Public, NOW + 1).await.expect("d");
    let keys = |v: Vec<LabelRow>| v.into_iter().map(|l| l.key).collect::<Vec<_>>();
    // Ties on created_at are broken by id, in the same direction.
    assert_eq!(keys(db.labels_ordered(u.id, true).await.expect("asc")), ["a", "d", "b", "c"]);
    assert_eq!(keys(db.labels_ordered(u.id, false).await.expect("desc")), ["c", "b", "d", "a"]);
    assert!(db.labels_ordered(u.id + 1000, true).await.expect("nobody").is_empty());
});

contract!(label_reads_see_scopes_as_the_service_expects, |db: Db| async move {
    let u = new_user(&db, "sc@example.com").await;
    db.upsert_label(u.id, "kyc", "verified", LabelScope::Private, NOW).await.expect("private first");
    db.upsert_label(u.id, "kyc", "mine", LabelScope::Public, NOW).await.expect("public second");
    db.upsert_label(u.id, "tier", "gold", LabelScope::Private, NOW).await.expect("private only");

    // Any scope: the oldest row with the key.
    let any = db.label_any_scope(u.id, "kyc").await.expect("any").expect("found");
    assert_eq!((any.value.as_str(), any.scope.as_str()), ("verified", "private"));
    assert_eq!(db.label_any_scope(u.id, "tier").await.expect("any").map(|l| l.value), Some("gold".into()));
    assert!(db.label_any_scope(u.id, "none").await.expect("any").is_none());

    // Public only: a private label is not the user's to change.
    let public = db.public_label(u.id, "kyc").await.expect("public").expect("found");
    assert_eq!((public.value.as_str(), public.scope.as_str()), ("mine", "public"));
    assert!(db.public_label(u.id, "tier").await.expect("public").is_none());
    assert!(db.public_label(u.id + 1000, "kyc").await.expect("other user").is_none());
});

contract!(public_labels_insert_update_delete, |db: Db| async move {
    let u = new_user(&db, "pub@example.com").await;
    let row = db.insert_public_label(u.id, "color", "blue", NOW).await.expect("insert");
    assert_eq!(
        (row.user_id, row.key.as_str(), row.value.as_str(), row.scope.as_str()),
        (u.id, "color", "blue", "public")
    );
    assert_eq!((row.description.as_deref(), row.created_at, row.updated_at), (None, NOW, NOW));
    // `key.taken`: a second public label with that key.
    unique_violation(db.insert_public_label(u.id, "color", "red", NOW).await);
    // A private label with the same key does not block a public one.
    db.upsert_label(u.id, "tier", "gold", LabelScope::Private, NOW).await.expect("private");
    db.insert_public_label(u.id, "tier", "mine", NOW).await.expect("public next to private");

    let updated = db.update_public_label(row.id, "green", NOW + 3).await.expect("update").expect("exists");
    assert_eq!(
        (updated.id, updated.value.as_str(), updated.created_at, updated.updated_at),
        (row.id, "green", NOW, NOW + 3)
    );
    // A private label is never changed through this path.
    let private = db.label_any_scope(u.id, "tier").await.expect("read").expect("private row");
    assert_eq!(private.scope, LabelScope::Private);
    assert!(db.update_public_label(private.id, "hacked", NOW).await.expect("update private").is_none());
    assert_eq!(db.label_any_scope(u.id, "tier").await.expect("read").map(|l| l.value), Some("gold".into()));

    assert!(db.delete_public_label(u.id, "tier").await.expect("delete public"));
    assert!(!db.delete_public_label(u.id, "tier").await.expect("the private one stays"));
    assert_eq!(db.label_any_scope(u.id, "tier").await.expect("read").map(|l| l.scope), Some(LabelScope::Private));
    assert!(db.delete_public_label(u.id, "color").await.expect("delete"));
    assert!(db.update_public_label(row.id, "gone", NOW).await.expect("update deleted").is_none());
});

contract!(a_public_label_and_its_events_commit_together, |db: Db| async move {
    let u = new_user(&db, "pubev@example.com").await;
    let named = |l: &LabelRow| vec![event("l", &format!("{}={}", l.key, l.value), "r", NOW)];
    let refused = |_: &LabelRow| vec![event("x", "refused", "r", NOW)];
    let row = db.insert_public_label_with_events(u.id, "color", "blue", NOW, &named).await.expect("insert");
    assert_eq!(queued(&db).await, ["color=blue"]);
    refuse_events_named_refused(&db).await;
    assert!(db.insert_public_label_with_events(u.id, "size", "xl", NOW, &refused).await.is_err());
    assert!(db.public_label(u.id, "size").await.expect("read").is_none(), "a label without its event");
    assert!(db.update_public_label_with_events(row.id, "red", NOW + 1, &refused).await.is_err());
    assert_eq!(db.public_label(u.id, "color").await.expect("read").map(|l| l.value), Some("blue".into()));
    let updated = db.update_public_label_with_events(row.id, "green", NOW + 1, &named).await.expect("update");
    assert_eq!(updated.map(|l| l.value), Some("green".into()));
    assert_eq!(queued(&db).await, ["color=blue", "color=green"]);
    // No label, no event.
    assert!(db.update_public_label_with_events(row.id + 99, "x", NOW, &named).await.expect("none").is_none());
    assert_eq!(queued(&db).await.len(), 2);
});

/// A label write of `value` for `user_id`'s private `tier` label.
fn tier<'a>(user_id: i64, value: &'a str, description: Description<'a>, mode: LabelMode) -> LabelWrite<'a> {
    LabelWrite {
        user_id,
        key: "tier",
        value,
        scope: LabelScope::Private,
        description,
        mode,
        now: NOW,
        state_level: None,
        review: None,
    }
}

contract!(label_writes_by_mode_carry_the_description, |db: Db| async move {
    let u = new_user(&db, "modes@example.com").await;
    let none = |_: &LabelRow| Vec::new();
    let desc = |l: &LabelRow| (l.value.clone(), l.description.clone());

    // Update of a missing label: nothing written, no event.
    let named = |l: &LabelRow| vec![event("u", &format!("{}={}", l.key, l.value), "r", NOW)];
    let w = tier(u.id, "gold", Description::Set(Some("vip")), LabelMode::Update);
    assert!(db.save_label_with_events(&w, &named).await.expect("update").is_none());
    assert!(db.labels_of(u.id).await.expect("labels").is_empty());
    assert!(queued(&db).await.is_empty());

    // Create, with the description in the same statement; a second create is a unique violation.
    let w = tier(u.id, "gold", Description::Set(Some("vip")), LabelMode::Create);
    let row = db.save_label_with_events(&w, &named).await.expect("create").expect("a row");
    assert_eq!(desc(&row), ("gold".into(), Some("vip".into())));
    assert_eq!(queued(&db).await, ["tier=gold"]);
    unique_violation(db.save_label_with_events(&w, &named).await);
    assert_eq!(queued(&db).await, ["tier=gold"], "no event for the refused create");

    // Update keeping, replacing and clearing the description; upsert keeping it.
    let w = tier(u.id, "silver", Description::Keep, LabelMode::Update);
    let row = db.save_label_with_events(&w, &none).await.expect("update").expect("a row");
    assert_eq!(desc(&row), ("silver".into(), Some("vip".into())));
    let w = tier(u.id, "silver", Description::Set(Some("downgraded")), LabelMode::Upsert);
    assert_eq!(
        desc(&db.save_label_with_events(&w, &none).await.expect("upsert").expect("row")).1.as_deref(),
        Some("downgraded")
    );
    let w = tier(u.id, "bronze", Description::Keep, LabelMode::Upsert);
    assert_eq!(
        desc(&db.save_label_with_events(&w, &none).await.expect("upsert").expect("row")).1.as_deref(),
        Some("downgraded")
    );
    let w = tier(u.id, "bronze", Description::Set(None), LabelMode::Update);
    assert_eq!(
        desc(&db.save_label_with_events(&w, &none).await.expect("update").expect("row")),
        ("bronze".into(), None)
    );
    let stored = db.labels_of(u.id).await.expect("labels");
    assert_eq!((stored.len(), stored[0].id), (1, row.id), "one row throughout");
});

contract!(a_kyc_decision_is_recorded_with_its_label_write, |db: Db| async move {
    let u = new_user(&db, "reviewed@example.com").await;
    let none = |_: &LabelRow| Vec::new();
    let note = ReviewNote { check: "tier", verdict: "rejected", reason: Some("blurred"), author: "barongctl" };
    // An update that finds no label records nothing.
    let w = LabelWrite { review: Some(note), ..tier(u.id, "rejected", Description::Keep, LabelMode::Update) };
    assert!(db.save_label_with_events(&w, &none).await.expect("update").is_none());
    assert!(db.kyc_reviews(Some(u.id), 10).await.expect("reviews").is_empty());
    // A refused write (its event fails) records nothing either: one transaction.
    refuse_events_named_refused(&db).await;
    let refused = |_: &LabelRow| vec![event("x", "refused", "r", NOW)];
    let w = LabelWrite { review: Some(note), ..tier(u.id, "rejected", Description::Keep, LabelMode::Upsert) };
    assert!(db.save_label_with_events(&w, &refused).await.is_err());
    assert!(db.kyc_reviews(None, 10).await.expect("reviews").is_empty());
    // Written: one row, with the user's uid and email; newest first, per user or for all.
    db.save_label_with_events(&w, &none).await.expect("upsert").expect("row");
    let other = new_user(&db, "other@example.com").await;
    let later = ReviewNote { verdict: "verified", reason: None, ..note };
    let w = LabelWrite { review: Some(later), ..tier(other.id, "verified", Description::Keep, LabelMode::Upsert) };
    db.save_label_with_events(&w, &none).await.expect("upsert").expect("row");
    let mine = db.kyc_reviews(Some(u.id), 10).await.expect("reviews");
    assert_eq!(mine.len(), 1);
    let r = &mine[0];
    assert_eq!(
        (r.uid.as_str(), r.email.as_str(), r.check_key.as_str(), r.verdict.as_str()),
        (u.uid.as_str(), "reviewed@example.com", "tier", "rejected")
    );
    assert_eq!((r.reason.as_deref(), r.author.as_str(), r.created_at), (Some("blurred"), "barongctl", NOW));
    let all: Vec<String> = db.kyc_reviews(None, 10).await.expect("reviews").into_iter().map(|r| r.verdict).collect();
    assert_eq!(all, ["verified", "rejected"]);
    assert_eq!(db.kyc_reviews(None, 1).await.expect("reviews").len(), 1);
});

contract!(a_label_removal_saves_state_and_events_together, |db: Db| async move {
    let u = new_user(&db, "rm@example.com").await;
    db.upsert_label(u.id, "ban", "x", LabelScope::Private, NOW).await.expect("ban");
    let lifted = [event("r", "model.user.updated", "r", NOW)];
    let removed = db
        .remove_label_with_events(u.id, "ban", LabelScope::Private, Some((&AccountState::Active, 2)), NOW + 1, &lifted)
        .await
        .expect("remove");
    assert!(removed);
    assert!(db.labels_of(u.id).await.expect("labels").is_empty());
    let user = db.user_by_id(u.id).await.expect("read").expect("user");
    assert_eq!((user.state, user.level, user.updated_at), (AccountState::Active, 2, NOW + 1));
    assert_eq!(queued(&db).await, ["model.user.updated"]);

    // No label: nothing written, the events neither.
    let again = db
        .remove_label_with_events(u.id, "ban", LabelScope::Private, Some((&AccountState::Banned, 0)), NOW + 2, &lifted)
        .await
        .expect("remove again");
    assert!(!again);
    assert_eq!(db.user_by_id(u.id).await.expect("read").expect("user").state, AccountState::Active);
    assert_eq!(queued(&db).await.len(), 1);

    // An event that cannot be written takes the deletion back.
    db.upsert_label(u.id, "lock", "x", LabelScope::Private, NOW).await.expect("lock");
    refuse_events_named_refused(&db).await;
    let refused = [event("x", "refused", "r", NOW)];
    assert!(db.remove_label_with_events(u.id, "lock", LabelScope::Private, None, NOW, &refused).await.is_err());
    assert_eq!(kv(&db.labels_of(u.id).await.expect("labels")), [("lock", "x", "private")]);
});
