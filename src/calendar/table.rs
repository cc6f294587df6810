//! Precomputed per-year tables: the fast path behind every calendar query.
//!
//! For each year, the hotline's kind and hours of every date and the open windows as
//! UTC milliseconds in time order, with prefix sums of their lengths, so that "working
//! time up to instant t" is one binary search. Years with data are built when the
//! calendar is built; fallback years (plain rules) are built on first use and cached for
//! 1900–2200, and built afresh outside that range (rare and slower, still correct).
//! Years outside 1–9999 have no table: the hotline counts as closed there.

use std::collections::BTreeMap;
use std::ops::Deref;
use std::sync::OnceLock;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};

use super::hours::moscow_to_utc;
use super::{DayHours, DayKind, HotlineHours, YearData, YearInfo, rules};

/// The first year with a table.
pub(super) const FIRST_YEAR: i32 = 1;
/// The last year with a table.
pub(super) const LAST_YEAR: i32 = 9999;
const CACHE_FIRST: i32 = rules::FIRST_DATA_YEAR;
const CACHE_LAST: i32 = rules::LAST_DATA_YEAR;

/// One date: the production calendar's kind and the hotline's kind and hours.
#[derive(Debug, Clone, Copy)]
pub(super) struct Cell {
    pub legal: DayKind,
    pub kind: DayKind,
    pub hours: Option<DayHours>,
}

/// One Moscow year, starting at `start` (UTC milliseconds of local midnight, 1 January).
#[derive(Debug)]
pub(super) struct YearTable {
    pub start: i64,
    /// By `ordinal0`.
    pub days: Box<[Cell]>,
    /// Open windows `(start, end)` in ms, ordered, disjoint, within the Moscow year.
    pub windows: Box<[(i64, i64)]>,
    /// `cum[i]` = total length of `windows[..i]`; one longer than `windows`.
    pub cum: Box<[i64]>,
}

fn midnight_ms(year: i32) -> i64 {
    let date = NaiveDate::from_ymd_opt(year, 1, 1).expect("year in chrono's range");
    moscow_to_utc(date, NaiveTime::MIN).timestamp_millis()
}

impl YearTable {
    fn build(year: i32, legal: &[DayKind], hours: &HotlineHours) -> YearTable {
        let (start, end) = (midnight_ms(year), midnight_ms(year + 1));
        let mut days = Vec::with_capacity(legal.len());
        let mut windows: Vec<(i64, i64)> = Vec::with_capacity(legal.len());
        let mut cum = Vec::with_capacity(legal.len() + 1);
        cum.push(0);
        for (date, &lk) in rules::dates_of(year).zip(legal) {
            let (kind, mut day_hours) = hours.apply(date, lk);
            if let Some(h) = day_hours {
                let s = moscow_to_utc(date, h.open).timestamp_millis();
                let e = moscow_to_utc(date, h.close).timestamp_millis();
                let floor = windows.last().map_or(start, |w| w.1);
                if s < e && s >= floor && e <= end {
                    windows.push((s, e));
                    cum.push(cum[cum.len() - 1] + (e - s));
                } else {
                    // Only possible around a historical clock change: treat as closed.
                    day_hours = None;
                }
            }
            days.push(Cell {
                legal: lk,
                kind,
                hours: day_hours,
            });
        }
        YearTable {
            start,
            days: days.into(),
            windows: windows.into(),
            cum: cum.into(),
        }
    }

    /// Total working time of the year, ms.
    pub fn total(&self) -> i64 {
        self.cum[self.cum.len() - 1]
    }

    /// Index of the first window that ends after `t` (`windows.len()` if none).
    pub fn first_ending_after(&self, t: i64) -> usize {
        self.windows.partition_point(|w| w.1 <= t)
    }

    /// Working time from the start of the year to `t` (`t` within the year or at its end).
    pub fn cum_at(&self, t: i64) -> i64 {
        let i = self.first_ending_after(t);
        match self.windows.get(i) {
            Some(&(s, _)) if s < t => self.cum[i] + (t - s),
            _ => self.cum[i],
        }
    }
}

/// A table borrowed from the cache or built for this call.
pub(super) enum TableRef<'a> {
    Cached(&'a YearTable),
    Owned(Box<YearTable>),
}

impl Deref for TableRef<'_> {
    type Target = YearTable;
    fn deref(&self) -> &YearTable {
        match self {
            TableRef::Cached(t) => t,
            TableRef::Owned(t) => t,
        }
    }
}

/// All the year tables of one calendar.
pub(super) struct Tables {
    hours: HotlineHours,
    cache: Box<[OnceLock<YearTable>]>,
}

impl Tables {
    /// Builds the tables of the years with data now; fallback years come on demand.
    pub fn new(data: &BTreeMap<i32, (YearData, YearInfo)>, hours: &HotlineHours) -> Tables {
        let cache: Box<[OnceLock<YearTable>]> = (CACHE_FIRST..=CACHE_LAST)
            .map(|_| OnceLock::new())
            .collect();
        for (&year, (d, _)) in data {
            if let Some(slot) = Self::slot(&cache, year) {
                let _ = slot.set(YearTable::build(year, &d.kinds(), hours));
            }
        }
        Tables {
            hours: hours.clone(),
            cache,
        }
    }

    fn slot(cache: &[OnceLock<YearTable>], year: i32) -> Option<&OnceLock<YearTable>> {
        if (CACHE_FIRST..=CACHE_LAST).contains(&year) {
            cache.get((year - CACHE_FIRST) as usize)
        } else {
            None
        }
    }

    fn fallback(&self, year: i32) -> YearTable {
        YearTable::build(year, &YearData::predicted(year).kinds(), &self.hours)
    }

    /// The table of a Moscow year; `None` outside 1–9999.
    pub fn get(&self, year: i32) -> Option<TableRef<'_>> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&year) {
            return None;
        }
        Some(match Self::slot(&self.cache, year) {
            Some(slot) => TableRef::Cached(slot.get_or_init(|| self.fallback(year))),
            None => TableRef::Owned(Box::new(self.fallback(year))),
        })
    }

    /// The Moscow year of an instant. Moscow is ahead of UTC, so only an instant on
    /// 31 December UTC can already be in the next Moscow year.
    pub fn year_of(&self, t: DateTime<Utc>) -> i32 {
        let y = t.year();
        if t.month() == 12
            && t.day() == 31
            && let Some(next) = self.get(y + 1)
            && t.timestamp_millis() >= next.start
        {
            return y + 1;
        }
        y
    }
}
