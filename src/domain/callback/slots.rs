//! The times an operator may agree a follow-up call for: every `step` of the Moscow clock inside
//! the hotline's working windows of the next few working days. The windows come from the
//! calendar, so a slot is always an instant [`Calendar::is_open`] accepts, and the outcome rule
//! ([`super::next_after`]) takes every slot offered.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

use crate::calendar::{Calendar, moscow_date};

/// The longest span of working days a follow-up picker offers.
pub const MAX_FOLLOW_UP_DAYS: u32 = 14;

/// The slots inside the working windows of the first `days` Moscow dates with working hours,
/// starting from `now`: each a multiple of `step` on the clock (`step` divides an hour, so
/// Moscow's whole-hour offset keeps them on the quarter or half hour), at least `step` after
/// `now`, and before its window closes. At most [`MAX_FOLLOW_UP_DAYS`] days.
pub fn follow_up_slots(
    cal: &Calendar,
    now: DateTime<Utc>,
    days: u32,
    step: TimeDelta,
) -> Vec<DateTime<Utc>> {
    let days = days.min(MAX_FOLLOW_UP_DAYS) as usize;
    let step_ms = step.num_milliseconds();
    if days == 0 || step_ms <= 0 {
        return Vec::new();
    }
    let earliest = now + step;
    // Long holidays (New Year) last under two weeks; two months always hold `days` working days.
    let horizon = now + TimeDelta::days(61 + 7 * days as i64);
    let mut dates: Vec<NaiveDate> = Vec::new();
    let mut out = Vec::new();
    for w in cal.windows(now, horizon) {
        let date = moscow_date(w.start);
        if !dates.contains(&date) {
            if dates.len() == days {
                break;
            }
            dates.push(date);
        }
        let from = w.start.max(earliest).timestamp_millis();
        let mut t = from.div_euclid(step_ms) * step_ms;
        if t < from {
            t += step_ms;
        }
        while t < w.end.timestamp_millis() {
            if let Some(at) = DateTime::from_timestamp_millis(t) {
                out.push(at);
            }
            t += step_ms;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{HotlineHours, MOSCOW};
    use chrono::{TimeZone, Timelike};

    fn msk(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        MOSCOW
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn slots_skip_the_weekend_and_stay_inside_hours() {
        let cal = Calendar::builtin(HotlineHours::default());
        // Friday 4 December 2026, 17:20: 17:45 is the last slot of the day, then Monday.
        let now = msk(2026, 12, 4, 17, 20);
        let slots = follow_up_slots(&cal, now, 2, TimeDelta::minutes(15));
        assert_eq!(slots[0], msk(2026, 12, 4, 17, 45));
        assert_eq!(slots[1], msk(2026, 12, 7, 9, 0));
        assert_eq!(*slots.last().unwrap(), msk(2026, 12, 7, 17, 45));
        assert_eq!(slots.len(), 1 + 36);
        for s in &slots {
            assert!(cal.is_open(*s), "{s}");
            assert_eq!(s.with_timezone(&MOSCOW).minute() % 15, 0);
        }
    }

    #[test]
    fn slots_skip_the_new_year_holidays() {
        let cal = Calendar::builtin(HotlineHours::default());
        let now = msk(2026, 12, 31, 19, 0);
        let slots = follow_up_slots(&cal, now, 1, TimeDelta::minutes(30));
        assert!(!slots.is_empty());
        let first = slots[0].with_timezone(&MOSCOW);
        assert!(
            first.date_naive() > NaiveDate::from_ymd_opt(2027, 1, 8).unwrap(),
            "{first}"
        );
        assert!(slots.iter().all(|s| cal.is_open(*s)));
        assert!(follow_up_slots(&cal, now, 0, TimeDelta::minutes(30)).is_empty());
    }
}
