//! Opening hours: parsing `DayHours`, custom weekly schedules (closed weekdays, open
//! Saturdays, transferred-workday hours, shortening to nothing), and the local-time policy
//! for ambiguous and nonexistent Moscow times.

use chrono::{DateTime, TimeDelta, Utc};

use super::super::{Calendar, DayHours, DayKind, HotlineHours, moscow_to_utc};
use super::{CAL, date, hrs, msk, utc};

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

#[test]
fn custom_schedules() {
    let mut h = HotlineHours::default();
    h.weekly[2] = None; // closed on Wednesdays
    h.weekly[5] = Some(hrs("10:00-14:00")); // open on ordinary Saturdays
    h.transferred_workday = hrs("10:00-15:00");
    h.shortened_by = TimeDelta::zero();
    let cal = Calendar::builtin(h);
    let wed = cal.day(date(2025, 3, 12));
    assert_eq!((wed.kind, wed.hours), (DayKind::Weekend, None));
    assert_eq!(cal.legal_kind(date(2025, 3, 12)), DayKind::Working);
    let sat = cal.day(date(2025, 3, 15));
    assert_eq!(
        (sat.kind, sat.hours),
        (DayKind::Weekend, Some(hrs("10:00-14:00")))
    );
    assert_eq!(cal.day(date(2025, 3, 8)).hours, None); // a holiday Saturday stays closed
    assert_eq!(cal.day(date(2024, 4, 27)).hours, Some(hrs("10:00-15:00")));
    // shortened_by zero: still "shortened", full hours.
    let short = cal.day(date(2024, 11, 2));
    assert_eq!(
        (short.kind, short.hours),
        (DayKind::Shortened, Some(hrs("10:00-15:00")))
    );
    assert_eq!(cal.day(date(2024, 2, 22)).hours, Some(hrs("09:00-18:00")));

    // Nothing left on a shortened day.
    let cal = Calendar::builtin(HotlineHours {
        shortened_by: TimeDelta::hours(10),
        ..Default::default()
    });
    assert_eq!(
        (
            cal.day(date(2024, 2, 22)).kind,
            cal.day(date(2024, 2, 22)).hours
        ),
        (DayKind::Shortened, None)
    );
}

#[test]
fn day_hours_parsing() {
    let h = DayHours::parse("09:00-18:00").expect("ok");
    assert_eq!(h.to_string(), "09:00-18:00");
    assert_eq!(
        DayHours::parse(" 9:30 – 17:45 ").expect("ok").to_string(),
        "09:30-17:45"
    );
    assert_eq!(
        "10:00-14:00".parse::<DayHours>().expect("ok"),
        hrs("10:00-14:00")
    );
    for (bad, why) in [
        ("18:00-09:00", "not before"),
        ("09:00-09:00", "not before"),
        ("0900-1800", "not a time of day"),
        ("09:00", "HH:MM-HH:MM"),
        ("09:00-25:00", "not a time"),
        ("09:00-24:00", "24:00"),
        ("nine-six", "not a time"),
    ] {
        let e = DayHours::parse(bad).expect_err(bad);
        assert!(e.contains(why), "{bad}: {e}");
    }
    assert_eq!(
        hrs("09:00-18:00").shortened(TimeDelta::hours(1)),
        Some(hrs("09:00-17:00"))
    );
    assert_eq!(hrs("09:00-18:00").shortened(TimeDelta::hours(9)), None);
    assert_eq!(hrs("00:30-18:00").shortened(TimeDelta::hours(20)), None);
}

#[test]
fn local_time_policy() {
    // 26.10.2014 01:30 happened twice (+04 then +03): the earlier instant is taken.
    assert_eq!(
        moscow_to_utc(date(2014, 10, 26), hrs("01:30-02:00").open),
        utc(2014, 10, 25, 21, 30)
    );
    // 27.03.2011 02:30 never happened (02:00 → 03:00): the end of the gap is taken.
    assert_eq!(
        moscow_to_utc(date(2011, 3, 27), hrs("02:30-03:00").open),
        utc(2011, 3, 26, 23, 0)
    );
    assert_eq!(
        moscow_to_utc(date(2026, 1, 12), hrs("09:00-18:00").open),
        utc(2026, 1, 12, 6, 0)
    );
    // Historical and far years work (plain rules), without panics.
    assert!(CAL.working_between(msk(2010, 1, 1, 0, 0), msk(2015, 1, 1, 0, 0)) > hours(5 * 2000));
    assert!(CAL.is_open(msk(2150, 3, 2, 12, 0)));
    assert!(CAL.window_at_or_after(utc(2500, 6, 1, 0, 0)).is_some());
    assert_eq!(CAL.window_at_or_after(DateTime::<Utc>::MAX_UTC), None);
    assert_eq!(
        CAL.add_working(DateTime::<Utc>::MAX_UTC - hours(1), hours(1)),
        DateTime::<Utc>::MAX_UTC
    );
}
