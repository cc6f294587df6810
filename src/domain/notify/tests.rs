use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::{Backlog, NotifySettings, due_notices, first_window_of};
use crate::calendar::{Calendar, HotlineHours, MOSCOW};

fn msk(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(2026, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn settings() -> NotifySettings {
    NotifySettings {
        emails: vec!["boss@school.example".into()],
        ..NotifySettings::default()
    }
}

fn keys(now: DateTime<Utc>, b: &Backlog) -> Vec<String> {
    let cal = Calendar::builtin(HotlineHours::default());
    due_notices(&cal, &settings(), now, b)
        .into_iter()
        .map(|n| n.key)
        .collect()
}

#[test]
fn the_digest_comes_at_each_working_days_opening_only() {
    let b = Backlog {
        waiting: 7,
        due_today: 5,
        overdue: 1,
        mail_overnight: 2,
        ..Backlog::default()
    };
    // Friday 4 December 2026: not before 09:00, from 09:00 on (the key makes it one).
    assert!(keys(msk(12, 4, 8, 59), &b).is_empty());
    assert_eq!(keys(msk(12, 4, 9, 0), &b), ["notify:digest:2026-12-04"]);
    assert_eq!(keys(msk(12, 4, 15, 0), &b), ["notify:digest:2026-12-04"]);
    // Closed: after hours, the weekend.
    assert!(keys(msk(12, 4, 18, 0), &b).is_empty());
    for d in [5, 6] {
        for h in 0..24 {
            assert!(keys(msk(12, d, h, 0), &b).is_empty(), "{d} {h}:00");
        }
    }
    assert_eq!(keys(msk(12, 7, 9, 0), &b), ["notify:digest:2026-12-07"]);
    // Wednesday 4 November 2026, National Unity Day: no digest; Thursday 5th has one.
    for h in 0..24 {
        assert!(keys(msk(11, 4, h, 30), &b).is_empty(), "holiday {h}:30");
    }
    assert_eq!(keys(msk(11, 5, 9, 0), &b), ["notify:digest:2026-11-05"]);
    let cal = Calendar::builtin(HotlineHours::default());
    let n = &due_notices(&cal, &settings(), msk(12, 7, 9, 1), &b)[0];
    assert_eq!(n.subject, "Обратные звонки на 07.12.2026");
    assert!(
        n.text.contains("Ждут обратного звонка: 7")
            && n.text.contains("К звонку сегодня: 5")
            && n.text.contains("Просрочено: 1")
            && n.text.contains("по почте с прошлого рабочего дня: 2"),
        "{}",
        n.text
    );
    assert_eq!(
        n.sms,
        "Школьный портал 07.12.2026: ждут 7, сегодня 5, просрочено 1, по почте 2."
    );
    assert_eq!(
        first_window_of(&cal, msk(11, 4, 12, 0).with_timezone(&MOSCOW).date_naive()),
        None
    );
}

#[test]
fn thresholds_alert_during_hours_once_per_period() {
    let over = Backlog {
        waiting: 30,
        due_now: 25,
        oldest_due: Some(msk(12, 4, 9, 0)),
        ..Backlog::default()
    };
    let s = NotifySettings {
        digest: false,
        ..settings()
    };
    let cal = Calendar::builtin(HotlineHours::default());
    let at = |t| {
        due_notices(&cal, &s, t, &over)
            .into_iter()
            .map(|n| n.key)
            .collect::<Vec<_>>()
    };
    // 10:30: 25 due ≥ 20, the oldest due 1.5 h < 2 h.
    let k = at(msk(12, 4, 10, 30));
    assert_eq!(k.len(), 1, "{k:?}");
    assert!(k[0].starts_with("notify:backlog:"));
    // Within the hour: the same key (sent once); the next hour: a new one.
    assert_eq!(at(msk(12, 4, 10, 59)), k);
    let later = at(msk(12, 4, 11, 30));
    assert_ne!(later[0], k[0]);
    // 11:00: the oldest has waited 2 h of working time.
    assert!(
        later.iter().any(|k| k.starts_with("notify:oldest:")),
        "{later:?}"
    );
    // Friday 17:00 to Monday 10:00: the weekend is not working time, and nobody is alerted
    // while closed.
    let friday = Backlog {
        oldest_due: Some(msk(12, 4, 17, 0)),
        due_now: 1,
        ..over
    };
    assert!(
        due_notices(&cal, &s, msk(12, 5, 12, 0), &over).is_empty(),
        "Saturday"
    );
    let monday = due_notices(&cal, &s, msk(12, 7, 9, 30), &friday);
    assert!(monday.is_empty(), "1.5 h of working time: {monday:?}");
    let monday = due_notices(&cal, &s, msk(12, 7, 10, 0), &friday);
    assert_eq!(monday.len(), 1, "{monday:?}");
    assert_eq!(monday[0].subject, "Заявка ждёт звонка 2 ч");
    // Nobody to tell: nothing; thresholds off: nothing.
    let nobody = NotifySettings::default();
    assert!(due_notices(&cal, &nobody, msk(12, 4, 10, 30), &over).is_empty());
    let off = NotifySettings {
        backlog_threshold: 0,
        oldest_due: TimeDelta::zero(),
        ..s.clone()
    };
    assert!(due_notices(&cal, &off, msk(12, 4, 12, 30), &over).is_empty());
}

#[test]
fn the_backlog_alert_counts_in_russian() {
    let cal = Calendar::builtin(HotlineHours::default());
    let s = NotifySettings {
        digest: false,
        backlog_threshold: 1,
        oldest_due: TimeDelta::zero(),
        ..settings()
    };
    let sms = |n| {
        let b = Backlog {
            due_now: n,
            ..Backlog::default()
        };
        due_notices(&cal, &s, msk(12, 4, 10, 0), &b)[0].sms.clone()
    };
    assert_eq!(sms(1), "Школьный портал: к звонку 1 заявка (порог 1).");
    assert_eq!(sms(3), "Школьный портал: к звонку 3 заявки (порог 1).");
    assert_eq!(sms(11), "Школьный портал: к звонку 11 заявок (порог 1).");
    assert_eq!(sms(25), "Школьный портал: к звонку 25 заявок (порог 1).");
}
