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
    calls_for_supervisors,
    voicemail_list_and_audio_with_range,
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

async fn voicemail_list_and_audio_with_range(db: &TestDb) {
    let app = spawn(db).await;
    let ivanova = app.user("ivanova", Role::Operator).await;
    let now = app.clock.now();
    let mut ids = Vec::new();
    for (sid, with_audio) in [("CA1", true), ("CA2", false)] {
        let ev = NewCallEvent {
            provider: "twilio".into(),
            provider_call_id: sid.into(),
            from_number: Some("+79161234567".into()),
            to_number: None,
            event_key: "voice".into(),
            kind: "incoming".into(),
            sequence: None,
            payload: "{}".into(),
            state: "voicemail_left".into(),
            operator_id: None,
            tried: vec![],
            reply: None,
            jobs: vec![],
        };
        let call = app.store.record_call_event(&ev, now).await.unwrap().call;
        let vm = app
            .store
            .start_voicemail(call.id, Some("+79161234567"), now)
            .await
            .unwrap();
        app.store
            .set_voicemail_category(call.id, "staff")
            .await
            .unwrap();
        if with_audio {
            let dir =
                std::env::temp_dir().join(format!("pz-api-{}", uuid::Uuid::new_v4().simple()));
            let bytes = std::fs::read(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/audio/speech-8k-s16.wav"
            ))
            .unwrap();
            let stored = perezvon::audio::store_recording(&dir, vm.id, now, bytes, None)
                .await
                .unwrap();
            let a = stored.analysis.unwrap();
            let update = perezvon::store::AudioUpdate {
                status: "stored".into(),
                audio_path: stored.wav_path.map(|p| p.to_string_lossy().into_owned()),
                original_path: Some(stored.original_path.to_string_lossy().into_owned()),
                duration_ms: Some(a.duration_ms),
                sample_rate: Some(i64::from(a.sample_rate)),
                sha256: Some(stored.sha256),
                has_speech: Some(a.has_speech),
            };
            app.store
                .set_voicemail_audio(call.id, &update)
                .await
                .unwrap();
        }
        ids.push(vm.id);
    }
    assert_eq!(app.get("", "/api/v1/voicemails").await.0, 401);
    let (s, list) = app.get(&ivanova, "/api/v1/voicemails").await;
    assert_eq!(s, 200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    let with_audio = list.iter().find(|v| v["id"] == ids[0]).unwrap();
    assert_eq!(with_audio["callback_number"], "+79161234567");
    assert_eq!(with_audio["caller_category"], "staff");
    assert_eq!(with_audio["audio_status"], "stored");
    assert_eq!(with_audio["has_speech"], true);
    assert!(with_audio["duration_ms"].as_i64().unwrap() > 1000);
    assert!(
        with_audio.get("audio_path").is_none(),
        "no file paths in the API"
    );
    assert_eq!(
        with_audio["audio_url"],
        format!("/api/v1/voicemails/{}/audio", ids[0])
    );

    let url = format!("{}/api/v1/voicemails/{}/audio", app.base, ids[0]);
    assert_eq!(app.http.get(&url).send().await.unwrap().status(), 401);
    let r = app
        .http
        .get(&url)
        .bearer_auth(&ivanova)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "audio/wav");
    let full = r.bytes().await.unwrap();
    assert_eq!(&full[..4], b"RIFF");
    let r = app
        .http
        .get(&url)
        .bearer_auth(&ivanova)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 0-99/{}", full.len())
    );
    assert_eq!(r.bytes().await.unwrap(), full[..100]);
    let none = app
        .get(&ivanova, &format!("/api/v1/voicemails/{}/audio", ids[1]))
        .await;
    assert_eq!(none.0, 404);
    assert_eq!(
        app.get(&ivanova, "/api/v1/voicemails/999999/audio").await.0,
        404
    );
    assert_eq!(
        app.get(&ivanova, "/api/v1/voicemails/..%2F..%2Fetc/audio")
            .await
            .0,
        400
    );
    let audits = app.store.recent_audit(20).await.unwrap();
    let listens: Vec<_> = audits
        .iter()
        .filter(|a| a.action == "voicemail.audio")
        .collect();
    assert_eq!(listens.len(), 2, "every access to a recording is audited");
    assert!(
        listens
            .iter()
            .all(|a| a.actor == "ivanova" && a.subject.starts_with("voicemail:"))
    );
}
