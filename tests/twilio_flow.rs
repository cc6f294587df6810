//! Calls end to end through Twilio's webhooks: the app on a real port, a real database (SQLite
//! always, PostgreSQL when configured), correctly signed requests exactly as Twilio sends them,
//! and a local fake of Twilio's REST API (wiremock) for moving queued calls.

mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::store::{NewOperator, NewUser};
use perezvon::switchboard::Switchboard;
use perezvon::telephony::Step;
use perezvon::telephony::twilio::{
    Route, TwilioClient, TwilioControl, expected_signature, route_path,
};
use support::TestDb;
use support::twilio::{self, PUBLIC, SID, TOKEN, msk, params};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct App {
    base: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    db_store: Arc<dyn perezvon::store::Store>,
    twilio: MockServer,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn spawn(db: &TestDb, now: DateTime<Utc>) -> App {
    let twilio = MockServer::start().await;
    let config = twilio::config(&twilio.uri());
    let clock = Arc::new(ManualClock::new(now));
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    let switchboard = Arc::new(Switchboard::new(
        db.store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    ));
    let client = TwilioClient::new(&twilio.uri(), SID, TOKEN).unwrap();
    let control = Arc::new(TwilioControl {
        client,
        public_url: PUBLIC.into(),
    });
    let (stop, mut rx) = tokio::sync::watch::channel(false);
    tokio::spawn(
        switchboard
            .clone()
            .run_dispatcher(vec![control], async move {
                let _ = rx.wait_for(|s| *s).await;
            }),
    );
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
        db_store: db.store.clone(),
        twilio,
        _stop: stop,
    }
}

impl App {
    /// Posts a webhook signed exactly as Twilio signs it; returns status and body.
    async fn post(&self, route: &Route, form: &[(&str, &str)]) -> (u16, String) {
        twilio::post_signed(&self.http, &self.base, route, form).await
    }

    async fn post_raw(
        &self,
        path: &str,
        p: &[(String, String)],
        sig: Option<&str>,
    ) -> (u16, String) {
        let mut req = self.http.post(format!("{}{path}", self.base)).form(p);
        if let Some(sig) = sig {
            req = req.header("X-Twilio-Signature", sig);
        }
        let r = req.send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    async fn voice(&self, call: &str, from: &str) -> String {
        let (s, body) = self
            .post(
                &Route::Voice,
                &[
                    ("CallSid", call),
                    ("AccountSid", SID),
                    ("From", from),
                    ("To", "+74950000000"),
                    ("CallStatus", "ringing"),
                    ("Direction", "inbound"),
                    ("ApiVersion", "2010-04-01"),
                ],
            )
            .await;
        assert_eq!(s, 200, "{body}");
        body
    }

    async fn operator(&self, login: &str, sip: &str, presence: Presence) -> i64 {
        let now = self.clock.now();
        let u = NewUser {
            login: login.into(),
            display_name: login.into(),
            role: Role::Operator,
            password_hash: "x".into(),
        };
        let user = self.db_store.create_user(&u, now).await.unwrap();
        let new = NewOperator {
            user_id: user.id,
            name: login.into(),
            contact_kind: ContactKind::Sip,
            contact: sip.into(),
        };
        let op = self.db_store.create_operator(&new, now).await.unwrap();
        self.db_store
            .set_presence(op.id, presence, now)
            .await
            .unwrap();
        op.id
    }

    async fn call_state(&self, sid: &str) -> String {
        self.db_store
            .call_by_provider_id("twilio", sid)
            .await
            .unwrap()
            .unwrap()
            .state
    }

    async fn presence(&self, login: &str) -> Presence {
        self.db_store
            .operator_by_login(login)
            .await
            .unwrap()
            .unwrap()
            .presence
    }
}

on_both_backends!(
    signatures_and_bad_requests,
    off_hours_caller_hears_the_next_opening,
    longest_idle_operator_then_queue_on_no_answer,
    queue_caller_connected_when_an_operator_frees_up,
    queue_leaves_on_max_wait_and_statuses_out_of_order,
    voicemail_with_contact_details,
);

async fn signatures_and_bad_requests(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    let path = route_path(&Route::Voice);
    let p = params(&[
        ("CallSid", "CA100"),
        ("From", "+79161234567"),
        ("To", "+74950000000"),
    ]);
    assert_eq!(app.post_raw(&path, &p, None).await.0, 403);
    assert_eq!(
        app.post_raw(&path, &p, Some("bm90IGEgc2lnbmF0dXJl"))
            .await
            .0,
        403
    );
    // Signed for another URL (e.g. the internal address instead of the public one): rejected.
    let wrong_url = expected_signature(TOKEN, &format!("{}{path}", app.base), &p);
    assert_eq!(app.post_raw(&path, &p, Some(&wrong_url)).await.0, 403);
    // Signed with another token: rejected.
    let wrong_token = expected_signature("other-token", &format!("{PUBLIC}{path}"), &p);
    assert_eq!(app.post_raw(&path, &p, Some(&wrong_token)).await.0, 403);
    assert!(
        app.db_store
            .call_by_provider_id("twilio", "CA100")
            .await
            .unwrap()
            .is_none(),
        "nothing changed"
    );
    // Correctly signed but missing CallSid: 400 naming the field.
    let (s, body) = app.post(&Route::Voice, &[("From", "+79161234567")]).await;
    assert_eq!(s, 400);
    assert!(body.contains("CallSid"), "{body}");
    let (s, body) = app
        .post(
            &Route::DialResult,
            &[("CallSid", "CA100"), ("DialCallStatus", "exploded")],
        )
        .await;
    assert_eq!(s, 400);
    assert!(body.contains("DialCallStatus"), "{body}");
    let r = app
        .http
        .post(format!("{}{path}", app.base))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let (s, _) = app
        .post_raw("/webhooks/twilio/nowhere", &p, Some("x"))
        .await;
    assert_eq!(s, 404);
    // The prompts the TwiML points at are served; nothing else is.
    let r = app
        .http
        .get(format!("{}/audio/prompts/ru/static/greeting.wav", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap()
        ),
        (200, "audio/wav")
    );
    assert_eq!(&r.bytes().await.unwrap()[..4], b"RIFF");
    for bad in [
        "ru/static/nope.wav",
        "../../Cargo.toml",
        "ru/../../../etc/passwd",
        "catalogue.tsv",
    ] {
        let r = app
            .http
            .get(format!("{}/audio/prompts/{bad}", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{bad}");
    }
}

async fn off_hours_caller_hears_the_next_opening(db: &TestDb) {
    // Friday 27 November 2026, 18:30 Moscow: closed until Monday 30 November, 9:00.
    let app = spawn(db, msk(2026, 11, 27, 18, 30)).await;
    app.operator("op1", "sip:op1@pbx.school.example", Presence::Available)
        .await;
    let twiml = app.voice("CA200", "+79161234567").await;
    assert!(
        twiml.starts_with("<?xml") && twiml.contains("<Response>"),
        "{twiml}"
    );
    assert!(!twiml.contains("<Dial"), "{twiml}");
    for clip in [
        "ru/static/greeting.wav",
        "ru/static/off_hours.wav",
        "ru/date/wd_1.wav",
        "ru/date/day_30.wav",
        "ru/date/month_11.wav",
        "ru/time/hour_09.wav",
    ] {
        assert!(
            twiml.contains(&format!("<Play>{PUBLIC}/audio/prompts/{clip}</Play>")),
            "{clip} in {twiml}"
        );
    }
    // Then the voicemail steps begin: the callback number ending in 45-67.
    assert!(
        twiml.trim_end().ends_with(&format!(
            "<Redirect method=\"POST\">{PUBLIC}/webhooks/twilio/gather/voicemail-number?attempt=0</Redirect></Response>"
        )),
        "{twiml}"
    );
    assert!(
        twiml.contains("ru/digits/pair_45.wav") && twiml.contains("ru/digits/pair_67.wav"),
        "{twiml}"
    );
    assert_eq!(app.call_state("CA200").await, "voicemail");
    assert_eq!(
        app.presence("op1").await,
        Presence::Available,
        "nobody was rung"
    );
}

async fn longest_idle_operator_then_queue_on_no_answer(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    app.operator(
        "op-recent",
        "sip:recent@pbx.school.example",
        Presence::Available,
    )
    .await;
    // op-idle has been free for 20 minutes, op-recent only since now: op-idle is rung first.
    let idle = app
        .operator("op-idle", "sip:idle@pbx.school.example", Presence::Offline)
        .await;
    app.db_store
        .set_presence(
            idle,
            Presence::Available,
            app.clock.now() - TimeDelta::minutes(20),
        )
        .await
        .unwrap();
    let twiml = app.voice("CA300", "+79161234567").await;
    assert!(
        twiml.contains("<Sip>sip:idle@pbx.school.example</Sip>"),
        "longest idle first: {twiml}"
    );
    assert!(
        twiml.contains(&format!("action=\"{PUBLIC}/webhooks/twilio/dial\"")),
        "{twiml}"
    );
    assert_eq!(app.presence("op-idle").await, Presence::OnCall);
    assert_eq!(app.call_state("CA300").await, "ringing_operator");
    // Twilio re-delivers the same webhook: the same TwiML, nothing changes.
    assert_eq!(app.voice("CA300", "+79161234567").await, twiml);
    let call = app
        .db_store
        .call_by_provider_id("twilio", "CA300")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(app.db_store.call_events(call.id).await.unwrap().len(), 1);

    // op-idle does not answer: the next free operator is rung.
    let (s, twiml) = app
        .post(
            &Route::DialResult,
            &[
                ("CallSid", "CA300"),
                ("DialCallStatus", "no-answer"),
                ("DialCallSid", "CA301"),
            ],
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        twiml.contains("<Sip>sip:recent@pbx.school.example</Sip>"),
        "{twiml}"
    );
    let missed = app
        .db_store
        .operator_by_login("op-idle")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (missed.presence, missed.consecutive_misses),
        (Presence::Available, 1)
    );
    // op-recent is busy too; op-idle is free but was tried for this call: the caller holds.
    let (_, twiml) = app
        .post(
            &Route::DialResult,
            &[
                ("CallSid", "CA300"),
                ("DialCallStatus", "busy"),
                ("DialCallSid", "CA302"),
            ],
        )
        .await;
    assert!(
        twiml.contains("<Enqueue")
            && twiml.contains("waitUrl=\"https://hotline.example.ru/webhooks/twilio/queue/wait\""),
        "{twiml}"
    );
    assert_eq!(app.call_state("CA300").await, "queued");

    // A wait tick announces the position and the wait, with 1 for voicemail.
    let (_, twiml) = app
        .post(
            &Route::QueueWait,
            &[
                ("CallSid", "CA300"),
                ("QueuePosition", "1"),
                ("QueueTime", "15"),
                ("CurrentQueueSize", "1"),
            ],
        )
        .await;
    assert!(
        twiml.contains("<Gather") && twiml.contains("numDigits=\"1\""),
        "{twiml}"
    );
    assert!(
        twiml.contains("ru/queue/next.wav") && twiml.contains("ru/static/voicemail_offer.wav"),
        "{twiml}"
    );
    // The caller presses 1: leave the queue; then the goodbye (voicemail comes with the next issue).
    let (_, twiml) = app
        .post(
            &Route::Gather(Step::QueueMenu),
            &[("CallSid", "CA300"), ("Digits", "1")],
        )
        .await;
    assert!(twiml.contains("<Leave/>"), "{twiml}");
    let (_, twiml) = app
        .post(
            &Route::QueueLeft,
            &[
                ("CallSid", "CA300"),
                ("QueueResult", "leave"),
                ("QueueTime", "20"),
            ],
        )
        .await;
    assert!(
        twiml.contains("to_voicemail.wav") && twiml.contains("voicemail-number?attempt=0"),
        "{twiml}"
    );
    assert_eq!(app.call_state("CA300").await, "voicemail");
    app.post(
        &Route::Status,
        &[
            ("CallSid", "CA300"),
            ("CallStatus", "completed"),
            ("SequenceNumber", "5"),
            ("CallDuration", "60"),
        ],
    )
    .await;
    // Hung up during the voicemail steps: abandoned, but the voicemail stays to be called back.
    assert_eq!(app.call_state("CA300").await, "abandoned");
    let call = app
        .db_store
        .call_by_provider_id("twilio", "CA300")
        .await
        .unwrap()
        .unwrap();
    let vm = app
        .db_store
        .voicemail_for_call(call.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(vm.callback_number.as_deref(), Some("+79161234567"));
}

async fn queue_caller_connected_when_an_operator_frees_up(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Calls/CAB\.json$",
        ))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"sid": "CAB", "status": "in-progress"})),
        )
        .expect(1)
        .mount(&app.twilio)
        .await;
    let op = app
        .operator("op1", "sip:op1@pbx.school.example", Presence::Available)
        .await;
    let twiml = app.voice("CAA", "+79160000001").await;
    assert!(twiml.contains("<Sip>sip:op1@"), "{twiml}");
    let twiml = app.voice("CAB", "+79160000002").await;
    assert!(twiml.contains("<Enqueue"), "op1 busy: B holds: {twiml}");
    // A talks to op1 and hangs up: op1 wraps up for 30 s; B still holds.
    app.post(
        &Route::DialResult,
        &[
            ("CallSid", "CAA"),
            ("DialCallStatus", "completed"),
            ("DialCallSid", "CA-leg"),
            ("DialCallDuration", "240"),
        ],
    )
    .await;
    assert_eq!(app.presence("op1").await, Presence::WrapUp);
    assert_eq!(app.call_state("CAA").await, "connected");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        app.twilio.received_requests().await.unwrap().is_empty(),
        "no redirect during wrap-up"
    );
    // Wrap-up over: the dispatcher moves B to op1 through Twilio's REST API.
    app.clock.advance(TimeDelta::seconds(31));
    let mut redirected = None;
    for _ in 0..50 {
        if let Some(r) = app
            .twilio
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .next()
        {
            redirected = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let req = redirected.expect("the dispatcher redirected the queued call");
    let auth = req
        .headers
        .get("authorization")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(auth.starts_with("Basic "), "{auth}");
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    let url = format!("{PUBLIC}/webhooks/twilio/connect?operator={op}");
    assert!(form.contains(&("Url".into(), url)), "{form:?}");
    assert_eq!(app.call_state("CAB").await, "connecting");
    assert_eq!(app.presence("op1").await, Presence::OnCall);
    // Twilio fetches the connect URL: dial op1.
    let (s, twiml) = app
        .post(
            &Route::Connect { operator_id: op },
            &[("CallSid", "CAB"), ("CallStatus", "in-progress")],
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        twiml.contains("<Sip>sip:op1@pbx.school.example</Sip>"),
        "{twiml}"
    );
    assert_eq!(app.call_state("CAB").await, "ringing_operator");
    // The queue's own action reports the redirect: no change.
    let (_, twiml) = app
        .post(
            &Route::QueueLeft,
            &[
                ("CallSid", "CAB"),
                ("QueueResult", "redirected"),
                ("QueueTime", "45"),
            ],
        )
        .await;
    assert!(!twiml.contains("<Hangup/>"), "{twiml}");
    assert_eq!(app.call_state("CAB").await, "ringing_operator");
    // B hangs up while op1's phone rings: op1 is free again, with no miss counted.
    app.post(
        &Route::Status,
        &[
            ("CallSid", "CAB"),
            ("CallStatus", "completed"),
            ("SequenceNumber", "3"),
        ],
    )
    .await;
    assert_eq!(app.call_state("CAB").await, "abandoned");
    let o = app
        .db_store
        .operator_by_login("op1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((o.presence, o.consecutive_misses), (Presence::Available, 0));
}

async fn queue_leaves_on_max_wait_and_statuses_out_of_order(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    app.operator("busy", "sip:busy@pbx.school.example", Presence::Available)
        .await;
    app.voice("CA1", "+79160000001").await;
    let twiml = app.voice("CA2", "+79160000002").await;
    assert!(twiml.contains("<Enqueue"), "{twiml}");
    let (_, twiml) = app
        .post(
            &Route::QueueWait,
            &[
                ("CallSid", "CA2"),
                ("QueuePosition", "1"),
                ("QueueTime", "120"),
            ],
        )
        .await;
    assert!(twiml.contains("<Leave/>"), "max wait reached: {twiml}");
    let (_, twiml) = app
        .post(
            &Route::QueueLeft,
            &[
                ("CallSid", "CA2"),
                ("QueueResult", "leave"),
                ("QueueTime", "121"),
            ],
        )
        .await;
    assert!(twiml.contains("voicemail-number"), "{twiml}");
    // Status callbacks arrive out of order: `completed` first, then a late `ringing`.
    app.post(
        &Route::Status,
        &[
            ("CallSid", "CA2"),
            ("CallStatus", "completed"),
            ("SequenceNumber", "2"),
        ],
    )
    .await;
    app.post(
        &Route::Status,
        &[
            ("CallSid", "CA2"),
            ("CallStatus", "ringing"),
            ("SequenceNumber", "0"),
        ],
    )
    .await;
    assert_eq!(app.call_state("CA2").await, "abandoned");
    // The first caller hangs up while ringing: abandoned, operator released.
    app.post(
        &Route::DialResult,
        &[
            ("CallSid", "CA1"),
            ("DialCallStatus", "canceled"),
            ("DialCallSid", "CA1-leg"),
        ],
    )
    .await;
    assert_eq!(app.call_state("CA1").await, "abandoned");
    assert_eq!(app.presence("busy").await, Presence::Available);
}

async fn voicemail_with_contact_details(db: &TestDb) {
    // Saturday 28 November 2026, 11:00 Moscow: closed; a caller with a hidden number.
    let app = spawn(db, msk(2026, 11, 28, 11, 0)).await;
    let (_, twiml) = app
        .post(
            &Route::Voice,
            &[
                ("CallSid", "CAV"),
                ("From", "anonymous"),
                ("To", "+74950000000"),
                ("CallStatus", "ringing"),
            ],
        )
        .await;
    assert!(
        twiml.contains("ru/static/enter_number.wav"),
        "hidden caller ID: enter a number: {twiml}"
    );
    assert_eq!(app.call_state("CAV").await, "voicemail");
    let number = |attempt: u8| Route::Gather(Step::VoicemailNumber { attempt });
    // Nothing entered: asked again.
    let (_, twiml) = app.post(&number(0), &[("CallSid", "CAV")]).await;
    assert!(
        twiml.contains("voicemail-number?attempt=1") && twiml.contains("enter_number.wav"),
        "{twiml}"
    );
    // "8 916 123-45-67" typed on the keypad.
    let (_, twiml) = app
        .post(&number(1), &[("CallSid", "CAV"), ("Digits", "89161234567")])
        .await;
    assert!(
        twiml.contains("ru/static/category_menu.wav")
            && twiml.contains("voicemail-category?attempt=0"),
        "{twiml}"
    );
    let (_, twiml) = app
        .post(
            &Route::Gather(Step::VoicemailCategory { attempt: 0 }),
            &[("CallSid", "CAV"), ("Digits", "2")],
        )
        .await;
    let record = format!(
        "<Record action=\"{PUBLIC}/webhooks/twilio/record\" method=\"POST\" maxLength=\"120\" finishOnKey=\"#\" playBeep=\"true\""
    );
    assert!(twiml.contains(&record), "{twiml}");
    assert!(
        twiml.contains(&format!(
            "recordingStatusCallback=\"{PUBLIC}/webhooks/twilio/recording\""
        )),
        "{twiml}"
    );
    let rec = [
        ("CallSid", "CAV"),
        ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        (
            "RecordingUrl",
            "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Recordings/RE0123456789abcdef0123456789abcdef",
        ),
        ("RecordingDuration", "12"),
        ("Digits", "#"),
    ];
    let (_, twiml) = app.post(&Route::Recorded, &rec).await;
    assert!(
        twiml.contains("message_recorded.wav") && twiml.contains("<Hangup/>"),
        "{twiml}"
    );
    // The first request of the database is ШП-<year>-000001: the caller hears "один".
    let reg = twiml.find("ru/callback/reg_intro.wav");
    let digit = twiml.find("ru/digits/one_1.wav");
    let bye = twiml.find("ru/static/goodbye.wav");
    assert!(
        reg.is_some() && reg < digit && digit < bye,
        "the caller hears the request's number before the goodbye: {twiml}"
    );
    assert_eq!(app.call_state("CAV").await, "voicemail_left");
    let status = [
        ("CallSid", "CAV"),
        ("RecordingSid", "RE0123456789abcdef0123456789abcdef"),
        ("RecordingUrl", rec[2].1),
        ("RecordingStatus", "completed"),
        ("RecordingDuration", "12"),
        ("RecordingChannels", "1"),
        ("RecordingSource", "RecordVerb"),
    ];
    app.post(
        &Route::Status,
        &[
            ("CallSid", "CAV"),
            ("CallStatus", "completed"),
            ("SequenceNumber", "9"),
        ],
    )
    .await;
    assert_eq!(app.call_state("CAV").await, "completed");
    // The recording callback comes after the call ended, and is re-delivered: one download job.
    for _ in 0..2 {
        let (s, _) = app.post(&Route::RecordingReady, &status).await;
        assert_eq!(s, 200);
    }
    let call = app
        .db_store
        .call_by_provider_id("twilio", "CAV")
        .await
        .unwrap()
        .unwrap();
    let vm = app
        .db_store
        .voicemail_for_call(call.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (vm.callback_number.as_deref(), vm.number_confirmed),
        (Some("+79161234567"), true)
    );
    assert_eq!(
        (vm.caller_id.as_deref(), vm.caller_category.as_deref()),
        (None, Some("parent"))
    );
    assert_eq!(
        vm.recording_key.as_deref(),
        Some("twilio:RE0123456789abcdef0123456789abcdef")
    );
    assert_eq!(
        (vm.audio_status.as_str(), vm.recording_duration_ms),
        ("pending", Some(12_000))
    );
    assert_eq!(app.db_store.voicemails(10).await.unwrap().len(), 1);
    let now = app.clock.now();
    let job = app
        .db_store
        .claim_job("test", now, TimeDelta::minutes(1))
        .await
        .unwrap()
        .expect("a download job");
    assert_eq!(job.kind, "recording.download");
    let payload: serde_json::Value = serde_json::from_str(&job.payload).unwrap();
    assert_eq!(payload["url"], rec[2].1);
    assert!(
        app.db_store
            .claim_job("test", now, TimeDelta::minutes(1))
            .await
            .unwrap()
            .is_none(),
        "exactly one job"
    );
}
