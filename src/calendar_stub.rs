//! TEMPORARY compile stub; replaced by src/calendar/.
#![allow(unused, clippy::all)]
use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use std::path::Path;
pub use chrono_tz::Europe::Moscow as MOSCOW;
#[derive(Debug, Clone)] pub struct DayHours { pub open: NaiveTime, pub close: NaiveTime }
impl DayHours { pub fn parse(s: &str) -> Result<DayHours, String> { todo!() } }
#[derive(Debug, Clone)] pub struct HotlineHours { pub weekly: [Option<DayHours>; 7], pub transferred_workday: DayHours, pub shortened_by: TimeDelta }
impl Default for HotlineHours { fn default() -> Self { todo!() } }
#[derive(Debug, Clone, Copy)] pub enum DayKind { Working, Shortened, Weekend, Holiday }
impl DayKind { pub fn as_str(&self) -> &'static str { todo!() } }
pub struct Day { pub date: NaiveDate, pub kind: DayKind, pub hours: Option<DayHours> }
pub struct Window { pub start: DateTime<Utc>, pub end: DateTime<Utc> }
#[derive(Clone)] pub struct Calendar;
#[derive(Debug, thiserror::Error)] #[error("x")] pub struct CalendarError;
#[derive(serde::Serialize)] pub struct CalendarStatus { pub warnings: Vec<String> }
impl Calendar {
    pub fn builtin(hours: HotlineHours) -> Calendar { todo!() }
    pub fn load(dir: Option<&Path>, hours: HotlineHours) -> Result<Calendar, CalendarError> { todo!() }
    pub fn day(&self, date: NaiveDate) -> Day { todo!() }
    pub fn window_at_or_after(&self, t: DateTime<Utc>) -> Option<Window> { todo!() }
    pub fn missing_years(&self, from: i32, to: i32) -> Vec<i32> { todo!() }
    pub fn status(&self, today: NaiveDate) -> CalendarStatus { todo!() }
}
pub mod xmlcalendar { pub fn to_toml(xml: &str) -> Result<String, super::CalendarError> { todo!() } }
