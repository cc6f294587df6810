//! Calls end to end through Zadarma's PBX notifications: the app on a real port, a real database
//! (SQLite always, PostgreSQL when configured), `NOTIFY_*` form posts signed exactly as Zadarma
//! signs them (base64 of the hex HMAC-SHA1 of the event's own fields), and the answers walked one
//! action at a time as the PBX does (a bare `NOTIFY_IVR` after each played file).

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::config::{Config, Secret, ZadarmaConfig};
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::speech::Prompt;
use perezvon::store::{NewOperator, NewUser, Store};
use perezvon::switchboard::Switchboard;
use perezvon::telephony::zadarma::{ZadarmaClient, ZadarmaControl, ZadarmaRecordings, signature};
use serde_json::Value;
use support::TestDb;
use support::twilio::msk;

on_both_backends!(
    blocked_and_over_limit_callers_are_hung_up_on,
    answered_by_an_operator,
    no_answer_then_the_next_operator,
    all_busy_then_a_freed_operator,
    voicemail_on_a_holiday_with_a_keyed_number_and_a_recording,
    every_notification_delivered_twice,
    forged_missing_and_malformed,
);

const SECRET: &str = "zadarma-test-secret";
const DID: &str = "74950000000";

fn config() -> Config {
    let prompts: BTreeMap<String, String> = perezvon::speech::catalogue()
        .into_iter()
        .map(|(clip, _)| (clip.clone(), format!("f:{clip}")))
        .collect();
    Config {
        zadarma: Some(ZadarmaConfig {
            key: "test-key".into(),
            secret: Secret::new(SECRET),
            api_base: "http://127.0.0.1:9".into(),
            from_number: Some("+74950000000".into()),
            voicemail_redirect: "0-2".into(),
            prompts,
            hold_music: Some("music".into()),
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
    switchboard: Arc<Switchboard>,
}

async fn spawn(db: &TestDb, now: DateTime<Utc>) -> App {
    let config = config();
    let clock = Arc::new(ManualClock::new(now));
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
        switchboard: switchboard.clone(),
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
        switchboard,
    }
}

/// One inbound call as the PBX describes it.
struct Call {
    id: String,
    caller: String,
    start: String,
}

impl Call {
    fn new(n: u32, caller: &str) -> Call {
        Call {
            id: format!("in_{n:040x}"),
            caller: caller.into(),
            start: "2026-12-07 10:00:00".into(),
        }
    }

    fn fields(&self, event: &str) -> Vec<(String, String)> {
        [
            ("event", event),
            ("call_start", &self.start),
            ("pbx_call_id", &self.id),
            ("caller_id", &self.caller),
            ("called_did", DID),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

fn with(mut f: Vec<(String, String)>, extra: &[(&str, &str)]) -> Vec<(String, String)> {
    f.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    f
}

impl App {
    async fn post_raw(&self, form: &[(String, String)], sig: Option<&str>) -> (u16, String) {
        let mut req = self
            .http
            .post(format!("{}/webhooks/zadarma", self.base))
            .form(form);
        if let Some(sig) = sig {
            req = req.header("Signature", sig);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// Posts a notification signed as Zadarma signs it; expects 200 and returns the JSON answer.
    async fn post(&self, form: &[(String, String)]) -> Value {
        let s = signature::signature_string(form).expect("a known event");
        let (status, body) = self
            .post_raw(form, Some(&signature::sign(SECRET, &s)))
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).unwrap()
    }

    /// Follows the answers as the PBX does: after each plain `ivr_play` (one second later) a
    /// bare `NOTIFY_IVR`. Returns the files played and the first answer that is not a plain play.
    async fn walk(&self, call: &Call, mut answer: Value) -> (Vec<String>, Value) {
        let mut played = Vec::new();
        for _ in 0..60 {
            let plain = answer.get("ivr_play").is_some() && answer.get("wait_dtmf").is_none();
            if !plain {
                return (played, answer);
            }
            played.push(answer["ivr_play"].as_str().unwrap().to_owned());
            self.clock.advance(TimeDelta::seconds(1));
            answer = self.post(&call.fields("NOTIFY_IVR")).await;
        }
        panic!("the script never stopped playing");
    }

    async fn start(&self, call: &Call) -> (Vec<String>, Value) {
        let a = self.post(&call.fields("NOTIFY_START")).await;
        self.walk(call, a).await
    }

    /// Keys entered at the `wait_dtmf` of `answer`.
    async fn keys(&self, call: &Call, answer: &Value, digits: &str) -> (Vec<String>, Value) {
        let name = answer["wait_dtmf"]["name"]
            .as_str()
            .expect("a wait_dtmf")
            .to_owned();
        let default = if digits.is_empty() { "1" } else { "0" };
        let form = with(
            call.fields("NOTIFY_IVR"),
            &[
                ("wait_dtmf[name]", &name),
                ("wait_dtmf[digits]", digits),
                ("wait_dtmf[default_behaviour]", default),
            ],
        );
        let a = self.post(&form).await;
        self.walk(call, a).await
    }

    async fn end(
        &self,
        call: &Call,
        internal: &str,
        duration: &str,
        disposition: &str,
        rec: Option<&str>,
    ) {
        let mut extra = vec![
            ("internal", internal),
            ("duration", duration),
            ("disposition", disposition),
            ("status_code", "16"),
        ];
        match rec {
            Some(r) => extra.extend([("is_recorded", "1"), ("call_id_with_rec", r)]),
            None => extra.push(("is_recorded", "0")),
        }
        let a = self.post(&with(call.fields("NOTIFY_END"), &extra)).await;
        assert_eq!(a, serde_json::json!({}));
    }

    async fn operator(&self, login: &str, ext: &str, presence: Presence) -> i64 {
        let now = self.clock.now();
        let u = NewUser {
            login: login.into(),
            display_name: login.into(),
            role: Role::Operator,
            password_hash: "x".into(),
        };
        let user = self.store.create_user(&u, now).await.unwrap();
        let new = NewOperator {
            user_id: user.id,
            name: login.into(),
            contact_kind: ContactKind::Extension,
            contact: ext.into(),
        };
        let op = self.store.create_operator(&new, now).await.unwrap();
        self.store.set_presence(op.id, presence, now).await.unwrap();
        op.id
    }

    async fn state(&self, call: &Call) -> String {
        let c = self
            .store
            .call_by_provider_id("zadarma", &call.id)
            .await
            .unwrap();
        c.expect("the call is stored").state
    }

    async fn events(&self, call: &Call) -> usize {
        let c = self
            .store
            .call_by_provider_id("zadarma", &call.id)
            .await
            .unwrap();
        let c = c.expect("the call is stored");
        self.store.call_events(c.id).await.unwrap().len()
    }

    async fn presence(&self, id: i64) -> Presence {
        let ops = self.store.operators().await.unwrap();
        ops.iter().find(|o| o.id == id).unwrap().presence
    }
}

fn file(p: Prompt) -> String {
    format!("f:{}", p.clip())
}

fn redirect(ext: &str, ring: i64) -> Value {
    serde_json::json!({ "redirect": ext, "return_timeout": ring })
}

/// Monday 7 December 2026, 10:00 Moscow: the hotline is open.
fn open() -> DateTime<Utc> {
    msk(2026, 12, 7, 10, 0)
}

async fn answered_by_an_operator(db: &TestDb) {
    let app = spawn(db, open()).await;
    let op = app.operator("ivanova", "101", Presence::Available).await;
    let call = Call::new(1, "79161234567");
    let (played, a) = app.start(&call).await;
    assert_eq!(
        played,
        vec![file(Prompt::Greeting), file(Prompt::Connecting)]
    );
    assert_eq!(a, redirect("101", 20));
    assert_eq!(app.state(&call).await, "ringing_operator");
    assert_eq!(app.presence(op).await, Presence::OnCall);
    let ringing = with(call.fields("NOTIFY_INTERNAL"), &[("internal", "101")]);
    assert_eq!(app.post(&ringing).await, serde_json::json!({}));
    let answer = [
        ("event", "NOTIFY_ANSWER"),
        ("caller_id", call.caller.as_str()),
        ("destination", "101"),
        ("call_start", call.start.as_str()),
        ("pbx_call_id", call.id.as_str()),
        ("internal", "101"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    app.post(&answer).await;
    // Both delivered again: nothing more is stored.
    let events = app.events(&call).await;
    assert_eq!(app.post(&ringing).await, serde_json::json!({}));
    app.post(&answer).await;
    assert_eq!(app.events(&call).await, events);
    app.clock.advance(TimeDelta::seconds(95));
    app.end(&call, "101", "95", "answered", None).await;
    assert_eq!(app.state(&call).await, "completed");
    assert_eq!(app.presence(op).await, Presence::WrapUp);
    let stored = app
        .store
        .call_by_provider_id("zadarma", &call.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.from_number.as_deref(), Some("+79161234567"));
    assert_eq!(stored.operator_id, Some(op));
}

/// A blocked number hears its message and the PBX is told to hang up, with an operator free; a
/// caller over the calls-per-hour limit likewise, and their second call counts as a repeat.
async fn blocked_and_over_limit_callers_are_hung_up_on(db: &TestDb) {
    use perezvon::domain::blocklist::{CallLimits, RuleKind};
    let app = spawn(db, open()).await;
    let rule = app
        .store
        .add_block_rule(RuleKind::Number, "+79161230009", "", "boss", open())
        .await
        .unwrap();
    let limits = CallLimits {
        voicemails_per_day: 0,
        calls_per_hour: 1,
    };
    app.store
        .set_call_limits(limits, "boss", open())
        .await
        .unwrap();
    app.operator("ivanova", "101", Presence::Available).await;
    let blocked = Call::new(7, "79161230009");
    let (played, a) = app.start(&blocked).await;
    assert_eq!(played, vec![file(Prompt::Blocked)]);
    assert_eq!(a, serde_json::json!({ "hangup": 1 }));
    app.end(&blocked, "", "3", "cancel", None).await;
    assert_eq!(app.state(&blocked).await, "completed");
    let counts = app.store.blocked_attempts(open()).await.unwrap();
    assert_eq!((counts[0].rule_id, counts[0].total), (rule.id, 1));
    // The first call of the hour reaches the operator; the second is over the limit.
    let first = Call::new(8, "79161230001");
    let (_, a) = app.start(&first).await;
    assert_eq!(a, redirect("101", 20));
    app.clock.advance(TimeDelta::minutes(10));
    let second = Call::new(9, "79161230001");
    let (played, a) = app.start(&second).await;
    assert_eq!(played, vec![file(Prompt::CallLimit)]);
    assert_eq!(a, serde_json::json!({ "hangup": 1 }));
}

async fn no_answer_then_the_next_operator(db: &TestDb) {
    let app = spawn(db, open()).await;
    let first = app.operator("ivanova", "101", Presence::Available).await;
    app.clock.advance(TimeDelta::seconds(5));
    let second = app.operator("petrova", "102", Presence::Available).await;
    let call = Call::new(2, "79161234567");
    let (_, a) = app.start(&call).await;
    assert_eq!(a, redirect("101", 20), "the longest idle first");
    // 20 s of ringing, then the PBX brings the call back to the menu: a bare NOTIFY_IVR.
    app.clock.advance(TimeDelta::seconds(20));
    let back = app.post(&call.fields("NOTIFY_IVR")).await;
    let (_, a) = app.walk(&call, back).await;
    assert_eq!(a, redirect("102", 20));
    assert_eq!(app.presence(first).await, Presence::Available);
    assert_eq!(app.presence(second).await, Presence::OnCall);
    app.end(&call, "102", "30", "answered", None).await;
    assert_eq!(app.state(&call).await, "completed");
}

async fn all_busy_then_a_freed_operator(db: &TestDb) {
    let app = spawn(db, open()).await;
    let op = app.operator("ivanova", "101", Presence::Available).await;
    let busy = Call::new(3, "79160000003");
    let (_, a) = app.start(&busy).await;
    assert_eq!(a, redirect("101", 20));
    let caller = Call::new(4, "79160000004");
    let (played, hold) = app.start(&caller).await;
    assert!(played.contains(&file(Prompt::AllBusy)), "{played:?}");
    assert_eq!(hold["ivr_play"], "music");
    assert_eq!(hold["wait_dtmf"]["timeout"], 8);
    assert_eq!(hold["wait_dtmf"]["default"], "0-2");
    assert_eq!(app.state(&caller).await, "queued");
    // The next hold period is quiet (announcements every 30 s), the same for a re-delivery.
    app.clock.advance(TimeDelta::seconds(8));
    let (played, quiet) = app.keys(&caller, &hold, "").await;
    assert!(played.is_empty(), "{played:?}");
    assert!(
        quiet["wait_dtmf"]["name"]
            .as_str()
            .unwrap()
            .starts_with("qh."),
        "{quiet}"
    );
    assert_eq!(quiet["ivr_play"], "music");
    assert_eq!(app.keys(&caller, &hold, "").await.1, quiet);
    // Hold periods go on quietly until 30 s of waiting: then the place is announced again.
    let queued_at = app
        .store
        .call_by_provider_id("zadarma", &caller.id)
        .await
        .unwrap()
        .unwrap()
        .queued_at
        .unwrap();
    let mut last = quiet;
    let hold = loop {
        app.clock.advance(TimeDelta::seconds(8));
        let (played, next) = app.keys(&caller, &last, "").await;
        let waited = app.clock.now() - queued_at;
        if !played.is_empty() {
            assert!(waited >= TimeDelta::seconds(30), "announced after {waited}");
            break next;
        }
        assert!(
            waited < TimeDelta::seconds(30),
            "still quiet after {waited}"
        );
        assert!(
            next["wait_dtmf"]["name"]
                .as_str()
                .unwrap()
                .starts_with("qh.")
        );
        last = next;
    };
    assert!(
        hold["wait_dtmf"]["name"]
            .as_str()
            .unwrap()
            .starts_with("qm."),
        "{hold}"
    );
    // The first call ends; the dispatcher reserves the operator for the queued caller.
    app.clock.advance(TimeDelta::seconds(40));
    app.end(&busy, "101", "40", "answered", None).await;
    app.clock.advance(TimeDelta::seconds(31));
    let control = ZadarmaControl;
    assert_eq!(app.switchboard.dispatch_once(&control).await.unwrap(), 1);
    assert_eq!(app.state(&caller).await, "connecting");
    // The hold tick ends with nothing pressed: the caller is connected.
    let (played, a) = app.keys(&caller, &hold, "").await;
    assert_eq!(played, vec![file(Prompt::Connecting)]);
    assert_eq!(a, redirect("101", 20));
    assert_eq!(app.state(&caller).await, "ringing_operator");
    assert_eq!(app.presence(op).await, Presence::OnCall);
}

async fn voicemail_on_a_holiday_with_a_keyed_number_and_a_recording(db: &TestDb) {
    // Friday 1 January 2027, a public holiday, 11:00.
    let app = spawn(db, msk(2027, 1, 1, 11, 0)).await;
    app.operator("ivanova", "101", Presence::Available).await;
    let call = Call::new(5, "79161234567");
    let (played, a) = app.start(&call).await;
    assert!(played.contains(&file(Prompt::OffHours)), "{played:?}");
    assert!(played.contains(&file(Prompt::WorkingHours)), "{played:?}");
    let number = a["wait_dtmf"]["name"].as_str().unwrap();
    assert!(number.starts_with("vn0."), "{a}");
    assert_eq!(a["ivr_play"], file(Prompt::OtherNumber));
    let (_, a) = app.keys(&call, &a, "89031112233").await;
    assert!(
        a["wait_dtmf"]["name"].as_str().unwrap().starts_with("vc0."),
        "{a}"
    );
    assert_eq!(a["ivr_play"], file(Prompt::CategoryMenu));
    let (played, a) = app.keys(&call, &a, "2").await;
    assert_eq!(played, vec![file(Prompt::RecordAfterBeep)]);
    assert_eq!(a, redirect("0-2", 0), "the PBX's recording scenario");
    app.clock.advance(TimeDelta::seconds(40));
    app.end(&call, "", "75", "answered", Some("1700000000.123"))
        .await;
    assert_eq!(app.state(&call).await, "completed");
    let stored = app
        .store
        .call_by_provider_id("zadarma", &call.id)
        .await
        .unwrap()
        .unwrap();
    let vm = app
        .store
        .voicemail_for_call(stored.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vm.callback_number.as_deref(), Some("+79031112233"));
    assert!(vm.number_confirmed);
    assert_eq!(vm.caller_category.as_deref(), Some("parent"));
    assert_eq!(vm.recording_key.as_deref(), Some("zadarma:1700000000.123"));
    assert!(
        vm.callback_request_id.is_some(),
        "the voicemail is on the callback list"
    );
    // NOTIFY_RECORD for the same file adds nothing.
    let record = [
        ("event", "NOTIFY_RECORD"),
        ("pbx_call_id", call.id.as_str()),
        ("call_id_with_rec", "1700000000.123"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    app.post(&record).await;
    // The download job fetches the link from Zadarma's API, then the MP3, and stores it as WAV.
    let api = wiremock::MockServer::start().await;
    let link = format!(
        "{}/v1/pbx/record/download/Tk1/1700000000.123.mp3",
        api.uri()
    );
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/v1/pbx/record/request/"))
        .and(wiremock::matchers::query_param("call_id", "1700000000.123"))
        .and(wiremock::matchers::header_exists("authorization"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_json(
            serde_json::json!({"status": "success", "link": link, "lifetime_till": "2027-01-01 12:00:00"}),
        ))
        .expect(1)
        .mount(&api)
        .await;
    let mp3 = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audio/speech-8k.mp3"),
    )
    .unwrap();
    wiremock::Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path(
            "/v1/pbx/record/download/Tk1/1700000000.123.mp3",
        ))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_bytes(mp3))
        .expect(1)
        .mount(&api)
        .await;
    let data = tempfile::tempdir().unwrap();
    let client = ZadarmaClient::new(&api.uri(), "test-key", SECRET).unwrap();
    let download = perezvon::jobs::download::Download {
        store: app.store.clone(),
        sources: vec![Arc::new(ZadarmaRecordings::new(client))],
        data_dir: data.path().to_owned(),
        delete_at_provider: false,
    };
    let worker = perezvon::jobs::Worker::new(
        app.store.clone(),
        app.clock.clone(),
        vec![Arc::new(download)],
    );
    app.clock.advance(TimeDelta::seconds(40));
    assert_eq!(worker.run_due().await.unwrap(), 1, "one download job");
    assert_eq!(worker.run_due().await.unwrap(), 0);
    let vm = app
        .store
        .voicemail_for_call(stored.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vm.audio_status, "stored");
    let wav = vm.audio_path.expect("a WAV path");
    assert!(std::path::Path::new(&wav).exists(), "{wav}");
    assert!(vm.duration_ms.unwrap_or(0) > 0);
    assert!(vm.original_path.unwrap().ends_with(".mp3"));
}

async fn every_notification_delivered_twice(db: &TestDb) {
    let app = spawn(db, msk(2027, 1, 1, 11, 0)).await;
    let call = Call::new(6, "79161234567");
    let first = app.post(&call.fields("NOTIFY_START")).await;
    assert_eq!(app.post(&call.fields("NOTIFY_START")).await, first);
    // A bare NOTIFY_IVR and its immediate re-delivery: the same next file, once.
    app.clock.advance(TimeDelta::seconds(1));
    let next = app.post(&call.fields("NOTIFY_IVR")).await;
    app.clock.advance(TimeDelta::milliseconds(100));
    assert_eq!(app.post(&call.fields("NOTIFY_IVR")).await, next);
    assert_ne!(next, first);
    let (_, ask) = app.walk(&call, next).await;
    let (_, a1) = app.keys(&call, &ask, "89031112233").await;
    let (_, a2) = app.keys(&call, &ask, "89031112233").await;
    assert_eq!(a1, a2);
    let events = |s: Arc<dyn Store>, id: String| async move {
        let c = s
            .call_by_provider_id("zadarma", &id)
            .await
            .unwrap()
            .unwrap();
        s.call_events(c.id).await.unwrap().len()
    };
    let before = events(app.store.clone(), call.id.clone()).await;
    app.end(&call, "", "20", "cancel", None).await;
    let after = events(app.store.clone(), call.id.clone()).await;
    app.end(&call, "", "20", "cancel", None).await;
    assert_eq!(events(app.store.clone(), call.id.clone()).await, after);
    assert!(after > before);
    assert_eq!(app.state(&call).await, "abandoned");
}

async fn forged_missing_and_malformed(db: &TestDb) {
    let app = spawn(db, open()).await;
    let call = Call::new(7, "79161234567");
    let form = call.fields("NOTIFY_START");
    let (s, _) = app.post_raw(&form, None).await;
    assert_eq!(s, 403);
    let (s, _) = app.post_raw(&form, Some("Zm9yZ2Vk")).await;
    assert_eq!(s, 403);
    // Signed with the secret over other fields (the caller changed afterwards).
    let good = signature::sign(SECRET, &signature::signature_string(&form).unwrap());
    let mut tampered = form.clone();
    tampered[3].1 = "79990000000".into();
    let (s, _) = app.post_raw(&tampered, Some(&good)).await;
    assert_eq!(s, 403);
    assert!(
        app.store
            .call_by_provider_id("zadarma", &call.id)
            .await
            .unwrap()
            .is_none()
    );
    // Correctly signed but without pbx_call_id: 400 naming the field.
    let broken: Vec<_> = form
        .iter()
        .filter(|(k, _)| k != "pbx_call_id")
        .cloned()
        .collect();
    let (s, body) = app.post_raw(&broken, Some(&good)).await;
    assert_eq!(s, 400);
    assert!(body.contains("pbx_call_id"), "{body}");
    // An event we do not handle: 200, nothing stored.
    let other = [("event", "NOTIFY_SOMETHING_NEW"), ("pbx_call_id", "x")]
        .map(|(k, v)| (k.to_string(), v.to_string()));
    let (s, body) = app.post_raw(&other, None).await;
    assert_eq!((s, body.as_str()), (200, "{}"));
    // The URL check.
    let r = app
        .http
        .get(format!("{}/webhooks/zadarma?zd_echo=Xy7-echo", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    assert_eq!(r.text().await.unwrap(), "Xy7-echo");
}
