//! One year of the production calendar as data (CALENDAR.md §5): the ст. 112 holidays
//! (with names), weekdays made non-working (`days_off`, with the day they replace and
//! why), Saturdays/Sundays made working, and pre-holiday shortened days: only the
//! exceptions to the Monday–Friday week. [`YearData::kinds`] expands them into a kind per
//! date and [`YearData::totals`] recomputes the three official totals. Reading and
//! validating a file is in `validate`; writing one is [`YearData::to_toml`].

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use super::rules;
use super::{DayKind, YearStatus};

/// Why a weekday was made non-working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Moved by the annual government decree.
    Decree,
    /// The automatic ст. 112 ч. 2 shift of a holiday that falls on a weekend.
    Tk112,
}

impl Basis {
    /// `"decree"` or `"tk112"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Decree => "decree",
            Basis::Tk112 => "tk112",
        }
    }
}

/// A weekday made non-working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DayOff {
    /// The weekday that is off.
    pub date: NaiveDate,
    /// The weekend day or holiday it replaces, if any.
    pub from: Option<NaiveDate>,
    /// Decree or automatic shift.
    pub basis: Basis,
}

/// One validated year of the production calendar. Lists are sorted by date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearData {
    /// The calendar year.
    pub year: i32,
    /// Official, draft or predicted.
    pub status: YearStatus,
    /// The laws and decrees the year rests on.
    pub legal_basis: Vec<String>,
    /// Where the data was taken from.
    pub sources: Vec<String>,
    /// Whether `holidays` may differ from the ст. 112 list (a law change).
    pub holidays_override: bool,
    /// Public holidays with their names, including those on a weekend.
    pub holidays: Vec<(NaiveDate, String)>,
    /// Weekdays made non-working.
    pub days_off: Vec<DayOff>,
    /// Saturdays/Sundays made working.
    pub working_days: Vec<NaiveDate>,
    /// Shortened pre-holiday working days.
    pub short_days: Vec<NaiveDate>,
}

/// The three totals printed in every official production calendar (5-day, 40-hour week).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Totals {
    /// Working days, shortened ones included.
    pub working_days: u32,
    /// Days of the year that are not working days.
    pub non_working_days: u32,
    /// Working hours: 8 per working day, 7 per shortened day.
    pub hours_40h: u32,
}

impl YearData {
    /// The legal kind of every date of the year, indexed by `ordinal0`.
    pub fn kinds(&self) -> Vec<DayKind> {
        let mut kinds: Vec<DayKind> = rules::dates_of(self.year).map(rules::base_kind).collect();
        let mut set = |d: NaiveDate, k: DayKind| kinds[d.ordinal0() as usize] = k;
        self.working_days
            .iter()
            .for_each(|&d| set(d, DayKind::Working));
        self.short_days
            .iter()
            .for_each(|&d| set(d, DayKind::Shortened));
        self.days_off
            .iter()
            .for_each(|o| set(o.date, DayKind::Holiday));
        self.holidays
            .iter()
            .for_each(|(d, _)| set(*d, DayKind::Holiday));
        kinds
    }

    /// The legal kind of one date (of this year).
    pub fn kind(&self, date: NaiveDate) -> DayKind {
        self.kinds()[date.ordinal0() as usize]
    }

    /// The totals recomputed from the entries.
    pub fn totals(&self) -> Totals {
        let kinds = self.kinds();
        let working = kinds.iter().filter(|k| k.is_working()).count() as u32;
        let short = kinds.iter().filter(|&&k| k == DayKind::Shortened).count() as u32;
        Totals {
            working_days: working,
            non_working_days: kinds.len() as u32 - working,
            hours_40h: working * 8 - short,
        }
    }
}
