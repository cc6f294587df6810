//! Callback figures for a range, worked out from the requests that existed in it. Pure (the
//! calendar is data). Definitions, shown on the statistics page:
//! - *created*: requests made in the range; *done*: closed in the range with the caller reached
//!   (resolved, or rejected on a ground of the regulation after talking to them);
//! - *first-attempt success*: done requests that needed at most one call;
//! - *SLA met*: done requests closed no later than their deadline — the request's first due time
//!   plus `callbacks.sla_minutes` of working time on the hotline's calendar (a retry does not
//!   move it; a follow-up agreed with the caller moves it to the agreed time);
//! - *backlog*: requests not closed when each working day opened (its first window);
//! - by caller category and by topic, with the topic counts per ISO week (Monday's date).

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Utc};
use serde::Serialize;

use crate::calendar::Calendar;
use crate::domain::callback::Outcome;
use crate::store::stats::RequestRow;

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

/// Whether a stored outcome means the caller was reached.
fn reached(outcome: Option<&str>) -> bool {
    outcome
        .and_then(|o| o.parse::<Outcome>().ok())
        .is_some_and(|o| o.reached() && o != Outcome::FollowUp)
}

/// The figures of `requests` over `[from, to)`.
pub fn callback_figures(
    requests: &[RequestRow],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    cal: &Calendar,
) -> CallbackFigures {
    let (lo, hi) = (from.timestamp_millis(), to.timestamp_millis());
    let inside = |ms: i64| lo <= ms && ms < hi;
    let mut f = CallbackFigures::default();
    for r in requests {
        let category = r
            .caller_category
            .clone()
            .unwrap_or_else(|| "unknown".into());
        if inside(r.created_at_ms) {
            f.created += 1;
            f.by_category.entry(category.clone()).or_default().created += 1;
        }
        let Some(closed) = r.closed_at_ms.filter(|&c| inside(c)) else {
            continue;
        };
        if r.state != "closed" || !reached(r.outcome.as_deref()) {
            continue;
        }
        f.done += 1;
        f.by_category.entry(category).or_default().done += 1;
        if r.attempts <= 1 {
            f.first_attempt += 1;
        }
        if closed <= r.deadline_at_ms {
            f.sla_met += 1;
        }
        let topic = r.topic.clone().unwrap_or_else(|| "none".into());
        *f.by_topic.entry(topic.clone()).or_default() += 1;
        let day = crate::calendar::moscow_date(crate::store::from_ms(closed));
        let monday = day - TimeDelta::days(i64::from(day.weekday().num_days_from_monday()));
        *f.by_topic_weekly
            .entry(monday)
            .or_default()
            .entry(topic)
            .or_default() += 1;
    }
    f.first_attempt_rate = (f.done > 0).then(|| f.first_attempt as f64 / f.done as f64);
    f.sla_met_rate = (f.done > 0).then(|| f.sla_met as f64 / f.done as f64);
    let mut last_day = None;
    for w in cal.windows(from, to) {
        let day = crate::calendar::moscow_date(w.start);
        if w.start < from || last_day == Some(day) {
            continue;
        }
        last_day = Some(day);
        let at = w.start.timestamp_millis();
        let open_requests = requests
            .iter()
            .filter(|r| r.created_at_ms < at && r.closed_at_ms.is_none_or(|c| c > at))
            .count() as i64;
        f.backlog.push(Backlog {
            day,
            opened_at: w.start,
            open_requests,
        });
    }
    f
}
