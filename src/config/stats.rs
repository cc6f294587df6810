//! The `[stats]` section: the service-level threshold, the short-abandon limit, and the staffing
//! forecast's target and history. Every key is optional; a bad value names its key.

use chrono::TimeDelta;
use serde::Deserialize;

use super::{ConfigError, NumOrStr, int_in_range as int};
use crate::stats::StatsSettings;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawStats {
    sl_threshold_secs: Option<NumOrStr>,
    short_abandon_secs: Option<NumOrStr>,
    forecast_target_percent: Option<NumOrStr>,
    forecast_weeks: Option<NumOrStr>,
    max_occupancy_percent: Option<NumOrStr>,
}

pub(super) fn stats_from_raw(raw: &RawStats) -> Result<StatsSettings, ConfigError> {
    let mut s = StatsSettings::default();
    if let Some(n) = int(&raw.sl_threshold_secs, "stats.sl_threshold_secs", 1, 3600)? {
        s.sl_threshold = TimeDelta::seconds(n);
    }
    if let Some(n) = int(&raw.short_abandon_secs, "stats.short_abandon_secs", 0, 600)? {
        s.short_abandon = TimeDelta::seconds(n);
    }
    if let Some(n) = int(
        &raw.forecast_target_percent,
        "stats.forecast_target_percent",
        1,
        99,
    )? {
        s.forecast_target = n as f64 / 100.0;
    }
    if let Some(n) = int(&raw.forecast_weeks, "stats.forecast_weeks", 4, 8)? {
        s.forecast_weeks = n as u32;
    }
    if let Some(n) = int(
        &raw.max_occupancy_percent,
        "stats.max_occupancy_percent",
        0,
        100,
    )? {
        s.max_occupancy = (n > 0).then(|| n as f64 / 100.0);
    }
    Ok(s)
}
