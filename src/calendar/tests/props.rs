//! Properties of the arithmetic over 2023-06..2028-06 (fallback years 2023 and 2028
//! included), on the default schedule and on an irregular one (a closed Wednesday, open
//! Saturdays, a 90-minute shortening).

use std::sync::LazyLock;

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use proptest::prelude::*;

use super::super::{Calendar, HotlineHours, moscow_date};
use super::{CAL, hrs, utc};

static ODD: LazyLock<Calendar> = LazyLock::new(|| {
    let mut h = HotlineHours::default();
    h.weekly[0] = Some(hrs("08:00-20:00"));
    h.weekly[2] = None;
    h.weekly[4] = Some(hrs("09:00-16:45"));
    h.weekly[5] = Some(hrs("10:00-14:00"));
    h.transferred_workday = hrs("10:00-15:00");
    h.shortened_by = TimeDelta::minutes(90);
    Calendar::builtin(h)
});

fn cal(odd: bool) -> &'static Calendar {
    if odd { &ODD } else { &CAL }
}

fn lo() -> i64 {
    utc(2023, 6, 1, 0, 0).timestamp_millis()
}

fn hi() -> i64 {
    utc(2028, 6, 1, 0, 0).timestamp_millis()
}

/// Instants: any millisecond, or a whole quarter-hour (to hit opening and closing times).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    let quarter = 15 * 60_000;
    prop_oneof![
        (lo()..hi()).prop_map(|ms| ms),
        (lo() / quarter..hi() / quarter).prop_map(move |q| q * quarter),
    ]
    .prop_map(|ms| DateTime::from_timestamp_millis(ms).expect("in range"))
}

/// Working durations up to 300 hours, any millisecond or whole quarter-hours.
fn duration() -> impl Strategy<Value = TimeDelta> {
    prop_oneof![
        (0i64..300 * 3_600_000).prop_map(TimeDelta::milliseconds),
        (0i64..1200).prop_map(|q| TimeDelta::minutes(15 * q)),
    ]
}

proptest! {
    #[test]
    fn add_then_measure_round_trips(odd: bool, t in instant(), n in duration()) {
        let c = cal(odd);
        let r = c.add_working(t, n);
        prop_assert!(r >= t);
        prop_assert_eq!(c.working_between(t, r), n);
        if n > TimeDelta::zero() {
            // The last millisecond counted is open time.
            prop_assert!(c.is_open(r - TimeDelta::milliseconds(1)));
        }
    }

    #[test]
    fn add_working_is_monotonic(odd: bool, t1 in instant(), t2 in instant(), n1 in duration(), n2 in duration()) {
        let c = cal(odd);
        let (t1, t2) = (t1.min(t2), t1.max(t2));
        let (n1, n2) = (n1.min(n2), n1.max(n2));
        prop_assert!(c.add_working(t1, n1) <= c.add_working(t2, n1));
        prop_assert!(c.add_working(t1, n1) <= c.add_working(t1, n2));
    }

    #[test]
    fn windows_are_ordered_disjoint_and_cover_working_time(odd: bool, from in instant(), days in 0i64..60) {
        let c = cal(odd);
        let to = from + TimeDelta::days(days) + TimeDelta::minutes(days * 37);
        let ws: Vec<_> = c.windows(from, to).collect();
        let mut covered = TimeDelta::zero();
        for (i, w) in ws.iter().enumerate() {
            prop_assert!(w.start < w.end);
            prop_assert!(w.end > from && w.start < to, "{:?} outside [{}, {})", w, from, to);
            if i > 0 {
                prop_assert!(ws[i - 1].end < w.start);
            }
            covered += w.end.min(to) - w.start.max(from);
        }
        prop_assert_eq!(covered, c.working_between(from, to));
    }

    #[test]
    fn window_at_or_after_is_the_next_open_time(odd: bool, t in instant()) {
        let c = cal(odd);
        let w = c.window_at_or_after(t).expect("something opens within 400 days");
        prop_assert!(w.contains(t) || w.start > t);
        prop_assert_eq!(c.working_between(t, w.start), TimeDelta::zero());
        prop_assert!(c.is_open(w.start) && c.is_open(w.end - TimeDelta::milliseconds(1)) && !c.is_open(w.end));
        prop_assert_eq!(c.is_open(t), w.start <= t);
        prop_assert_eq!(c.windows(t, t + TimeDelta::milliseconds(1)).next().is_some(), c.is_open(t));
    }

    #[test]
    fn is_open_agrees_with_the_day_table(odd: bool, t in instant()) {
        let c = cal(odd);
        let local = t.with_timezone(&super::super::MOSCOW).time();
        let day = c.day(moscow_date(t));
        let open = day.hours.is_some_and(|h| h.open <= local && local < h.close);
        prop_assert_eq!(c.is_open(t), open, "{:?} at {}", day, local.hour());
    }

    #[test]
    fn working_time_is_additive(odd: bool, a in instant(), m in instant(), b in instant()) {
        let c = cal(odd);
        let mut v = [a, m, b];
        v.sort();
        let [a, m, b] = v;
        prop_assert_eq!(c.working_between(a, b), c.working_between(a, m) + c.working_between(m, b));
        prop_assert_eq!(c.working_between(b, a), TimeDelta::zero());
    }
}
