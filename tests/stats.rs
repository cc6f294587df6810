//! Supervisors' statistics end to end: a known day of calls driven through Twilio's signed
//! webhooks on a manual clock (calls answered within and beyond the threshold — one exactly at
//! it —, a short and a long abandon, a caller who chose voicemail, off-hours calls at 23:59 and
//! 00:01 Moscow time and one on a public holiday), callbacks worked over the API, and every
//! figure of the statistics API checked against the value worked out by hand below. Runs on
//! SQLite and, when configured, PostgreSQL.

mod support;

use perezvon::clock::Clock;
use perezvon::domain::operator::Presence;
use perezvon::domain::user::Role;
use perezvon::telephony::Step;
use perezvon::telephony::twilio::Route;
use reqwest::Method;
use serde_json::Value;
use support::TestDb;
use support::twilio::{self, msk};
use support::web::{Session, WebApp};

on_both_backends!(
    a_known_day_of_calls,
    the_api_refuses_and_rejects,
    the_forecast_from_four_tuesdays,
    a_clock_set_back_loses_no_call,
    why_callers_went_to_voicemail
);

const N: [&str; 10] = [
    "",
    "+79160000001",
    "+79160000002",
    "+79160000003",
    "+79160000004",
    "+79160000005",
    "+79160000006",
    "+79160000007",
    "+79160000008",
    "+79160000009",
];

struct Day {
    app: WebApp,
}

impl Day {
    async fn at(&self, t: chrono::DateTime<chrono::Utc>) {
        self.app.clock.set(t);
    }

    async fn post(&self, route: Route, form: &[(&str, &str)]) {
        let (s, body) = twilio::post_signed(&self.app.http, &self.app.base, &route, form).await;
        assert_eq!(s, 200, "{route:?}: {body}");
    }

    async fn voice(&self, sid: &str, from: &str) {
        self.post(
            Route::Voice,
            &[
                ("CallSid", sid),
                ("From", from),
                ("To", twilio::HOTLINE),
                ("CallStatus", "ringing"),
            ],
        )
        .await;
    }

    async fn answered(&self, sid: &str, talk: &str) {
        self.post(
            Route::DialResult,
            &[
                ("CallSid", sid),
                ("DialCallStatus", "completed"),
                ("DialCallDuration", talk),
            ],
        )
        .await;
    }

    async fn completed(&self, sid: &str) {
        self.post(
            Route::Status,
            &[("CallSid", sid), ("CallStatus", "completed")],
        )
        .await;
    }

    async fn hung_up_in_queue(&self, sid: &str, waited: &str) {
        self.post(
            Route::QueueLeft,
            &[
                ("CallSid", sid),
                ("QueueResult", "hangup"),
                ("QueueTime", waited),
            ],
        )
        .await;
    }

    async fn api(&self, s: &Session, path: &str) -> (u16, Value) {
        let r = self
            .app
            .with_cookie(Method::GET, &format!("/api/v1{path}"), s)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn claim(&self, s: &Session) -> (i64, String) {
        let r = self
            .app
            .with_session(Method::POST, "/api/v1/callbacks/claim", s)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let v: Value = r.json().await.unwrap();
        (
            v["id"].as_i64().unwrap(),
            v["callback_number"].as_str().unwrap().to_owned(),
        )
    }

    async fn outcome(&self, s: &Session, id: i64, outcome: &str) {
        let body = serde_json::json!({"outcome": outcome, "topic": "grades"});
        let r = self
            .app
            .with_session(Method::POST, &format!("/api/v1/callbacks/{id}/outcome"), s)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{}", r.text().await.unwrap());
    }
}

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"));
    assert!((got - want).abs() < 1e-9, "{got} != {want}");
}

async fn a_known_day_of_calls(db: &TestDb) {
    let app = WebApp::spawn_with(db, twilio::config("http://127.0.0.1:9")).await;
    let d = Day { app };
    d.app.user("boss", Role::Supervisor).await;
    // The holiday first: Wednesday 4 November 2026 (National Unity Day) at 11:00 is off hours.
    d.at(msk(2026, 11, 4, 11, 0)).await;
    d.voice("C9", N[9]).await;
    d.at(msk(2026, 11, 4, 11, 0) + chrono::TimeDelta::seconds(30))
        .await;
    d.completed("C9").await;

    // Tuesday 1 December 2026, a working day. Anna becomes available first (the longest idle).
    d.at(msk(2026, 12, 1, 9, 0)).await;
    let anna = d.app.user("anna", Role::Operator).await;
    let boris = d.app.user("boris", Role::Operator).await;
    let op = |login: &str| {
        let store = d.app.store.clone();
        let login = login.to_owned();
        async move { store.operator_by_login(&login).await.unwrap().unwrap().id }
    };
    let (a, b) = (op("anna").await, op("boris").await);
    d.app
        .store
        .set_presence(a, Presence::Available, d.app.clock.now())
        .await
        .unwrap();
    d.at(msk(2026, 12, 1, 9, 0) + chrono::TimeDelta::seconds(1))
        .await;
    d.app
        .store
        .set_presence(b, Presence::Available, d.app.clock.now())
        .await
        .unwrap();
    let _ = (anna, boris);
    let s = |h, m, sec| msk(2026, 12, 1, h, m) + chrono::TimeDelta::seconds(sec);

    d.at(s(10, 0, 0)).await;
    d.voice("C1", N[1]).await; // rings Anna
    d.at(s(10, 0, 10)).await;
    d.voice("C2", N[2]).await; // rings Boris
    d.at(s(10, 0, 20)).await;
    d.voice("C3", N[3]).await; // both busy: queued
    d.at(s(10, 0, 23)).await;
    d.hung_up_in_queue("C3", "3").await; // a short abandon after 3 s
    d.at(s(10, 0, 30)).await;
    d.voice("C4", N[4]).await; // queued
    d.at(s(10, 0, 40)).await;
    d.voice("C5", N[5]).await; // queued
    d.at(s(10, 0, 50)).await;
    d.post(
        Route::Gather(Step::QueueMenu),
        &[("CallSid", "C5"), ("Digits", "1")],
    )
    .await;
    d.at(s(10, 0, 51)).await;
    d.post(
        Route::QueueLeft,
        &[
            ("CallSid", "C5"),
            ("QueueResult", "leave"),
            ("QueueTime", "11"),
        ],
    )
    .await; // chose voicemail
    d.at(s(10, 1, 0)).await;
    d.hung_up_in_queue("C4", "30").await; // abandoned after 30 s: joins the callback list
    d.at(s(10, 1, 30)).await;
    d.completed("C5").await; // hung up in the voicemail steps
    d.at(s(10, 2, 0)).await;
    d.answered("C1", "100").await; // answered at 10:00:20: waited exactly the 20 s threshold
    d.at(s(10, 2, 1)).await;
    d.completed("C1").await;
    d.at(s(10, 2, 10)).await;
    d.answered("C2", "110").await; // answered at 10:00:20: waited 10 s
    d.at(s(10, 2, 11)).await;
    d.completed("C2").await;
    d.at(s(10, 2, 50)).await;
    d.app
        .store
        .set_presence(b, Presence::Break, d.app.clock.now())
        .await
        .unwrap();
    d.at(s(10, 3, 0)).await;
    d.voice("C6", N[3]).await; // C3's caller again: rings Anna
    d.at(s(10, 4, 0)).await;
    d.answered("C6", "25").await; // answered at 10:03:35: waited 35 s
    d.at(s(10, 4, 1)).await;
    d.completed("C6").await;

    // Callbacks: Anna works the list (C9's request, C4's and C5's).
    let anna_s = d.app.sign_in("anna").await;
    d.at(s(10, 35, 0)).await;
    let mut c9_tries = 0;
    for (minute, hour) in [(35, 10), (40, 10), (45, 10), (10, 11)] {
        d.at(s(hour, minute, 0)).await;
        let (id, number) = d.claim(&anna_s).await;
        if number == N[9] && c9_tries == 0 {
            c9_tries += 1;
            d.outcome(&anna_s, id, "no_answer").await; // retried 30 working minutes later
        } else {
            d.outcome(&anna_s, id, "resolved").await;
        }
    }
    // Off hours at the day's edges: 23:59 Tuesday and 00:01 Wednesday.
    d.at(s(23, 59, 0)).await;
    d.voice("C7", N[7]).await;
    d.at(s(23, 59, 30)).await;
    d.completed("C7").await;
    d.at(msk(2026, 12, 2, 0, 1)).await;
    d.voice("C8", N[8]).await;
    d.at(msk(2026, 12, 2, 0, 1) + chrono::TimeDelta::seconds(30))
        .await;
    d.completed("C8").await;

    let boss = d.app.sign_in("boss").await;
    let range = "from=2026-11-04&to=2026-12-02";
    let (st, sum) = d.api(&boss, &format!("/stats/summary?{range}")).await;
    assert_eq!(st, 200, "{sum}");
    for (k, v) in [
        ("calls", 9),
        ("offered", 6),
        ("off_hours", 3),
        ("answered", 3),
        ("abandoned", 2),
        ("abandoned_short", 1),
        ("voicemail", 4),
        ("sl_threshold_secs", 20),
        ("callbacks_created", 5),
        ("callbacks_done", 3),
    ] {
        assert_eq!(sum[k], v, "{k}: {sum}");
    }
    assert_eq!(sum["voicemail_by_reason"]["off_hours"], 3);
    assert_eq!(sum["voicemail_by_reason"]["choice"], 1);
    close(&sum["service_level"], 2.0 / 3.0); // C1 (exactly 20 s) and C2 within; C6 not
    close(&sum["service_level2"], 3.0 / 5.0); // + C3 abandoned within 20 s, over 3 + 2
    close(&sum["asa_secs"], (20.0 + 10.0 + 35.0) / 3.0);
    close(&sum["longest_wait_secs"], 35.0);
    close(&sum["avg_abandon_secs"], (3.0 + 30.0) / 2.0);
    close(&sum["abandon_rate"], (2.0 - 1.0) / (6.0 - 1.0));
    close(&sum["aht_secs"], (100.0 + 110.0 + 25.0 + 3.0 * 30.0) / 3.0);
    // On the line: Anna from 09:00 Tuesday to the range's end (39 h), Boris 09:00:01–10:02:50.
    close(&sum["occupancy"], 325.0 / (39.0 * 3600.0 + 3769.0));
    close(&sum["callbacks_first_attempt_rate"], 2.0 / 3.0); // C9's took two attempts
    close(&sum["callbacks_sla_met_rate"], 2.0 / 3.0); // C9's deadline was 5 November 17:00
    let backlog = sum["callbacks"]["backlog"].as_array().unwrap();
    assert_eq!(backlog[0]["day"], "2026-11-05");
    assert_eq!(backlog[0]["open_requests"], 1);
    let at = |day: &str| backlog.iter().find(|b| b["day"] == day).unwrap()["open_requests"].clone();
    assert_eq!(at("2026-12-01"), 1);
    assert_eq!(at("2026-12-02"), 2); // C7's and C8's
    assert!(
        sum["formulas"]["service_level2"]
            .as_str()
            .unwrap()
            .contains("SL2")
    );
    // The oldest request still open is C7's, made when its caller hung up at 23:59:30.
    assert_eq!(sum["callbacks_oldest_open_at"], "2026-12-01T23:59:30+03:00");
    // Nobody chose a category on the keypad; the three done were about grades, all in the week
    // of Monday 30 November.
    let cb = &sum["callbacks"];
    assert_eq!(cb["by_category"]["unknown"]["created"], 5);
    assert_eq!(cb["by_category"]["unknown"]["done"], 3);
    assert_eq!(cb["by_topic"]["grades"], 3);
    assert_eq!(cb["by_topic_weekly"]["2026-11-30"]["grades"], 3);
    let (_, cb_api) = d.api(&boss, &format!("/stats/callbacks?{range}")).await;
    assert_eq!(&cb_api, cb);
    let r = d
        .app
        .with_cookie(
            Method::GET,
            &format!("/api/v1/stats/callbacks?{range}&format=csv"),
            &boss,
        )
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(
        text.contains("\r\ntopic_week,2026-11-30,grades,,3,\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\ncategory,unknown,,5,3,\r\n"), "{text}");

    // The live board at 00:01:30 on Wednesday: nobody waits; C8 arrived off hours; C7's and
    // C8's requests are due at 09:00 today, neither past its deadline nor due yet.
    let (_, live) = d.api(&boss, "/stats/live").await;
    assert_eq!(live["open"], false);
    assert_eq!(live["waiting"].as_array().unwrap().len(), 0);
    assert_eq!(live["today"]["calls"], 1);
    assert_eq!(live["today"]["off_hours"], 1);
    assert_eq!(live["callbacks_due_today"], 2);
    assert_eq!(live["callbacks_overdue"], 0);
    assert!(live["oldest_due_at"].is_null());
    let states: Vec<&str> = live["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["label"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["свободен", "перерыв"]);

    let (_, hourly) = d.api(&boss, &format!("/stats/hourly?{range}")).await;
    let hourly = hourly.as_array().unwrap();
    assert_eq!(hourly.len(), 24);
    assert_eq!(hourly[10]["offered"], 6);
    assert_eq!(hourly[10]["voicemail"], 1);
    assert_eq!(hourly[23]["off_hours"], 1);
    assert_eq!(hourly[0]["off_hours"], 1);
    assert_eq!(hourly[11]["off_hours"], 1);
    assert_eq!(hourly[9]["calls"], 0);

    let (_, daily) = d.api(&boss, &format!("/stats/daily?{range}")).await;
    let daily = daily.as_array().unwrap();
    assert_eq!(daily.len(), 29);
    let day = |k: &str| daily.iter().find(|r| r["key"] == k).unwrap().clone();
    assert_eq!(day("2026-11-04")["off_hours"], 1);
    assert_eq!(day("2026-12-01")["calls"], 7);
    assert_eq!(day("2026-12-01")["offered"], 6);
    assert_eq!(day("2026-12-02")["calls"], 1);
    assert_eq!(day("2026-11-20")["calls"], 0);

    // One-day ranges split the 23:59 and 00:01 calls.
    for (day, calls) in [("2026-12-01", 7), ("2026-12-02", 1), ("2026-12-03", 0)] {
        let (_, s) = d
            .api(&boss, &format!("/stats/summary?from={day}&to={day}"))
            .await;
        assert_eq!(s["calls"], calls, "{day}");
    }

    let (_, ops) = d.api(&boss, &format!("/stats/operators?{range}")).await;
    let row = |id: i64| {
        ops.as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == id.to_string().as_str())
            .unwrap()
            .clone()
    };
    assert_eq!(row(a)["answered"], 2);
    close(&row(a)["service_level"], 0.5);
    close(&row(a)["aht_secs"], (100.0 + 25.0 + 60.0) / 2.0);
    close(&row(a)["occupancy"], 185.0 / (39.0 * 3600.0));
    assert_eq!(row(b)["answered"], 1);
    close(&row(b)["occupancy"], 140.0 / 3769.0);

    let (st, ab) = d.api(&boss, &format!("/stats/abandoned?{range}")).await;
    assert_eq!(st, 200, "{ab}");
    let ab = ab.as_array().unwrap();
    assert_eq!(ab.len(), 2, "{ab:?}");
    assert_eq!(ab[0]["number"], N[3]);
    close(&ab[0]["waited_secs"], 3.0);
    assert_eq!(ab[0]["later"], "got_through"); // C6 from the same number was answered
    assert_eq!(ab[0]["at"], "2026-12-01T10:00:20+03:00");
    assert_eq!(ab[1]["number"], N[4]);
    close(&ab[1]["waited_secs"], 30.0);
    assert_eq!(ab[1]["later"], "called_back");

    // C4's caller joined the list as a request without a message, saying why.
    let hist = d.app.store.number_contacts(N[4]).await.unwrap().requests;
    assert_eq!(hist.len(), 1);
    assert_eq!(hist[0].source, "abandoned");
    assert!(
        d.app
            .store
            .number_contacts(N[3])
            .await
            .unwrap()
            .requests
            .is_empty()
    );

    // CSV for Excel in a Russian locale.
    let r = d
        .app
        .with_cookie(
            Method::GET,
            &format!("/api/v1/stats/hourly?{range}&format=csv&sep=%3B"),
            &boss,
        )
        .send()
        .await
        .unwrap();
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert!(lines[0].starts_with("hour;offered;answered;abandoned;abandoned_short;voicemail;off_hours;service_level;service_level2"));
    assert!(
        lines[11].starts_with("10;6;3;2;1;1;0;0,6667;0,6;21,6667;35;16,5;0,2;"),
        "{}",
        lines[11]
    );

    // The facts rebuilt from the stored events give the same figures.
    d.app.store.rebuild_facts().await.unwrap();
    let (_, again) = d.api(&boss, &format!("/stats/summary?{range}")).await;
    assert_eq!(again, sum);
}

async fn the_api_refuses_and_rejects(db: &TestDb) {
    let app = WebApp::spawn(db).await;
    app.user("olga", Role::Operator).await;
    app.user("boss", Role::Supervisor).await;
    let olga = app.sign_in("olga").await;
    let boss = app.sign_in("boss").await;
    let get = |path: &str, s: Option<&Session>| {
        let req = match s {
            Some(s) => app.with_cookie(Method::GET, path, s),
            None => app.http.get(format!("{}{path}", app.base)),
        };
        async move {
            let r = req.send().await.unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    for path in ["summary", "hourly", "daily", "operators", "abandoned"] {
        let p = format!("/api/v1/stats/{path}");
        assert_eq!(get(&p, None).await.0, 401, "{p}");
        assert_eq!(get(&p, Some(&olga)).await.0, 403, "{p}");
        assert_eq!(get(&p, Some(&boss)).await.0, 200, "{p}");
    }
    let (s, body) = get("/api/v1/stats/summary?from=2026-13-01", Some(&boss)).await;
    assert_eq!(s, 400);
    assert!(body.contains("from"), "{body}");
    let (s, body) = get(
        "/api/v1/stats/summary?from=2026-12-02&to=2026-12-01",
        Some(&boss),
    )
    .await;
    assert_eq!(s, 400, "{body}");
    let (s, _) = get(
        "/api/v1/stats/summary?from=2025-01-01&to=2026-12-01",
        Some(&boss),
    )
    .await;
    assert_eq!(s, 400);
    let (s, body) = get("/api/v1/stats/hourly?format=xml", Some(&boss)).await;
    assert_eq!(s, 400);
    assert!(body.contains("format"), "{body}");
    // An empty day: rates are null, not 0 or 1.
    let (s, body) = get("/api/v1/stats/summary", Some(&boss)).await;
    assert_eq!(s, 200);
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["offered"], 0);
    assert!(v["service_level"].is_null());
    assert!(v["abandon_rate"].is_null());
}

/// Four calls at 10:xx on each of four Tuesdays (the service's first weeks), nothing else: next
/// Tuesday at 10 expects 4 calls; nothing was answered, so the handle time is the configured 6
/// minutes: 0.4 Erlang, and Erlang C needs 2 operators for 80 % within 20 s (1 gives 61 %).
async fn the_forecast_from_four_tuesdays(db: &TestDb) {
    let app = WebApp::spawn_with(db, twilio::config("http://127.0.0.1:9")).await;
    let d = Day { app };
    d.app.user("boss", Role::Supervisor).await;
    for (i, day) in [10, 17, 24]
        .iter()
        .map(|d| (11, *d))
        .chain([(12, 1)])
        .enumerate()
    {
        for c in 0..4 {
            d.at(msk(2026, day.0, day.1, 10, c * 10)).await;
            d.voice(&format!("F{i}-{c}"), N[1 + c as usize]).await;
        }
    }
    d.at(msk(2026, 12, 3, 12, 0)).await; // Thursday
    let boss = d.app.sign_in("boss").await;
    let (s, f) = d.api(&boss, "/stats/forecast").await;
    assert_eq!(s, 200, "{f}");
    assert_eq!(f["week_start"], "2026-12-07");
    assert_eq!(f["aht_measured"], false);
    close(&f["aht_secs"], 360.0);
    let rows = f["rows"].as_array().unwrap();
    // Five working days of nine hours (no holiday that week).
    assert_eq!(rows.len(), 45);
    let row = |date: &str, hour: u64| {
        rows.iter()
            .find(|r| r["date"] == date && r["hour"] == hour)
            .unwrap()
            .clone()
    };
    let tue = row("2026-12-08", 10);
    close(&tue["expected_arrivals"], 4.0);
    close(&tue["traffic_erlangs"], 0.4);
    assert_eq!(tue["agents_needed"], 2);
    assert_eq!(row("2026-12-08", 11)["agents_needed"], 0);
    assert_eq!(row("2026-12-09", 10)["agents_needed"], 0);
    let r = d
        .app
        .with_cookie(Method::GET, "/api/v1/stats/forecast?format=csv", &boss)
        .send()
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert!(text.contains("2026-12-08,10,1,4,0.4,2,"), "{text}");
}

/// Facts are found by the id range of the calls started in the dates asked for, so calls whose
/// ids do not follow their start (a service restarted with its clock set back) all count.
async fn a_clock_set_back_loses_no_call(db: &TestDb) {
    let app = WebApp::spawn_with(db, twilio::config("http://127.0.0.1:9")).await;
    let d = Day { app };
    d.app.user("boss", Role::Supervisor).await;
    for (sid, at) in [
        ("K1", msk(2026, 12, 7, 10, 0)),
        ("K2", msk(2026, 12, 7, 10, 5)),
        ("K3", msk(2026, 12, 7, 9, 30)),
        ("K4", msk(2026, 12, 1, 11, 0)),
        ("K5", msk(2026, 12, 7, 10, 2)),
    ] {
        d.at(at).await;
        d.voice(sid, N[1]).await;
    }
    d.at(msk(2026, 12, 7, 12, 0)).await;
    let boss = d.app.sign_in("boss").await;
    for (range, calls) in [
        ("from=2026-12-07&to=2026-12-07", 4),
        ("from=2026-12-01&to=2026-12-01", 1),
        ("from=2026-12-02&to=2026-12-06", 0),
        ("from=2026-12-01&to=2026-12-07", 5),
    ] {
        let (s, sum) = d.api(&boss, &format!("/stats/summary?{range}")).await;
        assert_eq!(s, 200);
        assert_eq!(sum["calls"], calls, "{range}");
    }
    let (_, hourly) = d
        .api(&boss, "/stats/hourly?from=2026-12-07&to=2026-12-07")
        .await;
    assert_eq!(hourly[9]["calls"], 1);
    assert_eq!(hourly[10]["calls"], 3);
}

/// The voicemail reasons the known day does not show: nobody staffing the line, and the queue's
/// longest wait. (A caller whose operator did not answer is routed with that operator still
/// counted as staffing, so they queue rather than going to voicemail: `no_answer` stays 0.)
async fn why_callers_went_to_voicemail(db: &TestDb) {
    let mut config = twilio::config("http://127.0.0.1:9");
    config.routing.autopause_after = 1;
    let d = Day {
        app: WebApp::spawn_with(db, config).await,
    };
    d.app.user("boss", Role::Supervisor).await;
    d.at(msk(2026, 12, 7, 9, 0)).await;
    d.app.user("olga", Role::Operator).await;
    let olga = d
        .app
        .store
        .operator_by_login("olga")
        .await
        .unwrap()
        .unwrap()
        .id;
    let available = |t| {
        let store = d.app.store.clone();
        async move {
            store
                .set_presence(olga, Presence::Available, t)
                .await
                .unwrap()
        }
    };
    available(msk(2026, 12, 7, 9, 0)).await;
    d.at(msk(2026, 12, 7, 10, 0)).await;
    d.voice("V1", N[1]).await; // rings Olga, who does not answer: V1 queues, Olga is paused
    d.at(msk(2026, 12, 7, 10, 0) + chrono::TimeDelta::seconds(20))
        .await;
    d.post(
        Route::DialResult,
        &[("CallSid", "V1"), ("DialCallStatus", "no-answer")],
    )
    .await;
    d.at(msk(2026, 12, 7, 10, 1)).await;
    d.voice("V2", N[2]).await; // Olga is paused: nobody staffs the line
    available(msk(2026, 12, 7, 10, 2)).await;
    d.at(msk(2026, 12, 7, 10, 3)).await;
    d.voice("V3", N[3]).await; // queued behind V1
    d.at(msk(2026, 12, 7, 10, 3) + chrono::TimeDelta::seconds(10))
        .await;
    d.voice("V4", N[4]).await; // queued too
    d.at(msk(2026, 12, 7, 10, 5) + chrono::TimeDelta::seconds(10))
        .await;
    d.post(
        Route::QueueLeft,
        &[
            ("CallSid", "V4"),
            ("QueueResult", "leave"),
            ("QueueTime", "120"),
        ],
    )
    .await;
    let boss = d.app.sign_in("boss").await;
    let (_, sum) = d
        .api(&boss, "/stats/summary?from=2026-12-07&to=2026-12-07")
        .await;
    assert_eq!(sum["voicemail"], 2, "{sum}");
    let why = &sum["voicemail_by_reason"];
    assert_eq!(why["no_answer"], 0, "{why}");
    assert_eq!(why["no_operator"], 1, "{why}");
    assert_eq!(why["timeout"], 1, "{why}");
    assert_eq!(why["choice"], 0);
    assert_eq!(why["off_hours"], 0);
    assert_eq!(sum["offered"], 4);
}
