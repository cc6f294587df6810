//! The clock, injected wherever "now" matters, so tests set the time instead of sleeping.
//!
//! Three clocks: [`SystemClock`] (real time, what a deployment uses), [`ManualClock`] (stands
//! still until moved: unit tests) and [`OffsetClock`] (real time shifted by a fixed offset: it
//! runs at real speed from a chosen instant). The last is what `perezvon serve --clock-start`
//! and the simulator's in-process instance use to put a whole running service at a chosen moment —
//! a Monday morning, a Sunday, the eve of a holiday — without touching the machine's clock.

use std::sync::Mutex;

use chrono::{DateTime, TimeDelta, Utc};

/// A source of the current instant.
pub trait Clock: Send + Sync {
    /// The current instant (UTC).
    fn now(&self) -> DateTime<Utc>;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told otherwise (tests, the simulator).
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    /// A clock showing `t`.
    pub fn new(t: DateTime<Utc>) -> ManualClock {
        ManualClock(Mutex::new(t))
    }

    /// Moves the clock to `t`.
    pub fn set(&self, t: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = t;
    }

    /// Moves the clock forward by `d`.
    pub fn advance(&self, d: TimeDelta) {
        let mut g = self.0.lock().unwrap_or_else(|p| p.into_inner());
        *g += d;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Real time shifted by a fixed offset: it runs at real speed, `offset` ahead of (or behind) the
/// machine's clock.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    pub offset: TimeDelta,
}

impl OffsetClock {
    /// A clock showing `start` now and running on from there at real speed.
    pub fn starting_at(start: DateTime<Utc>) -> OffsetClock {
        OffsetClock::starting_at_given(start, Utc::now())
    }

    /// A clock showing `start` at the real instant `real_now` (the offset is `start - real_now`).
    pub fn starting_at_given(start: DateTime<Utc>, real_now: DateTime<Utc>) -> OffsetClock {
        OffsetClock {
            offset: start - real_now,
        }
    }
}

impl Clock for OffsetClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + self.offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn monday_ten_moscow() -> DateTime<Utc> {
        chrono_tz::Europe::Moscow
            .with_ymd_and_hms(2026, 12, 7, 10, 0, 0)
            .unwrap()
            .to_utc()
    }

    #[test]
    fn the_offset_is_start_minus_real_now() {
        let real = Utc.with_ymd_and_hms(2025, 3, 1, 0, 0, 0).unwrap();
        let c = OffsetClock::starting_at_given(monday_ten_moscow(), real);
        assert_eq!(c.offset, monday_ten_moscow() - real);
        // A start in the past gives a negative offset.
        let back = OffsetClock::starting_at_given(real, monday_ten_moscow());
        assert_eq!(back.offset, -c.offset);
    }

    #[test]
    fn it_shows_the_start_and_runs_at_real_speed() {
        let start = monday_ten_moscow();
        let before = Utc::now();
        let c = OffsetClock::starting_at(start);
        let first = c.now();
        // Constructed between `before` and the first reading: at most that long has passed.
        let slack = Utc::now() - before;
        assert!(
            first >= start && first - start <= slack,
            "{first} vs {start}"
        );
        std::thread::sleep(std::time::Duration::from_millis(30));
        let real_elapsed_min = TimeDelta::milliseconds(30);
        let second = c.now();
        assert!(second - first >= real_elapsed_min, "{first} → {second}");
        assert!(second - first < TimeDelta::seconds(5), "{first} → {second}");
        // Always exactly the offset from real time.
        let (r, shown) = (Utc::now(), c.now());
        assert!((shown - r - c.offset).abs() <= TimeDelta::milliseconds(50));
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(monday_ten_moscow());
        assert_eq!(c.now(), monday_ten_moscow());
        c.advance(TimeDelta::minutes(5));
        assert_eq!(c.now(), monday_ten_moscow() + TimeDelta::minutes(5));
        c.set(monday_ten_moscow());
        assert_eq!(c.now(), monday_ten_moscow());
    }
}
