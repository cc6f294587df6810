//! The `[callbacks]` section: the callback list's SLA, priority credits, leases, retries, the
//! schedule's assumptions and the regulation's topics. Every key is optional; a bad value names
//! its key.

use chrono::TimeDelta;
use serde::Deserialize;

use super::{ConfigError, NumOrStr, int_in_range as int, key_err};
use crate::domain::callback::{CallbackSettings, Topic};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawCallbacks {
    sla_minutes: Option<NumOrStr>,
    staff_credit_minutes: Option<NumOrStr>,
    repeat_credit_minutes: Option<NumOrStr>,
    repeat_credit_max: Option<NumOrStr>,
    lease_minutes: Option<NumOrStr>,
    retry_delay_minutes: Option<NumOrStr>,
    max_attempts: Option<NumOrStr>,
    default_handle_secs: Option<NumOrStr>,
    share_percent: Option<NumOrStr>,
    planned_operators: Option<NumOrStr>,
    topics: Option<Vec<RawTopic>>,
    abandoned_join_after_secs: Option<NumOrStr>,
    registration_format: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTopic {
    code: String,
    label: String,
}

pub(super) fn callbacks_from_raw(raw: &RawCallbacks) -> Result<CallbackSettings, ConfigError> {
    let mut s = CallbackSettings::default();
    let minutes = |v, key, min, max, into: &mut TimeDelta| -> Result<(), ConfigError> {
        if let Some(n) = int(v, key, min, max)? {
            *into = TimeDelta::minutes(n);
        }
        Ok(())
    };
    minutes(
        &raw.sla_minutes,
        "callbacks.sla_minutes",
        1,
        10 * 24 * 60,
        &mut s.sla,
    )?;
    let p = &mut s.priority;
    minutes(
        &raw.staff_credit_minutes,
        "callbacks.staff_credit_minutes",
        0,
        10 * 24 * 60,
        &mut p.staff_credit,
    )?;
    minutes(
        &raw.repeat_credit_minutes,
        "callbacks.repeat_credit_minutes",
        0,
        10 * 24 * 60,
        &mut p.repeat_credit,
    )?;
    if let Some(n) = int(
        &raw.repeat_credit_max,
        "callbacks.repeat_credit_max",
        0,
        100,
    )? {
        p.repeat_cap = n as u32;
    }
    minutes(
        &raw.lease_minutes,
        "callbacks.lease_minutes",
        1,
        240,
        &mut s.lease,
    )?;
    minutes(
        &raw.retry_delay_minutes,
        "callbacks.retry_delay_minutes",
        1,
        10 * 24 * 60,
        &mut s.retry_delay,
    )?;
    if let Some(n) = int(&raw.max_attempts, "callbacks.max_attempts", 1, 20)? {
        s.max_attempts = n as u32;
    }
    if let Some(n) = int(
        &raw.default_handle_secs,
        "callbacks.default_handle_secs",
        30,
        7200,
    )? {
        s.default_handle = TimeDelta::seconds(n);
    }
    if let Some(n) = int(&raw.share_percent, "callbacks.share_percent", 1, 100)? {
        s.share_percent = n as u32;
    }
    if let Some(n) = int(
        &raw.planned_operators,
        "callbacks.planned_operators",
        0,
        1000,
    )? {
        s.planned_operators = n as u32;
    }
    if let Some(n) = int(
        &raw.abandoned_join_after_secs,
        "callbacks.abandoned_join_after_secs",
        0,
        3600,
    )? {
        s.abandoned_join_after = TimeDelta::seconds(n);
    }
    if let Some(t) = &raw.registration_format {
        s.registration =
            crate::domain::registration::RegistrationFormat::parse(t.trim()).map_err(|e| {
                key_err(
                    "callbacks.registration_format",
                    format!("{e}; for example \"ШП-{{year}}-{{seq:06}}\""),
                )
            })?;
    }
    if let Some(topics) = &raw.topics {
        let key = "callbacks.topics";
        if topics.is_empty() {
            return Err(key_err(key, "must list at least one topic"));
        }
        let mut out: Vec<Topic> = Vec::new();
        for t in topics {
            let code = t.code.trim();
            let valid = !code.is_empty()
                && code.len() <= 64
                && code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if !valid {
                return Err(key_err(
                    key,
                    format!("topic code `{code}` must be 1–64 of a-z, 0-9, _"),
                ));
            }
            if t.label.trim().is_empty() {
                return Err(key_err(key, format!("topic `{code}` needs a label")));
            }
            if out.iter().any(|o| o.code == code) {
                return Err(key_err(key, format!("topic `{code}` is listed twice")));
            }
            out.push(Topic {
                code: code.into(),
                label: t.label.trim().into(),
            });
        }
        s.topics = out;
    }
    Ok(s)
}
