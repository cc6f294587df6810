//! The `[schedule]` section: what the public schedule page (`/schedule`) shows and who may frame
//! its compact form (`/schedule/embed`). Both keys are optional lists; from the environment a list
//! is one comma-separated string (`PEREZVON_SCHEDULE__EMBED_ORIGINS=https://a.ru,https://b.ru`).
//! A bad value names its key.

use serde::Deserialize;

use super::{ConfigError, TwilioConfig, key_err};

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub(super) struct RawSchedule {
    phone_numbers: Option<ListOrStr>,
    embed_origins: Option<ListOrStr>,
}

/// A list in the file; a comma-separated string from the environment (or the file).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum ListOrStr {
    List(Vec<String>),
    Str(String),
}

impl ListOrStr {
    /// The non-empty, trimmed items.
    pub(super) fn items(&self) -> Vec<String> {
        let all: Vec<&str> = match self {
            ListOrStr::List(v) => v.iter().map(String::as_str).collect(),
            ListOrStr::Str(s) => s.split(',').collect(),
        };
        all.into_iter()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

/// The public schedule's settings (`[schedule]`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScheduleConfig {
    /// Phone numbers shown on the page, as written (e.g. `+7 495 000-00-00`); empty: no phone block.
    pub phone_numbers: Vec<String>,
    /// Origins (`https://school.example.ru`) allowed to show `/schedule/embed` in a frame.
    pub embed_origins: Vec<String>,
}

pub(super) fn schedule_from_raw(
    raw: &RawSchedule,
    twilio: Option<&TwilioConfig>,
) -> Result<ScheduleConfig, ConfigError> {
    let phone_numbers = match &raw.phone_numbers {
        Some(list) => {
            let items = list.items();
            for n in &items {
                check_phone(n).map_err(|m| key_err("schedule.phone_numbers", m))?;
            }
            items
        }
        None => twilio
            .and_then(|t| t.from_number.clone())
            .into_iter()
            .collect(),
    };
    let embed_origins = match &raw.embed_origins {
        Some(list) => list
            .items()
            .iter()
            .map(|o| origin(o).map_err(|m| key_err("schedule.embed_origins", m)))
            .collect::<Result<_, _>>()?,
        None => Vec::new(),
    };
    Ok(ScheduleConfig {
        phone_numbers,
        embed_origins,
    })
}

/// A number as people write it: digits, spaces, `-`, `(`, `)`, a leading `+`; 3 to 15 digits.
fn check_phone(n: &str) -> Result<(), String> {
    let body = n.strip_prefix('+').unwrap_or(n);
    let allowed = body
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '(' | ')'));
    let digits = body.chars().filter(char::is_ascii_digit).count();
    if allowed && (3..=15).contains(&digits) {
        Ok(())
    } else {
        Err(format!(
            "`{n}` is not a phone number (digits, spaces, - ( ) and a leading +; 3 to 15 digits), \
             e.g. +7 495 000-00-00"
        ))
    }
}

/// `scheme://host[:port]` of an http(s) URL with nothing after the host (a trailing `/` is
/// allowed), as browsers compare it in `frame-ancestors`.
fn origin(s: &str) -> Result<String, String> {
    let bad = |why: &str| format!("`{s}` is not an origin like https://school.example.ru: {why}");
    let u = url::Url::parse(s).map_err(|e| bad(&e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") || u.host().is_none() {
        return Err(bad("must be http:// or https:// with a host"));
    }
    if u.path() != "/" || u.query().is_some() || u.fragment().is_some() {
        return Err(bad("no path, query or fragment"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("no user or password"));
    }
    Ok(u.origin().ascii_serialization())
}
