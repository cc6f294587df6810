//! Table tests: the kind and hotline hours of every holiday, transfer, working Saturday
//! and shortened day of 2024–2027 (from CALENDAR.md §2), the annual totals, and the
//! plain-rules fallback.

use chrono::NaiveDate;

use super::super::{DayKind, YearData, YearStatus, builtin_years};
use super::{CAL, date, hrs};
use DayKind::{Holiday, Shortened, Weekend, Working};

const FULL: Option<&str> = Some("09:00-18:00");
const SHORT: Option<&str> = Some("09:00-17:00");

/// (date, kind, hours) with the default hotline hours.
const CASES: &[(&str, DayKind, Option<&str>)] = &[
    // 2024: decree № 1314.
    ("2024-01-05", Holiday, None),
    ("2024-01-06", Holiday, None), // Sat, holiday moved to 05-10
    ("2024-01-07", Holiday, None), // Sun, holiday moved to 12-31
    ("2024-01-08", Holiday, None),
    ("2024-01-09", Working, FULL),
    ("2024-02-22", Shortened, SHORT),
    ("2024-02-23", Holiday, None),
    ("2024-03-07", Shortened, SHORT),
    ("2024-03-08", Holiday, None),
    ("2024-04-27", Working, FULL), // working Saturday, not shortened
    ("2024-04-28", Weekend, None),
    ("2024-04-29", Holiday, None), // <- Sat 04-27
    ("2024-04-30", Holiday, None), // <- Sat 11-02
    ("2024-05-01", Holiday, None),
    ("2024-05-08", Shortened, SHORT),
    ("2024-05-09", Holiday, None),
    ("2024-05-10", Holiday, None), // <- Sat 01-06
    ("2024-06-11", Shortened, SHORT),
    ("2024-06-12", Holiday, None),
    ("2024-11-02", Shortened, SHORT), // working Saturday, shortened
    ("2024-11-03", Weekend, None),
    ("2024-11-04", Holiday, None), // a holiday Monday
    ("2024-12-27", Working, FULL),
    ("2024-12-28", Working, FULL), // working Saturday, full day
    ("2024-12-29", Weekend, None),
    ("2024-12-30", Holiday, None), // <- Sat 12-28
    ("2024-12-31", Holiday, None), // <- Sun 01-07
    // 2025: decree № 1335 (overrides the automatic shifts of 02-23 and 03-08).
    ("2025-01-01", Holiday, None),
    ("2025-01-04", Holiday, None), // Sat holiday, moved to 05-02
    ("2025-01-05", Holiday, None), // Sun holiday, moved to 12-31
    ("2025-01-08", Holiday, None),
    ("2025-01-09", Working, FULL),
    ("2025-02-22", Weekend, None),
    ("2025-02-23", Holiday, None), // Sun holiday
    ("2025-02-24", Working, FULL), // not the automatic shift: the decree moved it to 05-08
    ("2025-03-07", Shortened, SHORT),
    ("2025-03-08", Holiday, None), // Sat holiday
    ("2025-03-10", Working, FULL),
    ("2025-04-30", Shortened, SHORT),
    ("2025-05-01", Holiday, None),
    ("2025-05-02", Holiday, None), // <- Sat 01-04
    ("2025-05-08", Holiday, None), // <- Sun 02-23
    ("2025-05-09", Holiday, None),
    ("2025-06-11", Shortened, SHORT),
    ("2025-06-12", Holiday, None),
    ("2025-06-13", Holiday, None),    // <- Sat 03-08
    ("2025-11-01", Shortened, SHORT), // working Saturday, shortened
    ("2025-11-03", Holiday, None),    // <- Sat 11-01
    ("2025-11-04", Holiday, None),
    ("2025-12-30", Working, FULL),
    ("2025-12-31", Holiday, None), // <- Sun 01-05
    // 2026: decree № 1466; no working Saturdays.
    ("2026-01-02", Holiday, None),
    ("2026-01-03", Holiday, None),
    ("2026-01-08", Holiday, None),
    ("2026-01-09", Holiday, None), // <- Sat 01-03
    ("2026-01-12", Working, FULL),
    ("2026-02-20", Working, FULL), // Friday before a holiday Monday: not shortened
    ("2026-02-23", Holiday, None),
    ("2026-03-06", Working, FULL),
    ("2026-03-08", Holiday, None), // Sun
    ("2026-03-09", Holiday, None), // automatic ст. 112 shift
    ("2026-04-30", Shortened, SHORT),
    ("2026-05-01", Holiday, None),
    ("2026-05-08", Shortened, SHORT),
    ("2026-05-09", Holiday, None), // Sat
    ("2026-05-11", Holiday, None), // automatic ст. 112 shift
    ("2026-06-11", Shortened, SHORT),
    ("2026-06-12", Holiday, None),
    ("2026-11-03", Shortened, SHORT),
    ("2026-11-04", Holiday, None),
    ("2026-11-28", Weekend, None),
    ("2026-12-30", Working, FULL),
    ("2026-12-31", Holiday, None), // <- Sun 01-04
    // 2027.
    ("2027-01-01", Holiday, None),
    ("2027-01-02", Holiday, None), // Sat, moved to 11-05
    ("2027-01-08", Holiday, None),
    ("2027-01-11", Working, FULL),
    ("2027-02-19", Working, FULL),
    ("2027-02-20", Shortened, SHORT), // working Saturday, shortened
    ("2027-02-22", Holiday, None),    // <- Sat 02-20
    ("2027-02-23", Holiday, None),
    ("2027-03-05", Working, FULL),
    ("2027-03-08", Holiday, None),
    ("2027-04-30", Shortened, SHORT),
    ("2027-05-01", Holiday, None), // Sat
    ("2027-05-03", Holiday, None), // automatic shift
    ("2027-05-09", Holiday, None), // Sun
    ("2027-05-10", Holiday, None), // automatic shift
    ("2027-06-11", Shortened, SHORT),
    ("2027-06-12", Holiday, None), // Sat
    ("2027-06-14", Holiday, None), // automatic shift
    ("2027-11-03", Shortened, SHORT),
    ("2027-11-04", Holiday, None),
    ("2027-11-05", Holiday, None), // <- Sat 01-02
    ("2027-12-30", Working, FULL),
    ("2027-12-31", Holiday, None), // <- Sun 01-03
];

fn check(cases: &[(&str, DayKind, Option<&str>)]) {
    for &(d, kind, hours) in cases {
        let date: NaiveDate = d.parse().expect("date");
        let day = CAL.day(date);
        assert_eq!(day.date, date);
        assert_eq!((day.kind, day.hours), (kind, hours.map(hrs)), "{d}");
    }
}

#[test]
fn every_exception_of_2024_to_2027() {
    check(CASES);
}

#[test]
fn every_data_entry_has_its_kind() {
    for data in builtin_years().expect("built-in data") {
        for o in &data.days_off {
            assert_eq!(CAL.day(o.date).kind, Holiday, "{}", o.date);
        }
        for (d, _) in &data.holidays {
            assert_eq!(CAL.day(*d).kind, Holiday, "{d}");
        }
        for d in &data.working_days {
            let expected = if data.short_days.contains(d) {
                Shortened
            } else {
                Working
            };
            assert_eq!(CAL.day(*d).kind, expected, "{d}");
            assert_eq!(
                CAL.day(*d).hours.expect("open").open,
                hrs("09:00-18:00").open,
                "{d}"
            );
        }
        for d in &data.short_days {
            assert_eq!(
                (CAL.day(*d).kind, CAL.day(*d).hours),
                (Shortened, Some(hrs("09:00-17:00"))),
                "{d}"
            );
        }
    }
}

#[test]
fn annual_totals_match_the_official_calendars() {
    let want = [
        (2024, 248, 118, 1979, 5),
        (2025, 247, 118, 1972, 4),
        (2026, 247, 118, 1972, 4),
        (2027, 247, 118, 1972, 4),
    ];
    for (year, working, non_working, hours, short) in want {
        let data = CAL.year_data(year).expect("built in");
        assert_eq!(data.status, YearStatus::Official);
        let t = data.totals();
        assert_eq!(
            (t.working_days, t.non_working_days, t.hours_40h),
            (working, non_working, hours),
            "{year}"
        );
        assert_eq!(data.short_days.len(), short, "{year}");
        // The same totals counted through the calendar's own day table.
        let days: Vec<_> = super::super::rules::dates_of(year)
            .map(|d| CAL.legal_kind(d))
            .collect();
        assert_eq!(
            days.iter().filter(|k| k.is_working()).count(),
            working as usize,
            "{year}"
        );
        assert_eq!(
            days.iter().filter(|&&k| k == Shortened).count(),
            short,
            "{year}"
        );
    }
}

#[test]
fn kind_names() {
    let names: Vec<_> = [Working, Shortened, Weekend, Holiday]
        .iter()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(names, ["working", "shortened", "weekend", "holiday"]);
    assert_eq!(Holiday.to_string(), "holiday");
}

#[test]
fn fallback_year_uses_plain_rules() {
    assert!(CAL.year_data(2030).is_none());
    check(&[
        ("2030-01-01", Holiday, None),    // Tue
        ("2030-01-07", Holiday, None),    // Mon
        ("2030-01-09", Working, FULL),    // no January transfers
        ("2030-02-22", Shortened, SHORT), // Fri before the Saturday holiday
        ("2030-02-23", Holiday, None),    // Sat
        ("2030-02-25", Holiday, None),    // automatic shift to Monday
        ("2030-03-07", Shortened, SHORT),
        ("2030-03-08", Holiday, None),
        ("2030-05-09", Holiday, None),
        ("2030-11-01", Working, FULL), // Fri; Sat 11-02 is no holiday
        ("2030-11-04", Holiday, None),
        ("2030-12-31", Shortened, SHORT), // before 1 January, no decree moved it
    ]);
    assert_eq!(CAL.missing_years(2023, 2030), vec![2023, 2028, 2029, 2030]);
    assert_eq!(YearData::predicted(2030).status, YearStatus::Predicted);
}

#[test]
fn holiday_names_from_data_and_from_the_rules() {
    let name = |s: &str| CAL.holiday_name(s.parse().expect("date"));
    assert_eq!(name("2026-01-07"), Some("Рождество Христово"));
    assert_eq!(name("2026-11-04"), Some("День народного единства"));
    assert_eq!(name("2026-12-31"), None, "a moved day off is no holiday");
    assert_eq!(name("2026-11-03"), None);
    assert_eq!(
        name("2030-06-12"),
        Some("День России"),
        "a year without data"
    );
    assert_eq!(name("2030-06-13"), None);
}

/// Where the plain rules differ from a real year, it is exactly the decree's doing.
#[test]
fn plain_rules_differ_from_real_years_only_by_decree() {
    let diff = |year: i32| -> Vec<NaiveDate> {
        let real = CAL.year_data(year).expect("built in").kinds();
        let plain = YearData::predicted(year).kinds();
        let dates = super::super::rules::dates_of(year);
        dates
            .zip(real.iter().zip(&plain))
            .filter(|(_, (r, p))| r != p)
            .map(|(d, _)| d)
            .collect()
    };
    assert_eq!(diff(2026), [date(2026, 1, 9), date(2026, 12, 31)]);
    assert_eq!(
        diff(2027),
        [
            date(2027, 2, 20),
            date(2027, 2, 22),
            date(2027, 11, 5),
            date(2027, 12, 31)
        ]
    );
    let d2025 = diff(2025);
    assert!(
        d2025.contains(&date(2025, 2, 24)) && d2025.contains(&date(2025, 5, 8)),
        "{d2025:?}"
    );
}
