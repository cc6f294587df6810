//! Twilio webhook parameters → the neutral [`CallEvent`], and each event's idempotency key.
//!
//! Twilio posts `application/x-www-form-urlencoded` parameters; which ones matter depends on the
//! [`Route`] the request arrived at (PROVIDERS.md §1.1–1.9). Every event needs `CallSid`; `From`
//! and `To` are copied when present. Parameters we do not know are ignored, because Twilio adds
//! new ones without notice. A missing or malformed field we do need is a [`ParseError`] naming
//! that field, which the HTTP layer answers with 400. Call it only after the signature check.
//! The click-to-call callback's routes are not call events: [`parse`] refuses them.
//! [`event_key`] gives the natural key of the event within its call, so that a re-delivered
//! webhook is stored once and answered the same way.

use chrono::TimeDelta;

use super::routes::{Route, step_slug};
use crate::telephony::{
    CallEvent, CallStatus, DialOutcome, EventKind, QueueResult, Recording, RecordingStatus,
};

/// Why a Twilio request could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("missing parameter `{0}`")]
    Missing(&'static str),
    #[error("malformed parameter `{field}`: `{value}` is not {expected}")]
    Malformed {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    /// The route is not an inbound-call event (the click-to-call callback's own webhooks, which
    /// the HTTP layer handles before parsing).
    #[error("the `{0}` webhook is not a call event")]
    NotACallEvent(&'static str),
}

impl ParseError {
    /// The name of the offending Twilio parameter (for [`ParseError::NotACallEvent`], the route).
    pub fn field(&self) -> &'static str {
        match self {
            ParseError::Missing(field) | ParseError::Malformed { field, .. } => field,
            ParseError::NotACallEvent(route) => route,
        }
    }
}

/// The first value of `name`, if present and not empty.
fn get<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn require<'a>(params: &'a [(String, String)], name: &'static str) -> Result<&'a str, ParseError> {
    get(params, name).ok_or(ParseError::Missing(name))
}

fn malformed(field: &'static str, value: &str, expected: &'static str) -> ParseError {
    // Only enum and number fields are checked, but keep an echoed value short all the same.
    let value: String = value.chars().take(40).collect();
    ParseError::Malformed {
        field,
        value,
        expected,
    }
}

fn number<T: std::str::FromStr>(field: &'static str, value: &str) -> Result<T, ParseError> {
    value
        .trim()
        .parse()
        .map_err(|_| malformed(field, value, "a non-negative integer"))
}

fn optional_number<T: std::str::FromStr>(
    params: &[(String, String)],
    field: &'static str,
) -> Result<Option<T>, ParseError> {
    get(params, field).map(|v| number(field, v)).transpose()
}

fn seconds(
    params: &[(String, String)],
    field: &'static str,
) -> Result<Option<TimeDelta>, ParseError> {
    Ok(optional_number::<u32>(params, field)?.map(|s| TimeDelta::seconds(s.into())))
}

fn call_status(value: &str) -> Result<CallStatus, ParseError> {
    Ok(match value {
        "queued" => CallStatus::Queued,
        // `initiated` / `answered` are event names; Twilio reports them as queued / in-progress,
        // SignalWire (a Twilio-compatible provider) sends the event names too [M].
        "initiated" => CallStatus::Queued,
        "ringing" => CallStatus::Ringing,
        "in-progress" | "answered" => CallStatus::InProgress,
        "completed" => CallStatus::Completed,
        "busy" => CallStatus::Busy,
        "no-answer" => CallStatus::NoAnswer,
        "failed" => CallStatus::Failed,
        "canceled" => CallStatus::Canceled,
        _ => return Err(malformed("CallStatus", value, "a Twilio call status")),
    })
}

fn dial_outcome(value: &str) -> Result<DialOutcome, ParseError> {
    Ok(match value {
        "completed" | "answered" => DialOutcome::Answered,
        "busy" => DialOutcome::Busy,
        "no-answer" => DialOutcome::NoAnswer,
        "failed" => DialOutcome::Failed,
        "canceled" => DialOutcome::Canceled,
        _ => return Err(malformed("DialCallStatus", value, "a Twilio dial status")),
    })
}

fn queue_result(value: &str) -> Result<QueueResult, ParseError> {
    Ok(match value {
        "bridged" => QueueResult::Bridged,
        "leave" => QueueResult::Left,
        "redirected" => QueueResult::Redirected,
        "hangup" => QueueResult::Hangup,
        "error" | "system-error" | "queue-full" => QueueResult::Error,
        _ => return Err(malformed("QueueResult", value, "a Twilio queue result")),
    })
}

fn recording_status(value: &str) -> Result<RecordingStatus, ParseError> {
    Ok(match value {
        "completed" => RecordingStatus::Completed,
        "absent" => RecordingStatus::Absent,
        "failed" => RecordingStatus::Failed,
        "in-progress" => RecordingStatus::InProgress,
        _ => {
            return Err(malformed(
                "RecordingStatus",
                value,
                "a Twilio recording status",
            ));
        }
    })
}

/// The error for routes that are not inbound-call events (checked before anything else).
fn not_a_call_event(route: &Route) -> Option<ParseError> {
    match route {
        Route::CallbackConnect { .. } => Some(ParseError::NotACallEvent("callback/connect")),
        Route::CallbackStatus { .. } => Some(ParseError::NotACallEvent("callback/status")),
        _ => None,
    }
}

/// Parses the parameters of a request that arrived at `route`.
pub fn parse(route: &Route, params: &[(String, String)]) -> Result<CallEvent, ParseError> {
    if let Some(refused) = not_a_call_event(route) {
        return Err(refused);
    }
    let call_id = require(params, "CallSid")?.to_owned();
    let kind = match route {
        Route::Voice => EventKind::Incoming,
        Route::Status => EventKind::Status {
            status: call_status(require(params, "CallStatus")?)?,
            sequence: optional_number(params, "SequenceNumber")?,
            duration: seconds(params, "CallDuration")?,
        },
        Route::DialResult => EventKind::DialEnded {
            outcome: dial_outcome(require(params, "DialCallStatus")?)?,
            talk: seconds(params, "DialCallDuration")?.unwrap_or_default(),
        },
        Route::QueueWait => EventKind::QueueWait {
            position: number("QueuePosition", require(params, "QueuePosition")?)?,
            waited: TimeDelta::seconds(
                number::<u32>("QueueTime", require(params, "QueueTime")?)?.into(),
            ),
        },
        Route::QueueLeft => EventKind::QueueLeft {
            result: queue_result(require(params, "QueueResult")?)?,
            waited: seconds(params, "QueueTime")?.unwrap_or_default(),
        },
        Route::Gather(step) => EventKind::Digits {
            step: *step,
            digits: get(params, "Digits").map(str::to_owned),
        },
        Route::Connect { operator_id } => EventKind::Connect {
            operator_id: *operator_id,
        },
        Route::Recorded => EventKind::Recorded {
            recording: match get(params, "RecordingSid") {
                Some(id) => Some(Recording {
                    id: id.to_owned(),
                    url: require(params, "RecordingUrl")?.to_owned(),
                    duration: seconds(params, "RecordingDuration")?,
                }),
                None => None,
            },
            digits: get(params, "Digits").map(str::to_owned),
        },
        Route::RecordingReady => EventKind::RecordingReady {
            recording: Recording {
                id: require(params, "RecordingSid")?.to_owned(),
                url: require(params, "RecordingUrl")?.to_owned(),
                duration: seconds(params, "RecordingDuration")?,
            },
            status: recording_status(require(params, "RecordingStatus")?)?,
        },
        Route::CallbackConnect { .. } | Route::CallbackStatus { .. } => {
            return Err(not_a_call_event(route).unwrap_or(ParseError::NotACallEvent("callback")));
        }
    };
    Ok(CallEvent {
        call_id,
        from: get(params, "From").map(str::to_owned),
        to: get(params, "To").map(str::to_owned),
        kind,
    })
}

/// The natural idempotency key of the event within its call (store it with the `CallSid`).
///
/// Voice: `voice`; Status: `status:<SequenceNumber>`, or `status:<CallStatus>` without a sequence;
/// DialResult: `dial:<DialCallSid>` (or `dial:<DialCallStatus>`); QueueWait: `wait:<QueueTime>`;
/// QueueLeft: `left:<QueueResult>`; Gather: `gather:<step>:<Digits>`; Connect: `connect:<operator>`.
pub fn event_key(route: &Route, params: &[(String, String)]) -> String {
    let value = |name| get(params, name).unwrap_or("");
    match route {
        Route::Voice => "voice".to_owned(),
        Route::Status => match get(params, "SequenceNumber") {
            Some(sequence) => format!("status:{sequence}"),
            None => format!("status:{}", value("CallStatus")),
        },
        Route::DialResult => format!(
            "dial:{}",
            get(params, "DialCallSid").unwrap_or(value("DialCallStatus"))
        ),
        Route::QueueWait => format!("wait:{}", value("QueueTime")),
        Route::QueueLeft => format!("left:{}", value("QueueResult")),
        Route::Gather(step) => match super::routes::step_attempt(*step) {
            Some(n) => format!("gather:{}#{n}:{}", step_slug(*step), value("Digits")),
            None => format!("gather:{}:{}", step_slug(*step), value("Digits")),
        },
        Route::Recorded => format!("record:{}", get(params, "RecordingSid").unwrap_or("none")),
        Route::RecordingReady => format!(
            "recording:{}:{}",
            value("RecordingSid"),
            value("RecordingStatus")
        ),
        Route::Connect { operator_id } => format!("connect:{operator_id}"),
        Route::CallbackConnect { attempt_id } => format!("callback-connect:{attempt_id}"),
        Route::CallbackStatus { attempt_id } => match get(params, "SequenceNumber") {
            Some(sequence) => format!("callback-status:{attempt_id}:{sequence}"),
            None => format!("callback-status:{attempt_id}:{}", value("CallStatus")),
        },
    }
}
