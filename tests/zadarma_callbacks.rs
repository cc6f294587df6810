//! Click-to-call callbacks through Zadarma end to end: the app on a real port, a real database
//! (SQLite always, PostgreSQL when configured), an operator with a PBX extension holding a
//! callback request and an attempt stored as Zadarma's dialer stores it (synthetic call id), then
//! `NOTIFY_OUT_START` / `NOTIFY_OUT_END` signed as Zadarma signs them, each delivered twice, and
//! notifications for another extension or number that must leave the attempt alone.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::config::{Config, Secret, ZadarmaConfig};
use perezvon::domain::callback::CallbackSettings;
use perezvon::domain::operator::ContactKind;
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::store::{AttachVoicemail, Attempt, DialStart, NewOperator, NewUser, Store};
use perezvon::switchboard::Switchboard;
use perezvon::telephony::zadarma::dialer::callback_call_id;
use perezvon::telephony::zadarma::signature;
use support::TestDb;

on_both_backends!(click_to_call_progress_from_out_notifications);

const SECRET: &str = "zadarma-test-secret";
/// The caller to call back, as stored (E.164) and as Zadarma sends it (digits).
const NUMBER: &str = "+79161234567";
const DIGITS: &str = "79161234567";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap()
}

fn config() -> Config {
    Config {
        zadarma: Some(ZadarmaConfig {
            key: "test-key".into(),
            secret: Secret::new(SECRET),
            api_base: "http://127.0.0.1:9".into(),
            from_number: Some("+74950000000".into()),
            voicemail_redirect: "0-2".into(),
            prompts: BTreeMap::new(),
            hold_music: None,
            hold_tick_secs: 8,
            predicted: false,
            delete_recordings: false,
            extension_of: BTreeMap::new(),
        }),
        ..Config::default()
    }
}

struct App {
    base: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
}

async fn spawn(db: &TestDb) -> App {
    let config = config();
    let clock = Arc::new(ManualClock::new(t0()));
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
        clock,
        store: db.store.clone(),
    }
}

impl App {
    /// Posts a notification signed as Zadarma signs it; expects 200 and `{}`.
    async fn post(&self, form: &[(String, String)]) {
        let s = signature::signature_string(form).expect("a known event");
        let r = self
            .http
            .post(format!("{}/webhooks/zadarma", self.base))
            .header("Signature", signature::sign(SECRET, &s))
            .form(form)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let body = r.text().await.unwrap();
        assert_eq!(status, 200, "{body}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            serde_json::json!({})
        );
    }

    async fn out_start(&self, pbx: &str, internal: &str, destination: &str) {
        self.post(&out_fields(
            "NOTIFY_OUT_START",
            pbx,
            internal,
            destination,
            &[],
        ))
        .await;
    }

    async fn out_end(&self, pbx: &str, internal: &str, destination: &str, disposition: &str) {
        let extra = [
            ("duration", "42"),
            ("disposition", disposition),
            ("status_code", "16"),
            ("is_recorded", "0"),
        ];
        let f = out_fields("NOTIFY_OUT_END", pbx, internal, destination, &extra);
        self.post(&f).await;
    }

    async fn operator(&self, login: &str, ext: &str) -> i64 {
        let u = NewUser {
            login: login.into(),
            display_name: login.into(),
            role: Role::Operator,
            password_hash: "x".into(),
        };
        let user = self.store.create_user(&u, t0()).await.unwrap();
        let new = NewOperator {
            user_id: user.id,
            name: login.into(),
            contact_kind: ContactKind::Extension,
            contact: ext.into(),
        };
        self.store.create_operator(&new, t0()).await.unwrap().id
    }

    /// A voicemail from `number` making a callback request; its id.
    async fn request(&self, sid: &str, number: &str) -> i64 {
        let s = &self.store;
        let call = s
            .ensure_call("zadarma", sid, Some(number), Some("+74950000000"), t0())
            .await
            .unwrap();
        s.start_voicemail(call.id, Some(number), t0())
            .await
            .unwrap();
        let p = CallbackSettings::default().priority;
        let a = AttachVoicemail {
            call_id: call.id,
            number,
            category: None,
            now: t0(),
            due: t0(),
            deadline: t0() + TimeDelta::hours(8),
            deadline_work_ms: 1_000,
            priority: &p,
            source: "voicemail",
            registration: &perezvon::domain::registration::RegistrationFormat::default(),
        };
        s.attach_voicemail(&a).await.unwrap().unwrap().request_id()
    }

    /// A click-to-call of the request by the operator, stored as Zadarma's dialer stores it.
    async fn dial(&self, request: i64, op: i64, key: &str) -> Attempt {
        let s = &self.store;
        let now = self.clock.now();
        let DialStart::Started(att) = s
            .begin_dial(request, op, key, now, TimeDelta::minutes(2))
            .await
            .unwrap()
        else {
            panic!("a new attempt")
        };
        s.finish_dial(att.id, "ivanova", Ok(&callback_call_id(att.id)), now)
            .await
            .unwrap()
            .unwrap()
    }

    async fn attempt(&self, id: i64) -> Attempt {
        self.store.attempt(id).await.unwrap().unwrap()
    }
}

fn out_fields(
    event: &str,
    pbx: &str,
    internal: &str,
    destination: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    [
        ("event", event),
        ("call_start", "2026-12-07 12:00:00"),
        ("pbx_call_id", pbx),
        ("internal", internal),
        ("destination", destination),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The stored status and end of an attempt.
fn progress(a: &Attempt) -> (Option<&str>, Option<DateTime<Utc>>) {
    (a.call_status.as_deref(), a.ended_at)
}

async fn click_to_call_progress_from_out_notifications(db: &TestDb) {
    let app = spawn(db).await;
    let ivanova = app.operator("ivanova", "101").await;
    app.operator("petrov", "102").await;
    let request = app.request("in_1", NUMBER).await;
    app.store
        .claim_callback(ivanova, "ivanova", t0(), TimeDelta::minutes(15))
        .await
        .unwrap()
        .unwrap();
    let first = app.dial(request, ivanova, "k1").await;
    assert_eq!(
        first.provider_call_id.as_deref(),
        Some(callback_call_id(first.id).as_str())
    );
    assert_eq!(progress(&first), (None, None));

    // Another extension's call to the same number, and this extension's call to another number.
    app.clock.advance(TimeDelta::seconds(2));
    app.out_start("out_other_1", "102", DIGITS).await;
    app.out_start("out_other_2", "101", "79160000000").await;
    assert_eq!(progress(&app.attempt(first.id).await), (None, None));

    // The PBX calls: in progress, twice.
    app.clock.advance(TimeDelta::seconds(1));
    app.out_start("out_1", "101", DIGITS).await;
    assert_eq!(
        progress(&app.attempt(first.id).await),
        (Some("in-progress"), None)
    );
    app.clock.advance(TimeDelta::seconds(1));
    app.out_start("out_1", "101", DIGITS).await;
    assert_eq!(
        progress(&app.attempt(first.id).await),
        (Some("in-progress"), None)
    );

    // Other calls ending change nothing either.
    app.out_end("out_other_1", "102", DIGITS, "answered").await;
    app.out_end("out_other_2", "101", "79160000000", "busy")
        .await;
    assert_eq!(
        progress(&app.attempt(first.id).await),
        (Some("in-progress"), None)
    );

    // Answered and ended: completed at the first delivery; the re-delivery changes nothing.
    app.clock.advance(TimeDelta::seconds(42));
    let ended = app.clock.now();
    app.out_end("out_1", "101", DIGITS, "answered").await;
    assert_eq!(
        progress(&app.attempt(first.id).await),
        (Some("completed"), Some(ended))
    );
    app.clock.advance(TimeDelta::seconds(5));
    app.out_end("out_1", "101", DIGITS, "answered").await;
    app.out_start("out_1", "101", DIGITS).await;
    assert_eq!(
        progress(&app.attempt(first.id).await),
        (Some("completed"), Some(ended))
    );

    // A second click-to-call nobody answers: `no answer` ends it as `no-answer`, twice delivered;
    // the first attempt stays as it was.
    app.clock.advance(TimeDelta::minutes(1));
    let second = app.dial(request, ivanova, "k2").await;
    assert_ne!(second.id, first.id);
    app.out_start("out_2", "101", DIGITS).await;
    app.clock.advance(TimeDelta::seconds(30));
    let missed = app.clock.now();
    app.out_end("out_2", "101", DIGITS, "NO ANSWER").await;
    app.clock.advance(TimeDelta::seconds(5));
    app.out_end("out_2", "101", DIGITS, "NO ANSWER").await;
    assert_eq!(
        progress(&app.attempt(second.id).await),
        (Some("no-answer"), Some(missed))
    );
    assert_eq!(
        progress(&app.attempt(first.id).await),
        (Some("completed"), Some(ended))
    );
    let all = app.store.attempts_of(request).await.unwrap();
    assert_eq!(all.len(), 2);
}
