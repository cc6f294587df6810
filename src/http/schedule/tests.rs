//! The schedule's wording over the built-in calendar: the "opens" phrase (table), open/closed
//! status, the day descriptions (holiday, moved day off, shortened day, weekend), the week and
//! the lists of special days, phone display.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::view::{self, describe, opens_phrase, phone, status};
use crate::calendar::{Calendar, HotlineHours, MOSCOW};
use crate::config::ScheduleConfig;

fn cal() -> Calendar {
    Calendar::builtin(HotlineHours::default())
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn msk(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn opens_phrase_table() {
    let today = date(2026, 12, 5); // Saturday
    let at = |d: NaiveDate, h, m| d.and_hms_opt(h, m, 0).unwrap();
    let cases = [
        (at(today, 9, 0), "Откроется сегодня в 09:00"),
        (
            at(date(2026, 12, 6), 10, 30),
            "Откроется завтра, в воскресенье, 6 декабря, в 10:30",
        ),
        (
            at(date(2026, 12, 7), 9, 0),
            "Откроется в понедельник, 7 декабря, в 09:00",
        ),
        (
            at(date(2026, 12, 8), 9, 0),
            "Откроется во вторник, 8 декабря, в 09:00",
        ),
        (
            at(date(2026, 12, 9), 9, 0),
            "Откроется в среду, 9 декабря, в 09:00",
        ),
        (
            at(date(2026, 12, 10), 9, 0),
            "Откроется в четверг, 10 декабря, в 09:00",
        ),
        (
            at(date(2026, 12, 11), 9, 0),
            "Откроется в пятницу, 11 декабря, в 09:00",
        ),
        (
            at(date(2026, 12, 12), 9, 0),
            "Откроется в субботу, 12 декабря, в 09:00",
        ),
        (
            at(date(2027, 1, 11), 9, 0),
            "Откроется в понедельник, 11 января, в 09:00",
        ),
    ];
    for (opens, want) in cases {
        assert_eq!(opens_phrase(today, opens), want);
    }
}

#[test]
fn open_and_closed() {
    let c = cal();
    let s = status(&c, msk(2026, 12, 7, 10, 0));
    assert!(s.open);
    assert_eq!(s.headline, "Сейчас открыто до 18:00");
    assert_eq!(s.next, None);
    let s = status(&c, msk(2026, 11, 3, 16, 59));
    assert_eq!(s.headline, "Сейчас открыто до 17:00", "shortened day");
    let s = status(&c, msk(2026, 12, 5, 12, 0));
    assert!(!s.open);
    assert_eq!(s.headline, "Сейчас закрыто");
    assert_eq!(
        s.next.as_deref(),
        Some("Откроется в понедельник, 7 декабря, в 09:00")
    );
    let s = status(&c, msk(2026, 12, 7, 8, 0));
    assert_eq!(s.next.as_deref(), Some("Откроется сегодня в 09:00"));
    let s = status(&c, msk(2026, 12, 7, 18, 0));
    assert_eq!(
        s.next.as_deref(),
        Some("Откроется завтра, во вторник, 8 декабря, в 09:00"),
        "18:00 is already closed"
    );
    // Over the New Year holidays: 30 December 2026 closes, the next opening is 11 January.
    let s = status(&c, msk(2026, 12, 30, 19, 0));
    assert_eq!(
        s.next.as_deref(),
        Some("Откроется в понедельник, 11 января, в 09:00")
    );
}

#[test]
fn day_descriptions() {
    let c = cal();
    let d = |y, m, dd| describe(&c, &c.day(date(y, m, dd)));
    let some = |s: &str| Some(s.to_owned());
    assert_eq!(d(2026, 12, 7), ("09:00–18:00".into(), None));
    assert_eq!(
        d(2026, 11, 3),
        ("09:00–17:00".into(), some("сокращённый день"))
    );
    assert_eq!(
        d(2026, 11, 4),
        ("праздник".into(), some("День народного единства"))
    );
    assert_eq!(
        d(2026, 12, 31),
        ("выходной".into(), some("перенесён с 4 января"))
    );
    assert_eq!(d(2026, 12, 5), ("выходной".into(), None));
    assert_eq!(
        d(2027, 1, 7),
        ("праздник".into(), some("Рождество Христово"))
    );
    assert_eq!(
        d(2027, 2, 20),
        ("09:00–17:00".into(), some("сокращённый день")),
        "a working Saturday, shortened"
    );
    assert_eq!(
        d(2030, 2, 25),
        ("нерабочий день".into(), None),
        "a holiday's day off by the rules, in a year without data"
    );
}

#[test]
fn the_week_and_the_special_days() {
    let c = cal();
    let cfg = ScheduleConfig {
        phone_numbers: vec!["+74950000000".into(), "8 800 100-00-00".into()],
        embed_origins: vec![],
    };
    // Wednesday 28 October 2026: the week runs 26 October – 1 November.
    let p = view::page(&c, &cfg, msk(2026, 10, 28, 12, 0), 5);
    assert_eq!(p.week_label, "26 октября – 1 ноября");
    let days: Vec<_> = p
        .week
        .iter()
        .map(|d| (d.weekday, d.date.as_str(), d.today))
        .collect();
    assert_eq!(days[0], ("понедельник", "26 октября", false));
    assert_eq!(days[2], ("среда", "28 октября", true));
    assert_eq!(days[6], ("воскресенье", "1 ноября", false));
    assert!(
        p.week[..5]
            .iter()
            .all(|d| d.open && d.hours == "09:00–18:00")
    );
    assert!(p.week[5..].iter().all(|d| !d.open && d.hours == "выходной"));
    let off: Vec<_> = p
        .off_days
        .iter()
        .map(|d| (d.date.as_str(), d.note.as_str()))
        .collect();
    assert_eq!(
        off,
        [
            ("4 ноября", "День народного единства"),
            ("31 декабря", "выходной, перенесён с 4 января"),
            ("1 января", "Новогодние каникулы"),
            ("4 января", "Новогодние каникулы"),
            ("5 января", "Новогодние каникулы"),
        ]
    );
    let short: Vec<_> = p
        .short_days
        .iter()
        .map(|d| (d.date.as_str(), d.weekday, d.note.as_str()))
        .collect();
    assert_eq!(
        short,
        [
            ("3 ноября", "вторник", "09:00–17:00"),
            ("20 февраля", "суббота", "09:00–17:00")
        ]
    );
    let phones: Vec<_> = p
        .phones
        .iter()
        .map(|p| (p.shown.as_str(), p.tel.as_str()))
        .collect();
    assert_eq!(
        phones,
        [
            ("+7 495 000-00-00", "+74950000000"),
            ("8 800 100-00-00", "88001000000")
        ]
    );
}

#[test]
fn phones_as_shown() {
    assert_eq!(phone("+7 (495) 123-45-67").shown, "+7 (495) 123-45-67");
    assert_eq!(phone("+7 (495) 123-45-67").tel, "+74951234567");
    assert_eq!(phone("+74951234567").shown, "+7 495 123-45-67");
    assert_eq!(phone("+12025550123").shown, "+12025550123");
}
