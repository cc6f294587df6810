//! Supervisors' statistics: the figures of a range of Moscow dates (summary, by hour, by day, by
//! operator), the abandoned callers, the callback figures and occupancy. [`Stats`] reads the
//! stored facts (`call_facts`, kept by every call step) through [`StatsStore`] and works the
//! figures out with the pure functions of [`figures`] and [`callbacks`]; the HTTP API and the
//! pages show what it returns.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::calendar::hours::moscow_to_utc;
use crate::store::stats::GroupBy;
use crate::store::{Store, StoreError};

pub mod callbacks;
pub mod charts;
pub mod figures;
pub mod live;
pub mod report;

pub use crate::domain::forecast::Forecast;
pub use figures::{Figures, figures};

/// Statistics settings (`[stats]` in the configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct StatsSettings {
    /// The service level's threshold T (`stats.sl_threshold_secs`, default 20).
    pub sl_threshold: TimeDelta,
    /// A caller who hangs up sooner is a short abandon (`stats.short_abandon_secs`, default 5).
    pub short_abandon: TimeDelta,
    /// The forecast's target share answered within T (`stats.forecast_target_percent`, 80).
    pub forecast_target: f64,
    /// Weeks of history the forecast averages (`stats.forecast_weeks`, 4–8, default 8).
    pub forecast_weeks: u32,
    /// The highest occupancy the forecast plans for (`stats.max_occupancy_percent`; none).
    pub max_occupancy: Option<f64>,
}

impl Default for StatsSettings {
    fn default() -> Self {
        StatsSettings {
            sl_threshold: TimeDelta::seconds(20),
            short_abandon: TimeDelta::seconds(5),
            forecast_target: 0.8,
            forecast_weeks: 8,
            max_occupancy: None,
        }
    }
}

/// The longest range a report covers.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A range of Moscow dates, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    /// Checks the order and the length; the message names the parameter.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Range, String> {
        if to < from {
            return Err(format!("`to` ({to}) is before `from` ({from})"));
        }
        if (to - from).num_days() >= MAX_RANGE_DAYS {
            return Err(format!("the range is longer than {MAX_RANGE_DAYS} days"));
        }
        Ok(Range { from, to })
    }

    /// The first instant of the range (Moscow midnight of `from`).
    pub fn start(&self) -> DateTime<Utc> {
        moscow_to_utc(self.from, NaiveTime::MIN)
    }

    /// The first instant after the range (Moscow midnight after `to`).
    pub fn end(&self) -> DateTime<Utc> {
        moscow_to_utc(self.to + TimeDelta::days(1), NaiveTime::MIN)
    }

    fn days(&self) -> (String, String) {
        (self.from.to_string(), self.to.to_string())
    }
}

/// Reads and works out the statistics.
#[derive(Clone)]
pub struct Stats {
    store: Arc<dyn Store>,
    calendar: Arc<Calendar>,
    settings: StatsSettings,
}

impl Stats {
    pub fn new(store: Arc<dyn Store>, calendar: Arc<Calendar>, settings: StatsSettings) -> Stats {
        Stats {
            store,
            calendar,
            settings,
        }
    }

    pub fn settings(&self) -> &StatsSettings {
        &self.settings
    }

    /// The figures of the range's calls, grouped.
    pub async fn table(&self, range: &Range, by: GroupBy) -> Result<Vec<Figures>, StoreError> {
        let (from, to) = range.days();
        let tallies = self
            .store
            .tally(
                &from,
                &to,
                by,
                self.settings.sl_threshold.num_milliseconds(),
                self.settings.short_abandon.num_milliseconds(),
            )
            .await?;
        let mut rows: Vec<Figures> = tallies.iter().map(figures).collect();
        if by == GroupBy::Operator {
            let staffed = self.staffed(range).await?;
            for f in &mut rows {
                let handled = ((f.talk_secs + f.wrap_up_secs) * 1000.0) as i64;
                let id: i64 = f.key.parse().unwrap_or(0);
                f.occupancy = figures::occupancy(handled, staffed.get(&id).copied().unwrap_or(0));
            }
        }
        Ok(rows)
    }

    /// Each operator's time on the line (available, on a call or wrapping up) within the range,
    /// from their logged presence changes (milliseconds by operator).
    pub async fn staffed(&self, range: &Range) -> Result<BTreeMap<i64, i64>, StoreError> {
        let (lo, hi) = (
            range.start().timestamp_millis(),
            range.end().timestamp_millis(),
        );
        let changes = self.store.presence_changes(lo, hi).await?;
        Ok(staffed_ms(&changes, lo, hi))
    }

    /// The summary of the range: call figures, occupancy and callback figures.
    pub async fn summary(&self, range: &Range) -> Result<report::Summary, StoreError> {
        let calls = self
            .table(range, GroupBy::Nothing)
            .await?
            .pop()
            .unwrap_or_default();
        let staffed: i64 = self.staffed(range).await?.values().sum();
        let (lo, hi) = (range.start(), range.end());
        let openings: Vec<i64> = callbacks::openings(&self.calendar, lo, hi)
            .iter()
            .map(|t| t.timestamp_millis())
            .collect();
        let tally = self
            .store
            .callback_tally(
                lo.timestamp_millis(),
                hi.timestamp_millis(),
                &callbacks::weeks(lo, hi),
                &openings,
            )
            .await?;
        let cb = callbacks::callback_figures(&tally);
        let oldest = self.store.oldest_open_request().await?;
        Ok(report::Summary::new(
            *range,
            &self.settings,
            calls,
            staffed,
            cb,
            oldest.map(crate::store::from_ms),
        ))
    }

    /// The staffing forecast for the next working week: arrivals from the same hours of the last
    /// `stats.forecast_weeks` weeks, operators needed by Erlang C with the handle time measured
    /// over those weeks, beside the operators planned (`planned` per working hour; 0: none).
    pub async fn forecast(
        &self,
        today: NaiveDate,
        planned: u32,
        default_handle: TimeDelta,
    ) -> Result<Forecast, StoreError> {
        use crate::domain::forecast::{self as fc, ForecastSettings, HourCount, PlannedHour};
        let weeks = self.settings.forecast_weeks;
        let history = Range {
            from: today - TimeDelta::weeks(i64::from(weeks)),
            to: today - TimeDelta::days(1),
        };
        let (from, to) = history.days();
        let arrivals: Vec<HourCount> = self
            .store
            .arrivals(&from, &to)
            .await?
            .into_iter()
            .filter_map(|(day, hour, calls)| {
                Some(HourCount {
                    date: day.parse().ok()?,
                    hour: u32::try_from(hour).ok()?,
                    arrivals: u32::try_from(calls).ok()?,
                })
            })
            .collect();
        let measured = self
            .table(&history, GroupBy::Nothing)
            .await?
            .pop()
            .and_then(|f| f.aht_secs);
        let settings = ForecastSettings {
            weeks,
            default_aht_secs: default_handle.num_seconds() as f64,
            target_sl: self.settings.forecast_target,
            threshold_secs: self.settings.sl_threshold.num_seconds() as f64,
            max_occupancy: self.settings.max_occupancy,
        };
        let monday = fc::next_monday(today);
        let plan: Vec<PlannedHour> = if planned == 0 {
            Vec::new()
        } else {
            (0..7)
                .flat_map(|d| {
                    (0..24).map(move |hour| PlannedHour {
                        date: monday + TimeDelta::days(d),
                        hour,
                        operators: planned,
                    })
                })
                .collect()
        };
        Ok(fc::forecast(
            &self.calendar,
            today,
            &arrivals,
            measured,
            &plan,
            &settings,
        ))
    }

    /// The callers who hung up waiting in the range, and what became of them.
    pub async fn abandoned(
        &self,
        range: &Range,
    ) -> Result<Vec<report::AbandonedCaller>, StoreError> {
        let (from, to) = range.days();
        let rows = self.store.abandoned(&from, &to, 10_000).await?;
        Ok(rows
            .into_iter()
            .map(report::AbandonedCaller::from)
            .collect())
    }
}

/// Time on the line per operator within `[lo, hi)`, from presence changes ordered by operator and
/// time (each operator's first one may be before `lo`: the state the range opens in).
pub fn staffed_ms(changes: &[(i64, String, i64)], lo: i64, hi: i64) -> BTreeMap<i64, i64> {
    let mut out = BTreeMap::new();
    for op in changes.chunk_by(|a, b| a.0 == b.0) {
        let mut total = 0;
        for (i, (_, presence, at)) in op.iter().enumerate() {
            let start = (*at).max(lo);
            let end = op.get(i + 1).map_or(hi, |n| n.2).min(hi);
            let on_line = matches!(presence.as_str(), "available" | "on_call" | "wrap_up");
            if on_line && end > start {
                total += end - start;
            }
        }
        out.insert(op[0].0, total);
    }
    out
}
