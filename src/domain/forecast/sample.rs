//! The history side of the forecast: which past days are averaged for a forecast hour and how.
//! A [`Sample`] holds the open days of the look-back window (from the first history date on),
//! each with its averaging [`Profile`] and the open fraction of each of its clock hours, and the
//! arrivals per (date, hour). [`Sample::rate_while_open`] pools them into calls per open hour:
//! `Σ arrivals / Σ open fraction` over the days that inform the target day, so a shortened day's
//! closed hour does not dilute the mean and a half-open hour counts for half an hour.
//!
//! Hours are Moscow-local clock hours placed on the time line through the calendar's own
//! `moscow_to_utc`, and the open fraction of an hour is the calendar's working time inside it,
//! so whatever the calendar says about opening hours (shortened days, transferred working days,
//! the hotline's weekly schedule) is what the forecast sees.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate, NaiveTime, TimeDelta, Weekday};

use super::HourCount;
use crate::calendar::{Calendar, moscow_to_utc};

/// Which past days a day is averaged over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Profile {
    /// Days of this weekday (ordinary working days, or weekend days the hotline opens on).
    Weekday(Weekday),
    /// A Saturday or Sunday made working by the production calendar.
    Transferred,
}

/// The averaging profile of a day.
pub(super) fn profile(calendar: &Calendar, date: NaiveDate) -> Profile {
    let wd = date.weekday();
    if matches!(wd, Weekday::Sat | Weekday::Sun) && calendar.day(date).kind.is_working() {
        Profile::Transferred
    } else {
        Profile::Weekday(wd)
    }
}

/// Whether a past day of profile `sample` informs a target day of profile `target`: the same
/// weekday informs a weekday; every working Monday–Friday informs a transferred working day; a
/// past transferred working day informs nothing.
fn informs(target: Profile, sample: Profile) -> bool {
    match (target, sample) {
        (Profile::Weekday(t), Profile::Weekday(s)) => t == s,
        (Profile::Transferred, Profile::Weekday(s)) => !matches!(s, Weekday::Sat | Weekday::Sun),
        (_, Profile::Transferred) => false,
    }
}

/// `date` moved by `days`, saturating at chrono's range.
pub(super) fn shift(date: NaiveDate, days: i64) -> NaiveDate {
    let moved = date.checked_add_signed(TimeDelta::days(days));
    moved.unwrap_or(if days < 0 {
        NaiveDate::MIN
    } else {
        NaiveDate::MAX
    })
}

/// The open fraction of each Moscow-local clock hour of `date`; all zero when closed.
pub(super) fn hour_shares(calendar: &Calendar, date: NaiveDate) -> [f64; 24] {
    let mut shares = [0.0; 24];
    if calendar.day(date).hours.is_none() {
        return shares;
    }
    let at = |d: NaiveDate, h: u32| moscow_to_utc(d, NaiveTime::from_hms_opt(h, 0, 0).unwrap());
    let bounds: Vec<_> = (0..24)
        .map(|h| at(date, h))
        .chain([at(shift(date, 1), 0)])
        .collect();
    for (share, hour) in shares.iter_mut().zip(bounds.windows(2)) {
        let len = (hour[1] - hour[0]).num_milliseconds();
        if len > 0 {
            let open = calendar
                .working_between(hour[0], hour[1])
                .num_milliseconds();
            *share = open as f64 / len as f64;
        }
    }
    shares
}

/// An open past day in the sample.
struct SampleDay {
    date: NaiveDate,
    profile: Profile,
    shares: [f64; 24],
}

/// The past days averaged for a forecast, with their arrivals.
pub(super) struct Sample {
    /// The first date averaged in: the later of the window's start and the first history
    /// date; `None` without history before `today`.
    pub from: Option<NaiveDate>,
    days: Vec<SampleDay>,
    counts: HashMap<(NaiveDate, u32), u64>,
}

impl Sample {
    /// The open days in `[today − 7·weeks, today)` from the first history date on, and the
    /// history's arrivals summed per (date, hour); hours outside 0..=23 are ignored.
    pub fn new(calendar: &Calendar, history: &[HourCount], today: NaiveDate, weeks: u32) -> Sample {
        let mut counts: HashMap<(NaiveDate, u32), u64> = HashMap::new();
        for c in history.iter().filter(|c| c.hour < 24) {
            *counts.entry((c.date, c.hour)).or_default() += u64::from(c.arrivals);
        }
        let window_start = shift(today, -7 * i64::from(weeks));
        let from = history
            .iter()
            .map(|c| c.date)
            .min()
            .map(|first| first.max(window_start))
            .filter(|from| *from < today);
        let days = from
            .into_iter()
            .flat_map(|from| from.iter_days().take_while(|d| *d < today))
            .filter(|d| calendar.day(*d).hours.is_some())
            .map(|date| SampleDay {
                date,
                profile: profile(calendar, date),
                shares: hour_shares(calendar, date),
            })
            .collect();
        Sample { from, days, counts }
    }

    /// Calls per open hour at `hour` over the sample days that inform a day of profile
    /// `target`; 0 when none of them was open at that hour.
    pub fn rate_while_open(&self, target: Profile, hour: u32) -> f64 {
        let (mut arrivals, mut open) = (0u64, 0.0);
        for d in self.days.iter().filter(|d| informs(target, d.profile)) {
            let share = d.shares[hour as usize];
            if share > 0.0 {
                arrivals += self.counts.get(&(d.date, hour)).copied().unwrap_or(0);
                open += share;
            }
        }
        if open > 0.0 {
            arrivals as f64 / open
        } else {
            0.0
        }
    }
}
