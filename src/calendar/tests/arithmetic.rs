//! Edge instants and worked examples of the arithmetic: closing time, holidays, the New
//! Year break, 31 December, shortened days, Moscow vs UTC midnight, whole years, and an
//! all-closed schedule.

use chrono::{DateTime, TimeDelta, Utc};

use super::super::{Calendar, DayKind, HotlineHours, Window, moscow_date};
use super::{CAL, date, msk, utc};

fn win(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Window> {
    Some(Window { start, end })
}

fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

#[test]
fn friday_closing_time() {
    assert!(CAL.is_open(msk(2025, 3, 14, 17, 59)));
    assert!(CAL.is_open(msk(2025, 3, 14, 18, 0) - TimeDelta::milliseconds(1)));
    assert!(!CAL.is_open(msk(2025, 3, 14, 18, 0)));
    assert!(CAL.is_open(msk(2025, 3, 14, 9, 0)));
    assert!(!CAL.is_open(msk(2025, 3, 14, 8, 59)));
    let friday = win(msk(2025, 3, 14, 9, 0), msk(2025, 3, 14, 18, 0));
    assert_eq!(CAL.window_at_or_after(msk(2025, 3, 14, 17, 59)), friday);
    assert_eq!(
        CAL.window_at_or_after(msk(2025, 3, 14, 18, 0)),
        win(msk(2025, 3, 17, 9, 0), msk(2025, 3, 17, 18, 0))
    );
    // Windows are Moscow hours: 09:00 MSK is 06:00 UTC.
    assert_eq!(friday.unwrap().start, utc(2025, 3, 14, 6, 0));
}

#[test]
fn holiday_monday_is_closed() {
    assert!(!CAL.is_open(msk(2024, 11, 4, 12, 0)));
    assert_eq!(
        CAL.window_at_or_after(msk(2024, 11, 1, 18, 0)),
        win(msk(2024, 11, 2, 9, 0), msk(2024, 11, 2, 17, 0))
    );
    assert_eq!(
        CAL.window_at_or_after(msk(2024, 11, 2, 17, 0)),
        win(msk(2024, 11, 5, 9, 0), msk(2024, 11, 5, 18, 0))
    );
}

#[test]
fn new_year_break() {
    // Last window of 2024 is Saturday 28 December; 2025 opens on Thursday 9 January.
    assert_eq!(
        CAL.window_at_or_after(msk(2024, 12, 28, 18, 0)),
        win(msk(2025, 1, 9, 9, 0), msk(2025, 1, 9, 18, 0))
    );
    assert!(!CAL.is_open(msk(2025, 1, 3, 12, 0)));
    assert_eq!(
        CAL.add_working(msk(2024, 12, 28, 17, 30), hours(1)),
        msk(2025, 1, 9, 9, 30)
    );
    // 30 December 2025, 17:00 + 2 h: one hour that day, then 31.12, 1–8.01 and 9.01 (day
    // off), the weekend, and the second hour on Monday 12 January 2026.
    assert_eq!(
        CAL.add_working(msk(2025, 12, 30, 17, 0), hours(2)),
        msk(2026, 1, 12, 10, 0)
    );
    assert_eq!(
        CAL.working_between(msk(2025, 12, 30, 17, 0), msk(2026, 1, 12, 10, 0)),
        hours(2)
    );
}

#[test]
fn thirty_first_of_december() {
    for y in [2024, 2025, 2026, 2027] {
        assert_eq!(CAL.day(date(y, 12, 31)).kind, DayKind::Holiday, "{y}");
        assert!(!CAL.is_open(msk(y, 12, 31, 12, 0)), "{y}");
    }
    // In a fallback year 31 December is a shortened working day.
    assert!(CAL.is_open(msk(2030, 12, 31, 16, 59)));
    assert!(!CAL.is_open(msk(2030, 12, 31, 17, 0)));
}

#[test]
fn shortened_day_closes_an_hour_early() {
    assert!(CAL.is_open(msk(2024, 2, 22, 16, 59)));
    assert!(!CAL.is_open(msk(2024, 2, 22, 17, 0)));
    assert_eq!(
        CAL.add_working(msk(2024, 2, 22, 16, 0), hours(2)),
        msk(2024, 2, 26, 10, 0)
    );
}

#[test]
fn moscow_midnight_is_not_utc_midnight() {
    // Friday 27 November 2026, 22:30 UTC is already Saturday 01:30 in Moscow: closed.
    let t = utc(2026, 11, 27, 22, 30);
    assert_eq!(moscow_date(t), date(2026, 11, 28));
    assert_eq!(CAL.day(moscow_date(t)).kind, DayKind::Weekend);
    assert!(!CAL.is_open(t));
    let monday = win(utc(2026, 11, 30, 6, 0), utc(2026, 11, 30, 15, 0));
    assert_eq!(CAL.window_at_or_after(t), monday);
    // Sunday 21:30 UTC is Monday 00:30 in Moscow: the day is Monday, opening at 06:00 UTC.
    let t = utc(2026, 11, 29, 21, 30);
    assert_eq!(moscow_date(t), date(2026, 11, 30));
    assert_eq!(CAL.window_at_or_after(t), monday);
    // The Moscow year turns at 21:00 UTC on 31 December.
    assert_eq!(moscow_date(utc(2026, 12, 31, 21, 0)), date(2027, 1, 1));
    assert_eq!(
        CAL.working_between(utc(2026, 12, 30, 14, 0), utc(2027, 1, 11, 7, 0)),
        hours(2)
    );
}

#[test]
fn adding_working_hours() {
    let monday = msk(2025, 3, 17, 9, 0);
    assert_eq!(CAL.add_working(monday, hours(9)), msk(2025, 3, 17, 18, 0)); // the closing instant
    assert_eq!(CAL.add_working(monday, TimeDelta::zero()), monday);
    let odd = monday + TimeDelta::nanoseconds(1234);
    assert_eq!(CAL.add_working(odd, TimeDelta::zero()), odd);
    assert_eq!(
        CAL.add_working(msk(2025, 3, 14, 17, 0), hours(8)),
        msk(2025, 3, 17, 16, 0)
    ); // Friday evening
    assert_eq!(
        CAL.add_working(msk(2025, 3, 14, 20, 0), hours(8)),
        msk(2025, 3, 17, 17, 0)
    );
    assert_eq!(
        CAL.add_working(msk(2025, 3, 14, 20, 0), hours(9 * 5)),
        msk(2025, 3, 21, 18, 0)
    );
    assert_eq!(
        CAL.working_between(msk(2025, 3, 17, 0, 0), msk(2025, 3, 24, 0, 0)),
        hours(45)
    );
    assert_eq!(
        CAL.working_between(msk(2025, 3, 24, 0, 0), msk(2025, 3, 17, 0, 0)),
        TimeDelta::zero()
    );
    assert_eq!(
        CAL.windows(msk(2025, 3, 17, 0, 0), msk(2025, 3, 24, 0, 0))
            .count(),
        5
    );
    // Unclipped: a window is reported whole even when the range cuts it.
    let mut w = CAL.windows(msk(2025, 3, 17, 12, 0), msk(2025, 3, 17, 13, 0));
    assert_eq!(
        w.next(),
        win(msk(2025, 3, 17, 9, 0), msk(2025, 3, 17, 18, 0))
    );
    assert_eq!(w.next(), None);
}

#[test]
fn whole_years_of_hotline_time() {
    // 9 hotline hours a working day, one less on a shortened day.
    let year = |y| CAL.working_between(msk(y, 1, 1, 0, 0), msk(y + 1, 1, 1, 0, 0));
    assert_eq!(year(2024), hours(248 * 9 - 5));
    assert_eq!(year(2025), hours(247 * 9 - 4));
    assert_eq!(
        CAL.working_between(msk(2024, 1, 1, 0, 0), msk(2028, 1, 1, 0, 0)),
        hours(248 * 9 - 5 + 3 * (247 * 9 - 4))
    );
}

#[test]
fn all_closed_schedule() {
    let cal = Calendar::builtin(HotlineHours {
        weekly: [None; 7],
        ..Default::default()
    });
    // Only the Saturdays made working (transferred_workday hours) are ever open; after
    // 01.11.2025 the next one is 20.02.2027.
    let only = win(msk(2027, 2, 20, 9, 0), msk(2027, 2, 20, 17, 0));
    assert_eq!(cal.window_at_or_after(msk(2026, 6, 1, 0, 0)), only);
    assert_eq!(cal.window_at_or_after(msk(2025, 12, 1, 0, 0)), None); // more than 400 days ahead
    assert_eq!(cal.window_at_or_after(msk(2027, 3, 1, 0, 0)), None);
    assert_eq!(
        cal.add_working(msk(2027, 3, 1, 0, 0), hours(1)),
        DateTime::<Utc>::MAX_UTC
    );
    assert_eq!(
        cal.add_working(msk(2027, 2, 20, 16, 0), hours(1)),
        msk(2027, 2, 20, 17, 0)
    );
    assert_eq!(
        cal.add_working(msk(2025, 12, 1, 0, 0), hours(1)),
        msk(2027, 2, 20, 10, 0)
    );
    assert_eq!(
        cal.windows(msk(2028, 1, 1, 0, 0), msk(2031, 1, 1, 0, 0))
            .count(),
        0
    );
    assert_eq!(
        cal.working_between(msk(2026, 1, 1, 0, 0), msk(2031, 1, 1, 0, 0)),
        hours(8)
    );
    // 2024: 27.04 (9 h), 02.11 (8 h), 28.12 (9 h); 2025: 01.11 (8 h); 2027: 20.02 (8 h).
    assert_eq!(
        cal.working_between(msk(2024, 1, 1, 0, 0), msk(2031, 1, 1, 0, 0)),
        hours(42)
    );
}
