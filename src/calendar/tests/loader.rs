//! Every loader rule rejects a bad file with an error naming the file and the date or
//! rule; strict schema; TOML round trips.

use super::super::{Calendar, DayKind, HotlineHours, YearData, builtin_years, parse_year};
use super::{CAL, date};

const Y2025: &str = include_str!("../../../calendar/ru/2025.toml");
const Y2026: &str = include_str!("../../../calendar/ru/2026.toml");

/// The error for the 2026 file with `from` replaced by `to` (which must occur).
fn err_2026(from: &str, to: &str) -> String {
    assert!(Y2026.contains(from), "{from}");
    parse_year("2026.toml", &Y2026.replacen(from, to, 1))
        .expect_err(to)
        .to_string()
}

fn assert_has(error: &str, parts: &[&str]) {
    for p in parts {
        assert!(error.contains(p), "{error:?} should contain {p:?}");
    }
}

#[test]
fn builtin_files_are_valid() {
    let years = builtin_years().expect("valid");
    assert_eq!(
        years.iter().map(|d| d.year).collect::<Vec<_>>(),
        [2024, 2025, 2026, 2027]
    );
}

#[test]
fn rule1_header() {
    assert_has(
        &err_2026("schema_version = 1", "schema_version = 2"),
        &["2026.toml: ", "schema_version = 2"],
    );
    assert_has(
        &err_2026("country = \"RU\"", "country = \"BY\""),
        &["2026.toml: ", "country = \"BY\""],
    );
    assert_has(
        &err_2026(
            "weekend = [\"sat\", \"sun\"]",
            "weekend = [\"fri\", \"sat\"]",
        ),
        &["weekend"],
    );
}

#[test]
fn rule1_dates_within_the_year() {
    let e = err_2026("\"2026-11-03\"]", "\"2025-11-03\"]");
    assert_has(&e, &["2026.toml: ", "2025-11-03", "outside year 2026"]);
    let e = err_2026("\"2026-04-30\",", "\"2027-04-30\",");
    assert_has(&e, &["short_days 2027-04-30 is outside year 2026"]);
}

#[test]
fn rule1_no_date_in_two_lists() {
    let e = err_2026("short_days = [", "short_days = [\"2026-01-09\", ");
    assert_has(
        &e,
        &[
            "2026.toml: ",
            "2026-01-09 is in both days_off and short_days",
        ],
    );
    let e = err_2026(
        "short_days = [\"2026-04-30\"",
        "short_days = [\"2026-04-30\", \"2026-04-30\"",
    );
    assert_has(&e, &["short_days lists 2026-04-30 twice"]);
}

#[test]
fn rule2_days_off_are_weekdays() {
    let e = err_2026(
        "{ date = \"2026-03-09\", from",
        "{ date = \"2026-03-08\", from",
    );
    assert_has(
        &e,
        &["2026.toml: days_off 2026-03-08 is a Sunday; days_off must be Monday–Friday"],
    );
}

#[test]
fn rule2_working_days_are_weekend_days_and_not_holidays() {
    let e = err_2026("working_days = []", "working_days = [\"2026-03-10\"]");
    assert_has(
        &e,
        &["working_days 2026-03-10 is a Tuesday; working_days must be Saturday or Sunday"],
    );
    let e = err_2026("working_days = []", "working_days = [\"2026-05-09\"]");
    assert_has(&e, &["working_days 2026-05-09 is a holiday"]);
}

#[test]
fn rule2_short_days_are_working_days() {
    let e = err_2026("short_days = [", "short_days = [\"2026-03-07\", ");
    assert_has(
        &e,
        &["short_days 2026-03-07 is a Saturday that is not in working_days"],
    );
    let e = err_2026("short_days = [", "short_days = [\"2026-11-04\", ");
    assert_has(&e, &["2026-11-04", "short days must be working days"]);
}

#[test]
fn rule3_holidays_are_the_st112_list() {
    let line = "  { date = \"2026-11-04\", name = \"День народного единства\" },  # Wed\n";
    let e = err_2026(line, "");
    assert_has(
        &e,
        &[
            "2026.toml: ",
            "2026-11-04 (День народного единства) is missing",
            "holidays_override",
        ],
    );
    let extra = "  { date = \"2026-09-01\", name = \"День знаний\" },\n";
    let e = err_2026(line, &format!("{line}{extra}"));
    assert_has(&e, &["holidays 2026-09-01 is not a ст. 112 holiday"]);
    let e = err_2026("name = \"День России\"", "name = \" \"");
    assert_has(&e, &["holidays 2026-06-12 has an empty name"]);
    // With holidays_override the extra holiday (a Tuesday) is accepted and counted.
    let text = Y2026
        .replacen(line, &format!("{line}{extra}"), 1)
        .replacen("holidays = [", "holidays_override = true\nholidays = [", 1)
        .replacen(
            "working_days = 247, non_working_days = 118, hours_40h = 1972",
            "working_days = 246, non_working_days = 119, hours_40h = 1964",
            1,
        );
    let data = parse_year("2026.toml", &text).expect("override accepted");
    assert!(data.holidays_override);
    let cal = Calendar::from_data([(data, "test".to_string())], HotlineHours::default());
    assert_eq!(cal.day(date(2026, 9, 1)).kind, DayKind::Holiday);
}

#[test]
fn rule4_expected_totals() {
    let text = Y2025.replacen("{ working_days = 247,", "{ working_days = 248,", 1);
    let e = parse_year("2025.toml", &text)
        .expect_err("mismatch")
        .to_string();
    assert_eq!(
        e,
        "2025.toml: expected.working_days = 248 but the entries give 247"
    );
    // A forgotten transfer shows up in all three totals.
    let e = err_2026(
        "  { date = \"2026-01-09\", from = \"2026-01-03\", basis = \"decree\" },  # Fri <- Sat 01-03\n",
        "",
    );
    assert_has(
        &e,
        &[
            "expected.working_days = 247 but the entries give 248",
            "expected.hours_40h = 1972",
        ],
    );
}

#[test]
fn schema_is_strict() {
    let e = err_2026("status = \"official\"", "status = \"official\"\nfoo = 1");
    assert_has(&e, &["2026.toml: ", "unknown field `foo`"]);
    let e = err_2026("basis = \"tk112\"", "basis = \"auto\"");
    assert_has(&e, &["2026.toml: ", "auto"]);
    let e = err_2026("\"2026-04-30\"", "\"2026-02-30\"");
    assert_has(&e, &["2026.toml: line ", "2026-02-30", "not a date"]);
    let e = err_2026("status = \"official\"", "status = \"final\"");
    assert_has(&e, &["final"]);
    // A bare TOML date is read like a quoted one.
    let text = Y2026.replacen("\"2026-04-30\"", "2026-04-30", 1);
    assert_eq!(
        parse_year("2026.toml", &text).expect("bare date"),
        CAL.year_data(2026).expect("built in").clone()
    );
}

#[test]
fn toml_round_trips() {
    for data in builtin_years().expect("valid") {
        assert_eq!(
            parse_year("x.toml", &data.to_toml()).expect("round trip"),
            data
        );
    }
    for year in 2020..=2040 {
        let data = YearData::predicted(year);
        assert_eq!(
            parse_year("x.toml", &data.to_toml()).expect("predicted years pass the rules"),
            data
        );
    }
}
