//! The `[notify]` section: which supervisors are told what is waiting (`domain::notify`):
//! `emails` (sent through `[mail]`'s SMTP) and `sms` (through Twilio's `sms_from`), each a list in
//! the file or a comma-separated string from the environment; `backlog_threshold` (due requests,
//! 0 = never), `oldest_due_minutes` (working minutes the oldest due request has waited, 0 =
//! never), `repeat_minutes` (how often an alert is repeated while its threshold stays passed) and
//! `digest` (the morning digest at each working day's opening). Every key is optional; a bad value
//! names its key.

use chrono::TimeDelta;
use serde::Deserialize;

use super::schedule::ListOrStr;
use super::{ConfigError, NumOrStr, int_in_range as int, key_err};
use crate::domain::notify::NotifySettings;
use crate::domain::phone::PhoneNumber;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawNotify {
    emails: Option<ListOrStr>,
    sms: Option<ListOrStr>,
    backlog_threshold: Option<NumOrStr>,
    oldest_due_minutes: Option<NumOrStr>,
    repeat_minutes: Option<NumOrStr>,
    digest: Option<BoolOrStr>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum BoolOrStr {
    Bool(bool),
    Str(String),
}

pub(super) fn notify_from_raw(raw: &RawNotify) -> Result<NotifySettings, ConfigError> {
    let mut s = NotifySettings::default();
    if let Some(list) = &raw.emails {
        for e in list.items() {
            let ok = e.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !e.contains(char::is_whitespace)
            });
            if !ok {
                return Err(key_err(
                    "notify.emails",
                    format!("`{e}` is not an e-mail address"),
                ));
            }
            s.emails.push(e.to_lowercase());
        }
    }
    if let Some(list) = &raw.sms {
        for n in list.items() {
            let p = PhoneNumber::parse(&n).map_err(|e| key_err("notify.sms", format!("{e}")))?;
            s.sms.push(p.as_str().to_owned());
        }
    }
    if let Some(n) = int(
        &raw.backlog_threshold,
        "notify.backlog_threshold",
        0,
        100_000,
    )? {
        s.backlog_threshold = n as u32;
    }
    if let Some(n) = int(
        &raw.oldest_due_minutes,
        "notify.oldest_due_minutes",
        0,
        10 * 24 * 60,
    )? {
        s.oldest_due = TimeDelta::minutes(n);
    }
    if let Some(n) = int(&raw.repeat_minutes, "notify.repeat_minutes", 5, 24 * 60)? {
        s.repeat = TimeDelta::minutes(n);
    }
    match &raw.digest {
        None => {}
        Some(BoolOrStr::Bool(b)) => s.digest = *b,
        Some(BoolOrStr::Str(v)) => {
            s.digest = match v.trim() {
                "true" | "1" | "yes" => true,
                "false" | "0" | "no" => false,
                other => {
                    return Err(key_err(
                        "notify.digest",
                        format!("must be true or false, not `{other}`"),
                    ));
                }
            }
        }
    }
    Ok(s)
}
