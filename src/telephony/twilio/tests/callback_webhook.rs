//! The click-to-call webhooks through the real router and a SQLite store (no network): the
//! operator's answered leg is connected to the caller or hears an apology, and status callbacks
//! end the attempt, ignore late live statuses, and refuse malformed requests.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use tower::ServiceExt;

use super::form;
use crate::calendar::{Calendar, HotlineHours};
use crate::clock::{Clock, ManualClock};
use crate::config::{Config, Secret, Speech, TwilioConfig};
use crate::domain::callback::CallbackSettings;
use crate::domain::operator::ContactKind;
use crate::domain::user::Role;
use crate::http::AppState;
use crate::speech::Prompt;
use crate::store::{
    AttachVoicemail, DialStart, NewOperator, NewUser, OutcomeChange, OutcomeNext, Store,
};
use crate::switchboard::Switchboard;
use crate::telephony::twilio::{Route, expected_signature, route_path};

const TOKEN: &str = "test-auth-token";
const PUBLIC: &str = "https://hotline.example.ru";
const HOTLINE: &str = "+74950000000";
const CALLER: &str = "+79161234567";
const OUT_SID: &str = "CA00000000000000000000000000000042";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<dyn Store>,
    state: AppState,
    request_id: i64,
    operator_id: i64,
    attempt_id: i64,
}

/// A request for [`CALLER`] claimed by an operator, and one dialed attempt ([`OUT_SID`]).
async fn fixture(from_number: Option<&str>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = crate::store::sqlite::SqliteStore::open(&dir.path().join("perezvon.db"))
        .await
        .unwrap();
    sqlite.migrate().await.unwrap();
    let store: Arc<dyn Store> = Arc::new(sqlite);
    let user = NewUser {
        login: "ivanova".into(),
        display_name: "Иванова".into(),
        role: Role::Operator,
        password_hash: "h".into(),
    };
    let user = store.create_user(&user, t0()).await.unwrap();
    let op = NewOperator {
        user_id: user.id,
        name: "Иванова".into(),
        contact_kind: ContactKind::Phone,
        contact: "+74950000001".into(),
    };
    let operator_id = store.create_operator(&op, t0()).await.unwrap().id;
    let call = store
        .ensure_call("twilio", "CA-in-1", Some(CALLER), Some(HOTLINE), t0())
        .await
        .unwrap();
    store
        .start_voicemail(call.id, Some(CALLER), t0())
        .await
        .unwrap();
    let settings = CallbackSettings::default();
    let priority = settings.priority;
    let attach = AttachVoicemail {
        call_id: call.id,
        number: CALLER,
        category: None,
        now: t0(),
        due: t0(),
        deadline: t0() + TimeDelta::hours(8),
        deadline_work_ms: 1_000,
        priority: &priority,
        source: "voicemail",
        registration: &settings.registration,
    };
    let request_id = store
        .attach_voicemail(&attach)
        .await
        .unwrap()
        .unwrap()
        .request_id();
    store
        .claim_callback(operator_id, "ivanova", t0(), TimeDelta::minutes(15))
        .await
        .unwrap()
        .unwrap();
    let DialStart::Started(attempt) = store
        .begin_dial(request_id, operator_id, "k1", t0(), TimeDelta::minutes(2))
        .await
        .unwrap()
    else {
        panic!("a new attempt")
    };
    store
        .finish_dial(attempt.id, "ivanova", Ok(OUT_SID), t0())
        .await
        .unwrap();
    let config = Config {
        public_url: PUBLIC.into(),
        twilio: Some(TwilioConfig {
            account_sid: "AC0123456789abcdef0123456789abcdef".into(),
            auth_token: Secret::new(TOKEN),
            api_base: "http://127.0.0.1:9".into(),
            from_number: from_number.map(str::to_owned),
            sip_domain: None,
            speech: Speech::Tts {
                voice: "Polly.Tatyana".into(),
            },
            delete_recordings: false,
            sms_from: None,
            request_timeout: crate::telephony::twilio::rest::DEFAULT_TIMEOUT,
        }),
        ..Config::default()
    };
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new(t0() + TimeDelta::seconds(20)));
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    let switchboard = Arc::new(Switchboard::new(
        store.clone(),
        calendar.clone(),
        clock.clone(),
        config.routing.clone(),
    ));
    let state = AppState {
        config: Arc::new(config),
        store: store.clone(),
        calendar,
        clock,
        switchboard,
    };
    Fixture {
        _dir: dir,
        store,
        state,
        request_id,
        operator_id,
        attempt_id: attempt.id,
    }
}

impl Fixture {
    /// Posts a webhook signed as Twilio signs it (or with `signature` when given).
    async fn post_signed(
        &self,
        route: &Route,
        pairs: &[(&str, &str)],
        signature: Option<&str>,
    ) -> (StatusCode, String) {
        let path = route_path(route);
        let params = form(pairs);
        let sig = signature
            .map(str::to_owned)
            .unwrap_or_else(|| expected_signature(TOKEN, &format!("{PUBLIC}{path}"), &params));
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&params)
            .finish();
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-twilio-signature", sig)
            .body(Body::from(body))
            .unwrap();
        let response = crate::http::router(self.state.clone())
            .oneshot(request)
            .await
            .unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    async fn post(&self, route: &Route, pairs: &[(&str, &str)]) -> (StatusCode, String) {
        self.post_signed(route, pairs, None).await
    }

    fn connect(&self) -> Route {
        Route::CallbackConnect {
            attempt_id: self.attempt_id,
        }
    }

    fn status(&self) -> Route {
        Route::CallbackStatus {
            attempt_id: self.attempt_id,
        }
    }
}

fn answered() -> Vec<(&'static str, &'static str)> {
    vec![
        ("CallSid", OUT_SID),
        ("CallStatus", "in-progress"),
        ("Direction", "outbound-api"),
        ("From", HOTLINE),
        ("To", "+74950000001"),
    ]
}

fn apology() -> String {
    Prompt::TechnicalError.utterance().text
}

#[tokio::test]
async fn the_answered_operator_is_connected_to_the_caller() {
    let f = fixture(Some(HOTLINE)).await;
    let (status, body) = f.post(&f.connect(), &answered()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    roxmltree::Document::parse(&body).expect("well-formed TwiML");
    assert!(
        body.contains(&Prompt::CallbackConnecting.utterance().text),
        "{body}"
    );
    assert!(
        body.contains(&format!(
            r#"<Dial callerId="{HOTLINE}" timeout="30"><Number>{CALLER}</Number></Dial>"#
        )),
        "{body}"
    );
    assert!(!body.contains("action="), "{body}");
    let attempt = f.store.attempt(f.attempt_id).await.unwrap().unwrap();
    assert_eq!(attempt.call_status.as_deref(), Some("in-progress"));
    assert_eq!(attempt.ended_at, None);
}

#[tokio::test]
async fn a_bad_signature_is_403_and_changes_nothing() {
    let f = fixture(Some(HOTLINE)).await;
    let (status, _) = f
        .post_signed(&f.connect(), &answered(), Some("bm90IGEgc2lnbmF0dXJl"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = f
        .post_signed(
            &f.status(),
            &[("CallSid", OUT_SID), ("CallStatus", "completed")],
            Some(""),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let attempt = f.store.attempt(f.attempt_id).await.unwrap().unwrap();
    assert_eq!((attempt.call_status, attempt.ended_at), (None, None));
}

#[tokio::test]
async fn unknown_attempts_closed_requests_and_foreign_calls_hear_an_apology() {
    let f = fixture(Some(HOTLINE)).await;
    let unknown = Route::CallbackConnect {
        attempt_id: f.attempt_id + 100,
    };
    let (status, body) = f.post(&unknown, &answered()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&apology()) && body.ends_with("<Hangup/></Response>"),
        "{body}"
    );
    // Another call than the one this attempt placed.
    let mut other = answered();
    other[0].1 = "CA99999999999999999999999999999999";
    let (status, body) = f.post(&f.connect(), &other).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("<Hangup/>") && !body.contains("<Dial"),
        "{body}"
    );
    // The request is closed (the operator already recorded an outcome).
    let priority = CallbackSettings::default().priority;
    let outcome = OutcomeChange {
        request_id: f.request_id,
        operator_id: f.operator_id,
        actor: "ivanova",
        outcome: "resolved",
        topic: None,
        note: None,
        now: t0() + TimeDelta::seconds(10),
        next: OutcomeNext::Close {
            outcome: "resolved".into(),
            missed: false,
        },
        priority: &priority,
    };
    f.store.record_outcome(&outcome).await.unwrap();
    let (status, body) = f.post(&f.connect(), &answered()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&apology()) && !body.contains("<Dial"),
        "{body}"
    );
    assert!(!body.contains(CALLER), "{body}");
}

#[tokio::test]
async fn without_a_hotline_number_the_operator_hears_an_apology() {
    let f = fixture(None).await;
    let (status, body) = f.post(&f.connect(), &answered()).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains(&apology()) && !body.contains("<Dial"),
        "{body}"
    );
}

#[tokio::test]
async fn status_callbacks_end_the_attempt_and_late_live_statuses_are_ignored() {
    let f = fixture(Some(HOTLINE)).await;
    let status_of = |s: &'static str| [("CallSid", OUT_SID), ("CallStatus", s)];
    let (status, body) = f.post(&f.status(), &status_of("ringing")).await;
    assert_eq!((status, body.as_str()), (StatusCode::NO_CONTENT, ""));
    let attempt = f.store.attempt(f.attempt_id).await.unwrap().unwrap();
    assert_eq!(
        (attempt.call_status.as_deref(), attempt.ended_at),
        (Some("ringing"), None)
    );
    let (status, _) = f.post(&f.status(), &status_of("no-answer")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let ended = f.store.attempt(f.attempt_id).await.unwrap().unwrap();
    assert_eq!(ended.call_status.as_deref(), Some("no-answer"));
    assert_eq!(ended.ended_at, Some(t0() + TimeDelta::seconds(20)));
    // Out of order: a `ringing` arriving after the end changes nothing.
    let (status, _) = f.post(&f.status(), &status_of("ringing")).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = f.store.attempt(f.attempt_id).await.unwrap().unwrap();
    assert_eq!(after.call_status.as_deref(), Some("no-answer"));
    // An ended attempt is not connected any more.
    let (_, body) = f.post(&f.connect(), &answered()).await;
    assert!(!body.contains("<Dial"), "{body}");
}

#[tokio::test]
async fn malformed_status_callbacks_are_400_with_the_reason() {
    let f = fixture(Some(HOTLINE)).await;
    let (status, body) = f.post(&f.status(), &[("CallSid", OUT_SID)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("CallStatus"), "{body}");
    let (status, body) = f.post(&f.status(), &[("CallStatus", "completed")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("CallSid"), "{body}");
    let (status, body) = f
        .post(
            &f.status(),
            &[("CallSid", OUT_SID), ("CallStatus", "exploded")],
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("exploded"), "{body}");
    let (status, body) = f.post(&f.connect(), &[("CallStatus", "in-progress")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.contains("CallSid"), "{body}");
    let attempt = f.store.attempt(f.attempt_id).await.unwrap().unwrap();
    assert_eq!(attempt.call_status, None);
}
