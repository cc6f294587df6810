//! The per-year production calendar TOML (`calendar/ru/<year>.toml`, loaded by `calendar.dir`).
//! Properties: nothing panics; a year that loads renders (`YearData::to_toml`, what the importer
//! writes) to a file that loads back to the same year; a calendar built from it answers every
//! day of that year and finds the next open window.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perezvon::calendar::{Calendar, HotlineHours, parse_year};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(year) = parse_year("fuzz.toml", text) else {
        return;
    };
    let rendered = year.to_toml();
    let again = parse_year("rendered.toml", &rendered)
        .unwrap_or_else(|e| panic!("our own rendering does not load: {e}\n{rendered}"));
    assert_eq!(again, year, "{rendered}");
    let totals = year.totals();
    assert_eq!(
        totals.working_days + totals.non_working_days,
        year.kinds().len() as u32
    );
    let calendar = Calendar::from_data(
        [(year.clone(), "fuzz".to_string())],
        HotlineHours::default(),
    );
    let first = chrono::NaiveDate::from_yo_opt(year.year, 1).expect("a loaded year has dates");
    for d in first
        .iter_days()
        .take_while(|d| chrono::Datelike::year(d) == year.year)
    {
        let _ = calendar.day(d);
    }
    let start = perezvon::calendar::moscow_to_utc(first, chrono::NaiveTime::MIN);
    if let Some(open) = calendar.next_open(start) {
        assert!(open >= start);
        assert!(calendar.is_open(open));
    }
});
