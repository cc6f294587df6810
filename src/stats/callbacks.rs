//! Callback figures for a range, from the counts the store makes in SQL
//! ([`crate::store::stats_callbacks::CallbackTallyStore`]) over the range's ISO weeks and working-day openings, which this module
//! works out on the Moscow calendar. Pure. Definitions, shown on the statistics page:
//! - *created*: requests made in the range; *done*: closed in the range with the caller reached
//!   (resolved, or rejected on a ground of the regulation after talking to them);
//! - *first-attempt success*: done requests that needed at most one call;
//! - *SLA met*: done requests closed no later than their deadline — the request's first due time
//!   plus `callbacks.sla_minutes` of working time on the hotline's calendar (a retry does not
//!   move it; a follow-up agreed with the caller moves it to the agreed time);
//! - *backlog*: requests not closed when each working day opened (its first window);
//! - by caller category and by topic, with the topic counts per ISO week (Monday's date).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::Serialize;

use crate::calendar::hours::moscow_to_utc;
use crate::calendar::{Calendar, moscow_date};
use crate::store::from_ms;
use crate::store::stats_callbacks::CallbackTally;

/// The callback figures of a range.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CallbackFigures {
    pub created: i64,
    pub done: i64,
    pub first_attempt: i64,
    pub sla_met: i64,
    pub first_attempt_rate: Option<f64>,
    pub sla_met_rate: Option<f64>,
    /// Per working day in the range: requests not closed at its opening.
    pub backlog: Vec<Backlog>,
    /// Created and done by caller category (`staff`, `parent`, `unknown`).
    pub by_category: BTreeMap<String, CreatedDone>,
    /// Done by topic (`none` without one).
    pub by_topic: BTreeMap<String, i64>,
    /// Done by ISO week (its Monday) and topic.
    pub by_topic_weekly: BTreeMap<NaiveDate, BTreeMap<String, i64>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Backlog {
    pub day: NaiveDate,
    pub opened_at: DateTime<Utc>,
    pub open_requests: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CreatedDone {
    pub created: i64,
    pub done: i64,
}

/// The first instant of each ISO week (Moscow Monday midnight) overlapping `[from, to)`, with
/// the first instant of the next, clipped to the range.
pub fn weeks(from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let first = moscow_date(from);
    let mut monday = first - TimeDelta::days(i64::from(first.weekday().num_days_from_monday()));
    loop {
        let start = moscow_to_utc(monday, NaiveTime::MIN).max(from);
        if start >= to {
            return out;
        }
        let next = monday + TimeDelta::days(7);
        let end = moscow_to_utc(next, NaiveTime::MIN).min(to);
        out.push((start.timestamp_millis(), end.timestamp_millis()));
        monday = next;
    }
}

/// The opening (first window's start) of each working day within `[from, to)`.
pub fn openings(cal: &Calendar, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let mut out: Vec<DateTime<Utc>> = Vec::new();
    for w in cal.windows(from, to) {
        let day = moscow_date(w.start);
        if w.start < from || out.last().is_some_and(|t| moscow_date(*t) == day) {
            continue;
        }
        out.push(w.start);
    }
    out
}

/// The figures from the counts of `CallbackTallyStore::callback_tally` over `weeks` and
/// `openings` (as given to it).
pub fn callback_figures(t: &CallbackTally) -> CallbackFigures {
    let mut f = CallbackFigures::default();
    for c in &t.by_category {
        f.created += c.created;
        f.done += c.done;
        f.first_attempt += c.first_attempt;
        f.sla_met += c.sla_met;
        f.by_category.insert(
            c.category.clone(),
            CreatedDone {
                created: c.created,
                done: c.done,
            },
        );
    }
    for (week, topic, n) in &t.by_topic_week {
        let monday = moscow_date(from_ms(*week));
        let monday = monday - TimeDelta::days(i64::from(monday.weekday().num_days_from_monday()));
        *f.by_topic.entry(topic.clone()).or_default() += n;
        *f.by_topic_weekly
            .entry(monday)
            .or_default()
            .entry(topic.clone())
            .or_default() += n;
    }
    f.first_attempt_rate = (f.done > 0).then(|| f.first_attempt as f64 / f.done as f64);
    f.sla_met_rate = (f.done > 0).then(|| f.sla_met as f64 / f.done as f64);
    f.backlog = t
        .backlog
        .iter()
        .map(|&(at, open_requests)| Backlog {
            day: moscow_date(from_ms(at)),
            opened_at: from_ms(at),
            open_requests,
        })
        .collect();
    f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{HotlineHours, MOSCOW};
    use chrono::TimeZone;

    fn msk(y: i32, m: u32, d: u32) -> DateTime<Utc> {
        MOSCOW
            .with_ymd_and_hms(y, m, d, 0, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn weeks_are_moscow_mondays_clipped_to_the_range() {
        // Thursday 26 November to Wednesday 9 December 2026 (end exclusive: the 10th).
        let w = weeks(msk(2026, 11, 26), msk(2026, 12, 10));
        let at = |t: DateTime<Utc>| t.timestamp_millis();
        assert_eq!(
            w,
            [
                (at(msk(2026, 11, 26)), at(msk(2026, 11, 30))),
                (at(msk(2026, 11, 30)), at(msk(2026, 12, 7))),
                (at(msk(2026, 12, 7)), at(msk(2026, 12, 10))),
            ]
        );
    }

    #[test]
    fn openings_skip_days_off() {
        let cal = Calendar::builtin(HotlineHours::default());
        // 30 Dec 2026 to 12 Jan 2027: 31 December is a day off in 2026 and the New Year
        // holidays and the weekend run to 10 January.
        let o = openings(&cal, msk(2026, 12, 30), msk(2027, 1, 13));
        let days: Vec<String> = o.iter().map(|t| moscow_date(*t).to_string()).collect();
        assert_eq!(days, ["2026-12-30", "2027-01-11", "2027-01-12"]);
        assert!(
            o.iter()
                .all(|t| t.with_timezone(&MOSCOW).format("%H:%M").to_string() == "09:00")
        );
    }
}
