//! SMS through Twilio's Messages API, against a local fake (wiremock) that checks what Twilio
//! checks: the path, HTTP Basic auth and the form fields. The client and the handler directly (201 with a
//! message resource, Twilio's JSON errors 21211 / 21610, 503, 429, a timeout, a Messaging Service
//! sender, bad payloads), then the job worker on a real store (SQLite always, PostgreSQL when
//! configured): one message per job however often the worker runs, 503 retried with backoff, a
//! refused number fails the job with Twilio's code.

mod support;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::clock::{Clock, ManualClock};
use perezvon::jobs::sms::{SEND_SMS, SMS_MAX_ATTEMPTS, SmsHandler, sms_job};
use perezvon::jobs::{Handler, Outcome, Worker};
use perezvon::store::{Job, JobState, Store};
use perezvon::telephony::twilio::{TwilioClient, TwilioError};
use support::TestDb;
use wiremock::matchers::{header, method, path};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "s3cr3t-auth-token";
const FROM: &str = "+74950000000";
const MG: &str = "MG0123456789abcdef0123456789abcdef";
const TO: &str = "+79161234567";
const BAD_TO: &str = "+79169876543";
const BODY: &str = "Школьный портал: мы перезвоним вам сегодня до 18:00.";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap()
}

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{AC}:{TOKEN}"))
    )
}

fn messages_path() -> String {
    format!("/2010-04-01/Accounts/{AC}/Messages.json")
}

fn sm(n: u32) -> String {
    format!("SM{n:032x}")
}

/// Matches a form body with exactly these fields (in any order).
struct Form(Vec<(String, String)>);

fn form(fields: &[(&str, &str)]) -> Form {
    let mut v: Vec<_> = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    v.sort();
    Form(v)
}

impl Match for Form {
    fn matches(&self, request: &Request) -> bool {
        let is_form = request
            .headers
            .get("content-type")
            .is_some_and(|v| v.as_bytes() == b"application/x-www-form-urlencoded");
        let mut got: Vec<(String, String)> =
            form_urlencoded::parse(&request.body).into_owned().collect();
        got.sort();
        is_form && got == self.0
    }
}

/// Twilio's 201 answer to a created message.
fn created(sid: &str, to: &str) -> ResponseTemplate {
    ResponseTemplate::new(201).set_body_json(serde_json::json!({
        "account_sid": AC,
        "api_version": "2010-04-01",
        "body": BODY,
        "date_created": "Tue, 01 Dec 2026 07:00:00 +0000",
        "date_sent": null,
        "date_updated": "Tue, 01 Dec 2026 07:00:00 +0000",
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": FROM,
        "messaging_service_sid": null,
        "num_media": "0",
        "num_segments": "1",
        "price": null,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "subresource_uris": {
            "media": format!("/2010-04-01/Accounts/{AC}/Messages/{sid}/Media.json"),
        },
        "to": to,
        "uri": format!("/2010-04-01/Accounts/{AC}/Messages/{sid}.json"),
    }))
}

/// Twilio's JSON error answer.
fn twilio_error(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    }))
}

fn invalid_number() -> ResponseTemplate {
    twilio_error(
        400,
        21211,
        &format!("The 'To' number {BAD_TO} is not a valid phone number."),
    )
}

/// A POST to Messages.json with our Basic auth and exactly these form fields.
fn message(fields: &[(&str, &str)]) -> wiremock::MockBuilder {
    Mock::given(method("POST"))
        .and(path(messages_path()))
        .and(header("authorization", basic().as_str()))
        .and(form(fields))
}

fn client(server: &MockServer) -> TwilioClient {
    TwilioClient::new(&server.uri(), AC, TOKEN).unwrap()
}

fn handler(server: &MockServer, from: &str) -> SmsHandler {
    SmsHandler {
        client: client(server),
        from: from.into(),
    }
}

fn job(payload: String, attempts: i64) -> Job {
    Job {
        id: 7,
        kind: SEND_SMS.into(),
        payload,
        dedup_key: None,
        state: JobState::Running,
        attempts,
        max_attempts: SMS_MAX_ATTEMPTS,
        run_at: t0(),
        lease_until: None,
        leased_by: None,
        last_error: None,
    }
}

fn sms(to: &str, body: &str) -> Job {
    job(serde_json::json!({"to": to, "body": body}).to_string(), 1)
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap().len()
}

// ---- The client and the handler, directly --------------------------------------------------

#[tokio::test]
async fn send_sms_speaks_twilios_protocol() {
    let twilio = MockServer::start().await;
    message(&[
        ("To", TO),
        ("From", FROM),
        ("Body", BODY),
        (
            "StatusCallback",
            "https://hotline.example.ru/webhooks/twilio/sms",
        ),
    ])
    .respond_with(created(&sm(1), TO))
    .expect(1)
    .mount(&twilio)
    .await;
    message(&[("To", TO), ("MessagingServiceSid", MG), ("Body", BODY)])
        .respond_with(created(&sm(2), TO))
        .expect(1)
        .mount(&twilio)
        .await;
    let c = client(&twilio);
    let sid = c
        .send_sms(
            TO,
            FROM,
            BODY,
            Some("https://hotline.example.ru/webhooks/twilio/sms"),
        )
        .await
        .unwrap();
    assert_eq!(sid, sm(1));
    assert_eq!(c.send_sms(TO, MG, BODY, None).await.unwrap(), sm(2));
    let raw = &twilio.received_requests().await.unwrap()[0];
    assert_eq!(
        raw.headers.get("accept").unwrap().as_bytes(),
        b"application/json"
    );
    twilio.verify().await;
}

#[tokio::test]
async fn send_sms_errors_say_whether_to_retry() {
    let twilio = MockServer::start().await;
    message(&[("To", BAD_TO), ("From", FROM), ("Body", BODY)])
        .respond_with(invalid_number())
        .mount(&twilio)
        .await;
    let c = client(&twilio);
    let e = c.send_sms(BAD_TO, FROM, BODY, None).await.unwrap_err();
    match &e {
        TwilioError::Http {
            status: 400,
            code: Some(21211),
            message: Some(m),
        } => assert!(!m.contains(BAD_TO), "number masked: {m}"),
        other => panic!("{other:?}"),
    }
    assert!(!e.is_retryable());
    assert!(e.to_string().contains("21211"), "{e}");

    // Refused locally, before any request.
    let before = requests(&twilio).await;
    let long = "я".repeat(1601);
    for body in ["", "  ", long.as_str()] {
        let e = c.send_sms(TO, FROM, body, None).await.unwrap_err();
        assert!(matches!(e, TwilioError::Invalid(_)), "{e:?}");
    }
    assert!(matches!(
        c.send_sms(TO, "MG/../x", BODY, None).await,
        Err(TwilioError::Invalid(_))
    ));
    assert_eq!(requests(&twilio).await, before);

    // A 2xx without a message resource is not a SID.
    let other = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string("<Response/>"))
        .mount(&other)
        .await;
    let e = client(&other)
        .send_sms(TO, FROM, BODY, None)
        .await
        .unwrap_err();
    assert!(matches!(e, TwilioError::Decode(_)), "{e:?}");
}

#[tokio::test]
async fn the_handler_sends_retries_and_gives_up() {
    let twilio = MockServer::start().await;
    let h = handler(&twilio, FROM);
    assert_eq!(h.kind(), "sms.send");

    // Sent: done.
    message(&[("To", TO), ("From", FROM), ("Body", BODY)])
        .respond_with(created(&sm(3), TO))
        .up_to_n_times(1)
        .expect(1)
        .mount(&twilio)
        .await;
    assert_eq!(h.run(&sms(TO, BODY), t0()).await, Outcome::Done);
    // A number the payload gives loosely is sent in E.164.
    message(&[("To", TO), ("From", FROM), ("Body", "x")])
        .respond_with(created(&sm(4), TO))
        .expect(1)
        .mount(&twilio)
        .await;
    assert_eq!(
        h.run(&sms("8 (916) 123-45-67", "x"), t0()).await,
        Outcome::Done
    );

    // Refused by Twilio: failed for good, with the code, and no full number.
    message(&[("To", BAD_TO), ("From", FROM), ("Body", BODY)])
        .respond_with(invalid_number())
        .mount(&twilio)
        .await;
    match h.run(&sms(BAD_TO, BODY), t0()).await {
        Outcome::Failed(e) => {
            assert!(e.contains("21211") && e.contains("400"), "{e}");
            assert!(!e.contains("9876543") && !e.contains(BODY), "{e}");
        }
        other => panic!("{other:?}"),
    }
    let unsubscribed = "+79035550101";
    message(&[("To", unsubscribed), ("From", FROM), ("Body", BODY)])
        .respond_with(twilio_error(
            400,
            21610,
            "Attempt to send to unsubscribed recipient",
        ))
        .mount(&twilio)
        .await;
    match h.run(&sms(unsubscribed, BODY), t0()).await {
        Outcome::Failed(e) => assert!(e.contains("21610"), "{e}"),
        other => panic!("{other:?}"),
    }

    // 503 and 429: again later, with backoff by attempt.
    let busy = "+79035550102";
    message(&[("To", busy), ("From", FROM), ("Body", BODY)])
        .respond_with(ResponseTemplate::new(503).set_body_string("Service Unavailable"))
        .mount(&twilio)
        .await;
    assert_eq!(
        h.run(&sms(busy, BODY), t0()).await,
        Outcome::Retry {
            at: t0() + TimeDelta::seconds(30),
            error: "SMS to +7******0102: Twilio answered HTTP 503".into(),
        }
    );
    let j = job(serde_json::json!({"to": busy, "body": BODY}).to_string(), 3);
    match h.run(&j, t0()).await {
        Outcome::Retry { at, .. } => assert_eq!(at, t0() + TimeDelta::seconds(120), "3rd attempt"),
        other => panic!("{other:?}"),
    }
    let limited = "+79035550103";
    message(&[("To", limited), ("From", FROM), ("Body", BODY)])
        .respond_with(twilio_error(429, 20429, "Too Many Requests"))
        .mount(&twilio)
        .await;
    match h.run(&sms(limited, BODY), t0()).await {
        Outcome::Retry { error, .. } => assert!(error.contains("20429"), "{error}"),
        other => panic!("{other:?}"),
    }

    // No answer in time: retried.
    let slow = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(created(&sm(5), TO).set_delay(Duration::from_secs(3)))
        .mount(&slow)
        .await;
    let impatient = SmsHandler {
        client: TwilioClient::with_timeout(&slow.uri(), AC, TOKEN, Duration::from_millis(300))
            .unwrap(),
        from: FROM.into(),
    };
    match impatient.run(&sms(TO, BODY), t0()).await {
        Outcome::Retry { error, .. } => assert!(error.contains("timeout"), "{error}"),
        other => panic!("{other:?}"),
    }
    twilio.verify().await;
}

#[tokio::test]
async fn the_handler_uses_a_messaging_service() {
    let twilio = MockServer::start().await;
    message(&[("To", TO), ("MessagingServiceSid", MG), ("Body", BODY)])
        .respond_with(created(&sm(6), TO))
        .expect(1)
        .mount(&twilio)
        .await;
    assert_eq!(
        handler(&twilio, MG).run(&sms(TO, BODY), t0()).await,
        Outcome::Done
    );
    twilio.verify().await;
}

#[tokio::test]
async fn malformed_payloads_fail_without_a_request() {
    let twilio = MockServer::start().await;
    let h = handler(&twilio, FROM);
    for payload in [
        String::new(),
        "[]".into(),
        r#"{"to": "+79161234567"}"#.into(),
        r#"{"body": "x"}"#.into(),
        r#"{"to": 79161234567, "body": "x"}"#.into(),
        r#"{"to": "+79161234567", "body": null}"#.into(),
        r#"{"to": "nobody", "body": "x"}"#.into(),
        r#"{"to": "+7916", "body": "x"}"#.into(),
    ] {
        match h.run(&job(payload.clone(), 1), t0()).await {
            Outcome::Failed(e) => {
                assert!(e.contains("bad SMS payload"), "{payload}: {e}");
                assert!(!e.contains("1234567"), "{payload}: {e}");
            }
            other => panic!("{payload}: {other:?}"),
        }
    }
    match h.run(&sms(TO, " "), t0()).await {
        Outcome::Failed(e) => assert!(e.contains("empty"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(requests(&twilio).await, 0);
}

// ---- Through the job worker, on a real store -----------------------------------------------

struct Rig {
    twilio: MockServer,
    clock: Arc<ManualClock>,
}

impl Rig {
    async fn new() -> Rig {
        Rig {
            twilio: MockServer::start().await,
            clock: Arc::new(ManualClock::new(t0())),
        }
    }

    fn worker(&self, store: Arc<dyn Store>) -> Worker {
        Worker::new(
            store,
            self.clock.clone(),
            vec![Arc::new(handler(&self.twilio, FROM))],
        )
    }

    async fn enqueue(&self, store: &Arc<dyn Store>, to: &str, key: &str) -> Option<i64> {
        store
            .enqueue_job(
                &sms_job(to, BODY, key.into(), self.clock.now()),
                self.clock.now(),
            )
            .await
            .unwrap()
    }

    async fn sent_to(&self, to: &str) -> usize {
        self.twilio
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| form_urlencoded::parse(&r.body).any(|(k, v)| k == "To" && v == to))
            .count()
    }
}

on_both_backends!(
    one_message_per_job_however_often_the_worker_runs,
    unavailable_twilio_is_retried_with_backoff,
    a_refused_number_fails_the_job_with_twilios_code,
);

async fn one_message_per_job_however_often_the_worker_runs(db: &TestDb) {
    let rig = Rig::new().await;
    message(&[("To", TO), ("From", FROM), ("Body", BODY)])
        .respond_with(created(&sm(10), TO))
        .mount(&rig.twilio)
        .await;
    let id = rig.enqueue(&db.store, TO, "sms:callback:1").await.unwrap();
    assert_eq!(
        rig.enqueue(&db.store, TO, "sms:callback:1").await,
        None,
        "the same key again is not a second job"
    );
    // Two instances on one database, working at the same moment: one of them sends it.
    let other = db.another_instance().await;
    let (w1, w2) = (rig.worker(db.store.clone()), rig.worker(other.clone()));
    let (a, b) = tokio::join!(w1.run_due(), w2.run_due());
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let j = db.store.job(id).await.unwrap().unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Done, 1));
    // And again, later: nothing more is sent.
    rig.clock.advance(TimeDelta::hours(1));
    assert_eq!(w1.run_due().await.unwrap(), 0);
    assert_eq!(w2.run_due().await.unwrap(), 0);
    assert_eq!(rig.sent_to(TO).await, 1, "exactly one message");
    // Another key is another message.
    rig.enqueue(&db.store, TO, "sms:callback:2").await.unwrap();
    assert_eq!(w1.run_due().await.unwrap(), 1);
    assert_eq!(rig.sent_to(TO).await, 2);
    other.close().await;
}

async fn unavailable_twilio_is_retried_with_backoff(db: &TestDb) {
    let rig = Rig::new().await;
    message(&[("To", TO), ("From", FROM), ("Body", BODY)])
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&rig.twilio)
        .await;
    message(&[("To", TO), ("From", FROM), ("Body", BODY)])
        .respond_with(created(&sm(11), TO))
        .mount(&rig.twilio)
        .await;
    let id = rig.enqueue(&db.store, TO, "sms:retry").await.unwrap();
    let w = rig.worker(db.store.clone());
    assert_eq!(w.run_due().await.unwrap(), 1);
    let j = db.store.job(id).await.unwrap().unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Queued, 1));
    assert_eq!(j.run_at, t0() + TimeDelta::seconds(30), "backoff 30 s");
    let error = j.last_error.unwrap();
    assert!(error.contains("503") && !error.contains(TO), "{error}");
    assert_eq!(w.run_due().await.unwrap(), 0, "not due yet");
    rig.clock.advance(TimeDelta::seconds(30));
    assert_eq!(w.run_due().await.unwrap(), 1);
    let j = db.store.job(id).await.unwrap().unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Done, 2));
    rig.clock.advance(TimeDelta::hours(1));
    assert_eq!(w.run_due().await.unwrap(), 0);
    assert_eq!(rig.sent_to(TO).await, 2, "one refused, one sent");
}

async fn a_refused_number_fails_the_job_with_twilios_code(db: &TestDb) {
    let rig = Rig::new().await;
    message(&[("To", BAD_TO), ("From", FROM), ("Body", BODY)])
        .respond_with(invalid_number())
        .mount(&rig.twilio)
        .await;
    let id = rig.enqueue(&db.store, BAD_TO, "sms:bad").await.unwrap();
    let w = rig.worker(db.store.clone());
    assert_eq!(w.run_due().await.unwrap(), 1);
    let j = db.store.job(id).await.unwrap().unwrap();
    assert_eq!((j.state, j.attempts), (JobState::Failed, 1));
    let error = j.last_error.unwrap();
    assert!(error.contains("21211"), "{error}");
    assert!(
        !error.contains(BAD_TO) && !error.contains(BODY),
        "no full number, no text: {error}"
    );
    rig.clock.advance(TimeDelta::days(1));
    assert_eq!(w.run_due().await.unwrap(), 0, "not retried");
    assert_eq!(rig.sent_to(BAD_TO).await, 1);
}
