//! The callback schedule: when each open request is likely to be called back, from the operators
//! on duty, the share of their time that goes to callbacks, and the average handle time. Requests
//! are taken in list order; the team works through them one slot after another, a slot every
//! `handle × 100 / (operators × share%)`, from now (or the next opening) to the end of each working
//! window, and what does not fit spills into the following windows. A request that is not due yet
//! is estimated at its slot or its due time, whichever is later. Past [`HORIZON_DAYS`] no
//! estimate is given.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::calendar::{Calendar, Window};

/// How far ahead estimates are made.
pub const HORIZON_DAYS: i64 = 120;

/// Who works the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staffing {
    /// Operators on duty (at least one is assumed).
    pub operators: u32,
    /// Average handle time of one callback.
    pub handle: TimeDelta,
    /// Percent of their time that goes to callbacks (1–100).
    pub share_percent: u32,
}

impl Staffing {
    /// The time between two consecutive callbacks of the whole team (at least 1 ms).
    pub fn interval(&self) -> TimeDelta {
        let per = i64::from(self.operators.max(1)) * i64::from(self.share_percent.clamp(1, 100));
        TimeDelta::milliseconds((self.handle.num_milliseconds() * 100 / per).max(1))
    }
}

/// An estimated callback time and the working window it falls in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Eta {
    pub at: DateTime<Utc>,
    pub window: Window,
}

/// Walks the slots in order.
struct Cursor<'a> {
    windows: Box<dyn Iterator<Item = Window> + 'a>,
    window: Window,
    at: DateTime<Utc>,
    step: TimeDelta,
}

/// Slots in `window` from `now` on: they start at `max(start, now) + k·step` while before its end.
fn slots_in(window: Window, now: DateTime<Utc>, step: TimeDelta) -> u64 {
    let len = (window.end - window.start.max(now)).num_milliseconds();
    let step_ms = step.num_milliseconds();
    u64::try_from((len + step_ms - 1) / step_ms).unwrap_or(0)
}

/// How many list positions get an estimate at all: the slots until the horizon. Items past this
/// position have none whatever their due time, so a full recompute reads only this many.
pub fn horizon_slots(cal: &Calendar, now: DateTime<Utc>, staffing: Staffing) -> u64 {
    let step = staffing.interval();
    cal.windows(now, now + TimeDelta::days(HORIZON_DAYS))
        .map(|w| slots_in(w, now, step))
        .sum()
}

impl<'a> Cursor<'a> {
    /// A cursor at slot number `skip` (0 = the first slot from `now`).
    fn new(cal: &'a Calendar, now: DateTime<Utc>, staffing: Staffing, skip: u64) -> Option<Self> {
        let step = staffing.interval();
        let mut windows = Box::new(cal.windows(now, now + TimeDelta::days(HORIZON_DAYS)));
        let mut left = skip;
        loop {
            let window = windows.next()?;
            let at = window.start.max(now);
            let step_ms = step.num_milliseconds();
            let slots = slots_in(window, now, step);
            if left < slots {
                let offset = i64::try_from(left).ok()?.checked_mul(step_ms)?;
                return Some(Cursor {
                    windows,
                    window,
                    at: at + TimeDelta::milliseconds(offset),
                    step,
                });
            }
            left -= slots;
        }
    }

    /// The current slot; then moves to the next one.
    fn take(&mut self) -> Option<Eta> {
        while self.at >= self.window.end {
            self.window = self.windows.next()?;
            self.at = self.window.start;
        }
        let eta = Eta {
            at: self.at,
            window: self.window,
        };
        self.at += self.step;
        Some(eta)
    }
}

/// Adjusts a slot for a request not due until `due`.
fn not_before(cal: &Calendar, slot: Eta, due: DateTime<Utc>) -> Option<Eta> {
    if due <= slot.at {
        return Some(slot);
    }
    let window = cal.window_at_or_after(due)?;
    Some(Eta {
        at: due.max(window.start),
        window,
    })
}

/// The estimate for the request at `position` (0-based) of the list, ignoring its due time.
pub fn eta_for_position(
    cal: &Calendar,
    now: DateTime<Utc>,
    staffing: Staffing,
    position: u64,
) -> Option<Eta> {
    Cursor::new(cal, now, staffing, position)?.take()
}

/// Estimates for consecutive list items starting at `first_position`, given their due times.
pub fn etas(
    cal: &Calendar,
    now: DateTime<Utc>,
    staffing: Staffing,
    first_position: u64,
    dues: impl IntoIterator<Item = DateTime<Utc>>,
) -> Vec<Option<Eta>> {
    let mut cursor = Cursor::new(cal, now, staffing, first_position);
    dues.into_iter()
        .map(|due| {
            let slot = cursor.as_mut()?.take();
            if slot.is_none() {
                cursor = None;
            }
            not_before(cal, slot?, due)
        })
        .collect()
}

/// The hour-wide range told to the caller: from the estimate's hour to the next, kept inside the
/// window ("примерно с 10:00 до 11:00").
pub fn eta_range(eta: &Eta) -> (DateTime<Utc>, DateTime<Utc>) {
    let hour = TimeDelta::hours(1);
    let from = eta
        .at
        .duration_trunc(hour)
        .unwrap_or(eta.at)
        .max(eta.window.start);
    let to = (from + hour).min(eta.window.end);
    (from, to)
}
