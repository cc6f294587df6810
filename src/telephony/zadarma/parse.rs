//! Zadarma's PBX call notifications (`NOTIFY_*` form posts), parsed into typed values. Which
//! fields each event carries follows the official client (`lib/Webhook/*.php`); `wait_dtmf` of
//! `NOTIFY_IVR` arrives as PHP form arrays (`wait_dtmf[name]`, `wait_dtmf[digits]`,
//! `wait_dtmf[default_behaviour]`). Unknown extra fields are ignored; a missing or malformed
//! required field is an error naming it. Phone numbers are kept as given (personal data: never
//! logged).

use chrono::TimeDelta;

/// A notification this adapter understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// An incoming call entered the PBX.
    Start(Inbound),
    /// An incoming call rings an extension.
    Internal { call: Inbound, internal: String },
    /// An extension answered an incoming call.
    Answer {
        pbx_call_id: String,
        internal: Option<String>,
    },
    /// An incoming call ended.
    End { call: Inbound, end: Ended },
    /// A call from the PBX (our click-to-call) started.
    OutStart(Outbound),
    /// A call from the PBX ended.
    OutEnd { call: Outbound, end: Ended },
    /// A recording is ready.
    Record {
        pbx_call_id: String,
        call_id_with_rec: String,
    },
    /// A played file ended, or keys were pressed (`dtmf`), in an API-controlled call.
    Ivr { call: Inbound, dtmf: Option<Dtmf> },
}

/// The fields every notification about an incoming call carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    pub pbx_call_id: String,
    pub caller_id: Option<String>,
    pub called_did: Option<String>,
    pub call_start: String,
}

/// A call placed by the PBX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pub pbx_call_id: String,
    pub internal: Option<String>,
    pub destination: Option<String>,
    pub call_start: String,
}

/// How a call ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub internal: Option<String>,
    pub duration: TimeDelta,
    /// `answered`, `busy`, `cancel`, `no answer`, `failed`, …
    pub disposition: String,
    pub recording: Option<String>,
}

/// The keys result of a `wait_dtmf`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dtmf {
    pub name: String,
    pub digits: Option<String>,
    /// Nothing was entered: the default applies unless we answer otherwise.
    pub default: bool,
}

/// Why a notification could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("missing field `{0}`")]
    Missing(&'static str),
    #[error("malformed field `{0}`: {1}")]
    Malformed(&'static str, String),
    /// An event this adapter does not handle (answered 200 and logged).
    #[error("unknown event `{0}`")]
    Unknown(String),
}

/// The named field, if present and not empty.
pub fn field<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.trim().is_empty())
}

fn required(params: &[(String, String)], name: &'static str) -> Result<String, ParseError> {
    field(params, name)
        .map(str::to_owned)
        .ok_or(ParseError::Missing(name))
}

fn optional(params: &[(String, String)], name: &str) -> Option<String> {
    field(params, name).map(str::to_owned)
}

fn pbx_call_id(params: &[(String, String)]) -> Result<String, ParseError> {
    let id = required(params, "pbx_call_id")?;
    let ok = id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(id)
    } else {
        Err(ParseError::Malformed(
            "pbx_call_id",
            "not a printable ASCII id of at most 128 characters".into(),
        ))
    }
}

fn inbound(params: &[(String, String)]) -> Result<Inbound, ParseError> {
    Ok(Inbound {
        pbx_call_id: pbx_call_id(params)?,
        caller_id: optional(params, "caller_id"),
        called_did: optional(params, "called_did"),
        call_start: required(params, "call_start")?,
    })
}

fn outbound(params: &[(String, String)]) -> Result<Outbound, ParseError> {
    Ok(Outbound {
        pbx_call_id: pbx_call_id(params)?,
        internal: optional(params, "internal"),
        destination: optional(params, "destination"),
        call_start: required(params, "call_start")?,
    })
}

fn ended(params: &[(String, String)]) -> Result<Ended, ParseError> {
    let duration = match field(params, "duration") {
        None => TimeDelta::zero(),
        Some(d) => d
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=86_400 * 7).contains(n))
            .map(TimeDelta::seconds)
            .ok_or_else(|| ParseError::Malformed("duration", "not a number of seconds".into()))?,
    };
    let recorded = match field(params, "is_recorded") {
        None | Some("0") => false,
        Some("1") => true,
        Some(_) => {
            return Err(ParseError::Malformed(
                "is_recorded",
                "neither 0 nor 1".into(),
            ));
        }
    };
    Ok(Ended {
        internal: optional(params, "internal"),
        duration,
        disposition: required(params, "disposition")?.to_ascii_lowercase(),
        recording: if recorded {
            Some(required(params, "call_id_with_rec")?)
        } else {
            None
        },
    })
}

fn dtmf(params: &[(String, String)]) -> Option<Dtmf> {
    let name = optional(params, "wait_dtmf[name]")?;
    let digits = optional(params, "wait_dtmf[digits]");
    let default = matches!(field(params, "wait_dtmf[default_behaviour]"), Some(v) if v != "0");
    Some(Dtmf {
        name,
        digits,
        default,
    })
}

/// Parses a notification's form fields.
pub fn parse(params: &[(String, String)]) -> Result<Notify, ParseError> {
    let event = required(params, "event")?;
    Ok(match event.as_str() {
        "NOTIFY_START" => Notify::Start(inbound(params)?),
        "NOTIFY_INTERNAL" => Notify::Internal {
            call: inbound(params)?,
            internal: required(params, "internal")?,
        },
        "NOTIFY_ANSWER" => Notify::Answer {
            pbx_call_id: pbx_call_id(params)?,
            internal: optional(params, "internal"),
        },
        "NOTIFY_END" => Notify::End {
            call: inbound(params)?,
            end: ended(params)?,
        },
        "NOTIFY_OUT_START" => Notify::OutStart(outbound(params)?),
        "NOTIFY_OUT_END" => Notify::OutEnd {
            call: outbound(params)?,
            end: ended(params)?,
        },
        "NOTIFY_RECORD" => Notify::Record {
            pbx_call_id: pbx_call_id(params)?,
            call_id_with_rec: required(params, "call_id_with_rec")?,
        },
        "NOTIFY_IVR" => Notify::Ivr {
            call: inbound(params)?,
            dtmf: dtmf(params),
        },
        _ => return Err(ParseError::Unknown(event.chars().take(40).collect())),
    })
}
