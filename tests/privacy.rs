//! Retention of personal data (152-FZ), on SQLite and, when configured, PostgreSQL: a day of calls
//! driven through Twilio's signed webhooks (answered callers, a caller who hung up in the queue
//! and got through later, callback requests worked with notes, a voicemail on a request still
//! open), then the privacy sweep run on an injected clock 40 days later with 30-day limits. Checked:
//! old numbers become pseudonyms and texts lose their numbers, while the open request, its call and
//! voicemail and a recent call keep theirs; every statistics figure is the same before and after
//! (the abandoned list shows the pseudonym where it showed the number); a second run changes
//! nothing; payloads alone can be dropped while numbers stay, by the job worker, which schedules
//! the next day's sweep.

mod support;

use perezvon::clock::Clock;
use perezvon::config::PrivacySettings;
use perezvon::domain::operator::Presence;
use perezvon::domain::user::Role;
use std::sync::Arc;

use perezvon::jobs::Worker;
use perezvon::jobs::privacy::{Privacy, Swept, job_for, pseudonymizer, sweep};
use perezvon::store::Store;
use perezvon::store::callbacks::CallbackFilter;
use perezvon::telephony::twilio::Route;
use reqwest::Method;
use serde_json::Value;
use support::TestDb;
use support::twilio::{self, msk};
use support::web::{Session, WebApp};

on_both_backends!(
    old_numbers_become_pseudonyms_and_statistics_stay,
    payloads_alone_are_dropped
);

const A: &str = "+79161230001";
const B: &str = "+79161230002";
const C: &str = "+79161230003";
const D: &str = "+79161230004";

struct Line {
    app: WebApp,
}

impl Line {
    async fn at(&self, t: chrono::DateTime<chrono::Utc>) {
        self.app.clock.set(t);
    }

    async fn post(&self, route: Route, form: &[(&str, &str)]) {
        let (s, body) = twilio::post_signed(&self.app.http, &self.app.base, &route, form).await;
        assert_eq!(s, 200, "{route:?}: {body}");
    }

    async fn voice(&self, sid: &str, from: &str) {
        let to = twilio::HOTLINE;
        let form = [
            ("CallSid", sid),
            ("From", from),
            ("To", to),
            ("CallStatus", "ringing"),
        ];
        self.post(Route::Voice, &form).await;
    }

    async fn answered(&self, sid: &str) {
        let form = [
            ("CallSid", sid),
            ("DialCallStatus", "completed"),
            ("DialCallDuration", "60"),
        ];
        self.post(Route::DialResult, &form).await;
    }

    async fn completed(&self, sid: &str) {
        let form = [("CallSid", sid), ("CallStatus", "completed")];
        self.post(Route::Status, &form).await;
    }

    async fn send(&self, method: Method, path: &str, s: &Session, body: Option<Value>) -> Value {
        let mut r = if method == Method::GET {
            self.app.with_cookie(method, &format!("/api/v1{path}"), s)
        } else {
            self.app.with_session(method, &format!("/api/v1{path}"), s)
        };
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path}");
        r.json().await.unwrap()
    }

    /// Claims the next request and closes it as resolved with a note naming a number.
    async fn work_next(&self, s: &Session) -> i64 {
        let v = self.send(Method::POST, "/callbacks/claim", s, None).await;
        let id = v["id"].as_i64().unwrap();
        let note = "перезвонила на 8 916 123-00-02, вопрос решён";
        let body = serde_json::json!({"outcome": "resolved", "topic": "grades", "note": note});
        self.send(
            Method::POST,
            &format!("/callbacks/{id}/outcome"),
            s,
            Some(body),
        )
        .await;
        id
    }

    /// Every statistics answer over November and December 2026.
    async fn statistics(&self, s: &Session) -> Vec<Value> {
        let mut all = Vec::new();
        for route in [
            "summary",
            "hourly",
            "daily",
            "operators",
            "abandoned",
            "callbacks",
        ] {
            let path = format!("/stats/{route}?from=2026-11-01&to=2026-12-31");
            all.push(self.send(Method::GET, &path, s, None).await);
        }
        all
    }
}

fn settings(mask: Option<i64>, drop: Option<i64>) -> PrivacySettings {
    PrivacySettings {
        mask_numbers_after: mask.map(chrono::TimeDelta::days),
        drop_payloads_after: drop.map(chrono::TimeDelta::days),
        pseudonym_key: None,
    }
}

/// A working Monday in November: A answered, B abandoned in the queue and got through later, B's
/// and D's requests worked and closed; C's voicemail request stays open; A calls again in December.
async fn a_day_of_calls(db: &TestDb) -> Line {
    let app = WebApp::spawn_with(db, twilio::config("http://127.0.0.1:9")).await;
    let l = Line { app };
    l.app.user("boss", Role::Supervisor).await;
    l.app.user("anna", Role::Operator).await;
    let s = |h, m, sec| msk(2026, 11, 2, h, m) + chrono::TimeDelta::seconds(sec);
    l.at(s(9, 0, 0)).await;
    let op = l
        .app
        .store
        .operator_by_login("anna")
        .await
        .unwrap()
        .unwrap();
    let now = l.app.clock.now();
    l.app
        .store
        .set_presence(op.id, Presence::Available, now)
        .await
        .unwrap();
    l.at(s(10, 0, 0)).await;
    l.voice("CA1", A).await; // rings Anna
    l.at(s(10, 0, 5)).await;
    l.voice("CA2", B).await; // queued
    l.at(s(10, 0, 10)).await;
    l.answered("CA1").await;
    l.at(s(10, 0, 30)).await;
    let form = [
        ("CallSid", "CA2"),
        ("QueueResult", "hangup"),
        ("QueueTime", "25"),
    ];
    l.post(Route::QueueLeft, &form).await; // abandoned: joins the callback list
    l.at(s(10, 2, 0)).await;
    l.completed("CA1").await;
    l.at(s(10, 5, 0)).await;
    l.voice("CA3", B).await; // B again: rings Anna
    l.at(s(10, 5, 10)).await;
    l.answered("CA3").await;
    l.at(s(10, 7, 0)).await;
    l.completed("CA3").await;
    // D leaves a voicemail (through the store: the keypad steps are tested elsewhere).
    l.at(s(10, 20, 0)).await;
    l.app.voicemail_request("CA4", D, Some("parent")).await;
    l.completed("CA4").await;
    let anna_s = l.app.sign_in("anna").await;
    l.at(s(10, 30, 0)).await;
    l.work_next(&anna_s).await;
    l.at(s(10, 40, 0)).await;
    l.work_next(&anna_s).await;
    // C's voicemail in the evening stays on the list.
    l.at(s(20, 0, 0)).await;
    l.app.voicemail_request("CA5", C, Some("staff")).await;
    l.completed("CA5").await;
    // A calls again in December: recent, kept.
    l.at(msk(2026, 12, 10, 11, 0)).await;
    l.voice("CA6", A).await;
    l.at(msk(2026, 12, 10, 11, 0) + chrono::TimeDelta::seconds(5))
        .await;
    l.answered("CA6").await;
    l.at(msk(2026, 12, 10, 11, 2)).await;
    l.completed("CA6").await;
    l
}

/// Every stored value that could hold a number, in a stable order.
async fn snapshot(store: &dyn Store) -> Vec<String> {
    let mut out = Vec::new();
    for call in store.recent_calls(1000).await.unwrap() {
        out.push(format!(
            "call {} {:?} {:?}",
            call.id, call.from_number, call.to_number
        ));
        for e in store.call_events(call.id).await.unwrap() {
            out.push(format!("event {} {} {:?}", e.id, e.payload, e.reply));
        }
        if let Some(v) = store.voicemail_for_call(call.id).await.unwrap() {
            out.push(format!(
                "vm {} {:?} {:?}",
                v.id, v.callback_number, v.caller_id
            ));
        }
    }
    let all = CallbackFilter {
        states: Vec::new(),
        number_patterns: Vec::new(),
        reg_number: None,
        limit: 1000,
    };
    for r in store.find_callbacks(&all).await.unwrap() {
        let (id, n, note, state) = (r.id, &r.callback_number, &r.note, &r.state);
        out.push(format!("req {id} {n} {note:?} {:?} {state}", r.summary));
        for a in store.attempts_of(id).await.unwrap() {
            out.push(format!("attempt {} {:?} {:?}", a.id, a.note, a.error));
        }
        for h in store.callback_history(id).await.unwrap() {
            out.push(format!("history {} {}", h.id, h.detail));
        }
    }
    out.sort();
    out
}

fn digits_of(n: &str) -> String {
    n.trim_start_matches('+').to_owned()
}

async fn old_numbers_become_pseudonyms_and_statistics_stay(db: &TestDb) {
    let l = a_day_of_calls(db).await;
    let store = &*l.app.store;
    let now = msk(2026, 12, 12, 12, 0);
    l.at(now).await;
    let boss = l.app.sign_in("boss").await;
    let before = l.statistics(&boss).await;
    let snap_before = snapshot(store).await;

    let set = settings(Some(30), Some(30));
    let swept = sweep(store, &set, now).await.unwrap();
    let pz = pseudonymizer(&set, store, now).await.unwrap();
    let (pa, pb, pd) = (pz.pseudonym(A), pz.pseudonym(B), pz.pseudonym(D));
    assert!(
        pa.starts_with("+7******0001#") && pb.starts_with("+7******0002#"),
        "{pa} {pb}"
    );

    // Four November calls of A, B, B, D masked; C's (open request) and A's December call kept.
    let calls = store.recent_calls(100).await.unwrap();
    let from = |sid: &str| {
        let c = calls.iter().find(|c| c.provider_call_id == sid).unwrap();
        c.from_number.clone().unwrap()
    };
    assert_eq!(from("CA1"), pa);
    assert_eq!(from("CA2"), pb);
    assert_eq!(from("CA3"), pb, "the same caller, the same pseudonym");
    assert_eq!(from("CA4"), pd);
    assert_eq!(
        from("CA5"),
        C,
        "the call of an open request keeps its number"
    );
    assert_eq!(from("CA6"), A, "a recent call keeps its number");
    assert_eq!(swept.numbers, 3, "{swept:?}");
    assert_eq!(swept.masked.calls, 4, "{swept:?}");
    assert_eq!(
        swept.masked.voicemails, 2,
        "B's (abandoned, joined the list) and D's: {swept:?}"
    );
    assert_eq!(swept.masked.requests, 2, "{swept:?}");
    assert_eq!(
        swept.masked.attempts, 2,
        "the notes of both outcomes: {swept:?}"
    );
    assert!(swept.payloads_dropped > 0, "{swept:?}");

    // C's request, voicemail and call are untouched; D's voicemail and request are masked.
    let c_call = calls.iter().find(|c| c.provider_call_id == "CA5").unwrap();
    let c_vm = store.voicemail_for_call(c_call.id).await.unwrap().unwrap();
    assert_eq!(c_vm.callback_number.as_deref(), Some(C));
    let c_req = store
        .callback_request(c_vm.callback_request_id.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (c_req.callback_number.as_str(), c_req.state.as_str()),
        (C, "open")
    );
    let d_call = calls.iter().find(|c| c.provider_call_id == "CA4").unwrap();
    let d_vm = store.voicemail_for_call(d_call.id).await.unwrap().unwrap();
    assert_eq!(d_vm.callback_number.as_deref(), Some(pd.as_str()));
    assert_eq!(d_vm.caller_id.as_deref(), Some(pd.as_str()));

    // No old row holds A's, B's or D's digits any more (payloads dropped, notes masked).
    let snap = snapshot(store).await;
    let recent_a = calls
        .iter()
        .find(|c| c.provider_call_id == "CA6")
        .unwrap()
        .id;
    for line in &snap {
        let is_recent = line.starts_with(&format!("call {recent_a} "))
            || store
                .call_events(recent_a)
                .await
                .unwrap()
                .iter()
                .any(|e| line.starts_with(&format!("event {} ", e.id)));
        for n in [A, B, D] {
            let national = &digits_of(n)[1..];
            assert!(
                is_recent || !line.contains(national),
                "{line} still holds a full number"
            );
        }
    }
    assert!(
        !snap.iter().any(|l| l.contains("916 123-00-02")),
        "a number written in a note: {snap:#?}"
    );
    assert!(
        snap.iter().any(|l| l.contains("на 8 *** ***-00-02")),
        "the note keeps its words: {snap:#?}"
    );
    assert_ne!(snap, snap_before);

    // Statistics: the same figures; the abandoned caller shown by pseudonym.
    let after = l.statistics(&boss).await;
    let abandoned_before = before[4].as_array().unwrap().clone();
    let abandoned_after = after[4].as_array().unwrap().clone();
    let b_before = abandoned_before.iter().find(|r| r["number"] == B).unwrap();
    let b_after = abandoned_after
        .iter()
        .find(|r| r["call_id"] == b_before["call_id"])
        .unwrap();
    assert_eq!(b_after["number"], pb.as_str());
    assert_eq!(b_before["later"], "got_through");
    assert_eq!(b_after["later"], "got_through");
    let strip = |v: &[Value]| {
        v.iter()
            .map(|r| {
                let mut r = r.clone();
                r["number"] = Value::Null;
                r
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&abandoned_before), strip(&abandoned_after));
    for i in [0, 1, 2, 3, 5] {
        assert_eq!(before[i], after[i], "statistics answer {i} changed");
    }
    assert!(before[0]["calls"].as_i64().unwrap() >= 6, "{}", before[0]);

    // Idempotent: a second run finds nothing and changes nothing.
    let again = sweep(store, &set, now).await.unwrap();
    assert_eq!(again, Swept::default());
    assert_eq!(snapshot(store).await, snap);
    // A later run with the clock on masks A's December call once it is old enough, with A's
    // same pseudonym.
    let later = msk(2027, 1, 20, 12, 0);
    let swept = sweep(store, &set, later).await.unwrap();
    assert_eq!(swept.masked.calls, 1, "{swept:?}");
    let calls = store.recent_calls(100).await.unwrap();
    let ca6 = calls.iter().find(|c| c.provider_call_id == "CA6").unwrap();
    assert_eq!(ca6.from_number.as_deref(), Some(pa.as_str()));
}

async fn payloads_alone_are_dropped(db: &TestDb) {
    let l = a_day_of_calls(db).await;
    let store = &*l.app.store;
    let now = msk(2026, 12, 12, 12, 0);
    l.at(now).await;
    // Through the job worker, as the service runs it: the day's job, then tomorrow's.
    let handler = Arc::new(Privacy {
        store: l.app.store.clone(),
        settings: settings(None, Some(30)),
    });
    store.enqueue_job(&job_for(now), now).await.unwrap();
    let worker = Worker::new(l.app.store.clone(), l.app.clock.clone(), vec![handler]);
    assert_eq!(worker.run_due().await.unwrap(), 1);
    let tomorrow = now + chrono::TimeDelta::days(1);
    assert_eq!(store.next_job_due().await.unwrap(), Some(tomorrow));
    for call in store.recent_calls(100).await.unwrap() {
        let old = call.started_at < now - chrono::TimeDelta::days(30);
        assert!(!call.from_number.unwrap().contains('#'), "numbers are kept");
        for e in store.call_events(call.id).await.unwrap() {
            assert_eq!(
                e.payload == "{}",
                old && call.ended_at.is_some(),
                "{}",
                e.event_key
            );
        }
    }
    let again = sweep(store, &settings(None, Some(30)), now).await.unwrap();
    assert_eq!(
        again,
        Swept::default(),
        "nothing numbers or payloads left to do"
    );
}
