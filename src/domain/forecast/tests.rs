//! Tests of the weekly forecast, worked by hand on the built-in 2025 production calendar:
//! which hours get rows (a shortened day, a holiday, a transferred working Saturday), which past
//! days are averaged (holidays skipped, days before the history starts left out, open days
//! without data counted as zero), partial hours, the handling-time fallback, and the planned
//! operators' service level through the same Erlang C.

use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate, TimeDelta, Weekday};

use super::erlang;
use super::*;
use crate::calendar::HotlineHours;

/// The built-in calendar, Monday–Friday 09:00–18:00, one hour shorter before a holiday.
static CAL: LazyLock<Calendar> = LazyLock::new(|| Calendar::builtin(HotlineHours::default()));

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

fn count(d: NaiveDate, hour: u32, arrivals: u32) -> HourCount {
    HourCount {
        date: d,
        hour,
        arrivals,
    }
}

fn weeks(n: u32) -> ForecastSettings {
    ForecastSettings {
        weeks: n,
        ..ForecastSettings::default()
    }
}

fn row(f: &Forecast, d: NaiveDate, hour: u32) -> &ForecastRow {
    f.rows
        .iter()
        .find(|r| r.date == d && r.hour == hour)
        .unwrap_or_else(|| panic!("no row for {d} {hour}:00"))
}

fn hours_of(f: &Forecast, d: NaiveDate) -> Vec<u32> {
    f.rows
        .iter()
        .filter(|r| r.date == d)
        .map(|r| r.hour)
        .collect()
}

#[test]
fn next_monday_is_strictly_after_today() {
    assert_eq!(next_monday(date(2025, 6, 18)), date(2025, 6, 23)); // Wednesday
    assert_eq!(next_monday(date(2025, 6, 22)), date(2025, 6, 23)); // Sunday
    assert_eq!(next_monday(date(2025, 6, 23)), date(2025, 6, 30)); // Monday
}

#[test]
fn a_holiday_in_the_history_is_skipped() {
    // Today Wed 2025-06-18, 4 weeks: 05-21..06-17. Thursdays 05-22, 05-29, 06-05 and the holiday
    // 06-12 (День России), whose 1000 calls must not count. Fridays: 06-13 was a day off.
    let history = [
        count(date(2025, 5, 22), 10, 10),
        count(date(2025, 5, 29), 10, 20),
        count(date(2025, 6, 5), 10, 30),
        count(date(2025, 6, 12), 10, 1000),
    ];
    let f = forecast(&CAL, date(2025, 6, 18), &history, None, &[], &weeks(4));
    assert_eq!(f.week_start, date(2025, 6, 23));
    assert_eq!(f.history_from, Some(date(2025, 5, 22)));
    assert_eq!(
        f.rows.len(),
        5 * 9,
        "Mon–Fri 09..18, nothing on the weekend"
    );
    assert_eq!(hours_of(&f, date(2025, 6, 26)), (9..18).collect::<Vec<_>>());
    assert_eq!(row(&f, date(2025, 6, 26), 10).expected_arrivals, 20.0);
    assert_eq!(row(&f, date(2025, 6, 26), 11).expected_arrivals, 0.0);
    assert_eq!(row(&f, date(2025, 6, 27), 10).expected_arrivals, 0.0);
}

#[test]
fn days_before_the_first_history_date_are_not_averaged() {
    let thursdays = [
        count(date(2025, 5, 29), 10, 20),
        count(date(2025, 6, 5), 10, 30),
    ];
    // The history starts on Thursday 05-29: 05-22 was before the service began.
    let f = forecast(&CAL, date(2025, 6, 18), &thursdays, None, &[], &weeks(4));
    assert_eq!(f.history_from, Some(date(2025, 5, 29)));
    assert_eq!(row(&f, date(2025, 6, 26), 10).expected_arrivals, 25.0);
    // With a call on Wednesday 05-21 the service was running on 05-22: no calls there count 0.
    let mut from_wednesday = thursdays.to_vec();
    from_wednesday.push(count(date(2025, 5, 21), 12, 5));
    let f = forecast(
        &CAL,
        date(2025, 6, 18),
        &from_wednesday,
        None,
        &[],
        &weeks(4),
    );
    assert_eq!(f.history_from, Some(date(2025, 5, 21)));
    assert_eq!(row(&f, date(2025, 6, 26), 10).expected_arrivals, 50.0 / 3.0);
}

#[test]
fn a_shortened_day_ends_an_hour_early() {
    // The week of 2025-06-09: Wed 06-11 is shortened (09:00–17:00), Thu 06-12 a holiday and
    // Fri 06-13 a day off.
    let f = forecast(&CAL, date(2025, 6, 5), &[], None, &[], &weeks(4));
    assert_eq!(f.week_start, date(2025, 6, 9));
    assert_eq!(hours_of(&f, date(2025, 6, 11)), (9..17).collect::<Vec<_>>());
    assert!(hours_of(&f, date(2025, 6, 12)).is_empty());
    assert!(hours_of(&f, date(2025, 6, 13)).is_empty());
    assert_eq!(f.rows.len(), 9 + 9 + 8);

    // In the history, the closed 17:00 hour of 06-11 does not dilute the Wednesday mean, and
    // calls counted while closed are ignored; its 16:00 hour counts as usual.
    let mut history = Vec::new();
    for d in [date(2025, 5, 21), date(2025, 5, 28), date(2025, 6, 4)] {
        history.extend([count(d, 16, 4), count(d, 17, 8)]);
    }
    history.extend([
        count(date(2025, 6, 11), 16, 8),
        count(date(2025, 6, 11), 17, 5),
    ]);
    let f = forecast(&CAL, date(2025, 6, 18), &history, None, &[], &weeks(4));
    assert_eq!(row(&f, date(2025, 6, 25), 17).expected_arrivals, 8.0);
    assert_eq!(row(&f, date(2025, 6, 25), 16).expected_arrivals, 5.0);
}

#[test]
fn a_partly_open_hour_gets_its_share() {
    // Shortened days close 30 minutes early: Wed 2025-06-11 is open 09:00–17:30.
    let half_hour = Calendar::builtin(HotlineHours {
        shortened_by: TimeDelta::minutes(30),
        ..HotlineHours::default()
    });
    // Today Thu 06-05, 4 weeks: Wednesdays 05-14..06-04 and Mondays 05-12..06-02 had 10 calls at
    // 17:00. AHT 360 s: 10 calls an hour are 1 Erlang.
    let mut history = Vec::new();
    for d in [date(2025, 5, 12), date(2025, 5, 14)] {
        for week in 0..4 {
            history.push(count(d + TimeDelta::weeks(week), 17, 10));
        }
    }
    let f = forecast(
        &half_hour,
        date(2025, 6, 5),
        &history,
        Some(360.0),
        &[],
        &weeks(4),
    );
    let (half, full) = (
        row(&f, date(2025, 6, 11), 17),
        row(&f, date(2025, 6, 9), 17),
    );
    assert_eq!(half.open_fraction, 0.5);
    assert_eq!(half.expected_arrivals, 5.0);
    // Staffing is for the rate while open: the same as a full hour at 10 calls an hour.
    assert_eq!(half.traffic_erlangs, 1.0);
    assert_eq!((full.open_fraction, full.expected_arrivals), (1.0, 10.0));
    assert_eq!(half.agents_needed, full.agents_needed);
    assert_eq!(
        full.agents_needed,
        erlang::agents_needed(10.0, 360.0, 0.8, 20.0, None)
    );

    // A half-open hour in the history counts for half an hour: 06-11 had 5 calls from 17:00 to
    // 17:30, so the Wednesday rate stays 10 an hour (35 calls / 3.5 open hours), not 35 / 4.
    history.push(count(date(2025, 6, 11), 17, 5));
    let f = forecast(
        &half_hour,
        date(2025, 6, 18),
        &history,
        None,
        &[],
        &weeks(4),
    );
    assert_eq!(row(&f, date(2025, 6, 25), 17).expected_arrivals, 10.0);
}

#[test]
fn no_history_means_no_calls_and_no_operators() {
    let plan = [PlannedHour {
        date: date(2025, 6, 23),
        hour: 9,
        operators: 2,
    }];
    let f = forecast(&CAL, date(2025, 6, 18), &[], None, &plan, &weeks(8));
    assert_eq!(f.history_from, None);
    assert_eq!((f.aht_secs, f.aht_measured), (300.0, false));
    assert_eq!(f.rows.len(), 45);
    for r in &f.rows {
        assert_eq!((r.expected_arrivals, r.traffic_erlangs), (0.0, 0.0));
        assert_eq!(r.agents_needed, 0);
    }
    // Nobody calls, so whoever is planned answers everyone at once.
    assert_eq!(
        row(&f, date(2025, 6, 23), 9).expected_sl_with_planned,
        Some(1.0)
    );
    // A measured handling time that is not a positive number falls back to the default too.
    let f = forecast(&CAL, date(2025, 6, 18), &[], Some(f64::NAN), &[], &weeks(8));
    assert_eq!((f.aht_secs, f.aht_measured), (300.0, false));
}

#[test]
fn planned_operators_get_the_erlang_c_service_level() {
    // Mondays 05-26..06-16 had 200 calls at 10:00; AHT 180 s: 10 Erlangs, 14 needed for 80/20.
    let history: Vec<HourCount> = (0..4)
        .map(|w| count(date(2025, 5, 26) + TimeDelta::weeks(w), 10, 200))
        .collect();
    let monday = date(2025, 6, 23);
    let plan = [
        PlannedHour {
            date: monday,
            hour: 10,
            operators: 6,
        },
        PlannedHour {
            date: monday,
            hour: 10,
            operators: 7,
        },
        PlannedHour {
            date: date(2025, 6, 21),
            hour: 10,
            operators: 3,
        },
    ];
    let f = forecast(
        &CAL,
        date(2025, 6, 18),
        &history,
        Some(180.0),
        &plan,
        &weeks(4),
    );
    assert!(f.aht_measured);
    let r = row(&f, monday, 10);
    assert_eq!((r.expected_arrivals, r.traffic_erlangs), (200.0, 10.0));
    assert_eq!(r.agents_needed, 14);
    assert_eq!(r.planned, Some(13));
    // Exact fractions give SL(13 agents, 10 Erlangs, 20 s) = 0.7955947884 (see erlang_tests).
    let sl = r.expected_sl_with_planned.expect("planned");
    assert_eq!(sl, erlang::service_level(13, 10.0, 180.0, 20.0));
    assert!((sl - 0.7955947884).abs() < 1e-9);
    assert_eq!(row(&f, monday, 11).planned, None);
    assert_eq!(row(&f, monday, 11).expected_sl_with_planned, None);

    let json = serde_json::to_value(r).expect("serialises");
    assert_eq!(json["date"], "2025-06-23");
    assert_eq!(json["agents_needed"], 14);
}

#[test]
fn a_transferred_working_saturday_uses_all_working_weekdays() {
    // Today Sat 2025-10-25; the week of 10-27 includes Saturday 11-01, working and shortened
    // (09:00–17:00). Over 09-27..10-24 there are 20 working weekdays: Mondays had 10 calls at
    // 10:00, the others 20; an ordinary Saturday's stray 500 calls do not count.
    let mut history = Vec::new();
    for d in date(2025, 9, 29)
        .iter_days()
        .take_while(|d| *d < date(2025, 10, 25))
    {
        match d.weekday() {
            Weekday::Sat | Weekday::Sun => {}
            Weekday::Mon => history.push(count(d, 10, 10)),
            _ => history.push(count(d, 10, 20)),
        }
    }
    history.push(count(date(2025, 10, 18), 10, 500));
    let f = forecast(&CAL, date(2025, 10, 25), &history, None, &[], &weeks(4));
    let saturday = date(2025, 11, 1);
    assert_eq!(hours_of(&f, saturday), (9..17).collect::<Vec<_>>());
    assert_eq!(f.rows.len(), 5 * 9 + 8);
    assert_eq!(row(&f, saturday, 10).expected_arrivals, 18.0);
    assert_eq!(row(&f, date(2025, 10, 27), 10).expected_arrivals, 10.0);
    assert_eq!(row(&f, date(2025, 10, 28), 10).expected_arrivals, 20.0);
}

#[test]
fn weeks_are_clamped() {
    let f = forecast(&CAL, date(2025, 6, 18), &[], None, &[], &weeks(1));
    assert_eq!(f.weeks, MIN_WEEKS);
    let f = forecast(&CAL, date(2025, 6, 18), &[], None, &[], &weeks(500));
    assert_eq!(f.weeks, MAX_WEEKS);
    // Five weeks reach back to 05-14: a Thursday 05-15 count is averaged in.
    let history = [count(date(2025, 5, 15), 10, 40)];
    let f = forecast(&CAL, date(2025, 6, 18), &history, None, &[], &weeks(5));
    assert_eq!(row(&f, date(2025, 6, 26), 10).expected_arrivals, 10.0);
    // Four weeks start at 05-21: the service already ran then, so the window counts as zeros.
    let f = forecast(&CAL, date(2025, 6, 18), &history, None, &[], &weeks(4));
    assert_eq!(f.history_from, Some(date(2025, 5, 21)));
    assert_eq!(row(&f, date(2025, 6, 26), 10).expected_arrivals, 0.0);
}
