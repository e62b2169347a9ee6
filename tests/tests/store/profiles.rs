//! ProfileStore: KYC profiles, their state machine, and the operator's review queue.

use barongd::store::LabelRow;
use barongd::store::labels::{Description, LabelMode, LabelWrite};
use barongd::store::profiles::{ProfileChange, ProfileFields, ProfileRow};

use super::events::{event, queued, refuse_events_named_refused};
use super::*;

const DRAFTED: ProfileState = ProfileState::Drafted;
const SUBMITTED: ProfileState = ProfileState::Submitted;
const VERIFIED: ProfileState = ProfileState::Verified;
const REJECTED: ProfileState = ProfileState::Rejected;

fn fields(tag: &str) -> ProfileFields {
    ProfileFields {
        first_name_sealed: Some(format!("first-{tag}")),
        last_name_sealed: Some(format!("last-{tag}")),
        dob_sealed: Some(format!("dob-{tag}")),
        address_sealed: Some(format!("address-{tag}")),
        postcode: Some("10115".to_string()),
        city: Some("Berlin".to_string()),
        country: Some("DEU".to_string()),
        metadata: Some(format!("{{\"tag\":\"{tag}\"}}")),
    }
}

fn stored(p: &ProfileRow) -> ProfileFields {
    ProfileFields {
        first_name_sealed: p.first_name_sealed.clone(),
        last_name_sealed: p.last_name_sealed.clone(),
        dob_sealed: p.dob_sealed.clone(),
        address_sealed: p.address_sealed.clone(),
        postcode: p.postcode.clone(),
        city: p.city.clone(),
        country: p.country.clone(),
        metadata: p.metadata.clone(),
    }
}

async fn author(db: &Db, id: i64) -> Option<String> {
    db.text(&format!("SELECT author FROM profiles WHERE id = {id}")).await
}

contract!(a_profile_round_trips_every_field, |db: Db| async move {
    let u = new_user(&db, "p@example.com").await;
    assert!(db.profiles_of(u.id).await.expect("none").is_empty());
    let p = db.insert_profile(u.id, &fields("a"), SUBMITTED, Some("ID-ADMIN"), NOW).await.expect("insert");
    assert_eq!((p.user_id, p.state, p.created_at, p.updated_at), (u.id, SUBMITTED, NOW, NOW));
    assert_eq!(format!("{:?}", stored(&p)), format!("{:?}", fields("a")));
    assert_eq!(author(&db, p.id).await.as_deref(), Some("ID-ADMIN"));
    let listed = db.profiles_of(u.id).await.expect("list");
    assert_eq!(listed.iter().map(|r| r.id).collect::<Vec<_>>(), [p.id]);
    assert_eq!(format!("{:?}", stored(&listed[0])), format!("{:?}", fields("a")));

    // Every field may be empty.
    let v = new_user(&db, "empty@example.com").await;
    let e = db.insert_profile(v.id, &ProfileFields::default(), DRAFTED, None, NOW).await.expect("empty");
    assert_eq!(format!("{:?}", stored(&e)), format!("{:?}", ProfileFields::default()));
    assert_eq!(author(&db, e.id).await, None);
});

contract!(one_open_profile_per_user, |db: Db| async move {
    let u = new_user(&db, "open@example.com").await;
    let other = new_user(&db, "open2@example.com").await;
    let p = db.insert_profile(u.id, &fields("1"), DRAFTED, None, NOW).await.expect("drafted");
    // `state.exists`: drafted or submitted, a second open profile is refused.
    unique_violation(db.insert_profile(u.id, &fields("2"), DRAFTED, None, NOW).await);
    unique_violation(db.insert_profile(u.id, &fields("2"), SUBMITTED, None, NOW).await);
    db.insert_profile(other.id, &fields("x"), DRAFTED, None, NOW).await.expect("another user's");
    // Closed profiles do not count.
    db.insert_profile(u.id, &fields("old"), REJECTED, None, NOW).await.expect("a rejected one beside it");
    db.set_profile_state(p.id, DRAFTED, VERIFIED, None, NOW).await.expect("close").expect("was drafted");
    db.insert_profile(u.id, &fields("new"), DRAFTED, None, NOW).await.expect("open again");
    assert_eq!(db.profiles_of(u.id).await.expect("list").len(), 3);
});

contract!(racing_creates_leave_one_open_profile, |db: Db| async move {
    let u = new_user(&db, "race@example.com").await;
    let daemons = db.daemons(3).await;
    let f = fields("r");
    let calls = (0..6).map(|i| daemons[i % 3].insert_profile(u.id, &f, SUBMITTED, None, NOW));
    let results = join_all(calls).await;
    let created = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(created, 1, "{results:?}");
    for r in results.into_iter().filter(|r| r.is_err()) {
        unique_violation(r);
    }
});

contract!(profile_in_state_finds_the_newest, |db: Db| async move {
    let u = new_user(&db, "st@example.com").await;
    let r1 = db.insert_profile(u.id, &fields("1"), REJECTED, None, NOW).await.expect("1");
    let r2 = db.insert_profile(u.id, &fields("2"), REJECTED, None, NOW).await.expect("2");
    let d = db.insert_profile(u.id, &fields("3"), DRAFTED, None, NOW).await.expect("3");
    assert_eq!(db.profile_in_state(u.id, REJECTED).await.expect("rejected").map(|p| p.id), Some(r2.id));
    assert_eq!(db.profile_in_state(u.id, DRAFTED).await.expect("drafted").map(|p| p.id), Some(d.id));
    assert!(db.profile_in_state(u.id, SUBMITTED).await.expect("submitted").is_none());
    assert!(db.profile_in_state(u.id + 100, REJECTED).await.expect("nobody").is_none());
    let listed: Vec<i64> = db.profiles_of(u.id).await.expect("list").iter().map(|p| p.id).collect();
    assert_eq!(listed, [r1.id, r2.id, d.id], "oldest first");
});

contract!(updates_apply_only_from_the_expected_state, |db: Db| async move {
    let u = new_user(&db, "upd@example.com").await;
    let p = db.insert_profile(u.id, &fields("a"), DRAFTED, Some("ID-A"), NOW).await.expect("insert");
    // Another request submitted it first: the edit of a draft finds nothing.
    assert!(db.update_profile_from(p.id, SUBMITTED, &fields("b"), SUBMITTED, NOW + 1).await.expect("stale").is_none());
    assert_eq!(format!("{:?}", stored(&db.profiles_of(u.id).await.expect("list")[0])), format!("{:?}", fields("a")));

    let mut changed = fields("b");
    changed.city = None; // an omitted field is cleared, not kept
    let r = db.update_profile_from(p.id, DRAFTED, &changed, SUBMITTED, NOW + 2).await.expect("edit").expect("row");
    assert_eq!((r.id, r.state, r.created_at, r.updated_at), (p.id, SUBMITTED, NOW, NOW + 2));
    assert_eq!(format!("{:?}", stored(&r)), format!("{:?}", changed));

    // The operator's verdict: from submitted only; the author is recorded.
    assert!(db.set_profile_state(p.id, DRAFTED, VERIFIED, Some("ID-OP"), NOW + 3).await.expect("stale").is_none());
    let v =
        db.set_profile_state(p.id, SUBMITTED, VERIFIED, Some("ID-OP"), NOW + 4).await.expect("verify").expect("row");
    assert_eq!((v.state, v.updated_at), (VERIFIED, NOW + 4));
    assert_eq!(format!("{:?}", stored(&v)), format!("{:?}", changed), "fields untouched");
    assert_eq!(author(&db, p.id).await.as_deref(), Some("ID-OP"));
    // Without an author the previous one stays.
    db.set_profile_state(p.id, VERIFIED, REJECTED, None, NOW + 5).await.expect("reject").expect("row");
    assert_eq!(author(&db, p.id).await.as_deref(), Some("ID-OP"));
    assert!(db.set_profile_state(p.id + 100, REJECTED, VERIFIED, None, NOW).await.expect("unknown").is_none());
});

contract!(the_review_queue_lists_what_waits_oldest_first, |db: Db| async move {
    let a = new_user(&db, "a@example.com").await;
    let b = new_user(&db, "b@example.com").await;
    let c = new_user(&db, "c@example.com").await;
    db.insert_profile(a.id, &fields("a"), SUBMITTED, None, NOW + 30).await.expect("a submitted");
    db.insert_profile(b.id, &fields("b"), DRAFTED, None, NOW).await.expect("b drafted: not waiting");
    db.insert_profile(c.id, &fields("c"), VERIFIED, None, NOW).await.expect("c verified: not waiting");
    db.upsert_label(b.id, "document", "pending", LabelScope::Private, NOW + 10).await.expect("b document");
    db.upsert_label(c.id, "address", "pending", LabelScope::Private, NOW + 20).await.expect("c address");
    // Not waiting: public, decided, or another key.
    db.upsert_label(a.id, "document", "pending", LabelScope::Public, NOW).await.expect("public");
    db.upsert_label(a.id, "address", "verified", LabelScope::Private, NOW).await.expect("decided");
    db.upsert_label(c.id, "phone", "pending", LabelScope::Private, NOW).await.expect("other key");

    let queue = db.kyc_queue(10).await.expect("queue");
    let got: Vec<_> = queue.iter().map(|q| (q.uid.as_str(), q.email.as_str(), q.item.as_str(), q.since)).collect();
    assert_eq!(
        got,
        [
            (b.uid.as_str(), "b@example.com", "document", NOW + 10),
            (c.uid.as_str(), "c@example.com", "address", NOW + 20),
            (a.uid.as_str(), "a@example.com", "profile", NOW + 30),
        ]
    );
    assert_eq!(db.kyc_queue(2).await.expect("limited").len(), 2);
    // Ties on time go by uid.
    db.upsert_label(a.id, "document", "pending", LabelScope::Private, NOW + 10).await.expect("a document");
    let queue = db.kyc_queue(2).await.expect("queue");
    let mut tied = [a.uid.clone(), b.uid.clone()];
    tied.sort();
    assert_eq!(queue.iter().map(|q| q.uid.clone()).collect::<Vec<_>>(), tied);
});

contract!(a_profile_change_commits_with_its_label_and_events_or_not_at_all, |db: Db| async move {
    let u = new_user(&db, "step@example.com").await;
    let label = |value: &'static str| LabelWrite {
        user_id: u.id,
        key: "profile",
        value,
        scope: LabelScope::Private,
        description: Description::Keep,
        mode: LabelMode::Upsert,
        now: NOW,
        state_level: Some((&AccountState::Active, 3)),
        review: None,
    };
    let (drafted, submitted) = (label("drafted"), label("submitted"));
    let named = |name: &'static str| {
        move |p: &ProfileRow, l: Option<&LabelRow>| {
            let mut v = vec![event("p", &format!("{name}.{}", p.state.name()), "r", NOW)];
            v.extend(l.map(|l| event("l", &format!("label.{}.{}", l.key, l.value), "r", NOW)));
            v
        }
    };
    let f = fields("a");
    let insert = ProfileChange::Insert { user_id: u.id, fields: &f, state: DRAFTED, author: None };

    // An event cannot be written: neither the profile nor its label is kept.
    refuse_events_named_refused(&db).await;
    let refused = |_: &ProfileRow, _: Option<&LabelRow>| vec![event("x", "refused", "r", NOW)];
    assert!(db.save_profile(insert, NOW, Some(&drafted), &refused).await.is_err());
    assert!(db.profiles_of(u.id).await.expect("list").is_empty(), "a profile without its event");
    assert!(db.labels_of(u.id).await.expect("labels").is_empty(), "a label without its event");
    assert_eq!(db.user_by_id(u.id).await.expect("u").expect("u").level, 0);

    let p = db.save_profile(insert, NOW, Some(&drafted), &named("model.profile.created")).await.expect("saved");
    let p = p.expect("inserted");
    assert_eq!(db.label_any_scope(u.id, "profile").await.expect("l").map(|l| l.value), Some("drafted".into()));
    assert_eq!(db.user_by_id(u.id).await.expect("u").expect("u").level, 3);
    assert_eq!(queued(&db).await, ["model.profile.created.drafted", "label.profile.drafted"]);

    // A second open profile is refused whole: no label change, no event.
    let again = db.save_profile(insert, NOW, Some(&submitted), &named("model.profile.created")).await;
    unique_violation(again);
    // A stale edit changes nothing either.
    let stale = ProfileChange::Edit { id: p.id, from: SUBMITTED, fields: &f, state: SUBMITTED };
    assert!(
        db.save_profile(stale, NOW, Some(&submitted), &named("model.profile.updated")).await.expect("ok").is_none()
    );
    assert_eq!(db.label_any_scope(u.id, "profile").await.expect("l").map(|l| l.value), Some("drafted".into()));
    assert_eq!(queued(&db).await.len(), 2);

    let edit = ProfileChange::Edit { id: p.id, from: DRAFTED, fields: &f, state: SUBMITTED };
    let e = db.save_profile(edit, NOW + 1, Some(&submitted), &named("model.profile.updated")).await.expect("edit");
    assert_eq!(e.expect("edited").state, SUBMITTED);
    assert_eq!(db.label_any_scope(u.id, "profile").await.expect("l").map(|l| l.value), Some("submitted".into()));
    assert_eq!(queued(&db).await[2..], ["model.profile.updated.submitted", "label.profile.submitted"]);
});
