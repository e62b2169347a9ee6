//! The Admin API's label writes (`POST users/labels`, `POST users/labels/update`, `PUT` and
//! `DELETE users/labels`): Barong's parameter keys, the label model's rules, abilities per role,
//! Appendix B's guards, bans by label and the events they queue.

use reqwest::Method;

use super::admin_api::{admin_rows, call2, staff};
use super::events::{Consumer, amqp_url, events_config};
use super::*;

/// A broker nobody answers at: events stay in the outbox, where the test reads their names.
const NO_BROKER: &str = "event_api_rabbitmq_url: \"amqp://guest:guest@127.0.0.1:1/%2f\"\n";

pub(super) async fn uid_of(srv: &TestServer, email: &str) -> String {
    srv.sql_texts(&format!("SELECT uid FROM users WHERE email = '{email}'")).await.remove(0)
}

/// `key/value/scope/description` of the user's labels with `key`, by scope.
async fn label(srv: &TestServer, uid: &str, key: &str) -> Vec<String> {
    srv.sql_texts(&format!(
        "SELECT l.key || '/' || l.value || '/' || l.scope || '/' || COALESCE(l.description, '-') FROM labels l \
         JOIN users u ON u.id = l.user_id WHERE u.uid = '{uid}' AND l.key = '{key}' ORDER BY l.scope"
    ))
    .await
}

async fn state_level(srv: &TestServer, uid: &str) -> String {
    let q = format!("SELECT state || '/' || CAST(level AS TEXT) FROM users WHERE uid = '{uid}'");
    srv.sql_texts(&q).await.remove(0)
}

/// `(method, rest, body)` through an admin's session.
pub(super) struct Admin<'a> {
    srv: &'a TestServer,
    pub(super) c: reqwest::Client,
    csrf: String,
}

impl Admin<'_> {
    pub(super) async fn send(&self, method: Method, rest: &str, body: Option<Value>) -> (u16, Value) {
        call2(&self.c, self.srv, method, rest, &self.csrf, body).await
    }
    async fn create(&self, body: Value) -> (u16, Value) {
        self.send(Method::POST, "users/labels", Some(body)).await
    }
    async fn update(&self, body: Value) -> (u16, Value) {
        self.send(Method::POST, "users/labels/update", Some(body)).await
    }
    async fn put(&self, body: Value) -> (u16, Value) {
        self.send(Method::PUT, "users/labels", Some(body)).await
    }
    async fn delete(&self, query: &str) -> (u16, Value) {
        self.send(Method::DELETE, &format!("users/labels?{query}"), None).await
    }
}

pub(super) async fn admin<'a>(srv: &'a TestServer, email: &str, role: &str) -> Admin<'a> {
    let (c, csrf) = staff(srv, email, role).await;
    Admin { srv, c, csrf }
}

/// Barong's body of a write that presents nothing.
fn ok() -> (u16, Value) {
    (200, json!(200))
}

both!(admin_label_create_rules_and_guards, |srv: TestServer| async move {
    let _ = active_user(&srv, "kyc@example.com").await;
    let kyc = uid_of(&srv, "kyc@example.com").await;
    let co = admin(&srv, "co@example.com", "compliance").await;
    let sa = admin(&srv, "root@example.com", "superadmin").await;
    let _acc = staff(&srv, "acc@example.com", "accountant").await;
    let (co_uid, root, acc) = (
        uid_of(&srv, "co@example.com").await,
        uid_of(&srv, "root@example.com").await,
        uid_of(&srv, "acc@example.com").await,
    );

    // Parameters first, in declaration order (missing then empty).
    assert_err(
        &co.create(json!({"description": " "})).await,
        422,
        &[
            "admin.user.missing_uid",
            "admin.user.empty_uid",
            "admin.user.missing_key",
            "admin.user.empty_key",
            "admin.user.missing_value",
            "admin.user.empty_value",
            "admin.user.empty_description",
        ],
    );
    assert_err(
        &co.create(json!({"uid": kyc, "key": "tier", "value": "x", "scope": ""})).await,
        422,
        &["admin.user.empty_scope"],
    );
    // The model's rules, all at once: key, value, scope.
    assert_err(
        &co.create(json!({"uid": kyc, "key": "AB", "value": "!!", "scope": "secret"})).await,
        422,
        &["key.too_short", "value.too_short", "value.invalid", "scope.inclusion"],
    );
    assert_err(&co.create(json!({"uid": kyc, "key": "a b", "value": "gold"})).await, 422, &["key.invalid"]);
    // A public label with a key the system writes (default scope: public).
    for key in ["ban", "document", "email", "otp", "address"] {
        assert_err(&co.create(json!({"uid": kyc, "key": key, "value": "yes"})).await, 422, &["key.reserved"]);
    }

    // Lower-cased and squished; the description is stored with it.
    let tier = json!({"uid": kyc, "key": " Tier ", "value": "GOLD", "description": "vip since 2019"});
    assert_eq!(co.create(tier).await, ok());
    assert_eq!(label(&srv, &kyc, "tier").await, ["tier/gold/public/vip since 2019"]);
    assert_err(&co.create(json!({"uid": kyc, "key": "tier", "value": "silver"})).await, 422, &["key.taken"]);
    assert_err(
        &co.create(json!({"uid": kyc, "key": "tier", "value": "x"})).await,
        422,
        &["key.taken", "value.too_short"],
    );
    // The same key in the other scope is another label.
    assert_eq!(co.create(json!({"uid": kyc, "key": "tier", "value": "silver", "scope": "private"})).await, ok());
    assert_eq!(label(&srv, &kyc, "tier").await, ["tier/silver/private/-", "tier/gold/public/vip since 2019"]);

    // Guards in Appendix B's order: the user, a superadmin target, the caller itself (W10), an
    // admin-role account (W5).
    let on = |uid: &str| json!({"uid": uid, "key": "note", "value": "checked", "scope": "private"});
    assert_err(
        &co.create(json!({"uid": "ID0000000000", "key": "x"})).await,
        422,
        &["admin.user.missing_value", "admin.user.empty_value"],
    );
    assert_err(&co.create(on("ID0000000000")).await, 404, &["admin.user.doesnt_exist"]);
    assert_err(&co.create(on(&root)).await, 422, &["admin.user.superadmin_change"]);
    assert_err(&co.create(on(&co_uid)).await, 422, &["admin.user.update_himself"]);
    assert_err(&co.create(on(&acc)).await, 422, &["admin.user.superadmin_change"]);
    assert_err(&sa.create(on(&root)).await, 422, &["admin.user.update_himself"]);
    assert_eq!(sa.create(on(&acc)).await, ok());
    assert_eq!(label(&srv, &acc, "note").await, ["note/checked/private/-"]);

    // Every write leaves its admin activity row, refused ones included.
    let rows = admin_rows(&srv).await;
    let created = format!("users/create/succeed/{kyc}");
    assert_eq!(rows.iter().filter(|r| **r == created).count(), 2, "{rows:?}");
    assert!(rows.contains(&format!("users/create/failed/{kyc}")), "{rows:?}");
    assert!(rows.contains(&format!("users/create/failed/{root}")), "{rows:?}");
    assert!(rows.contains(&"users/create/failed/".to_string()), "unknown uid: {rows:?}");
});

both!(admin_label_abilities_per_role, |srv: TestServer| async move {
    let _ = active_user(&srv, "kyc@example.com").await;
    let kyc = uid_of(&srv, "kyc@example.com").await;
    let sa = admin(&srv, "root@example.com", "superadmin").await;
    let sup = admin(&srv, "support@example.com", "support").await;
    let acc = admin(&srv, "acc@example.com", "accountant").await;
    let tech = admin(&srv, "tech@example.com", "technical").await;
    let ad = admin(&srv, "admin@example.com", "admin").await;
    let body = json!({"uid": kyc, "key": "note", "value": "checked", "scope": "private"});

    // The seeded permissions stop support, accountant and technical first.
    for who in [&sup, &acc, &tech] {
        assert_err(&who.create(body.clone()).await, 401, &["authz.invalid_permission"]);
    }
    // Let support through the gateway's rules: the abilities still refuse (support reads
    // labels, manages users), after the parameters are checked.
    for verb in ["post", "put", "delete"] {
        let rule = json!({"role": "support", "verb": verb, "path": "api/v2/barong/admin/users/labels",
            "action": "accept"});
        assert_eq!(sa.send(Method::POST, "permissions", Some(rule)).await, ok());
    }
    assert_err(
        &sup.create(json!({"uid": kyc})).await,
        422,
        &["admin.user.missing_key", "admin.user.empty_key", "admin.user.missing_value", "admin.user.empty_value"],
    );
    assert_err(&sup.create(body.clone()).await, 401, &["admin.ability.not_permitted"]);
    assert_err(&sup.update(body.clone()).await, 401, &["admin.ability.not_permitted"]);
    assert_err(&sup.put(body.clone()).await, 401, &["admin.ability.not_permitted"]);
    assert_err(&sup.delete(&format!("uid={kyc}&key=note&scope=private")).await, 401, &["admin.ability.not_permitted"]);
    assert!(label(&srv, &kyc, "note").await.is_empty());

    // admin manages labels.
    assert_eq!(ad.create(body.clone()).await, ok());
    assert_eq!(ad.put(json!({"uid": kyc, "key": "note", "value": "rechecked", "scope": "private"})).await, ok());
    assert_eq!(ad.delete(&format!("uid={kyc}&key=note&scope=private")).await, ok());
    assert!(label(&srv, &kyc, "note").await.is_empty());
});

both!(admin_label_update_put_and_delete, |srv: TestServer| async move {
    let _ = active_user(&srv, "kyc@example.com").await;
    let kyc = uid_of(&srv, "kyc@example.com").await;
    let co = admin(&srv, "co@example.com", "compliance").await;
    let co_uid = uid_of(&srv, "co@example.com").await;

    // POST update: declaration order uid, key, scope, value; `replace` a Boolean.
    assert_err(
        &co.update(json!({"replace": "maybe"})).await,
        422,
        &[
            "admin.user.missing_uid",
            "admin.user.empty_uid",
            "admin.user.missing_key",
            "admin.user.empty_key",
            "admin.user.missing_scope",
            "admin.user.empty_scope",
            "admin.user.missing_value",
            "admin.user.empty_value",
            "admin.user.non_boolean_replace",
        ],
    );
    let tier = |value: &str| json!({"uid": kyc, "key": "tier", "value": value, "scope": "private"});
    // Missing: 404 without replace, created with it (the default).
    let mut no_replace = tier("gold");
    no_replace["replace"] = json!("false");
    assert_err(&co.update(no_replace).await, 404, &["admin.label.doesnt_exist"]);
    let mut described = tier("gold");
    described["description"] = json!("vip");
    assert_eq!(co.update(described).await, ok());
    assert_eq!(label(&srv, &kyc, "tier").await, ["tier/gold/private/vip"]);
    // Present: value and description, an omitted description cleared [COMPAT].
    assert_err(&co.update(tier("x")).await, 422, &["value.too_short"]);
    assert_eq!(co.update(tier("Silver")).await, ok());
    assert_eq!(label(&srv, &kyc, "tier").await, ["tier/silver/private/-"]);
    assert_err(
        &co.update(json!({"uid": kyc, "key": "tier", "value": "gold", "scope": "secret"})).await,
        422,
        &["scope.inclusion"],
    );

    // PUT: never creates; keeps the description unless one is given.
    assert_err(
        &co.put(json!({"uid": kyc, "key": "vip", "value": "yes", "scope": "private"})).await,
        404,
        &["admin.label.doesnt_exist"],
    );
    let mut with = tier("gold");
    with["description"] = json!("upgraded");
    assert_eq!(co.put(with).await, ok());
    assert_eq!(co.put(tier("platinum")).await, ok());
    assert_eq!(label(&srv, &kyc, "tier").await, ["tier/platinum/private/upgraded"]);
    assert_err(
        &co.put(json!({"uid": co_uid, "key": "tier", "value": "x", "scope": "private"})).await,
        422,
        &["admin.user.update_himself"],
    );

    // DELETE: its params from the query string.
    assert_err(
        &co.delete("").await,
        422,
        &[
            "admin.user.missing_uid",
            "admin.user.empty_uid",
            "admin.user.missing_key",
            "admin.user.empty_key",
            "admin.user.missing_scope",
            "admin.user.empty_scope",
        ],
    );
    assert_err(&co.delete(&format!("uid={kyc}&key=tier&scope=public")).await, 404, &["admin.label.doesnt_exist"]);
    assert_err(&co.delete(&format!("uid={co_uid}&key=tier&scope=private")).await, 422, &["admin.user.update_himself"]);
    assert_eq!(co.delete(&format!("uid={kyc}&key=TIER&scope=private")).await, ok());
    assert!(label(&srv, &kyc, "tier").await.is_empty());
    assert_err(&co.delete(&format!("uid={kyc}&key=tier&scope=private")).await, 404, &["admin.label.doesnt_exist"]);

    let rows = admin_rows(&srv).await;
    for row in [format!("users/update/succeed/{kyc}"), format!("users/delete/succeed/{kyc}")] {
        assert!(rows.contains(&row), "{row} in {rows:?}");
    }
});

both!(admin_ban_by_label_and_lift, |srv: TestServer| async move {
    let _ = active_user(&srv, "kyc@example.com").await;
    let kyc = uid_of(&srv, "kyc@example.com").await;
    let co = admin(&srv, "co@example.com", "compliance").await;
    assert_eq!(state_level(&srv, &kyc).await, "active/1");

    let ban = json!({"uid": kyc, "key": "ban", "value": "fraudster", "scope": "private"});
    assert_eq!(co.create(ban).await, ok());
    assert_eq!(state_level(&srv, &kyc).await, "banned/1");
    assert_eq!(co.delete(&format!("uid={kyc}&key=ban&scope=private")).await, ok());
    assert_eq!(state_level(&srv, &kyc).await, "active/1");
});

/// The names of the events queued after outbox row `after`, in order.
async fn events_after(srv: &TestServer, after: i64) -> Vec<String> {
    srv.sql_texts(&format!("SELECT name FROM event_outbox WHERE id > {after} ORDER BY id")).await
}

async fn last_event(srv: &TestServer) -> i64 {
    let q = "SELECT CAST(COALESCE(MAX(id), 0) AS TEXT) FROM event_outbox";
    srv.sql_texts(q).await[0].parse().expect("an id")
}

both!(admin_label_events_queued, config = NO_BROKER, |srv: TestServer| async move {
    let _ = active_user(&srv, "kyc@example.com").await;
    let kyc = uid_of(&srv, "kyc@example.com").await;
    let co = admin(&srv, "co@example.com", "compliance").await;
    let (code, _, err) = srv.ctl(&["label", "set", &kyc, "phone", "verified"], None);
    assert_eq!(code, 0, "label set: {err}");
    let doc = |value: &str| json!({"uid": kyc, "key": "document", "value": value, "scope": "private"});

    let mark = last_event(&srv).await;
    assert_eq!(co.create(doc("pending")).await, ok());
    assert_eq!(events_after(&srv, mark).await, ["model.label.created"]);

    // The decision: label, document and (level 2 → 3) user events, in one transaction.
    let mark = last_event(&srv).await;
    assert_eq!(co.update(doc("verified")).await, ok());
    assert_eq!(
        events_after(&srv, mark).await,
        ["model.label.updated", "system.document.verified", "model.user.updated"]
    );
    assert_eq!(state_level(&srv, &kyc).await, "active/3");

    // A no-op save re-sends no decision (Barong's bug); a description change neither.
    let mark = last_event(&srv).await;
    assert_eq!(co.update(doc("verified")).await, ok());
    let mut described = doc("verified");
    described["description"] = json!("passport checked");
    assert_eq!(co.put(described).await, ok());
    assert_eq!(events_after(&srv, mark).await, ["model.label.updated", "model.label.updated"]);

    // A deletion sends no label or document event; the level drops.
    let mark = last_event(&srv).await;
    assert_eq!(co.delete(&format!("uid={kyc}&key=document&scope=private")).await, ok());
    assert_eq!(events_after(&srv, mark).await, ["model.user.updated"]);
    assert_eq!(state_level(&srv, &kyc).await, "active/2");

    // Created with a decision: sent once.
    let mark = last_event(&srv).await;
    assert_eq!(co.create(doc("rejected")).await, ok());
    assert_eq!(events_after(&srv, mark).await, ["model.label.created", "system.document.rejected"]);
    // A public label changes no level or state: no user event.
    let mark = last_event(&srv).await;
    assert_eq!(co.create(json!({"uid": kyc, "key": "tier", "value": "gold"})).await, ok());
    assert_eq!(events_after(&srv, mark).await, ["model.label.created"]);
});

/// The next `model.label.updated` of `email`'s label, from the broker.
async fn next_for(consumer: &mut Consumer, email: &str, name: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let claims = consumer.next_claims(left).await.unwrap_or_else(|| panic!("no {name} for {email}"));
        if claims["event"]["name"] == name && claims["event"]["record"]["user"]["email"] == email {
            return claims["event"].clone();
        }
    }
}

both!(admin_label_updated_event_carries_changes, per_backend = admin_label_updated_event_carries_changes);
async fn admin_label_updated_event_carries_changes(backend: Backend) {
    let Some(mut consumer) =
        Consumer::connect(&[("barong.events.model", "label.updated"), ("barong.events.system", "document.verified")])
            .await
    else {
        return;
    };
    let options = Options { config: events_config(&amqp_url()), ..Default::default() };
    let Some(srv) = TestServer::spawn_with(backend, options).await else { return };
    within_limit(srv, |srv: TestServer| async move {
        let email = format!("lbl-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..10]);
        let _ = active_user(&srv, &email).await;
        let uid = uid_of(&srv, &email).await;
        let co = admin(&srv, &format!("co-{email}"), "compliance").await;
        let doc = |value: &str| json!({"uid": uid, "key": "document", "value": value, "scope": "private"});
        assert_eq!(co.create(doc("pending")).await, ok());
        let mut approve = doc("verified");
        approve["description"] = json!("checked");
        assert_eq!(co.update(approve).await, ok());
        let updated = next_for(&mut consumer, &email, "model.label.updated").await;
        // Barong's `changes`: keys of the previous *compacted* record, so a description that was
        // null (absent) and is now set does not appear.
        assert_eq!(updated["changes"], json!({"value": "pending"}), "{updated}");
        let record = &updated["record"];
        assert_eq!((record["key"].as_str(), record["value"].as_str()), (Some("document"), Some("verified")));
        assert_eq!(record["description"], "checked");
        let verified = next_for(&mut consumer, &email, "system.document.verified").await;
        assert_eq!(verified["record"]["value"], "verified", "{verified}");
        assert!(verified.get("changes").is_none(), "{verified}");
    })
    .await;
}
