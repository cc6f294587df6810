//! The operators' and supervisors' REST API: presence, the operator list, recent calls — who may
//! do what, and what they see.

mod support;

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::config::Config;
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::store::{NewCallEvent, NewOperator, NewUser, Store};
use perezvon::switchboard::Switchboard;
use serde_json::{Value, json};
use support::TestDb;

struct App {
    base: String,
    http: reqwest::Client,
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
}

async fn spawn(db: &TestDb) -> App {
    let clock = Arc::new(ManualClock::new(
        Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap(),
    ));
    let config = Config::default();
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    let switchboard = Arc::new(Switchboard::new(
        db.store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    ));
    let state = AppState {
        config: Arc::new(config),
        store: db.store.clone(),
        calendar,
        clock: clock.clone(),
        switchboard,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(perezvon::http::serve(
        listener,
        state,
        std::future::pending(),
    ));
    App {
        base,
        http: reqwest::Client::new(),
        store: db.store.clone(),
        clock,
    }
}

impl App {
    /// Creates a user (an operator with a phone contact when `role` is operator) and a token.
    async fn user(&self, login: &str, role: Role) -> String {
        let now = self.clock.now();
        let u = NewUser {
            login: login.into(),
            display_name: login.into(),
            role,
            password_hash: "x".into(),
        };
        let user = self.store.create_user(&u, now).await.unwrap();
        if role == Role::Operator {
            let op = NewOperator {
                user_id: user.id,
                name: login.into(),
                contact_kind: ContactKind::Phone,
                contact: "+79161234567".into(),
            };
            self.store.create_operator(&op, now).await.unwrap();
        }
        let (token, hash) = perezvon::secrets::new_token();
        self.store
            .create_token(user.id, &hash, "", None, now)
            .await
            .unwrap();
        token
    }

    async fn put_presence(&self, token: &str, login: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .put(format!("{}/api/v1/operators/{login}/presence", self.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }
}

on_both_backends!(
    presence_permissions_and_audit,
    operator_list_masks_contacts_for_operators,
    calls_for_supervisors
);

async fn presence_permissions_and_audit(db: &TestDb) {
    let app = spawn(db).await;
    let ivanova = app.user("ivanova", Role::Operator).await;
    let petrov = app.user("petrov", Role::Operator).await;
    let boss = app.user("boss", Role::Supervisor).await;

    let (s, op) = app
        .put_presence(&ivanova, "ivanova", json!({"state": "available"}))
        .await;
    assert_eq!(s, 200, "{op}");
    assert_eq!(op["presence"], "available");
    assert_eq!(op["login"], "ivanova");
    assert_eq!(
        app.store
            .operator_by_login("ivanova")
            .await
            .unwrap()
            .unwrap()
            .presence,
        Presence::Available
    );
    // Another operator may not change ivanova's presence; a supervisor may.
    assert_eq!(
        app.put_presence(&petrov, "ivanova", json!({"state": "offline"}))
            .await
            .0,
        403
    );
    assert_eq!(
        app.put_presence(&boss, "ivanova", json!({"state": "break"}))
            .await
            .0,
        200
    );
    assert_eq!(
        app.store
            .operator_by_login("ivanova")
            .await
            .unwrap()
            .unwrap()
            .presence,
        Presence::Break
    );
    // on_call is the calls' business; unknown states and shapes are 400 with a reason.
    let (s, e) = app
        .put_presence(&ivanova, "ivanova", json!({"state": "on_call"}))
        .await;
    assert_eq!(s, 400);
    assert!(e["error"].as_str().unwrap().contains("on_call"), "{e}");
    let (s, e) = app
        .put_presence(&ivanova, "ivanova", json!({"state": "sleeping"}))
        .await;
    assert_eq!(s, 400);
    assert!(e["error"].as_str().unwrap().contains("sleeping"), "{e}");
    assert_eq!(
        app.put_presence(&ivanova, "ivanova", json!({"status": "available"}))
            .await
            .0,
        400
    );
    assert_eq!(
        app.put_presence(&boss, "nobody", json!({"state": "available"}))
            .await
            .0,
        404
    );
    assert_eq!(
        app.put_presence("pzv_wrong", "ivanova", json!({"state": "available"}))
            .await
            .0,
        401
    );
    let audit = app.store.recent_audit(10).await.unwrap();
    let presence: Vec<_> = audit
        .iter()
        .filter(|a| a.action == "operator.presence")
        .collect();
    assert_eq!(presence.len(), 2);
    assert_eq!(
        (presence[0].actor.as_str(), presence[0].subject.as_str()),
        ("boss", "operator:ivanova")
    );
}

async fn operator_list_masks_contacts_for_operators(db: &TestDb) {
    let app = spawn(db).await;
    let ivanova = app.user("ivanova", Role::Operator).await;
    let boss = app.user("boss", Role::Admin).await;
    let (s, list) = app.get(&ivanova, "/api/v1/operators").await;
    assert_eq!(s, 200);
    assert_eq!(list[0]["contact"], "+7******4567");
    assert_eq!(list[0]["presence"], "offline");
    let (_, list) = app.get(&boss, "/api/v1/operators").await;
    assert_eq!(list[0]["contact"], "+79161234567");
    assert_eq!(app.get("", "/api/v1/operators").await.0, 401);
}

async fn calls_for_supervisors(db: &TestDb) {
    let app = spawn(db).await;
    let ivanova = app.user("ivanova", Role::Operator).await;
    let boss = app.user("boss", Role::Supervisor).await;
    for (i, sid) in ["CA1", "CA2", "CA3"].iter().enumerate() {
        let ev = NewCallEvent {
            provider: "twilio".into(),
            provider_call_id: (*sid).into(),
            from_number: Some("+79160000000".into()),
            to_number: None,
            event_key: "voice".into(),
            kind: "incoming".into(),
            sequence: None,
            payload: "{}".into(),
            state: "queued".into(),
            operator_id: None,
            tried: vec![],
            reply: Some("<Response/>".into()),
            jobs: vec![],
        };
        app.store
            .record_call_event(&ev, app.clock.now() + chrono::TimeDelta::seconds(i as i64))
            .await
            .unwrap();
    }
    assert_eq!(app.get(&ivanova, "/api/v1/calls").await.0, 403);
    let (s, calls) = app.get(&boss, "/api/v1/calls?limit=2").await;
    assert_eq!(s, 200);
    let calls = calls.as_array().unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (
            calls[0]["provider_call_id"].as_str(),
            calls[0]["state"].as_str()
        ),
        (Some("CA3"), Some("queued"))
    );
    assert_eq!(calls[0]["events"][0]["event_key"], "voice");
    assert_eq!(app.get(&boss, "/api/v1/calls?limit=0").await.0, 400);
    assert_eq!(app.get(&boss, "/api/v1/calls?limit=lots").await.0, 400);
}
