//! The callback list end to end: voicemails left through Twilio's signed webhooks become one
//! request per caller, operators list, claim, dial (click-to-call against a local fake of Twilio's
//! REST API, which speaks its real protocol) and record outcomes over the REST API with bearer
//! tokens. The app runs on a real port, on SQLite always and PostgreSQL when configured.

mod support;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::user::Role;
use perezvon::http::AppState;
use perezvon::store::{NewOperator, NewUser, Store};
use perezvon::switchboard::Switchboard;
use perezvon::telephony::Step;
use perezvon::telephony::twilio::{Route, TwilioClient, TwilioDialer};
use serde_json::{Value, json};
use support::TestDb;
use support::twilio::{self, HOTLINE, PUBLIC, SID, SIP_DOMAIN, TOKEN, msk};
use wiremock::matchers::{method, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const FIRST_CALL: &str = "CA00000000000000000000000000000001";

struct App {
    base: String,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
    store: Arc<dyn Store>,
    switchboard: Arc<Switchboard>,
    twilio: MockServer,
}

/// Twilio's answer to a new call: 201 with a fresh CallSid each time (CA…0001, CA…0002, …).
#[derive(Default)]
struct NewCallSid(std::sync::atomic::AtomicU32);

impl wiremock::Respond for NewCallSid {
    fn respond(&self, _: &wiremock::Request) -> ResponseTemplate {
        let n = self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        ResponseTemplate::new(201).set_body_json(json!({
            "sid": format!("CA{n:032}"),
            "status": "queued",
        }))
    }
}

async fn spawn(db: &TestDb, now: DateTime<Utc>) -> App {
    spawn_with(db, now, false).await
}

async fn spawn_with(db: &TestDb, now: DateTime<Utc>, sms: bool) -> App {
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path_regex(
            r"^/2010-04-01/Accounts/AC[0-9a-f]{32}/Calls\.json$",
        ))
        .respond_with(NewCallSid::default())
        .mount(&twilio)
        .await;
    let config = twilio::config(&twilio.uri());
    let clock = Arc::new(ManualClock::new(now));
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    let client = TwilioClient::new(&twilio.uri(), SID, TOKEN).unwrap();
    let dialer = TwilioDialer::new(
        client,
        PUBLIC.into(),
        Some(HOTLINE.into()),
        Some(SIP_DOMAIN.into()),
    );
    let switchboard = Arc::new(
        Switchboard::new(
            db.store.clone(),
            calendar.clone(),
            clock.clone(),
            config.routing.clone(),
        )
        .with_callbacks(config.callbacks.clone())
        .with_sms(sms)
        .with_dialer(Arc::new(dialer)),
    );
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
        twilio,
    }
}

impl App {
    /// Posts a webhook signed exactly as Twilio signs it; returns status and body.
    async fn hook(&self, route: &Route, form: &[(&str, &str)]) -> (u16, String) {
        twilio::post_signed(&self.http, &self.base, route, form).await
    }

    /// A user with a bearer token and no operator profile; returns the user id and the token.
    async fn user(&self, login: &str, role: Role) -> (i64, String) {
        let now = self.clock.now();
        let u = NewUser {
            login: login.into(),
            display_name: login.into(),
            role,
            password_hash: "x".into(),
        };
        let user = self.store.create_user(&u, now).await.unwrap();
        let (token, hash) = perezvon::secrets::new_token();
        self.store
            .create_token(user.id, &hash, "test", None, now)
            .await
            .unwrap();
        (user.id, token)
    }

    /// An operator with a bearer token; returns the token.
    async fn operator(&self, login: &str) -> String {
        let now = self.clock.now();
        let (user_id, token) = self.user(login, Role::Operator).await;
        let new = NewOperator {
            user_id,
            name: login.into(),
            contact_kind: ContactKind::Sip,
            contact: format!("sip:{login}@pbx.school.example"),
        };
        let op = self.store.create_operator(&new, now).await.unwrap();
        self.store
            .set_presence(op.id, Presence::Break, now)
            .await
            .unwrap();
        token
    }

    async fn api(&self, token: &str, verb: &str, path: &str, body: Option<Value>) -> (u16, Value) {
        let url = format!("{}/api/v1{path}", self.base);
        let mut req = match verb {
            "GET" => self.http.get(url),
            _ => self.http.post(url),
        }
        .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn dial(&self, token: &str, id: i64, key: &str) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}/api/v1/callbacks/{id}/dial", self.base))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A whole voicemail: the caller ID (or "anonymous"), digits typed at the number step, category.
    async fn voicemail(&self, sid: &str, from: &str, typed: &str, category: &str) -> String {
        let (s, _) = self
            .hook(
                &Route::Voice,
                &[
                    ("CallSid", sid),
                    ("From", from),
                    ("To", HOTLINE),
                    ("CallStatus", "ringing"),
                ],
            )
            .await;
        assert_eq!(s, 200);
        let step = |attempt| Route::Gather(Step::VoicemailNumber { attempt });
        self.hook(&step(0), &[("CallSid", sid), ("Digits", typed)])
            .await;
        self.hook(
            &Route::Gather(Step::VoicemailCategory { attempt: 0 }),
            &[("CallSid", sid), ("Digits", category)],
        )
        .await;
        let rec = format!("RE{:0>32}", sid.trim_start_matches("CA"));
        let url = format!("https://api.twilio.com/2010-04-01/Accounts/{SID}/Recordings/{rec}");
        let (s, twiml) = self
            .hook(
                &Route::Recorded,
                &[
                    ("CallSid", sid),
                    ("RecordingSid", &rec),
                    ("RecordingUrl", &url),
                    ("RecordingDuration", "9"),
                ],
            )
            .await;
        assert_eq!(s, 200, "{twiml}");
        self.hook(
            &Route::Status,
            &[
                ("CallSid", sid),
                ("CallStatus", "completed"),
                ("SequenceNumber", "9"),
            ],
        )
        .await;
        twiml
    }

    async fn calls_placed(&self) -> Vec<Vec<(String, String)>> {
        self.twilio
            .received_requests()
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.url.path().ends_with("/Calls.json"))
            .map(|r| form_urlencoded::parse(&r.body).into_owned().collect())
            .collect()
    }
}

on_both_backends!(
    one_request_per_caller_and_the_estimate,
    claim_dial_and_double_click,
    every_outcome_and_retry_rules,
    lease_expiry_returns_the_request,
    the_estimate_by_sms,
    a_long_call_keeps_the_claim_for_its_outcome,
    connect_checks_who_holds_the_claim,
    one_claim_per_operator_and_release,
    idempotency_keys_belong_to_their_request,
);

async fn one_request_per_caller_and_the_estimate(db: &TestDb) {
    // Friday 27 November 2026, 19:40: closed until Monday 09:00.
    let app = spawn(db, msk(2026, 11, 27, 19, 40)).await;
    let token = app.operator("ivanova").await;
    // Caller ID +79161234567 confirmed with #, school staff.
    let twiml = app.voicemail("CA1", "+79161234567", "", "1").await;
    assert!(
        twiml.contains("ru/callback/eta_intro.wav")
            && twiml.contains("ru/date/wd_1.wav")
            && twiml.contains("ru/time/from_09.wav")
            && twiml.contains("ru/time/to_10.wav"),
        "the estimate: Monday 09:00–10:00: {twiml}"
    );
    let told = |twiml: &str, clip: &str| {
        let (intro, digits) = (twiml.find("ru/callback/reg_intro.wav"), twiml.find(clip));
        intro.is_some() && intro < digits
    };
    assert!(
        told(&twiml, "ru/digits/one_1.wav"),
        "the caller hears the number of request ШП-2026-000001: {twiml}"
    );
    // The same person from a hidden number types "8 (916) 123-45-67": the same request, and
    // the same number told.
    app.clock.advance(TimeDelta::minutes(30));
    let twiml = app.voicemail("CA2", "anonymous", "89161234567", "2").await;
    assert!(told(&twiml, "ru/digits/one_1.wav"), "{twiml}");
    // Someone else: the next number.
    let twiml = app.voicemail("CA3", "+79031112233", "", "2").await;
    assert!(told(&twiml, "ru/digits/one_2.wav"), "{twiml}");
    let (s, list) = app.api(&token, "GET", "/callbacks", None).await;
    assert_eq!(s, 200, "{list}");
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let first = &list[0];
    assert_eq!(first["callback_number"], "+79161234567");
    assert_eq!(first["repeat_count"], 1);
    assert_eq!(first["voicemail_ids"].as_array().unwrap().len(), 2);
    assert_eq!(first["caller_category"], "staff");
    assert_eq!(first["state"], "open");
    assert_eq!(
        first["due_at"], "2026-11-30T06:00:00Z",
        "Monday 09:00 Moscow"
    );
    assert_eq!(
        first["deadline"], "2026-11-30T14:00:00Z",
        "8 working hours later"
    );
    assert_eq!(first["eta"], "2026-11-30T06:00:00Z");
    assert_eq!(
        first["reason"],
        "срок истекает через 8 ч; звонить не раньше пн 30.11 09:00; звонил 2 раза; сотрудник школы"
    );
    assert_eq!(first["reg_number"], "ШП-2026-000001");
    assert_eq!(list[1]["callback_number"], "+79031112233");
    assert_eq!(list[1]["reg_number"], "ШП-2026-000002");
    // Found by its registration number, however it is typed.
    for q in ["ШП-2026-000002", "шп-2026-2", "ШП 2026 — 000002"] {
        let path = format!("/callbacks/search?q={}", url_encode(q));
        let (s, found) = app.api(&token, "GET", &path, None).await;
        assert_eq!(s, 200, "{found}");
        let numbers: Vec<&str> = found
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["reg_number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["ШП-2026-000002"], "{q}");
    }
    let (s, found) = app
        .api(&token, "GET", "/callbacks/search?q=ШП-2026-000009", None)
        .await;
    assert_eq!((s, found), (200, json!([])), "no such number");
    let (s, e) = app.api(&token, "GET", "/callbacks/search?q=", None).await;
    assert_eq!(s, 400, "{e}");
    // One operator at half time, 6 minutes each: the second callback 12 minutes later.
    assert_eq!(list[1]["eta"], "2026-11-30T06:12:00Z");
    let (s, plan) = app.api(&token, "GET", "/callbacks/schedule", None).await;
    assert_eq!(s, 200, "{plan}");
    assert_eq!(plan["windows"][0]["start"], "2026-11-30T09:00:00+03:00");
    assert_eq!(plan["windows"][0]["requests"], 2);
    assert_eq!(
        (
            &plan["operators"],
            &plan["handle_secs"],
            &plan["beyond_horizon"]
        ),
        (&json!(1), &json!(360), &json!(0))
    );
    // History of the merged request.
    let id = first["id"].as_i64().unwrap();
    let (_, detail) = app
        .api(&token, "GET", &format!("/callbacks/{id}"), None)
        .await;
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "merged"]);
    // Without a token: 401.
    let r = app
        .http
        .get(format!("{}/api/v1/callbacks", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (s, _) = app.api(&token, "GET", "/callbacks?limit=0", None).await;
    assert_eq!(s, 400);
}

async fn claim_dial_and_double_click(db: &TestDb) {
    let app = spawn(db, msk(2026, 11, 28, 11, 0)).await;
    let ivanova = app.operator("ivanova").await;
    let petrov = app.operator("petrov").await;
    app.voicemail("CA1", "+79161234567", "", "2").await;
    // Saturday: 409 with the next window.
    let (s, body) = app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    assert_eq!(s, 409, "{body}");
    assert_eq!(body["next_window"]["start"], "2026-11-30T09:00:00+03:00");
    // Monday 09:05.
    app.clock.set(msk(2026, 11, 30, 9, 5));
    // A supervisor takes no calls until given an operator profile (a "no" is not remembered).
    let (boss_id, boss) = app.user("orlova", Role::Supervisor).await;
    let (s, body) = app.api(&boss, "POST", "/callbacks/claim", None).await;
    assert_eq!(s, 403, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("no operator profile"),
        "{body}"
    );
    let new = NewOperator {
        user_id: boss_id,
        name: "orlova".into(),
        contact_kind: ContactKind::Sip,
        contact: "sip:orlova@pbx.school.example".into(),
    };
    let orlova = app
        .store
        .create_operator(&new, app.clock.now())
        .await
        .unwrap();
    let (s, item) = app.api(&boss, "POST", "/callbacks/claim", None).await;
    assert_eq!(
        (s, item["claimed_by"].as_i64()),
        (200, Some(orlova.id)),
        "{item}"
    );
    let path = format!("/callbacks/{}/release", item["id"]);
    assert_eq!(app.api(&boss, "POST", &path, None).await.0, 200);
    let (s, item) = app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    assert_eq!(s, 200, "{item}");
    assert_eq!(item["state"], "claimed");
    assert_eq!(item["lease_until"], "2026-11-30T06:20:00Z");
    let id = item["id"].as_i64().unwrap();
    let r = app
        .http
        .post(format!("{}/api/v1/callbacks/claim", app.base))
        .bearer_auth(&petrov)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "nothing else is due");
    // Petrov cannot dial Ivanova's request.
    assert_eq!(app.dial(&petrov, id, "p-1").await.0, 409);
    // The click; a retried click (same key); a double click (new key) while the call rings.
    let (s, first) = app.dial(&ivanova, id, "click-1").await;
    assert_eq!(s, 201, "{first}");
    let (s, again) = app.dial(&ivanova, id, "click-1").await;
    assert_eq!((s, &again["replayed"]), (200, &json!(true)));
    assert_eq!(again["attempt"]["id"], first["attempt"]["id"]);
    let (s, busy) = app.dial(&ivanova, id, "click-2").await;
    assert_eq!(s, 409, "{busy}");
    let placed = app.calls_placed().await;
    assert_eq!(placed.len(), 1, "exactly one outbound call");
    let get = |k: &str| {
        placed[0]
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
    };
    let attempt = first["attempt"]["id"].as_i64().unwrap();
    assert_eq!(get("To").as_deref(), Some("sip:ivanova@pbx.school.example"));
    assert_eq!(get("From").as_deref(), Some(HOTLINE));
    assert_eq!(
        get("Url"),
        Some(format!(
            "{PUBLIC}/webhooks/twilio/callback/connect?attempt={attempt}"
        ))
    );
    // The operator answers: Twilio asks what to do; we connect the caller with the hotline's number.
    let (s, twiml) = app
        .hook(
            &Route::CallbackConnect {
                attempt_id: attempt,
            },
            &[("CallSid", FIRST_CALL), ("CallStatus", "in-progress")],
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        twiml.contains(&format!("callerId=\"{HOTLINE}\""))
            && twiml.contains("<Number>+79161234567</Number>"),
        "{twiml}"
    );
    // The call ends; a new click may dial again.
    let (s, _) = app
        .hook(
            &Route::CallbackStatus {
                attempt_id: attempt,
            },
            &[("CallSid", FIRST_CALL), ("CallStatus", "completed")],
        )
        .await;
    assert_eq!(s, 204, "status callbacks are acknowledged without a body");
    app.clock.advance(TimeDelta::minutes(4));
    let (s, _) = app.dial(&ivanova, id, "click-3").await;
    assert_eq!(s, 201);
    assert_eq!(app.calls_placed().await.len(), 2);
    let (_, detail) = app
        .api(&ivanova, "GET", &format!("/callbacks/{id}"), None)
        .await;
    let attempts = detail["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0]["call_status"], "completed");
}

/// Seeds a request for `number` straight through the service (no webhooks).
async fn seed(app: &App, sid: &str, number: &str) -> i64 {
    let now = app.clock.now();
    let call = app
        .store
        .ensure_call("twilio", sid, Some(number), Some(HOTLINE), now)
        .await
        .unwrap();
    app.store
        .start_voicemail(call.id, Some(number), now)
        .await
        .unwrap();
    app.switchboard
        .callbacks()
        .attach(call.id, number, Some("parent"), now)
        .await
        .unwrap()
        .unwrap()
        .request_id()
}

async fn every_outcome_and_retry_rules(db: &TestDb) {
    // Tuesday 1 December 2026, 10:00.
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    let op = app.operator("ivanova").await;
    let outcome = |id: i64, body: Value| {
        let app = &app;
        let op = op.clone();
        async move {
            app.api(&op, "POST", &format!("/callbacks/{id}/outcome"), Some(body))
                .await
        }
    };
    let claim = || async {
        app.api(&op, "POST", "/callbacks/claim", None).await.1["id"]
            .as_i64()
            .unwrap()
    };
    for (i, n) in [
        "+79160000001",
        "+79160000002",
        "+79160000003",
        "+79160000004",
        "+79160000005",
    ]
    .iter()
    .enumerate()
    {
        seed(&app, &format!("CA{i}"), n).await;
    }
    let (s, topics) = app.api(&op, "GET", "/callbacks/topics", None).await;
    assert_eq!((s, topics.as_array().unwrap().len()), (200, 8));
    // resolved: a topic is required and must be known.
    let id = claim().await;
    assert_eq!(outcome(id, json!({"outcome": "resolved"})).await.0, 400);
    let (s, e) = outcome(id, json!({"outcome": "resolved", "topic": "weather"})).await;
    assert!(
        s == 400 && e["error"].as_str().unwrap().contains("timetable"),
        "{e}"
    );
    assert_eq!(
        outcome(id, json!({"outcome": "solved", "topic": "grades"}))
            .await
            .0,
        400
    );
    let (s, r) = outcome(
        id,
        json!({"outcome": "resolved", "topic": "grades", "note": "Объяснили"}),
    )
    .await;
    assert_eq!(
        (s, &r["state"], &r["outcome"], &r["topic"]),
        (200, &json!("closed"), &json!("resolved"), &json!("grades"))
    );
    // Again: no longer held.
    assert_eq!(
        outcome(id, json!({"outcome": "resolved", "topic": "grades"}))
            .await
            .0,
        409
    );
    // wrong_number and both rejections close.
    for o in [
        "wrong_number",
        "rejected_insufficient_info",
        "rejected_unclear",
    ] {
        let id = claim().await;
        let (s, r) = outcome(id, json!({"outcome": o, "topic": "other"})).await;
        assert_eq!(
            (s, &r["state"], &r["outcome"]),
            (200, &json!("closed"), &json!(o)),
            "{r}"
        );
    }
    // follow_up: only inside working hours.
    let id = claim().await;
    let evening = json!({"outcome": "follow_up", "topic": "attendance", "follow_up_at": "2026-12-01T19:00:00+03:00"});
    let (s, e) = outcome(id, evening).await;
    assert!(
        s == 400
            && e["error"]
                .as_str()
                .unwrap()
                .contains("2026-12-02T09:00:00+03:00"),
        "{e}"
    );
    let ok = json!({"outcome": "follow_up", "topic": "attendance", "follow_up_at": "2026-12-01T15:00:00+03:00"});
    let (s, r) = outcome(id, ok).await;
    assert_eq!(
        (s, &r["state"], &r["due_at"], &r["follow_up"]),
        (
            200,
            &json!("open"),
            &json!("2026-12-01T12:00:00Z"),
            &json!(true)
        ),
        "{r}"
    );
    // At 15:00 it is due; busy at 17:50 → due the next morning at 09:20 (30 working minutes).
    app.clock.set(msk(2026, 12, 1, 17, 50));
    assert_eq!(claim().await, id);
    let (s, r) = outcome(id, json!({"outcome": "busy"})).await;
    assert_eq!(
        (s, &r["due_at"], &r["misses"]),
        (200, &json!("2026-12-02T06:20:00Z"), &json!(1)),
        "{r}"
    );
    // Then no answer twice more: closed as unreachable after 3 attempts.
    app.clock.set(msk(2026, 12, 2, 9, 20));
    assert_eq!(claim().await, id);
    let (_, r) = outcome(id, json!({"outcome": "no_answer"})).await;
    assert_eq!(
        (&r["state"], &r["due_at"]),
        (&json!("open"), &json!("2026-12-02T06:50:00Z"))
    );
    app.clock.set(msk(2026, 12, 2, 9, 50));
    assert_eq!(claim().await, id);
    let (_, r) = outcome(id, json!({"outcome": "no_answer"})).await;
    assert_eq!(
        (&r["state"], &r["outcome"], &r["attempts"]),
        (&json!("closed"), &json!("unreachable"), &json!(4))
    );
    let (_, closed) = app.api(&op, "GET", "/callbacks?state=closed", None).await;
    assert_eq!(closed.as_array().unwrap().len(), 5);
    let (_, detail) = app.api(&op, "GET", &format!("/callbacks/{id}"), None).await;
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created", "claimed", "outcome", "claimed", "outcome", "claimed", "outcome", "claimed",
            "outcome"
        ]
    );
}

async fn lease_expiry_returns_the_request(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    let ivanova = app.operator("ivanova").await;
    let petrov = app.operator("petrov").await;
    let id = seed(&app, "CA1", "+79160000001").await;
    let (_, r) = app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    assert_eq!(r["id"], id);
    app.clock.advance(TimeDelta::minutes(16));
    let (s, r) = app.api(&petrov, "POST", "/callbacks/claim", None).await;
    assert_eq!((s, &r["id"]), (200, &json!(id)), "{r}");
    let (s, _) = app
        .api(
            &ivanova,
            "POST",
            &format!("/callbacks/{id}/outcome"),
            Some(json!({"outcome": "resolved", "topic": "grades"})),
        )
        .await;
    assert_eq!(s, 409, "Ivanova's lease ran out");
    let (_, detail) = app
        .api(&petrov, "GET", &format!("/callbacks/{id}"), None)
        .await;
    let actions: Vec<&str> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "claimed", "released", "claimed"]);
}

async fn the_estimate_by_sms(db: &TestDb) {
    // Saturday 28 November 2026, 11:00.
    let app = spawn_with(db, msk(2026, 11, 28, 11, 0), true).await;
    app.operator("ivanova").await;
    app.voicemail("CA1", "+79161234567", "", "2").await;
    let now = app.clock.now();
    let job = app
        .store
        .claim_job("test", now, TimeDelta::minutes(1))
        .await
        .unwrap()
        .expect("an SMS job enqueued with the voicemail");
    assert_eq!(job.kind, "sms.send");
    let payload: Value = serde_json::from_str(&job.payload).unwrap();
    assert_eq!(payload["to"], "+79161234567");
    assert_eq!(
        payload["body"],
        "Линия поддержки Школьного портала: ваша заявка ШП-2026-000001 зарегистрирована, \
         мы перезвоним вам в понедельник, 30 ноября, примерно с 09:00 до 10:00."
    );
    assert!(
        app.store
            .claim_job("test", now, TimeDelta::minutes(1))
            .await
            .unwrap()
            .is_none()
    );
}

/// `s` as a query-string value.
fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The history actions of a request.
async fn actions(app: &App, token: &str, id: i64) -> Vec<String> {
    let (_, detail) = app
        .api(token, "GET", &format!("/callbacks/{id}"), None)
        .await;
    detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["action"].as_str().unwrap().to_owned())
        .collect()
}

async fn a_long_call_keeps_the_claim_for_its_outcome(db: &TestDb) {
    // Tuesday 1 December 2026, 10:00; leases of 15 minutes.
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    let ivanova = app.operator("ivanova").await;
    let petrov = app.operator("petrov").await;
    let id = seed(&app, "CA1", "+79160000001").await;
    let (s, item) = app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    assert_eq!((s, &item["id"]), (200, &json!(id)), "{item}");
    let (s, first) = app.dial(&ivanova, id, "click-1").await;
    assert_eq!(s, 201, "{first}");
    let attempt = first["attempt"]["id"].as_i64().unwrap();
    let status = Route::CallbackStatus {
        attempt_id: attempt,
    };
    for st in ["initiated", "ringing"] {
        let (s, _) = app
            .hook(&status, &[("CallSid", FIRST_CALL), ("CallStatus", st)])
            .await;
        assert_eq!(s, 204);
    }
    app.clock.advance(TimeDelta::minutes(1));
    let (_, twiml) = app
        .hook(
            &Route::CallbackConnect {
                attempt_id: attempt,
            },
            &[("CallSid", FIRST_CALL), ("CallStatus", "in-progress")],
        )
        .await;
    assert!(
        twiml.contains("<Number>+79160000001</Number>"),
        "connected: {twiml}"
    );
    // 40 minutes on the phone: the lease ran out long ago, but the claim holds.
    app.clock.set(msk(2026, 12, 1, 10, 40));
    let swept = app
        .store
        .release_expired_callbacks(app.clock.now())
        .await
        .unwrap();
    assert_eq!(
        swept, 0,
        "the lease sweeper leaves a call in progress alone"
    );
    let r = app
        .http
        .post(format!("{}/api/v1/callbacks/claim", app.base))
        .bearer_auth(&petrov)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204, "nobody else can claim it meanwhile");
    let (s, busy) = app.dial(&ivanova, id, "click-2").await;
    assert_eq!(s, 409, "no second call during the conversation: {busy}");
    // The call ends at 10:45; the outcome at 10:48 is hers.
    app.clock.set(msk(2026, 12, 1, 10, 45));
    let (s, _) = app
        .hook(
            &status,
            &[("CallSid", FIRST_CALL), ("CallStatus", "completed")],
        )
        .await;
    assert_eq!(s, 204);
    app.clock.set(msk(2026, 12, 1, 10, 48));
    app.store
        .release_expired_callbacks(app.clock.now())
        .await
        .unwrap();
    let (s, r) = app
        .api(
            &ivanova,
            "POST",
            &format!("/callbacks/{id}/outcome"),
            Some(json!({"outcome": "resolved", "topic": "grades"})),
        )
        .await;
    assert_eq!((s, &r["state"]), (200, &json!("closed")), "{r}");
    assert_eq!(app.calls_placed().await.len(), 1);
    assert_eq!(
        actions(&app, &ivanova, id).await,
        ["created", "claimed", "dialed", "outcome"]
    );
}

async fn connect_checks_who_holds_the_claim(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    let ivanova = app.operator("ivanova").await;
    let petrov = app.operator("petrov").await;
    let id = seed(&app, "CA1", "+79160000001").await;
    app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    let (s, first) = app.dial(&ivanova, id, "click-1").await;
    assert_eq!(s, 201, "{first}");
    let attempt = first["attempt"]["id"].as_i64().unwrap();
    // Her phone never reported a thing; the lease runs out and Petrov claims the request.
    app.clock.advance(TimeDelta::minutes(16));
    let (s, r) = app.api(&petrov, "POST", "/callbacks/claim", None).await;
    assert_eq!((s, &r["id"]), (200, &json!(id)), "{r}");
    // Then Ivanova answers: she is told so and the call ends; the caller is not dialed.
    let connect = |attempt_id, sid: &'static str| {
        let app = &app;
        async move {
            app.hook(
                &Route::CallbackConnect { attempt_id },
                &[("CallSid", sid), ("CallStatus", "in-progress")],
            )
            .await
        }
    };
    let (s, twiml) = connect(attempt, FIRST_CALL).await;
    assert_eq!(s, 200);
    assert!(
        twiml.contains("ru/static/callback_not_held.wav")
            && twiml.contains("<Hangup/>")
            && !twiml.contains("<Dial"),
        "{twiml}"
    );
    // Petrov dials, then releases the request before he answers: not connected either.
    let (s, second) = app.dial(&petrov, id, "click-1").await;
    assert_eq!(s, 201, "{second}");
    let (s, _) = app
        .api(&petrov, "POST", &format!("/callbacks/{id}/release"), None)
        .await;
    assert_eq!(s, 200);
    let (_, twiml) = connect(
        second["attempt"]["id"].as_i64().unwrap(),
        "CA00000000000000000000000000000002",
    )
    .await;
    assert!(
        twiml.contains("ru/static/callback_not_held.wav") && !twiml.contains("<Dial"),
        "{twiml}"
    );
}

async fn one_claim_per_operator_and_release(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    let ivanova = app.operator("ivanova").await;
    let petrov = app.operator("petrov").await;
    let (_, chief) = app.user("chief", Role::Supervisor).await;
    let a = seed(&app, "CA1", "+79160000001").await;
    let b = seed(&app, "CA2", "+79160000002").await;
    let (s, first) = app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    assert_eq!(
        (s, &first["id"], &first["already_held"]),
        (200, &json!(a), &json!(false)),
        "{first}"
    );
    // A second claim gives back the one she holds.
    app.clock.advance(TimeDelta::minutes(1));
    let (s, again) = app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    assert_eq!(
        (s, &again["id"], &again["already_held"], &again["state"]),
        (200, &json!(a), &json!(true), &json!("claimed")),
        "{again}"
    );
    assert_eq!(again["lease_until"], first["lease_until"]);
    let (s, other) = app.api(&petrov, "POST", "/callbacks/claim", None).await;
    assert_eq!((s, &other["id"]), (200, &json!(b)), "{other}");
    let release = |token: &str, id: i64| {
        let app = &app;
        let token = token.to_owned();
        async move {
            app.api(&token, "POST", &format!("/callbacks/{id}/release"), None)
                .await
        }
    };
    // Not his, unknown, hers.
    assert_eq!(release(&petrov, a).await.0, 409);
    assert_eq!(release(&ivanova, 9_999).await.0, 404);
    let (s, r) = release(&ivanova, a).await;
    assert_eq!(
        (s, &r["id"], &r["state"], &r["claimed_by"]),
        (200, &json!(a), &json!("open"), &Value::Null),
        "{r}"
    );
    assert_eq!(release(&ivanova, a).await.0, 409, "no longer claimed");
    // A supervisor releases anyone's claim.
    let (s, r) = release(&chief, b).await;
    assert_eq!((s, &r["state"]), (200, &json!("open")), "{r}");
    assert_eq!(release(&chief, b).await.0, 409);
    assert_eq!(
        actions(&app, &chief, b).await,
        ["created", "claimed", "released"]
    );
    // Both back in the list; Ivanova claims the top one again.
    let (s, r) = app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    assert_eq!(
        (s, &r["id"], &r["already_held"]),
        (200, &json!(a), &json!(false))
    );
}

async fn idempotency_keys_belong_to_their_request(db: &TestDb) {
    let app = spawn(db, msk(2026, 12, 1, 10, 0)).await;
    let ivanova = app.operator("ivanova").await;
    let petrov = app.operator("petrov").await;
    let a = seed(&app, "CA1", "+79160000001").await;
    let b = seed(&app, "CA2", "+79160000002").await;
    app.api(&ivanova, "POST", "/callbacks/claim", None).await;
    app.api(&petrov, "POST", "/callbacks/claim", None).await;
    // Two browsers send the same key, each for its own request: two calls.
    let (s, first) = app.dial(&ivanova, a, "same-key").await;
    assert_eq!(s, 201, "{first}");
    let (s, second) = app.dial(&petrov, b, "same-key").await;
    assert_eq!(
        (s, &second["replayed"], &second["attempt"]["request_id"]),
        (201, &json!(false), &json!(b)),
        "another request's key must not return its attempt: {second}"
    );
    let placed = app.calls_placed().await;
    assert_eq!(placed.len(), 2);
    assert!(
        placed[1]
            .iter()
            .any(|(k, v)| k == "To" && v == "sip:petrov@pbx.school.example")
    );
    // A retried click is still a replay.
    let (s, again) = app.dial(&petrov, b, "same-key").await;
    assert_eq!(
        (s, &again["attempt"]["id"]),
        (200, &second["attempt"]["id"])
    );
}
