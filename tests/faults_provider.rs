//! Fault: Twilio's REST API down for minutes — answering 503 with Twilio's JSON error body, then
//! accepting connections and never answering — while real traffic goes through the real service
//! (`perezvon::run_until`, the wiring of `perezvon serve`, in-process on a manual clock): signed
//! webhooks for two voicemails with recordings and their SMS, and a queued caller the dispatcher
//! must move to a freed operator. Proved: every webhook is answered at once whatever the API does;
//! the dispatcher keeps the caller queued through failed and hanging redirects (each bounded by
//! `twilio.request_timeout_secs`) and connects them once the API answers, with one redirect; no
//! job fails for good during an outage of half an hour of the service's time, each retry comes at
//! the capped exponential backoff, and the attempts allowed cover far more than minutes; once the
//! API answers every recording is downloaded, stored and deleted at Twilio once and every SMS is
//! sent once, with no job duplicated. Real database (SQLite always, PostgreSQL when configured),
//! real files, a real HTTP fake of Twilio speaking its protocol on a local port.

mod support;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use perezvon::clock::{Clock, ManualClock};
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::jobs::sms::{SEND_SMS, SMS_MAX_ATTEMPTS};
use perezvon::jobs::{DOWNLOAD_MAX_ATTEMPTS, DOWNLOAD_RECORDING, backoff};
use perezvon::store::{Job, JobState, NewOperator, NewUser, Store};
use perezvon::telephony::Step;
use perezvon::telephony::twilio::{Route, route_path};
use support::TestDb;
use support::inproc::InProc;
use support::twilio::{HOTLINE, PUBLIC, SID, SIP_DOMAIN, TOKEN, msk, post_signed};

/// What the fake API does with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Up,
    /// 503 with Twilio's JSON error body.
    Down,
    /// Accepts the request and never answers.
    Hang,
}

/// One request the fake received: its kind (`redirect`, `sms`, `recording`, `delete`), what it
/// was about (call SID, recording SID, recipient) and the status answered (0: never answered).
#[derive(Debug, Clone)]
struct Hit {
    kind: &'static str,
    target: String,
    status: u16,
    form: Vec<(String, String)>,
}

struct FakeTwilio {
    mode: Mutex<Mode>,
    hits: Mutex<Vec<Hit>>,
    wav: Vec<u8>,
    authorization: String,
}

impl FakeTwilio {
    fn set(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    fn hits(&self, kind: &str, target: &str) -> Vec<Hit> {
        let hits = self.hits.lock().unwrap();
        hits.iter()
            .filter(|h| h.kind == kind && h.target == target)
            .cloned()
            .collect()
    }

    /// Records the request and answers as the API is now: `Ok` to serve it for real.
    async fn gate(
        &self,
        headers: &HeaderMap,
        kind: &'static str,
        target: &str,
        form: Vec<(String, String)>,
        ok: u16,
    ) -> Result<(), Response> {
        let mode = *self.mode.lock().unwrap();
        let authorized = headers
            .get(header::AUTHORIZATION)
            .is_some_and(|v| v.as_bytes() == self.authorization.as_bytes());
        let status = match (mode, authorized) {
            (Mode::Hang, _) => 0,
            (Mode::Down, _) => 503,
            (Mode::Up, false) => 401,
            (Mode::Up, true) => ok,
        };
        self.hits.lock().unwrap().push(Hit {
            kind,
            target: target.to_owned(),
            status,
            form,
        });
        match status {
            0 => std::future::pending().await,
            503 => Err(twilio_error(
                StatusCode::SERVICE_UNAVAILABLE,
                20503,
                "Service Unavailable",
            )),
            401 => Err(twilio_error(
                StatusCode::UNAUTHORIZED,
                20003,
                "Authenticate",
            )),
            _ => Ok(()),
        }
    }
}

/// Twilio's error body: `{"code", "message", "more_info", "status"}`.
fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}

type Fake = State<Arc<FakeTwilio>>;

fn form_of(body: &Bytes) -> Vec<(String, String)> {
    form_urlencoded::parse(body).into_owned().collect()
}

async fn redirect(
    State(f): Fake,
    Path((_, file)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let sid = file.trim_end_matches(".json").to_owned();
    if let Err(r) = f
        .gate(&headers, "redirect", &sid, form_of(&body), 200)
        .await
    {
        return r;
    }
    axum::Json(serde_json::json!({"sid": sid, "account_sid": SID, "status": "in-progress"}))
        .into_response()
}

async fn message(
    State(f): Fake,
    Path(_): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form = form_of(&body);
    let to = form
        .iter()
        .find(|(k, _)| k == "To")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    if let Err(r) = f.gate(&headers, "sms", &to, form, 201).await {
        return r;
    }
    let n = f.hits.lock().unwrap().len();
    let body = serde_json::json!({"sid": format!("SM{n:032x}"), "account_sid": SID, "to": to, "status": "queued"});
    (StatusCode::CREATED, axum::Json(body)).into_response()
}

async fn recording(
    State(f): Fake,
    Path((_, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let sid = file.trim_end_matches(".wav").to_owned();
    if let Err(r) = f.gate(&headers, "recording", &sid, Vec::new(), 200).await {
        return r;
    }
    ([(header::CONTENT_TYPE, "audio/x-wav")], f.wav.clone()).into_response()
}

async fn delete_recording(
    State(f): Fake,
    Path((_, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let sid = file.trim_end_matches(".json").to_owned();
    if let Err(r) = f.gate(&headers, "delete", &sid, Vec::new(), 204).await {
        return r;
    }
    StatusCode::NO_CONTENT.into_response()
}

/// Starts the fake on a free local port, down (503) from the start; returns it and its base URL.
async fn fake_twilio(wav: Vec<u8>) -> (Arc<FakeTwilio>, String) {
    let fake = Arc::new(FakeTwilio {
        mode: Mutex::new(Mode::Down),
        hits: Mutex::new(Vec::new()),
        wav,
        authorization: format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{TOKEN}"))
        ),
    });
    let app = Router::new()
        .route(
            "/2010-04-01/Accounts/{account}/Calls/{file}",
            axum::routing::post(redirect),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Messages.json",
            axum::routing::post(message),
        )
        .route(
            "/2010-04-01/Accounts/{account}/Recordings/{file}",
            axum::routing::get(recording).delete(delete_recording),
        )
        .fallback(|| async { twilio_error(StatusCode::NOT_FOUND, 20404, "Not Found") })
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (fake, base)
}

/// Every job in the database (ids are small: the scan stops well past the last one).
async fn jobs(store: &Arc<dyn Store>) -> Vec<Job> {
    let mut all = Vec::new();
    for id in 1..=300 {
        if let Some(j) = store.job(id).await.unwrap() {
            all.push(j);
        }
    }
    all
}

/// The download and SMS jobs.
async fn provider_jobs(store: &Arc<dyn Store>) -> Vec<Job> {
    jobs(store)
        .await
        .into_iter()
        .filter(|j| j.kind == DOWNLOAD_RECORDING || j.kind == SEND_SMS)
        .collect()
}

/// Polls `check` every 100 ms for at most `within`; panics with `what` if it never holds.
async fn until<F, Fut>(within: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = Instant::now() + within;
    while Instant::now() < end {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting until {what}");
}

struct Rig {
    app: InProc,
    store: Arc<dyn Store>,
    http: reqwest::Client,
    /// The slowest webhook answer so far.
    slowest: Mutex<Duration>,
    fake_base: String,
}

impl Rig {
    /// Posts a signed webhook; asserts 200 and returns the TwiML.
    async fn hook(&self, route: &Route, form: &[(&str, &str)]) -> String {
        let started = Instant::now();
        let (status, body) = post_signed(&self.http, &self.app.base, route, form).await;
        let took = started.elapsed();
        let mut slowest = self.slowest.lock().unwrap();
        *slowest = (*slowest).max(took);
        assert_eq!(status, 200, "{route:?}: {body}");
        body
    }

    async fn state(&self, sid: &str) -> String {
        let call = self.store.call_by_provider_id("twilio", sid).await;
        call.unwrap().unwrap().state
    }

    /// A caller who holds in the queue, presses 1 and leaves a voicemail with a recording.
    async fn voicemail(&self, sid: &str, from: &str, re: &str) {
        let voice = [("CallSid", sid), ("From", from), ("To", HOTLINE)];
        let twiml = self.hook(&Route::Voice, &voice).await;
        assert!(twiml.contains("<Enqueue"), "the operator is busy: {twiml}");
        let menu = [("CallSid", sid), ("Digits", "1")];
        let twiml = self.hook(&Route::Gather(Step::QueueMenu), &menu).await;
        assert!(twiml.contains("<Leave/>"), "{twiml}");
        let left = [
            ("CallSid", sid),
            ("QueueResult", "leave"),
            ("QueueTime", "20"),
        ];
        let twiml = self.hook(&Route::QueueLeft, &left).await;
        assert!(twiml.contains("voicemail-number"), "{twiml}");
        // No digits: the caller ID is the callback number.
        let number = Route::Gather(Step::VoicemailNumber { attempt: 0 });
        self.hook(&number, &[("CallSid", sid)]).await;
        let category = Route::Gather(Step::VoicemailCategory { attempt: 0 });
        let twiml = self
            .hook(&category, &[("CallSid", sid), ("Digits", "2")])
            .await;
        assert!(twiml.contains("<Record"), "{twiml}");
        let url = format!(
            "{}/2010-04-01/Accounts/{SID}/Recordings/{re}",
            self.fake_base
        );
        let rec = [
            ("CallSid", sid),
            ("RecordingSid", re),
            ("RecordingUrl", url.as_str()),
            ("RecordingDuration", "3"),
            ("Digits", "#"),
        ];
        let twiml = self.hook(&Route::Recorded, &rec).await;
        assert!(twiml.contains("<Hangup/>"), "{twiml}");
        let done = [
            ("CallSid", sid),
            ("CallStatus", "completed"),
            ("SequenceNumber", "9"),
        ];
        self.hook(&Route::Status, &done).await;
        let ready = [
            ("CallSid", sid),
            ("RecordingSid", re),
            ("RecordingUrl", url.as_str()),
            ("RecordingStatus", "completed"),
            ("RecordingDuration", "3"),
        ];
        // Twilio re-delivers: still one download job.
        for _ in 0..2 {
            self.hook(&Route::RecordingReady, &ready).await;
        }
    }
}

on_both_backends!(a_provider_outage_of_minutes_loses_nothing);

async fn a_provider_outage_of_minutes_loses_nothing(db: &TestDb) {
    let t0: DateTime<Utc> = msk(2026, 12, 7, 10, 0); // a Monday: the hotline is open
    let wav = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audio/speech-8k-s16.wav"),
    )
    .unwrap();
    let (fake, fake_base) = fake_twilio(wav.clone()).await;
    let clock = Arc::new(ManualClock::new(t0));
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[twilio]\naccount_sid = \"{SID}\"\nauth_token = \"{TOKEN}\"\napi_base = \"{fake_base}\"\n\
         from_number = \"{HOTLINE}\"\nsip_domain = \"{SIP_DOMAIN}\"\nsms_from = \"{HOTLINE}\"\n\
         delete_recordings = true\nrequest_timeout_secs = 1\n"
    );
    let app = InProc::start(
        dir.path(),
        &db.database_url(),
        PUBLIC,
        &extra,
        clock.clone(),
    )
    .await;
    let rig = Rig {
        app,
        store: db.store.clone(),
        http: reqwest::Client::new(),
        slowest: Mutex::new(Duration::ZERO),
        fake_base,
    };
    let store = &rig.store;
    let user = NewUser {
        login: "op1".into(),
        display_name: "op1".into(),
        role: Role::Operator,
        password_hash: "x".into(),
    };
    let user = store.create_user(&user, t0).await.unwrap();
    let new = NewOperator {
        user_id: user.id,
        name: "op1".into(),
        contact_kind: ContactKind::Sip,
        contact: format!("sip:op1@{SIP_DOMAIN}"),
    };
    let op = store.create_operator(&new, t0).await.unwrap().id;
    store
        .set_presence(op, Presence::Available, t0)
        .await
        .unwrap();

    // --- The API answers 503 from the start. A talks to op1; B holds; two callers leave voicemail.
    let a = [
        ("CallSid", "CAA"),
        ("From", "+79160000001"),
        ("To", HOTLINE),
    ];
    let twiml = rig.hook(&Route::Voice, &a).await;
    assert!(twiml.contains("<Sip>sip:op1@"), "{twiml}");
    let b = [
        ("CallSid", "CAB"),
        ("From", "+79160000002"),
        ("To", HOTLINE),
    ];
    assert!(rig.hook(&Route::Voice, &b).await.contains("<Enqueue"));
    let voicemails = [
        ("CAV1", "+79160000011", "RE00000000000000000000000000000001"),
        ("CAV2", "+79160000012", "RE00000000000000000000000000000002"),
    ];
    for (sid, from, re) in voicemails {
        rig.voicemail(sid, from, re).await;
    }
    // The worker tried each job at once: 503, retried in 30 s.
    until(
        Duration::from_secs(10),
        "every job failed its first try",
        || async {
            let js = provider_jobs(store).await;
            js.len() >= 3
                && js
                    .iter()
                    .all(|j| j.attempts == 1 && j.state == JobState::Queued)
        },
    )
    .await;
    let first = provider_jobs(store).await;
    let downloads = first
        .iter()
        .filter(|j| j.kind == DOWNLOAD_RECORDING)
        .count();
    let sms = first.iter().filter(|j| j.kind == SEND_SMS).count();
    assert_eq!(downloads, 2, "one download per recording: {first:?}");
    assert_eq!(sms, 2, "one SMS with the estimate per voicemail: {first:?}");
    for j in &first {
        assert_eq!(j.run_at, t0 + TimeDelta::seconds(30), "{j:?}");
        assert!(j.last_error.as_deref().unwrap().contains("503"), "{j:?}");
    }

    // --- A hangs up: op1 is free; the dispatcher's redirects of B get 503s; B stays queued.
    rig.hook(
        &Route::DialResult,
        &[
            ("CallSid", "CAA"),
            ("DialCallStatus", "completed"),
            ("DialCallSid", "CAleg1"),
            ("DialCallDuration", "60"),
        ],
    )
    .await;
    store
        .set_presence(op, Presence::Available, t0)
        .await
        .unwrap();
    until(
        Duration::from_secs(15),
        "three redirects of B failed with 503",
        || async {
            fake.hits("redirect", "CAB")
                .iter()
                .filter(|h| h.status == 503)
                .count()
                >= 3
        },
    )
    .await;
    until(Duration::from_secs(5), "B is back in the queue", || async {
        rig.state("CAB").await == "queued"
    })
    .await;

    // --- The API hangs. Redirects time out after 1 s each; B stays queued; webhooks still answer.
    fake.set(Mode::Hang);
    let hang_started = Instant::now();
    until(
        Duration::from_secs(15),
        "three redirects of B hung",
        || async {
            fake.hits("redirect", "CAB")
                .iter()
                .filter(|h| h.status == 0)
                .count()
                >= 3
        },
    )
    .await;
    let hanging = hang_started.elapsed();
    let started = Instant::now();
    let twiml = rig
        .hook(
            &Route::QueueWait,
            &[
                ("CallSid", "CAB"),
                ("QueuePosition", "1"),
                ("QueueTime", "40"),
            ],
        )
        .await;
    let wait_reply = started.elapsed();
    assert!(twiml.contains("<Response>"), "{twiml}");
    assert!(
        wait_reply < Duration::from_millis(900),
        "a webhook answered in {wait_reply:?} while the API hangs"
    );
    // The jobs come due while the API hangs: each try gives up after the 1 s timeout.
    clock.advance(TimeDelta::seconds(30));
    until(
        Duration::from_secs(20),
        "every job timed out once",
        || async {
            provider_jobs(store)
                .await
                .iter()
                .all(|j| j.attempts == 2 && j.state == JobState::Queued)
        },
    )
    .await;
    for j in provider_jobs(store).await {
        assert_eq!(j.run_at, t0 + TimeDelta::seconds(90), "{j:?}");
        assert!(
            j.last_error.as_deref().unwrap().contains("did not answer"),
            "{j:?}"
        );
    }
    until(Duration::from_secs(5), "B is back in the queue", || async {
        rig.state("CAB").await == "queued"
    })
    .await;

    // --- The API answers again: one redirect moves B to op1.
    fake.set(Mode::Up);
    until(Duration::from_secs(10), "B was redirected", || async {
        rig.state("CAB").await == "connecting"
    })
    .await;
    let ok: Vec<Hit> = fake
        .hits("redirect", "CAB")
        .into_iter()
        .filter(|h| h.status == 200)
        .collect();
    assert_eq!(ok.len(), 1, "one redirect: {ok:?}");
    let url = format!(
        "{PUBLIC}{}",
        route_path(&Route::Connect { operator_id: op })
    );
    assert!(
        ok[0].form.contains(&("Url".into(), url)),
        "{:?}",
        ok[0].form
    );
    let failed_redirects = fake.hits("redirect", "CAB").len() - 1;
    let twiml = rig
        .hook(
            &Route::Connect { operator_id: op },
            &[("CallSid", "CAB"), ("CallStatus", "in-progress")],
        )
        .await;
    assert!(twiml.contains("<Sip>sip:op1@"), "{twiml}");
    for (sid, seq) in [("CAB", "5"), ("CAA", "6")] {
        let done = [
            ("CallSid", sid),
            ("CallStatus", "completed"),
            ("SequenceNumber", seq),
        ];
        rig.hook(&Route::Status, &done).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        fake.hits("redirect", "CAB").len(),
        failed_redirects + 1,
        "B moved once"
    );

    // --- The API is down again for half an hour of the service's time: each job is tried when
    // due, fails with 503, and is put off by the capped exponential backoff; none gives up.
    fake.set(Mode::Down);
    let mut tries = 2;
    while clock.now() - t0 < TimeDelta::minutes(30) {
        let due = provider_jobs(store)
            .await
            .iter()
            .map(|j| j.run_at)
            .min()
            .unwrap();
        clock.set(due);
        tries += 1;
        until(
            Duration::from_secs(20),
            "every job was tried again",
            || async {
                provider_jobs(store)
                    .await
                    .iter()
                    .all(|j| j.attempts == tries)
            },
        )
        .await;
        for j in provider_jobs(store).await {
            assert_eq!(j.state, JobState::Queued, "not given up: {j:?}");
            let wait = backoff(tries, TimeDelta::seconds(30), TimeDelta::minutes(30));
            assert_eq!(j.run_at, due + wait, "backoff after try {tries}: {j:?}");
            assert!(j.last_error.as_deref().unwrap().contains("503"), "{j:?}");
        }
    }
    let outage = clock.now() - t0;

    // --- Back for good: everything is done once.
    fake.set(Mode::Up);
    let due = provider_jobs(store)
        .await
        .iter()
        .map(|j| j.run_at)
        .min()
        .unwrap();
    clock.set(due);
    until(Duration::from_secs(20), "every job is done", || async {
        provider_jobs(store)
            .await
            .iter()
            .all(|j| j.state == JobState::Done)
    })
    .await;
    let all = jobs(store).await;
    assert!(
        all.iter().all(|j| j.state != JobState::Failed),
        "no job failed: {all:?}"
    );
    let done = provider_jobs(store).await;
    assert_eq!(done.len(), 4, "no job duplicated: {done:?}");
    for (sid, from, re) in voicemails {
        let call = store
            .call_by_provider_id("twilio", sid)
            .await
            .unwrap()
            .unwrap();
        let vm = store.voicemail_for_call(call.id).await.unwrap().unwrap();
        assert_eq!(vm.audio_status, "stored", "{vm:?}");
        let original = std::fs::read(vm.original_path.as_deref().unwrap()).unwrap();
        assert_eq!(original, wav, "the recording as Twilio has it");
        assert!(std::path::Path::new(vm.audio_path.as_deref().unwrap()).is_file());
        let got = |kind| {
            let hits = fake.hits(kind, re);
            hits.iter()
                .filter(|h| h.status != 0 && h.status < 300)
                .count()
        };
        assert_eq!(got("recording"), 1, "{re} downloaded once");
        assert_eq!(got("delete"), 1, "{re} deleted at Twilio once");
        let sent: Vec<Hit> = fake
            .hits("sms", from)
            .into_iter()
            .filter(|h| h.status == 201)
            .collect();
        assert_eq!(sent.len(), 1, "one SMS to the caller of {sid}: {sent:?}");
    }
    let slowest = *rig.slowest.lock().unwrap();
    assert!(
        slowest < Duration::from_secs(1),
        "slowest webhook {slowest:?}"
    );
    let log = support::inproc::logs();
    for number in ["+79160000011", "+79160000012", "79160000011"] {
        assert!(!log.contains(number), "a full phone number in the log");
    }
    rig.app.stop().await;

    // The arithmetic: retries are bounded (attempts × capped backoff) and span far more than
    // the minutes of an outage.
    let span = |max: i64| -> TimeDelta {
        (1..max)
            .map(|n| backoff(n, TimeDelta::seconds(30), TimeDelta::minutes(30)))
            .sum()
    };
    let download_span = span(DOWNLOAD_MAX_ATTEMPTS);
    let sms_span = span(SMS_MAX_ATTEMPTS);
    assert!(download_span > TimeDelta::hours(24), "{download_span}");
    assert!(sms_span > TimeDelta::hours(6), "{sms_span}");
    assert_eq!(
        backoff(1000, TimeDelta::seconds(30), TimeDelta::minutes(30)),
        TimeDelta::minutes(30),
        "the backoff is capped"
    );
    let hits = fake.hits.lock().unwrap().len();
    println!(
        "PROVED ({}): Twilio's REST API down {} min of service time (503, then hanging, then 503) \
         lost nothing: 2 recordings downloaded, stored and deleted once, 2 SMS sent once, 4 jobs \
         done after {} tries each at backoff 30 s·2^n capped at 30 min, none failed; the queued \
         caller stayed queued through {failed_redirects} failed redirects (each hanging one cut \
         at 1 s; 3 took {hanging:?}) and was moved once; slowest webhook {slowest:?} (one during \
         the hang {wait_reply:?}); {hits} requests to the fake. Retries are bounded: downloads \
         {DOWNLOAD_MAX_ATTEMPTS} tries over {} h, SMS {SMS_MAX_ATTEMPTS} tries over {} h.",
        if db.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        outage.num_minutes(),
        tries + 1,
        download_span.num_hours(),
        sms_span.num_hours(),
    );
}
