//! The blocklist and the per-number limits end to end, through Twilio's signed webhooks on a real
//! server (SQLite always, PostgreSQL when `PEREZVON_TEST_POSTGRES_URL` is set): a supervisor
//! manages them over the API (bad input 400, operators 403, each change audited with numbers
//! masked); a blocked number or prefix hears a short message and is hung up on even with an
//! operator free, the attempt counted once however often the webhook is re-delivered, and leaves
//! no request or voicemail; a caller over the calls-per-hour limit or the voicemails-per-day limit
//! hears a polite message, leaves no new voicemail, and their open request's repeat count rises.
//! The supervisor's page does the same with forms (CSRF-checked) and shows the attempt counts.

mod support;

use perezvon::clock::Clock;
use perezvon::domain::operator::Presence;
use perezvon::domain::user::Role;
use perezvon::store::callbacks::CallbackFilter;
use perezvon::telephony::twilio::Route;
use reqwest::Method;
use serde_json::{Value, json};
use support::TestDb;
use support::twilio::{self, msk};
use support::web::{Session, WebApp};

on_both_backends!(
    supervisors_manage_the_blocklist_and_blocked_callers_are_hung_up_on,
    callers_over_the_hourly_limit_are_turned_away_politely,
    callers_over_the_daily_voicemails_leave_no_new_one,
    the_supervisors_page_manages_rules_and_limits,
);

const BLOCKED: &str = "+79161230009";
const REPEATER: &str = "+79161230001";

struct Line {
    app: WebApp,
    boss: Session,
}

impl Line {
    async fn new(db: &TestDb) -> Line {
        let app = WebApp::spawn_with(db, twilio::config("http://127.0.0.1:9")).await;
        app.user("boss", Role::Supervisor).await;
        let boss = app.sign_in("boss").await;
        Line { app, boss }
    }

    async fn voice(&self, sid: &str, from: &str) -> String {
        let form = [
            ("CallSid", sid),
            ("From", from),
            ("To", twilio::HOTLINE),
            ("CallStatus", "ringing"),
        ];
        let (s, body) =
            twilio::post_signed(&self.app.http, &self.app.base, &Route::Voice, &form).await;
        assert_eq!(s, 200, "{body}");
        body
    }

    async fn completed(&self, sid: &str) {
        let form = [("CallSid", sid), ("CallStatus", "completed")];
        let (s, body) =
            twilio::post_signed(&self.app.http, &self.app.base, &Route::Status, &form).await;
        assert_eq!(s, 200, "{body}");
    }

    async fn api(
        &self,
        method: Method,
        path: &str,
        s: &Session,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self.app.with_session(method, &format!("/api/v1{path}"), s);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn set_limits(&self, voicemails: u32, calls: u32) {
        let body = json!({"voicemails_per_day": voicemails, "calls_per_hour": calls});
        let (s, v) = self
            .api(Method::PUT, "/limits", &self.boss, Some(body))
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["source"], "supervisor");
    }

    async fn repeats(&self, number: &str) -> Option<i64> {
        let all = CallbackFilter {
            states: Vec::new(),
            number_patterns: Vec::new(),
            reg_number: None,
            limit: 100,
        };
        let list = self.app.store.find_callbacks(&all).await.unwrap();
        list.iter()
            .find(|r| r.callback_number == number && r.state != "closed")
            .map(|r| r.repeat_count)
    }

    async fn state(&self, sid: &str) -> String {
        self.app
            .store
            .call_by_provider_id("twilio", sid)
            .await
            .unwrap()
            .unwrap()
            .state
    }

    async fn has_voicemail(&self, sid: &str) -> bool {
        let call = self
            .app
            .store
            .call_by_provider_id("twilio", sid)
            .await
            .unwrap()
            .unwrap();
        self.app
            .store
            .voicemail_for_call(call.id)
            .await
            .unwrap()
            .is_some()
    }

    async fn metrics(&self) -> String {
        self.app
            .http
            .get(format!("{}/metrics", self.app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

fn hangs_up_with(twiml: &str, clip: &str) -> bool {
    twiml.contains(&format!("ru/static/{clip}.wav"))
        && twiml.contains("<Hangup/>")
        && !twiml.contains("<Dial")
        && !twiml.contains("<Gather")
        && !twiml.contains("<Record")
        && !twiml.contains("<Enqueue")
}

async fn supervisors_manage_the_blocklist_and_blocked_callers_are_hung_up_on(db: &TestDb) {
    let l = Line::new(db).await;
    let app = &l.app;
    app.user("anna", Role::Operator).await;
    let anna = app.sign_in("anna").await;
    // An operator may neither read nor change the blocklist.
    let (s, _) = l.api(Method::GET, "/blocklist", &anna, None).await;
    assert_eq!(s, 403);
    let rule = json!({"kind": "number", "value": "8 916 123-00-09", "reason": "оскорбления"});
    let (s, _) = l
        .api(Method::POST, "/blocklist", &anna, Some(rule.clone()))
        .await;
    assert_eq!(s, 403);
    // Bad input is refused with a reason.
    for bad in [
        json!({"kind": "number", "value": "12"}),
        json!({"kind": "prefix", "value": "+7abc"}),
        json!({"kind": "email", "value": "no-at-sign"}),
        json!({"kind": "domain", "value": "bad..domain"}),
        json!({"kind": "planet", "value": "mars"}),
        json!({"kind": "number", "value": BLOCKED, "reason": "x".repeat(201)}),
    ] {
        let (s, v) = l
            .api(Method::POST, "/blocklist", &l.boss, Some(bad.clone()))
            .await;
        assert_eq!(s, 400, "{bad}: {v}");
    }
    let (s, v) = l
        .api(Method::POST, "/blocklist", &l.boss, Some(rule.clone()))
        .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["value"], BLOCKED, "stored in E.164");
    let number_rule = v["id"].as_i64().unwrap();
    let (s, _) = l.api(Method::POST, "/blocklist", &l.boss, Some(rule)).await;
    assert_eq!(s, 409, "the same rule twice");
    let prefix = json!({"kind": "prefix", "value": "+7 800", "reason": "рассылки"});
    let (s, v) = l
        .api(Method::POST, "/blocklist", &l.boss, Some(prefix))
        .await;
    assert_eq!(s, 201, "{v}");
    let prefix_rule = v["id"].as_i64().unwrap();
    let mail = json!({"kind": "domain", "value": "*.Spam.Example"});
    let (s, v) = l.api(Method::POST, "/blocklist", &l.boss, Some(mail)).await;
    assert_eq!((s, v["value"].as_str()), (201, Some("spam.example")));

    // In hours with an operator free, the blocked number hears the short message and is hung up on.
    let op = app.store.operator_by_login("anna").await.unwrap().unwrap();
    app.clock.set(msk(2026, 12, 1, 10, 0));
    app.store
        .set_presence(op.id, Presence::Available, app.clock.now())
        .await
        .unwrap();
    let twiml = l.voice("CA1", BLOCKED).await;
    assert!(hangs_up_with(&twiml, "blocked"), "{twiml}");
    // A re-delivered webhook gets the same answer and is not counted again.
    assert_eq!(l.voice("CA1", BLOCKED).await, twiml);
    l.completed("CA1").await;
    assert_eq!(l.state("CA1").await, "completed");
    assert!(!l.has_voicemail("CA1").await);
    assert_eq!(
        l.repeats(BLOCKED).await,
        None,
        "no request for a blocked caller"
    );
    // The operator was not rung and stays free.
    let o = app.store.operator_by_login("anna").await.unwrap().unwrap();
    assert_eq!((o.presence, o.current_call_id), (Presence::Available, None));
    // A number under the prefix is blocked too; another number reaches the operator.
    let twiml = l.voice("CA2", "+78001234567").await;
    assert!(hangs_up_with(&twiml, "blocked"), "{twiml}");
    let twiml = l.voice("CA3", "+79161230005").await;
    assert!(twiml.contains("<Dial"), "{twiml}");

    let (s, v) = l.api(Method::GET, "/blocklist", &l.boss, None).await;
    assert_eq!(s, 200);
    let counts = |id: i64| {
        let r = v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == id)
            .unwrap();
        (
            r["attempts_total"].as_i64().unwrap(),
            r["attempts_today"].as_i64().unwrap(),
        )
    };
    assert_eq!(counts(number_rule), (1, 1));
    assert_eq!(counts(prefix_rule), (1, 1));
    assert!(
        l.metrics()
            .await
            .contains("perezvon_calls_screened_total{reason=\"blocked\"}")
    );

    // Removed, the number gets through at once (this instance reads the rules again).
    let (s, _) = l
        .api(
            Method::DELETE,
            &format!("/blocklist/{number_rule}"),
            &l.boss,
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = l
        .api(
            Method::DELETE,
            &format!("/blocklist/{number_rule}"),
            &l.boss,
            None,
        )
        .await;
    assert_eq!(s, 404);
    let (s, _) = l.api(Method::DELETE, "/blocklist/abc", &l.boss, None).await;
    assert_eq!(s, 400);
    let twiml = l.voice("CA4", BLOCKED).await;
    assert!(!twiml.contains("blocked.wav"), "{twiml}");

    // Every change is audited, the number masked.
    let audit = app.store.recent_audit(100).await.unwrap();
    let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "blocklist.add").count(),
        3,
        "{actions:?}"
    );
    assert!(actions.contains(&"blocklist.remove"));
    assert!(
        audit.iter().all(|e| !e.detail.contains("9161230009")),
        "{audit:?}"
    );
}

async fn callers_over_the_hourly_limit_are_turned_away_politely(db: &TestDb) {
    let l = Line::new(db).await;
    let (s, v) = l.api(Method::GET, "/limits", &l.boss, None).await;
    assert_eq!((s, v["source"].as_str()), (200, Some("config")));
    let (s, _) = l
        .api(
            Method::PUT,
            "/limits",
            &l.boss,
            Some(json!({"voicemails_per_day": 0, "calls_per_hour": 1001})),
        )
        .await;
    assert_eq!(s, 400);
    let (s, _) = l
        .api(
            Method::PUT,
            "/limits",
            &l.boss,
            Some(json!({"calls_per_hour": 2, "burst": 1})),
        )
        .await;
    assert_eq!(s, 400);
    l.set_limits(0, 2).await;
    // The repeater left a voicemail an hour ago, nobody staffs the line now.
    l.app.clock.set(msk(2026, 12, 1, 10, 0));
    let request = l
        .app
        .voicemail_request("CA1", REPEATER, Some("parent"))
        .await;
    assert_eq!(l.repeats(REPEATER).await, Some(0));
    l.app.clock.set(msk(2026, 12, 1, 10, 30));
    // Second call within the hour: allowed (voicemail offered).
    let twiml = l.voice("CA2", REPEATER).await;
    assert!(twiml.contains("<Gather"), "{twiml}");
    l.completed("CA2").await;
    // Hung up during the voicemail steps: the call joins the request as a repeat.
    let after_second = l.repeats(REPEATER).await.unwrap();
    // Third call within the hour: over the limit.
    l.app.clock.set(msk(2026, 12, 1, 10, 40));
    let twiml = l.voice("CA3", REPEATER).await;
    assert!(hangs_up_with(&twiml, "call_limit"), "{twiml}");
    assert_eq!(
        l.voice("CA3", REPEATER).await,
        twiml,
        "re-delivered: same answer"
    );
    l.completed("CA3").await;
    assert!(!l.has_voicemail("CA3").await);
    assert_eq!(l.state("CA3").await, "completed");
    assert_eq!(
        l.repeats(REPEATER).await,
        Some(after_second + 1),
        "the over-limit call counts as a repeat, once"
    );
    // Another number is not limited by the repeater's calls.
    let twiml = l.voice("CA4", "+79161230002").await;
    assert!(twiml.contains("<Gather"), "{twiml}");
    // An hour after the first calls the window has moved on.
    l.app.clock.set(msk(2026, 12, 1, 11, 35));
    let twiml = l.voice("CA5", REPEATER).await;
    assert!(twiml.contains("<Gather"), "{twiml}");
    let history = l.app.store.callback_history(request).await.unwrap();
    assert!(
        history.iter().any(|h| h.action == "repeated"),
        "{history:?}"
    );
    assert!(
        l.metrics()
            .await
            .contains("perezvon_calls_screened_total{reason=\"calls_per_hour\"}")
    );
    let audit = l.app.store.recent_audit(10).await.unwrap();
    assert!(audit.iter().any(|e| e.action == "limits.set"));
}

async fn callers_over_the_daily_voicemails_leave_no_new_one(db: &TestDb) {
    let l = Line::new(db).await;
    l.set_limits(1, 0).await;
    // Off hours (20:00 Moscow): the voicemail path.
    l.app.clock.set(msk(2026, 12, 1, 20, 0));
    l.app
        .voicemail_request("CA1", REPEATER, Some("staff"))
        .await;
    l.completed("CA1").await;
    l.app.clock.set(msk(2026, 12, 1, 21, 0));
    let twiml = l.voice("CA2", REPEATER).await;
    assert!(hangs_up_with(&twiml, "voicemail_limit"), "{twiml}");
    assert!(
        twiml.contains("ru/static/off_hours.wav"),
        "the hours are still told: {twiml}"
    );
    l.completed("CA2").await;
    assert!(!l.has_voicemail("CA2").await);
    assert_eq!(l.repeats(REPEATER).await, Some(1));
    // Another caller still leaves a message.
    let twiml = l.voice("CA3", "+79161230002").await;
    assert!(twiml.contains("<Gather"), "{twiml}");
    // The next Moscow day (00:30 Moscow is still 21:30 UTC the day before) allows one again.
    l.app.clock.set(msk(2026, 12, 2, 0, 30));
    let twiml = l.voice("CA4", REPEATER).await;
    assert!(twiml.contains("<Gather"), "{twiml}");
    l.completed("CA4").await;
    // In hours, every operator busy: the caller holds, then presses 1 for a voicemail. The
    // queue's action callback carries no caller ID: the stored call's counts.
    l.app.clock.set(msk(2026, 12, 2, 10, 0));
    l.app.user("anna", Role::Operator).await;
    let anna = l
        .app
        .store
        .operator_by_login("anna")
        .await
        .unwrap()
        .unwrap();
    let now = l.app.clock.now();
    l.app
        .store
        .set_presence(anna.id, Presence::WrapUp, now)
        .await
        .unwrap();
    let twiml = l.voice("CA5", REPEATER).await;
    assert!(
        twiml.contains("<Enqueue"),
        "an operator still staffs the line: {twiml}"
    );
    let form = [
        ("CallSid", "CA5"),
        ("QueueResult", "leave"),
        ("QueueTime", "20"),
    ];
    let (s, twiml) = twilio::post_signed(&l.app.http, &l.app.base, &Route::QueueLeft, &form).await;
    assert_eq!(s, 200);
    assert!(hangs_up_with(&twiml, "voicemail_limit"), "{twiml}");
    assert!(!l.has_voicemail("CA5").await);
    assert!(
        l.metrics()
            .await
            .contains("perezvon_calls_screened_total{reason=\"voicemails_per_day\"}")
    );
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

async fn the_supervisors_page_manages_rules_and_limits(db: &TestDb) {
    let l = Line::new(db).await;
    let app = &l.app;
    app.user("anna", Role::Operator).await;
    let anna = app.sign_in("anna").await;
    let (status, _) = app.get_page("/admin/blocklist", &anna).await;
    assert_eq!(status, 403);
    let r = app
        .post_form(
            "/admin/blocklist",
            &anna,
            &[("kind", "number"), ("value", BLOCKED)],
        )
        .await;
    assert_eq!(r.status(), 403);

    let (status, html) = app.get_page("/admin/blocklist", &l.boss).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Список пуст.") && html.contains(r#"id="limits""#),
        "{html}"
    );
    // Without the CSRF field the form is refused.
    let r = app
        .with_cookie(Method::POST, "/admin/blocklist", &l.boss)
        .form(&[("kind", "number"), ("value", BLOCKED)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // A bad value re-renders the form with the Russian reason and what was typed.
    let r = app
        .post_form(
            "/admin/blocklist",
            &l.boss,
            &[("kind", "number"), ("value", "12345")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let html = r.text().await.unwrap();
    assert!(html.contains("Номер — в международном формате") && html.contains(r#"value="12345""#));
    let fields = [
        ("kind", "number"),
        ("value", "8 916 123-00-09"),
        ("reason", "угрозы"),
    ];
    let r = app.post_form("/admin/blocklist", &l.boss, &fields).await;
    assert_eq!(r.status(), 303);
    let to = location(&r);
    assert!(
        to.starts_with("/admin/blocklist?done=blocklist.add"),
        "{to}"
    );
    let r = app.post_form("/admin/blocklist", &l.boss, &fields).await;
    assert_eq!(r.status(), 409, "the same rule twice");
    // A blocked attempt shows on the page.
    app.clock.set(msk(2026, 12, 1, 10, 0));
    assert!(hangs_up_with(&l.voice("CA1", BLOCKED).await, "blocked"));
    let (_, html) = app.get_page(&to, &l.boss).await;
    assert!(
        html.contains(r#"id="flash""#) && html.contains("Правило добавлено"),
        "{html}"
    );
    assert!(
        html.contains("+7 916 123-00-09") && html.contains("угрозы"),
        "{html}"
    );
    let rule = app.store.block_rules().await.unwrap()[0].id;
    assert!(html.contains(&format!(r#"data-rule="{rule}""#)));
    assert!(
        html.contains("<td>1</td>"),
        "one attempt today and ever: {html}"
    );

    // Limits: refused, then saved and shown.
    let r = app
        .post_form(
            "/admin/blocklist/limits",
            &l.boss,
            &[("voicemails_per_day", "-1"), ("calls_per_hour", "3")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post_form(
            "/admin/blocklist/limits",
            &l.boss,
            &[("voicemails_per_day", "2"), ("calls_per_hour", "5000")],
        )
        .await;
    assert_eq!(r.status(), 400);
    let r = app
        .post_form(
            "/admin/blocklist/limits",
            &l.boss,
            &[("voicemails_per_day", "2"), ("calls_per_hour", "3")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, v) = l.api(Method::GET, "/limits", &l.boss, None).await;
    assert_eq!(
        v,
        json!({"voicemails_per_day": 2, "calls_per_hour": 3, "source": "supervisor"})
    );
    let (_, html) = app.get_page("/admin/blocklist", &l.boss).await;
    assert!(
        html.contains(r#"name="calls_per_hour" inputmode="numeric" required value="3""#),
        "{html}"
    );

    // Removed from the page; the caller gets through again.
    let r = app
        .post_form(&format!("/admin/blocklist/{rule}/remove"), &l.boss, &[])
        .await;
    assert_eq!(r.status(), 303);
    let r = app
        .post_form(&format!("/admin/blocklist/{rule}/remove"), &l.boss, &[])
        .await;
    assert_eq!(r.status(), 404);
    assert!(!l.voice("CA2", BLOCKED).await.contains("blocked.wav"));
    let audit = app.store.recent_audit(50).await.unwrap();
    for action in ["blocklist.add", "blocklist.remove", "limits.set"] {
        assert!(
            audit
                .iter()
                .any(|e| e.action == action && e.actor == "boss"),
            "{action}"
        );
    }
}

/// On PostgreSQL a rule added through one instance is in force on another at once: the change is
/// signalled over LISTEN/NOTIFY, well before the snapshot's 30-second fallback.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_added_on_one_instance_is_read_by_the_other_at_once() {
    use perezvon::calendar::{Calendar, HotlineHours};
    use perezvon::clock::ManualClock;
    use perezvon::domain::blocklist::RuleKind;
    use perezvon::switchboard::Switchboard;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let clock = Arc::new(ManualClock::new(msk(2026, 12, 1, 10, 0)));
    let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
    let instances: Vec<Switchboard> = db
        .two_instances_sharing_wakeups(&stop)
        .await
        .into_iter()
        .map(|(store, wake)| {
            Switchboard::new(store, calendar.clone(), clock.clone(), Default::default())
                .with_wake(wake)
        })
        .collect();
    let (a, b) = (&instances[0], &instances[1]);
    // B reads the (empty) rules once: its snapshot would serve them for 30 s.
    assert!(b.screening().current().await.unwrap().0.rules().is_empty());
    // Give both listeners a moment to be listening.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rule = db
        .store
        .add_block_rule(RuleKind::Number, BLOCKED, "", "boss", clock.now())
        .await
        .unwrap();
    a.screening().changed();
    let start = Instant::now();
    loop {
        let (rules, _) = b.screening().current().await.unwrap();
        if rules.blocks_number(BLOCKED).map(|r| r.id) == Some(rule.id) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "instance B did not read the new rule"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop_tx.send(true).unwrap();
    drop(instances);
    db.finish().await;
}
