//! Working-time arithmetic on the precomputed year tables.
//!
//! All of it works on UTC milliseconds: an instant is taken at its whole millisecond
//! (sub-millisecond parts are dropped), and a duration at its whole milliseconds. The hot
//! paths ([`Calendar::is_open`], [`Calendar::window_at_or_after`],
//! [`Calendar::add_working`] within a year) are two binary searches over one year's
//! windows and allocate nothing. Crossing into a fallback year builds its table once.

use chrono::{DateTime, TimeDelta, Utc};

use super::table::{FIRST_YEAR, LAST_YEAR, TableRef};
use super::{Calendar, Window};

/// How far [`Calendar::window_at_or_after`] looks ahead.
const HORIZON_MS: i64 = 400 * 86_400_000;

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).expect("a table instant is in chrono's range")
}

fn window((start, end): (i64, i64)) -> Window {
    Window {
        start: instant(start),
        end: instant(end),
    }
}

impl Calendar {
    /// Whether the hotline is open at `t`.
    pub fn is_open(&self, t: DateTime<Utc>) -> bool {
        let tables = &self.inner.tables;
        let Some(tab) = tables.get(tables.year_of(t)) else {
            return false;
        };
        let ms = t.timestamp_millis();
        tab.windows
            .get(tab.first_ending_after(ms))
            .is_some_and(|w| w.0 <= ms)
    }

    /// The open window containing `t`, or else the next one; `None` only if nothing
    /// opens within about 400 days (an all-closed schedule).
    pub fn window_at_or_after(&self, t: DateTime<Utc>) -> Option<Window> {
        let tables = &self.inner.tables;
        let ms = t.timestamp_millis();
        let horizon = ms.saturating_add(HORIZON_MS);
        let mut year = tables.year_of(t).max(FIRST_YEAR);
        while let Some(tab) = tables.get(year) {
            if tab.start > horizon {
                break;
            }
            if let Some(&w) = tab.windows.get(tab.first_ending_after(ms)) {
                return (w.0 <= horizon).then(|| window(w));
            }
            year += 1;
        }
        None
    }

    /// The earliest instant at or after `t` when the hotline is open (`t` itself if open).
    pub fn next_open(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.window_at_or_after(t).map(|w| w.start.max(t))
    }

    /// The open windows overlapping `[from, to)`, in order and not clipped to the range.
    pub fn windows(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Iterator<Item = Window> + '_ {
        let tables = &self.inner.tables;
        let (from_ms, to_ms) = (from.timestamp_millis(), to.timestamp_millis());
        let mut year = tables.year_of(from).max(FIRST_YEAR);
        let mut current: Option<TableRef<'_>> = None;
        let mut next = 0usize;
        let mut done = to_ms <= from_ms;
        std::iter::from_fn(move || {
            if done {
                return None;
            }
            loop {
                if current.is_none() {
                    match tables.get(year) {
                        Some(tab) if tab.start < to_ms => {
                            next = tab.first_ending_after(from_ms);
                            current = Some(tab);
                        }
                        _ => break,
                    }
                }
                let Some(tab) = &current else { break };
                if let Some(&w) = tab.windows.get(next) {
                    if w.0 >= to_ms {
                        break;
                    }
                    next += 1;
                    return Some(window(w));
                }
                current = None;
                year += 1;
            }
            done = true;
            None
        })
    }

    /// Working time in `[a, b)`; zero if `b <= a`. Millisecond precision.
    pub fn working_between(&self, a: DateTime<Utc>, b: DateTime<Utc>) -> TimeDelta {
        if b <= a {
            return TimeDelta::zero();
        }
        let tables = &self.inner.tables;
        let (a_ms, b_ms) = (a.timestamp_millis(), b.timestamp_millis());
        let (ya, yb) = (tables.year_of(a), tables.year_of(b));
        let mut total = 0i64;
        for year in ya.max(FIRST_YEAR)..=yb.min(LAST_YEAR) {
            let Some(tab) = tables.get(year) else {
                continue;
            };
            let hi = if year == yb {
                tab.cum_at(b_ms)
            } else {
                tab.total()
            };
            let lo = if year == ya { tab.cum_at(a_ms) } else { 0 };
            total += hi - lo;
        }
        TimeDelta::milliseconds(total)
    }

    /// The earliest instant by which `d` of working time has passed since `t` (so adding
    /// exactly the rest of a window gives its closing instant). `d == 0` (or negative, or
    /// under a millisecond) returns `t`. With a schedule that never opens, or past year
    /// 9999, the result saturates at `DateTime::<Utc>::MAX_UTC`.
    pub fn add_working(&self, t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
        let need = d.num_milliseconds();
        if need <= 0 {
            return t;
        }
        let tables = &self.inner.tables;
        let mut year = tables.year_of(t);
        let mut target = need;
        if year < FIRST_YEAR {
            year = FIRST_YEAR;
        } else if let Some(tab) = tables.get(year) {
            target = tab.cum_at(t.timestamp_millis()).saturating_add(need);
        }
        let mut idle_years = 0;
        while let Some(tab) = tables.get(year) {
            let total = tab.total();
            if target <= total {
                let j = tab.cum[1..].partition_point(|&c| c < target);
                return instant(tab.windows[j].0 + (target - tab.cum[j]));
            }
            target -= total;
            idle_years = if total == 0 { idle_years + 1 } else { 0 };
            if idle_years >= 2 {
                break;
            }
            year += 1;
        }
        DateTime::<Utc>::MAX_UTC
    }
}
