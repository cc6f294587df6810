//! The staffing forecast for the next working week: how many calls to expect in each working
//! hour, and how many operators answer them to the target service level (Erlang C, see
//! [`erlang`]), beside the operators already planned and the service level those would give.
//! Pure: the history, the calendar, "today" and the plan are arguments; nothing reads a clock
//! or a database.
//!
//! The rules, precisely:
//! - **The week** is the 7 Moscow dates from the next Monday (the Monday after `today`; on a
//!   Monday, the one a week later). Each open window of the calendar on those dates is cut into
//!   Moscow-local clock hours; an hour the hotline is open only partly (a shortened day closing at
//!   17:30) gets a row with its open fraction.
//! - **The sample** is the `weeks` weeks before `today` (default 8, clamped to 4..=52; today
//!   itself is incomplete and left out), from the first date in the history on: before that the
//!   service was not in operation, so those days are not averaged in. A sample day that was open
//!   but has no rows for an hour counts as 0 arrivals. Days the hotline was closed (holidays,
//!   weekends, days off) are never in the sample.
//! - **Matching**: a target day is averaged over the sample days of its weekday. A Saturday or
//!   Sunday that the production calendar makes working (a transferred working day) has no
//!   history of its own and is averaged over all working Monday–Fridays; past transferred
//!   Saturdays are in no sample.
//! - **Arrivals**: per hour, the rate while open is `Σ arrivals / Σ open fraction` over the
//!   matching sample days (for whole hours, the plain mean), and a target hour expects that rate
//!   times its own open fraction. Sample days on which the hour was closed (the last hour of a
//!   shortened day) do not dilute the mean.
//! - **Staffing** is for the open part of the hour: the Erlang load is the rate while open times
//!   the handling time, so a half-open hour needs as many operators as a full one. The handling
//!   time is the measured one, or the configured default when nothing was measured.
//!
//! Layout: [`erlang`] (the queueing formulas), `sample` (which past days and hours are averaged),
//! this file (the inputs, the rows and [`forecast`]).

pub mod erlang;
#[cfg(test)]
mod erlang_tests;
mod sample;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::calendar::Calendar;
use sample::{Sample, profile, shift};

/// Weeks of history averaged by default.
pub const DEFAULT_WEEKS: u32 = 8;
/// The fewest weeks averaged (fewer would follow noise).
pub const MIN_WEEKS: u32 = 4;
/// The most weeks averaged (older history describes another season).
pub const MAX_WEEKS: u32 = 52;

/// Calls that arrived in one Moscow-local clock hour of a past day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HourCount {
    /// The Moscow date.
    pub date: NaiveDate,
    /// The hour, 0..=23 (others are ignored).
    pub hour: u32,
    /// Calls that arrived in that hour.
    pub arrivals: u32,
}

/// Operators planned for one Moscow-local clock hour; entries for the same hour add up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PlannedHour {
    /// The Moscow date.
    pub date: NaiveDate,
    /// The hour, 0..=23.
    pub hour: u32,
    /// Operators on duty.
    pub operators: u32,
}

/// How the forecast is made.
#[derive(Debug, Clone, PartialEq)]
pub struct ForecastSettings {
    /// Weeks of history to average; clamped to `MIN_WEEKS..=MAX_WEEKS`.
    pub weeks: u32,
    /// The handling time in seconds used when none was measured.
    pub default_aht_secs: f64,
    /// The share of calls to answer within `threshold_secs`.
    pub target_sl: f64,
    /// The service-level threshold in seconds.
    pub threshold_secs: f64,
    /// The highest acceptable operator occupancy (`A / N`), if any.
    pub max_occupancy: Option<f64>,
}

impl Default for ForecastSettings {
    /// 8 weeks, 5-minute calls, 80 % answered within 20 s, no occupancy cap.
    fn default() -> ForecastSettings {
        ForecastSettings {
            weeks: DEFAULT_WEEKS,
            default_aht_secs: 300.0,
            target_sl: 0.8,
            threshold_secs: 20.0,
            max_occupancy: None,
        }
    }
}

/// One working hour of the forecast week.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ForecastRow {
    /// The Moscow date.
    pub date: NaiveDate,
    /// The Moscow-local hour, 0..=23.
    pub hour: u32,
    /// The share of the hour the hotline is open, in `(0, 1]`.
    pub open_fraction: f64,
    /// Calls expected in the open part of the hour.
    pub expected_arrivals: f64,
    /// The offered load while open, in Erlangs.
    pub traffic_erlangs: f64,
    /// Operators needed while open to meet the target.
    pub agents_needed: u32,
    /// Operators planned, if a plan covers the hour.
    pub planned: Option<u32>,
    /// The service level the planned operators would give.
    pub expected_sl_with_planned: Option<f64>,
}

/// The forecast for one week, with what it was computed from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Forecast {
    /// The Monday the week starts on.
    pub week_start: NaiveDate,
    /// Weeks of history looked at (after clamping).
    pub weeks: u32,
    /// The first date averaged in; `None` without history.
    pub history_from: Option<NaiveDate>,
    /// The handling time used, in seconds.
    pub aht_secs: f64,
    /// Whether `aht_secs` was measured (otherwise it is the configured default).
    pub aht_measured: bool,
    /// The working hours of the week, by date and hour.
    pub rows: Vec<ForecastRow>,
}

/// The Monday after `today` (a week later if `today` is a Monday).
pub fn next_monday(today: NaiveDate) -> NaiveDate {
    let ahead = 7 - today.weekday().num_days_from_monday();
    shift(today, i64::from(ahead))
}

/// The forecast for the week after `today` (see the module header for the rules).
/// `measured_aht_secs` is the handling time measured over the history; `None` (or a value that
/// is not a positive number) uses `settings.default_aht_secs`.
pub fn forecast(
    calendar: &Calendar,
    today: NaiveDate,
    history: &[HourCount],
    measured_aht_secs: Option<f64>,
    planned: &[PlannedHour],
    settings: &ForecastSettings,
) -> Forecast {
    let weeks = settings.weeks.clamp(MIN_WEEKS, MAX_WEEKS);
    let week_start = next_monday(today);
    let measured = measured_aht_secs.filter(|s| s.is_finite() && *s > 0.0);
    let aht = measured.unwrap_or(settings.default_aht_secs);
    let (target_sl, threshold, cap) = (
        settings.target_sl,
        settings.threshold_secs,
        settings.max_occupancy,
    );

    let sample = Sample::new(calendar, history, today, weeks);

    let mut plan: HashMap<(NaiveDate, u32), u32> = HashMap::new();
    for p in planned {
        let slot = plan.entry((p.date, p.hour)).or_default();
        *slot = slot.saturating_add(p.operators);
    }

    let mut rows = Vec::new();
    for date in week_start.iter_days().take(7) {
        let target = profile(calendar, date);
        let shares = sample::hour_shares(calendar, date);
        for (hour, &share) in (0u32..).zip(shares.iter()) {
            if share <= 0.0 {
                continue;
            }
            let rate = sample.rate_while_open(target, hour);
            let traffic = erlang::traffic_erlangs(rate, aht);
            let planned = plan.get(&(date, hour)).copied();
            rows.push(ForecastRow {
                date,
                hour,
                open_fraction: share,
                expected_arrivals: rate * share,
                traffic_erlangs: traffic,
                agents_needed: erlang::agents_needed(rate, aht, target_sl, threshold, cap),
                planned,
                expected_sl_with_planned: planned
                    .map(|n| erlang::service_level(n, traffic, aht, threshold)),
            });
        }
    }
    Forecast {
        week_start,
        weeks,
        history_from: sample.from,
        aht_secs: aht,
        aht_measured: measured.is_some(),
        rows,
    }
}
