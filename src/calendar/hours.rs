//! The hotline's opening hours and Moscow local time.
//!
//! [`DayHours`] is one day's `open–close` in Moscow local time; [`HotlineHours`] is the
//! weekly schedule plus the hours for weekend days that the production calendar makes
//! working and the pre-holiday shortening. [`HotlineHours::apply`] turns a date's legal
//! kind into the hotline's kind and hours. [`moscow_to_utc`] places a Moscow wall-clock
//! time on the time line through the IANA zone (chrono-tz), with a fixed policy for the
//! historical ambiguous and nonexistent local times.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveTime, TimeDelta, TimeZone, Timelike, Utc,
    Weekday,
};
use serde::{Deserialize, Serialize};

use super::{DayKind, MOSCOW};

/// Opening hours on one day, Moscow local time: open at `open`, closed from `close` on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DayHours {
    /// Opening time.
    pub open: NaiveTime,
    /// Closing time; later than `open` on the same local day.
    pub close: NaiveTime,
}

impl DayHours {
    /// Parses `"09:00-18:00"` (also `9:00 - 18:00`, an en dash, or seconds `09:00:30`).
    /// The error says what is wrong.
    pub fn parse(s: &str) -> Result<DayHours, String> {
        let (a, b) = s
            .split_once('-')
            .or_else(|| s.split_once('–'))
            .ok_or_else(|| format!("hours {s:?}: expected HH:MM-HH:MM, e.g. 09:00-18:00"))?;
        let time = |part: &str, what: &str| {
            let part = part.trim();
            if part == "24:00" {
                return Err(format!(
                    "hours {s:?}: {what} time 24:00 is not supported; hours must end within the day (e.g. 23:59)"
                ));
            }
            NaiveTime::parse_from_str(part, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(part, "%H:%M:%S"))
                .map_err(|_| {
                    format!("hours {s:?}: {what} time {part:?} is not a time of day HH:MM")
                })
        };
        let open = time(a, "opening")?;
        let close = time(b, "closing")?;
        if open >= close {
            return Err(format!(
                "hours {s:?}: opening time {} is not before closing time {}",
                open.format("%H:%M"),
                close.format("%H:%M")
            ));
        }
        Ok(DayHours { open, close })
    }

    /// The same hours closing `by` earlier; `None` if nothing would be left. A zero or
    /// negative `by` keeps the full hours.
    pub fn shortened(self, by: TimeDelta) -> Option<DayHours> {
        if by <= TimeDelta::zero() {
            return Some(self);
        }
        let (close, wrapped) = self.close.overflowing_sub_signed(by);
        (wrapped == 0 && close > self.open).then_some(DayHours {
            open: self.open,
            close,
        })
    }
}

impl FromStr for DayHours {
    type Err = String;
    fn from_str(s: &str) -> Result<DayHours, String> {
        DayHours::parse(s)
    }
}

impl TryFrom<String> for DayHours {
    type Error = String;
    fn try_from(s: String) -> Result<DayHours, String> {
        DayHours::parse(&s)
    }
}

impl From<DayHours> for String {
    fn from(h: DayHours) -> String {
        h.to_string()
    }
}

impl fmt::Display for DayHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fmt_t = |t: NaiveTime| {
            if t.second() == 0 && t.nanosecond() == 0 {
                t.format("%H:%M").to_string()
            } else {
                t.format("%H:%M:%S").to_string()
            }
        };
        write!(f, "{}-{}", fmt_t(self.open), fmt_t(self.close))
    }
}

/// The hotline's schedule on top of the production calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotlineHours {
    /// Hours per weekday, index = `Weekday::num_days_from_monday()`; `None` = closed.
    /// Used on the production calendar's working weekdays, and on ordinary (non-holiday)
    /// Saturdays/Sundays if the hotline opens on those.
    pub weekly: [Option<DayHours>; 7],
    /// Hours on a Saturday/Sunday that the production calendar makes working.
    pub transferred_workday: DayHours,
    /// Close this much earlier on a pre-holiday shortened day; zero keeps full hours.
    pub shortened_by: TimeDelta,
}

impl Default for HotlineHours {
    /// Monday–Friday 09:00–18:00, transferred working days 09:00–18:00, one hour shorter
    /// before a holiday.
    fn default() -> HotlineHours {
        let nine_to_six = DayHours {
            open: hm(9, 0),
            close: hm(18, 0),
        };
        let mut weekly = [None; 7];
        for day in weekly.iter_mut().take(5) {
            *day = Some(nine_to_six);
        }
        HotlineHours {
            weekly,
            transferred_workday: nine_to_six,
            shortened_by: TimeDelta::minutes(60),
        }
    }
}

impl HotlineHours {
    /// The hotline's kind and hours on `date`, whose production-calendar kind is `legal`:
    /// holidays are closed; a working weekday uses `weekly` (closed → kind `Weekend`); a
    /// working Saturday/Sunday uses `transferred_workday`; an ordinary Saturday/Sunday
    /// uses `weekly` (usually closed); a shortened day closes `shortened_by` earlier.
    pub fn apply(&self, date: NaiveDate, legal: DayKind) -> (DayKind, Option<DayHours>) {
        let wd = date.weekday();
        let weekend = matches!(wd, Weekday::Sat | Weekday::Sun);
        let weekly = self.weekly[wd.num_days_from_monday() as usize];
        match legal {
            DayKind::Holiday => (DayKind::Holiday, None),
            DayKind::Weekend => (DayKind::Weekend, weekly),
            DayKind::Working | DayKind::Shortened => {
                let base = if weekend {
                    Some(self.transferred_workday)
                } else {
                    weekly
                };
                match base {
                    None => (DayKind::Weekend, None),
                    Some(h) if legal == DayKind::Shortened => {
                        (DayKind::Shortened, h.shortened(self.shortened_by))
                    }
                    Some(h) => (DayKind::Working, Some(h)),
                }
            }
        }
    }
}

/// A time of day from hours and minutes (both in range).
pub(super) fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("valid time of day")
}

/// The instant of a Moscow wall-clock time. An ambiguous local time (a clock set back,
/// last in 2014) takes the earlier instant; a nonexistent one (a clock set forward, last
/// in 2011) moves to the end of the gap, the first valid local time after it.
pub fn moscow_to_utc(date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(time);
    let resolved = match MOSCOW.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t),
        LocalResult::None => (1..=24 * 60).find_map(|m| {
            MOSCOW
                .from_local_datetime(&(local + TimeDelta::minutes(m)))
                .earliest()
        }),
    };
    resolved
        .expect("Moscow has no gap longer than a day")
        .with_timezone(&Utc)
}

/// The Moscow date of an instant ("today" is `moscow_date(now)`).
pub fn moscow_date(t: DateTime<Utc>) -> NaiveDate {
    t.with_timezone(&MOSCOW).date_naive()
}
