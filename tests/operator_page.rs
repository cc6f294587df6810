//! The operator's page (`/`) and what it reads: the page itself (session, the hooks its script
//! and the browser tests use, the list and the held request), the earlier contacts of a number
//! (masked except for the holder and supervisors), the follow-up slots (inside working hours
//! only, across weekends and holidays, and the outcome refusing any other time), and the live
//! updates over server-sent events — on SQLite and PostgreSQL.

mod support;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use futures::StreamExt;
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};
use perezvon::clock::Clock;
use perezvon::domain::user::Role;
use perezvon::store::AudioUpdate;
use reqwest::Method;
use serde_json::{Value, json};
use support::TestDb;
use support::web::{Session, WebApp, voicemail_request};

const NUMBER: &str = "+79031234567";
const OTHER: &str = "+79035550011";

async fn each_backend<F, Fut>(f: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    f(TestDb::sqlite().await).await;
    if let Some(db) = TestDb::postgres().await {
        f(db).await;
    }
}

fn msk(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn json_of(
    app: &WebApp,
    method: Method,
    path: &str,
    s: &Session,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = app.with_session(method, path, s);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn page(app: &WebApp, s: &Session) -> String {
    let r = app.with_cookie(Method::GET, "/", s).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

#[tokio::test]
async fn the_page_shows_presence_the_list_and_the_held_request() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        let anon = app.http.get(format!("{}/", app.base)).send().await.unwrap();
        assert_eq!(anon.status(), 303);
        assert!(
            anon.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login")
        );

        app.user("ivanova", Role::Operator).await;
        app.user("petrova", Role::Supervisor).await;
        let first = app.voicemail_request("CA1", NUMBER, Some("staff")).await;
        let second = app.voicemail_request("CA2", OTHER, Some("parent")).await;
        let s = app.sign_in("ivanova").await;
        let html = page(&app, &s).await;
        for hook in [
            r#"data-presence="available""#,
            r#"data-presence="break""#,
            r#"data-presence="offline""#,
            r#"aria-pressed="true">не в сети"#,
            r#"id="presence-state""#,
            r#"id="claim-next""#,
            "Следующий звонок",
            r#"id="card" data-request-id="" hidden"#,
            r#"id="card-number""#,
            r#"<audio id="voicemail-audio""#,
            r#"id="dial""#,
            "Позвонить",
            r#"id="dial-status""#,
            r#"data-outcome="resolved""#,
            r#"data-outcome="follow_up""#,
            r#"data-outcome="rejected_unclear""#,
            r#"<select id="topic">"#,
            r#"<option value="timetable">Расписание</option>"#,
            r#"<textarea id="note""#,
            r#"<select id="follow-up-slot">"#,
            r#"id="release""#,
            r#"<table id="queue">"#,
            r#"id="message" class="live" role="status""#,
            "/assets/operator.js",
            "сотрудник школы",
        ] {
            assert!(html.contains(hook), "no `{hook}` in the page");
        }
        for id in [first, second] {
            assert!(
                html.contains(&format!(r#"<tr data-request-id="{id}""#)),
                "row {id}"
            );
        }
        assert!(!html.contains(NUMBER), "the list shows no numbers");
        let js = app
            .http
            .get(format!("{}/assets/operator.js", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(js.status(), 200);

        // The held request comes back on the card, its number in full, its recording playable.
        let vm = app.store.callback_request(first).await.unwrap().unwrap().voicemail_ids[0];
        let call_id = app.store.voicemail(vm).await.unwrap().unwrap().call_id;
        let audio = AudioUpdate {
            status: "stored".into(),
            audio_path: Some("/nonexistent/vm.wav".into()),
            has_speech: Some(true),
            ..AudioUpdate::default()
        };
        app.store.set_voicemail_audio(call_id, &audio).await.unwrap();
        let (status, claimed) =
            json_of(&app, Method::POST, "/api/v1/callbacks/claim", &s, None).await;
        assert_eq!(status, 200, "{claimed}");
        assert_eq!(claimed["id"], first, "staff first");
        let html = page(&app, &s).await;
        assert!(
            html.contains(&format!(r#"id="card" data-request-id="{first}">"#)),
            "{html}"
        );
        assert!(html.contains(&format!(r#"href="tel:{NUMBER}">{NUMBER}</a>"#)));
        assert!(html.contains(&format!(r#"<tr data-request-id="{first}" class="mine">"#)));
        assert!(
            html.contains(&format!(r#"<audio id="voicemail-audio" controls preload="none" src="/api/v1/voicemails/{vm}/audio">"#)),
            "{html}"
        );
        let (_, c) = json_of(&app, Method::GET, &format!("/api/v1/callbacks/{first}/contacts"), &s, None).await;
        assert_eq!(c["audio_url"], format!("/api/v1/voicemails/{vm}/audio"));
        assert_eq!(c["number"], NUMBER);

        // A supervisor without an operator profile sees the list only.
        let sup = app.sign_in("petrova").await;
        let html = page(&app, &sup).await;
        assert!(html.contains("нет профиля оператора"));
        assert!(!html.contains(r#"id="claim-next""#) && !html.contains("data-presence="));
        assert!(html.contains(&format!(r#"<tr data-request-id="{second}""#)));
    })
    .await;
}

#[tokio::test]
async fn contacts_list_earlier_contacts_masked_except_for_holder_and_supervisor() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        app.user("sidorov", Role::Operator).await;
        app.user("petrova", Role::Supervisor).await;
        let a = app.sign_in("ivanova").await;
        let b = app.sign_in("sidorov").await;
        let sup = app.sign_in("petrova").await;
        let earlier = app.voicemail_request("CA1", NUMBER, Some("parent")).await;
        let (st, _) = json_of(&app, Method::POST, "/api/v1/callbacks/claim", &a, None).await;
        assert_eq!(st, 200);
        let body = json!({ "outcome": "resolved", "topic": "grades", "note": "объяснили" });
        let path = format!("/api/v1/callbacks/{earlier}/outcome");
        let (st, closed) = json_of(&app, Method::POST, &path, &a, Some(body)).await;
        assert_eq!(st, 200, "{closed}");
        app.clock.advance(chrono::TimeDelta::minutes(30));
        let now = app.voicemail_request("CA2", NUMBER, Some("parent")).await;
        assert_ne!(now, earlier);

        let path = format!("/api/v1/callbacks/{now}/contacts");
        let (st, c) = json_of(&app, Method::GET, &path, &b, None).await;
        assert_eq!(st, 200, "{c}");
        assert_eq!(
            c["number"], "+7******4567",
            "masked for an operator who does not hold it"
        );
        assert_eq!(c["calls"].as_array().unwrap().len(), 2);
        assert!(
            c["calls"]
                .as_array()
                .unwrap()
                .iter()
                .all(|k| k["from_number"] == "+7******4567")
        );
        let vms = c["voicemails"].as_array().unwrap();
        assert_eq!(vms.len(), 2);
        assert_eq!(
            vms[0]["current"], true,
            "newest first: this request's voicemail"
        );
        assert_eq!(vms[1]["current"], false);
        let reqs = c["requests"].as_array().unwrap();
        assert_eq!(reqs.len(), 1, "the card's own request is left out: {c}");
        assert_eq!(reqs[0]["id"], earlier);
        assert_eq!(reqs[0]["outcome"], "resolved");
        assert_eq!(reqs[0]["outcome_label"], "Вопрос решён");
        assert_eq!(
            reqs[0]["topic_label"],
            "Успеваемость (текущие и итоговые отметки)"
        );
        assert_eq!(reqs[0]["note"], "объяснили");
        assert!(c["audio_url"].is_null(), "no audio stored");

        // Its holder and a supervisor see it in full.
        let (st, _) = json_of(&app, Method::POST, "/api/v1/callbacks/claim", &b, None).await;
        assert_eq!(st, 200);
        let (_, c) = json_of(&app, Method::GET, &path, &b, None).await;
        assert_eq!(c["number"], NUMBER);
        assert_eq!(c["calls"][0]["from_number"], NUMBER);
        let (_, c) = json_of(&app, Method::GET, &path, &sup, None).await;
        assert_eq!(c["number"], NUMBER);
        let (_, c) = json_of(&app, Method::GET, &path, &a, None).await;
        assert_eq!(
            c["number"], "+7******4567",
            "the earlier holder no longer holds it"
        );
        let (st, _) = json_of(
            &app,
            Method::GET,
            "/api/v1/callbacks/999/contacts",
            &a,
            None,
        )
        .await;
        assert_eq!(st, 404);
    })
    .await;
}

#[tokio::test]
async fn follow_up_slots_lie_inside_working_hours() {
    let db = TestDb::sqlite().await;
    let app = WebApp::spawn(&db).await;
    let cal = Calendar::builtin(HotlineHours::default());
    // A Tuesday morning, a Friday evening before a weekend, the New Year holidays, a Sunday.
    for (start, days) in [
        (msk(2026, 12, 1, 10, 0), 5),
        (msk(2026, 12, 4, 17, 20), 2),
        (msk(2026, 12, 30, 16, 0), 3),
        (msk(2027, 3, 7, 12, 0), 1),
        (msk(2026, 12, 4, 23, 0), 14),
    ] {
        app.clock.set(start);
        let r = app
            .http
            .get(format!(
                "{}/api/v1/calendar/follow-up-slots?days={days}",
                app.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let slots: Vec<Value> = r.json().await.unwrap();
        assert!(!slots.is_empty());
        let mut dates = std::collections::BTreeSet::new();
        for s in &slots {
            let at = DateTime::parse_from_rfc3339(s["at"].as_str().unwrap()).unwrap();
            assert!(s["at"].as_str().unwrap().ends_with("+03:00"), "{s}");
            let at = at.with_timezone(&Utc);
            assert!(at > start, "{s}");
            assert!(
                cal.is_open(at),
                "{s} is outside working hours (from {start})"
            );
            dates.insert(s["date"].as_str().unwrap().to_owned());
        }
        assert_eq!(dates.len(), days, "from {start}: {dates:?}");
        // Every working quarter hour of the first day after the start is offered.
        let first = DateTime::parse_from_rfc3339(slots[0]["at"].as_str().unwrap())
            .unwrap()
            .with_timezone(&Utc);
        let w = cal.window_at_or_after(first).unwrap();
        let in_first = slots
            .iter()
            .filter(|s| {
                w.contains(
                    DateTime::parse_from_rfc3339(s["at"].as_str().unwrap())
                        .unwrap()
                        .with_timezone(&Utc),
                )
            })
            .count() as i64;
        assert_eq!(
            in_first,
            (w.end - first).num_minutes().div_euclid(15)
                + i64::from((w.end - first).num_minutes() % 15 != 0)
        );
    }
    let holiday = msk(2026, 12, 30, 16, 0);
    app.clock.set(holiday);
    let r = app
        .http
        .get(format!(
            "{}/api/v1/calendar/follow-up-slots?days=2",
            app.base
        ))
        .send()
        .await
        .unwrap();
    let slots: Vec<Value> = r.json().await.unwrap();
    assert!(slots.iter().all(|s| {
        let d = s["date"].as_str().unwrap();
        !("2027-01-01"..="2027-01-08").contains(&d)
    }));
    for bad in ["0", "15", "x"] {
        let r = app
            .http
            .get(format!(
                "{}/api/v1/calendar/follow-up-slots?days={bad}",
                app.base
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "days={bad}");
    }
}

#[tokio::test]
async fn a_follow_up_outside_working_hours_is_refused() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        let s = app.sign_in("ivanova").await;
        let id = app.voicemail_request("CA1", NUMBER, None).await;
        let (st, _) = json_of(&app, Method::POST, "/api/v1/callbacks/claim", &s, None).await;
        assert_eq!(st, 200);
        let path = format!("/api/v1/callbacks/{id}/outcome");
        // Saturday noon, a weekday night, and the New Year holidays are refused.
        for at in [
            "2026-12-05T12:00:00+03:00",
            "2026-12-02T20:00:00+03:00",
            "2027-01-05T10:00:00+03:00",
        ] {
            let body = json!({ "outcome": "follow_up", "topic": "timetable", "follow_up_at": at });
            let (st, e) = json_of(&app, Method::POST, &path, &s, Some(body)).await;
            assert_eq!(st, 400, "{at}: {e}");
            assert!(
                e["error"]
                    .as_str()
                    .unwrap()
                    .contains("outside working hours"),
                "{e}"
            );
        }
        // A slot the picker offers is taken.
        let (_, slots) = json_of(
            &app,
            Method::GET,
            "/api/v1/calendar/follow-up-slots?days=2",
            &s,
            None,
        )
        .await;
        let slot = slots[5]["at"].as_str().unwrap().to_owned();
        let body = json!({ "outcome": "follow_up", "topic": "timetable", "follow_up_at": slot });
        let (st, r) = json_of(&app, Method::POST, &path, &s, Some(body)).await;
        assert_eq!(st, 200, "{r}");
        assert_eq!(r["state"], "open");
        let due = DateTime::parse_from_rfc3339(r["due_at"].as_str().unwrap()).unwrap();
        assert_eq!(due, DateTime::parse_from_rfc3339(&slot).unwrap());
    })
    .await;
}

/// Reads the event stream until an event named `name` arrives; panics after `secs` seconds.
async fn next_event<B: AsRef<[u8]>>(
    stream: &mut (impl futures::Stream<Item = reqwest::Result<B>> + Unpin),
    buf: &mut String,
    name: &str,
    secs: u64,
) -> String {
    let needle = format!("event: {name}\n");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(at) = buf.find(&needle) {
            let rest = &buf[at..];
            if let Some(end) = rest.find("\n\n") {
                let ev = rest[..end].to_owned();
                *buf = rest[end + 2..].to_owned();
                return ev;
            }
        }
        let chunk = tokio::time::timeout_at(deadline, stream.next())
            .await
            .unwrap_or_else(|_| panic!("no `event: {name}` within {secs} s; got {buf:?}"))
            .expect("the stream stays open")
            .unwrap();
        buf.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
}

#[tokio::test]
async fn live_updates_tell_of_presence_and_list_changes() {
    each_backend(|db| async move {
        let app = WebApp::spawn(&db).await;
        app.user("ivanova", Role::Operator).await;
        let s = app.sign_in("ivanova").await;
        let anon = app
            .http
            .get(format!("{}/events", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(anon.status(), 303);
        let r = app
            .with_cookie(Method::GET, "/events", &s)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream")
        );
        let mut stream = Box::pin(r.bytes_stream());
        let mut buf = String::new();
        let hello = next_event(&mut stream, &mut buf, "hello", 5).await;
        assert!(hello.contains(r#""state":"offline""#), "{hello}");

        let (st, _) = json_of(
            &app,
            Method::PUT,
            "/api/v1/operators/ivanova/presence",
            &s,
            Some(json!({ "state": "available" })),
        )
        .await;
        assert_eq!(st, 200);
        let ev = next_event(&mut stream, &mut buf, "presence", 5).await;
        assert!(
            ev.contains(r#""state":"available""#) && ev.contains("на линии"),
            "{ev}"
        );

        // A request written by another instance reaches this page too.
        let other = db.another_instance().await;
        voicemail_request(&other, app.clock.now(), "CA1", NUMBER, None).await;
        let ev = next_event(&mut stream, &mut buf, "list", 5).await;
        assert!(ev.contains(r#""active":1"#), "{ev}");
        // So does a claim of it (same count, same instant on the test clock).
        let (st, _) = json_of(&app, Method::POST, "/api/v1/callbacks/claim", &s, None).await;
        assert_eq!(st, 200);
        next_event(&mut stream, &mut buf, "list", 5).await;
        assert_eq!(app.clock.now(), msk(2026, 12, 1, 10, 0));
    })
    .await;
}
