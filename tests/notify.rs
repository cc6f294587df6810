//! Staff notifications on an injected clock, on SQLite always and on PostgreSQL when configured:
//! the notifier's ticks across a working Friday, a weekend and a public holiday enqueue the morning
//! digest once per working day (an e-mail job per address, an SMS job per number, with the list's
//! counts), nothing while the hotline is closed, and threshold alerts during hours once per
//! period; two instances ticking at once enqueue each notice once.

mod support;

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use perezvon::calendar::{Calendar, HotlineHours, MOSCOW};
use perezvon::clock::ManualClock;
use perezvon::domain::notify::NotifySettings;
use perezvon::notify::{Notifier, SEND_MAIL};
use perezvon::store::{Job, Store};
use serde_json::Value;
use support::TestDb;
use support::web::voicemail_request;

on_both_backends!(
    digest_each_working_morning_not_on_weekends_or_holidays,
    thresholds_alert_during_hours_once_per_period,
);

fn msk(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(2026, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn notifier(store: Arc<dyn Store>, settings: NotifySettings) -> Notifier {
    Notifier {
        store,
        calendar: Arc::new(Calendar::builtin(HotlineHours::default())),
        clock: Arc::new(ManualClock::new(msk(12, 1, 9, 0))),
        settings,
    }
}

fn recipients() -> NotifySettings {
    NotifySettings {
        emails: vec!["boss@school.example".into(), "deputy@school.example".into()],
        sms: vec!["+79160000099".into()],
        backlog_threshold: 0,
        oldest_due: TimeDelta::zero(),
        ..NotifySettings::default()
    }
}

/// Every job enqueued so far (claimed, so each is seen once).
async fn drain(store: &Arc<dyn Store>, now: DateTime<Utc>) -> Vec<Job> {
    let mut out = Vec::new();
    while let Some(j) = store
        .claim_job("test", now + TimeDelta::days(400), TimeDelta::minutes(1))
        .await
        .unwrap()
    {
        store.complete_job(j.id, "test", now).await.unwrap();
        out.push(j);
    }
    out.retain(|j| j.kind == SEND_MAIL || j.kind == "sms.send");
    out
}

async fn digest_each_working_morning_not_on_weekends_or_holidays(db: &TestDb) {
    let s = &db.store;
    // Thursday 3 December, 17:00: two requests due Friday morning, one of them overdue by then.
    let thursday = msk(12, 3, 17, 0);
    voicemail_request(s, thursday, "CA1", "+79161111111", None).await;
    voicemail_request(s, thursday, "CA2", "+79162222222", Some("staff")).await;
    drain(s, thursday).await;
    let n = notifier(s.clone(), recipients());
    let other = notifier(db.another_instance().await, recipients());
    // Friday 4 December: nothing before 09:00; at 09:00 both instances tick at once.
    assert_eq!(n.tick(msk(12, 4, 8, 59)).await.unwrap(), 0);
    let (a, b) = tokio::join!(n.tick(msk(12, 4, 9, 0)), other.tick(msk(12, 4, 9, 0)));
    assert_eq!(a.unwrap() + b.unwrap(), 3, "two e-mails and one SMS, once");
    assert_eq!(
        n.tick(msk(12, 4, 9, 1)).await.unwrap(),
        0,
        "sent once a day"
    );
    let jobs = drain(s, msk(12, 4, 9, 1)).await;
    let mails: Vec<Value> = jobs
        .iter()
        .filter(|j| j.kind == SEND_MAIL)
        .map(|j| serde_json::from_str(&j.payload).unwrap())
        .collect();
    let mut to: Vec<&str> = mails.iter().map(|m| m["to"].as_str().unwrap()).collect();
    to.sort_unstable();
    assert_eq!(to, ["boss@school.example", "deputy@school.example"]);
    assert_eq!(mails[0]["subject"], "Обратные звонки на 04.12.2026");
    let text = mails[0]["text"].as_str().unwrap();
    assert!(
        text.contains("Ждут обратного звонка: 2") && text.contains("Просрочено: 2"),
        "deadline Thursday 17:00 + 8 h of test SLA has passed: {text}"
    );
    let sms: Vec<Value> = jobs
        .iter()
        .filter(|j| j.kind == "sms.send")
        .map(|j| serde_json::from_str(&j.payload).unwrap())
        .collect();
    assert_eq!(sms.len(), 1);
    assert_eq!(sms[0]["to"], "+79160000099");
    assert_eq!(
        sms[0]["body"],
        "Школьный портал 04.12.2026: ждут 2, сегодня 2, просрочено 2, по почте 0."
    );
    // The weekend: ticks every half hour, nothing.
    let mut t = msk(12, 4, 18, 0);
    while t < msk(12, 7, 8, 59) {
        assert_eq!(n.tick(t).await.unwrap(), 0, "closed at {t}");
        t += TimeDelta::minutes(30);
    }
    // Monday 7 December: the next digest.
    assert_eq!(n.tick(msk(12, 7, 9, 0)).await.unwrap(), 3);
    // Wednesday 4 November, National Unity Day: nothing all day; Thursday 5th: a digest.
    for h in 0..24 {
        assert_eq!(
            n.tick(msk(11, 4, h, 10)).await.unwrap(),
            0,
            "holiday {h}:10"
        );
    }
    assert_eq!(n.tick(msk(11, 5, 9, 5)).await.unwrap(), 3);
}

async fn thresholds_alert_during_hours_once_per_period(db: &TestDb) {
    let s = &db.store;
    let morning = msk(12, 4, 9, 0);
    for i in 0..3 {
        voicemail_request(
            s,
            morning,
            &format!("CA{i}"),
            &format!("+7916333000{i}"),
            None,
        )
        .await;
    }
    drain(s, morning).await;
    let settings = NotifySettings {
        emails: vec!["boss@school.example".into()],
        sms: Vec::new(),
        backlog_threshold: 3,
        oldest_due: TimeDelta::hours(2),
        repeat: TimeDelta::hours(1),
        digest: false,
    };
    let n = notifier(s.clone(), settings);
    // 10:30: three due (the threshold); the oldest has waited 1.5 h.
    assert_eq!(n.tick(msk(12, 4, 10, 30)).await.unwrap(), 1);
    assert_eq!(
        n.tick(msk(12, 4, 10, 45)).await.unwrap(),
        0,
        "once per hour"
    );
    let jobs = drain(s, msk(12, 4, 10, 45)).await;
    let p: Value = serde_json::from_str(&jobs[0].payload).unwrap();
    assert_eq!(p["subject"], "Очередь обратных звонков: 3 к звонку");
    // 11:10: the next hour: the backlog again, and the oldest has now waited 2 h 10 min.
    assert_eq!(n.tick(msk(12, 4, 11, 10)).await.unwrap(), 2);
    let subjects: Vec<String> = drain(s, msk(12, 4, 11, 10))
        .await
        .iter()
        .map(|j| {
            serde_json::from_str::<Value>(&j.payload).unwrap()["subject"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        subjects.contains(&"Заявка ждёт звонка 2 ч 10 мин".to_owned()),
        "{subjects:?}"
    );
    // Saturday: the same backlog, closed: nothing.
    assert_eq!(n.tick(msk(12, 5, 11, 0)).await.unwrap(), 0);
}
