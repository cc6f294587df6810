//! Tests of the calendar module: day kinds for every exception of 2024–2027 (table
//! tests), edge instants and arithmetic examples, every loader rule, properties of the
//! arithmetic (proptest, 2023-06..2028-06 including fallback years) and the cross-check
//! of the built-in data against the real xmlcalendar files.

mod arithmetic;
mod days;
mod dir;
mod hours;
mod loader;
mod props;
mod xml;

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, TimeZone, Utc};

use super::{Calendar, DayHours, HotlineHours, MOSCOW};

/// The built-in calendar with the default hours.
pub(super) static CAL: LazyLock<Calendar> =
    LazyLock::new(|| Calendar::builtin(HotlineHours::default()));

/// A date.
pub(super) fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
}

/// A Moscow wall-clock time as an instant.
pub(super) fn msk(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .expect("unambiguous")
        .with_timezone(&Utc)
}

/// A UTC instant.
pub(super) fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .expect("valid")
}

/// Hours from a string.
pub(super) fn hrs(s: &str) -> DayHours {
    DayHours::parse(s).expect("valid hours")
}

#[test]
fn calendar_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone + 'static>() {}
    assert_send_sync::<Calendar>();
}
