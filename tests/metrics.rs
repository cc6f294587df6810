//! `GET /metrics` end to end: the app on a real port over a real database (a SQLite file always,
//! PostgreSQL when `PEREZVON_TEST_POSTGRES_URL` is set), driven by webhooks signed as Twilio signs
//! them, then scraped: the Prometheus text format, webhook latencies under the endpoint's route
//! template, the store's gauges for the state the test made, and not one phone number. With
//! `metrics_listen` set, `/metrics` moves to its own address (in-process on both backends, and
//! through the real binary on SQLite, which is the backend its harness runs).

mod support;

use std::sync::Arc;

use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::config::Config;
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::store::{NewJob, NewOperator, NewUser, Store};
use perezvon::switchboard::Switchboard;
use perezvon::telephony::twilio::{Route, route_path};
use support::TestDb;
use support::service::Service;
use support::twilio::{self, SID, msk};

on_both_backends!(
    scrape_after_signed_webhooks,
    metrics_listen_moves_metrics_off_the_main_listener
);

/// Callers, callback numbers and the hotline's number: none may appear in `/metrics`.
const NUMBERS: [&str; 8] = [
    "+79160000001",
    "+79160000002",
    "+79160000011",
    "+79160000012",
    "+79160000013",
    "+79160000014",
    "+79160000015",
    twilio::HOTLINE,
];

/// Serves the app with `config` on port 0; the clock stands at Tuesday 1 December 2026, 10:00
/// Moscow time (working hours). With `metrics_listen` in `config`, also serves `/metrics` alone
/// on a second port 0 and returns its base URL.
async fn spawn(db: &TestDb, mut config: Config) -> (String, Option<String>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 1, 10, 0)));
    let mut metrics_listener = None;
    if config.metrics_listen.is_some() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        config.metrics_listen = Some(l.local_addr().unwrap());
        metrics_listener = Some(l);
    }
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
    let metrics_base = metrics_listener.map(|l| {
        let base = format!("http://{}", l.local_addr().unwrap());
        let serve = perezvon::http::metrics::serve(l, state.clone(), std::future::pending());
        tokio::spawn(serve);
        base
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(perezvon::http::serve(
        listener,
        state,
        std::future::pending(),
    ));
    (base, metrics_base, clock)
}

async fn operator(store: &Arc<dyn Store>, clock: &ManualClock, login: &str, p: Presence) {
    let now = clock.now();
    let user = NewUser {
        login: login.into(),
        display_name: login.into(),
        role: Role::Operator,
        password_hash: "x".into(),
    };
    let user = store.create_user(&user, now).await.unwrap();
    let new = NewOperator {
        user_id: user.id,
        name: login.into(),
        contact_kind: ContactKind::Sip,
        contact: format!("sip:{login}@pbx.school.example"),
    };
    let op = store.create_operator(&new, now).await.unwrap();
    store.set_presence(op.id, p, now).await.unwrap();
}

async fn voice(http: &reqwest::Client, base: &str, call: &str, from: &str) -> String {
    let form = [
        ("CallSid", call),
        ("AccountSid", SID),
        ("From", from),
        ("To", twilio::HOTLINE),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("ApiVersion", "2010-04-01"),
    ];
    let (status, body) = twilio::post_signed(http, base, &Route::Voice, &form).await;
    assert_eq!(status, 200, "{body}");
    body
}

/// `GET url`: status, content type and body.
async fn get(http: &reqwest::Client, url: &str) -> (u16, String, String) {
    let r = http.get(url).send().await.unwrap();
    let ct = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (r.status().as_u16(), ct, r.text().await.unwrap())
}

/// The value of the series `name` with exactly `labels` (in any order), if the body has it.
fn sample(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut want: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    want.sort();
    body.lines()
        .filter(|l| !l.starts_with('#'))
        .find_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let (n, labels) = series.split_once('{').unwrap_or((series, "}"));
            let labels = labels.strip_suffix('}')?.split(',');
            let mut have: Vec<&str> = labels.filter(|l| !l.is_empty()).collect();
            have.sort();
            (n == name && want == have).then(|| value.parse().unwrap())
        })
}

/// Inserts callback requests: three open (two due already, one later today), one claimed by
/// `metrics-op2`, one closed.
async fn callback_requests(db: &TestDb) {
    let tue = |h, m| msk(2026, 12, 1, h, m).timestamp_millis();
    let mon_1730 = msk(2026, 11, 30, 17, 30).timestamp_millis();
    let (tue_0945, tue_1200, deadline) = (tue(9, 45), tue(12, 0), tue(18, 0));
    let sql = format!(
        "insert into callback_requests (callback_number, state, created_at_ms, due_at_ms, \
         deadline_at_ms, claimed_by, lease_until_ms, closed_at_ms) values \
         ('+79160000011', 'open', {mon_1730}, {mon_1730}, {deadline}, null, null, null), \
         ('+79160000012', 'open', {tue_0945}, {tue_0945}, {deadline}, null, null, null), \
         ('+79160000013', 'open', {tue_0945}, {tue_1200}, {deadline}, null, null, null), \
         ('+79160000014', 'claimed', {mon_1730}, {mon_1730}, {deadline}, \
          (select id from operators where name = 'metrics-op2'), {deadline}, null), \
         ('+79160000015', 'closed', {mon_1730}, {mon_1730}, {deadline}, null, null, {tue_0945})"
    );
    db.execute(&sql, &sql).await;
}

async fn scrape_after_signed_webhooks(db: &TestDb) {
    let (base, _, clock) = spawn(db, twilio::config("http://127.0.0.1:9")).await;
    let http = reqwest::Client::new();
    let store = &db.store;
    operator(store, &clock, "metrics-op1", Presence::Available).await;
    operator(store, &clock, "metrics-op2", Presence::Break).await;
    operator(store, &clock, "metrics-op3", Presence::Offline).await;
    let twiml = voice(&http, &base, "CAM1", NUMBERS[0]).await;
    assert!(twiml.contains("<Sip>sip:metrics-op1@"), "{twiml}");
    let twiml = voice(&http, &base, "CAM2", NUMBERS[1]).await;
    assert!(twiml.contains("<Enqueue"), "metrics-op1 is busy: {twiml}");
    // An unsigned status callback is refused: a 4xx sample under its own endpoint.
    let r = http
        .post(format!("{base}{}", route_path(&Route::Status)))
        .form(&[("CallSid", "CAM1"), ("CallStatus", "completed")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 403);
    callback_requests(db).await;
    let job = NewJob {
        kind: "sms.send".into(),
        payload: "{}".into(),
        dedup_key: None,
        run_at: clock.now(),
        max_attempts: 3,
    };
    store.enqueue_job(&job, clock.now()).await.unwrap();

    let (status, content_type, body) = get(&http, &format!("{base}/metrics")).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        content_type.starts_with("text/plain") && content_type.contains("version=0.0.4"),
        "{content_type}"
    );
    for n in NUMBERS {
        let digits = n.trim_start_matches('+');
        assert!(!body.contains(digits), "{n} appears in /metrics:\n{body}");
    }
    assert!(
        !body.contains("metrics-op"),
        "an operator's login appears:\n{body}"
    );

    assert!(body.contains("# TYPE perezvon_webhook_duration_seconds histogram"));
    let voice_ok = [("route", "/webhooks/twilio/voice"), ("status", "2xx")];
    let count = sample(&body, "perezvon_webhook_duration_seconds_count", &voice_ok);
    assert!(
        count >= Some(2.0),
        "voice webhooks timed: {count:?}\n{body}"
    );
    let inf = [voice_ok[0], voice_ok[1], ("le", "+Inf")];
    let bucket = sample(&body, "perezvon_webhook_duration_seconds_bucket", &inf);
    assert!(bucket >= Some(2.0), "{bucket:?}\n{body}");
    let refused = [("route", "/webhooks/twilio/status"), ("status", "4xx")];
    let count = sample(&body, "perezvon_webhook_duration_seconds_count", &refused);
    assert!(count >= Some(1.0), "{count:?}\n{body}");
    let count = sample(&body, "perezvon_http_requests_total", &voice_ok);
    assert!(count >= Some(2.0), "{count:?}\n{body}");
    assert!(
        !body.contains("{*rest}"),
        "a known endpoint has its own template:\n{body}"
    );

    let gauge = |name: &str, labels: &[(&str, &str)]| sample(&body, name, labels);
    assert_eq!(gauge("perezvon_queue_length", &[]), Some(1.0), "{body}");
    assert_eq!(gauge("perezvon_callers_waiting", &[]), Some(2.0));
    for (state, n) in [
        ("available", 0.0),
        ("on_call", 1.0),
        ("wrap_up", 0.0),
        ("break", 1.0),
        ("offline", 1.0),
    ] {
        let v = gauge("perezvon_operators", &[("state", state)]);
        assert_eq!(v, Some(n), "operators {state}\n{body}");
    }
    for (state, n) in [("open", 3.0), ("claimed", 1.0), ("closed", 1.0)] {
        let v = gauge("perezvon_callbacks", &[("state", state)]);
        assert_eq!(v, Some(n), "callbacks {state}\n{body}");
    }
    // Due Monday 17:30: 30 working minutes that evening and 60 this morning (wall clock: 16.5 h).
    let oldest = gauge("perezvon_callback_oldest_due_working_minutes", &[]);
    assert_eq!(oldest, Some(90.0), "{body}");
    let sms = [("kind", "sms.send"), ("state", "queued")];
    assert_eq!(gauge("perezvon_jobs", &sms), Some(1.0), "{body}");
    let download = [("kind", "recording.download"), ("state", "failed")];
    assert_eq!(gauge("perezvon_jobs", &download), Some(0.0), "{body}");
    let repairs = body
        .lines()
        .filter(|l| l.starts_with("perezvon_reconciler_repairs_total{"));
    assert_eq!(repairs.count(), 6, "one series per kind of repair:\n{body}");
}

async fn metrics_listen_moves_metrics_off_the_main_listener(db: &TestDb) {
    let config = Config {
        metrics_listen: Some("127.0.0.1:0".parse().unwrap()),
        ..twilio::config("http://127.0.0.1:9")
    };
    let (base, metrics_base, _) = spawn(db, config).await;
    let metrics_base = metrics_base.unwrap();
    let http = reqwest::Client::new();
    assert_eq!(get(&http, &format!("{base}/metrics")).await.0, 404);
    assert_eq!(get(&http, &format!("{base}/healthz")).await.0, 200);
    let (status, content_type, body) = get(&http, &format!("{metrics_base}/metrics")).await;
    assert_eq!(status, 200, "{body}");
    assert!(content_type.contains("version=0.0.4"), "{content_type}");
    assert_eq!(sample(&body, "perezvon_queue_length", &[]), Some(0.0));
    assert_eq!(get(&http, &format!("{metrics_base}/healthz")).await.0, 404);
}

/// The real binary with `metrics_listen` in its config file: the second server is started (and
/// stopped) by `perezvon serve` itself. The binary's harness runs on SQLite.
#[tokio::test]
async fn serve_with_metrics_listen_sqlite() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut service = Service::configure(&format!("metrics_listen = \"127.0.0.1:{port}\"\n"));
    service.start(None).await;
    let http = reqwest::Client::new();
    let main = get(&http, &format!("{}/metrics", service.base)).await;
    assert_eq!(main.0, 404, "{}", main.2);
    let (status, content_type, body) =
        get(&http, &format!("http://127.0.0.1:{port}/metrics")).await;
    assert_eq!(status, 200, "{body}\n{}", service.log());
    assert!(content_type.contains("version=0.0.4"), "{content_type}");
    let offline = sample(&body, "perezvon_operators", &[("state", "offline")]);
    assert_eq!(offline, Some(0.0), "{body}");
    let health = get(&http, &format!("http://127.0.0.1:{port}/healthz")).await;
    assert_eq!(health.0, 404, "only /metrics on the metrics address");
}
