//! The `[limits]` section: the per-number limits in force until a supervisor changes them in the
//! workspace (`voicemails_per_day`, `calls_per_hour`; 0 or absent = off). Bad values name their key.

use serde::Deserialize;

use super::{ConfigError, NumOrStr, int_in_range as int};
use crate::domain::blocklist::CallLimits;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawLimits {
    voicemails_per_day: Option<NumOrStr>,
    calls_per_hour: Option<NumOrStr>,
}

/// The most either limit may be (the same bound the API and the page check).
pub const MAX_LIMIT: u32 = 1000;

pub(super) fn limits_from_raw(raw: &RawLimits) -> Result<CallLimits, ConfigError> {
    let max = i64::from(MAX_LIMIT);
    let get = |v: &Option<NumOrStr>, key: &str| -> Result<u32, ConfigError> {
        Ok(int(v, key, 0, max)?.map_or(0, |n| n as u32))
    };
    Ok(CallLimits {
        voicemails_per_day: get(&raw.voicemails_per_day, "limits.voicemails_per_day")?,
        calls_per_hour: get(&raw.calls_per_hour, "limits.calls_per_hour")?,
    })
}
