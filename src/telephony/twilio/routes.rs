//! The webhook URLs Twilio calls, one [`Route`] each, all under `/webhooks/twilio/`.
//!
//! The number's Voice URL is `voice` and its status callback is `status`; every other route is a
//! follow-up URL that our own TwiML hands to Twilio (`<Dial action>`, `<Enqueue action waitUrl>`,
//! `<Gather action>`) or that the REST client redirects a call to (`connect?operator=ID`). The
//! click-to-call callback's two URLs (`callback/connect?attempt=ID`, answered by the operator's
//! leg, and `callback/status?attempt=ID`) are handed to Twilio when the call is created; they are
//! not inbound-call events and are handled before parsing. The HTTP layer maps a request path back to its route with [`route_from_path`]; the TwiML renderer
//! builds absolute URLs from [`route_path`]. The path is part of the signed URL, so it must be
//! byte-identical in both directions (no trailing slash).

use crate::telephony::Step;

/// The prefix every Twilio webhook path starts with.
pub const PREFIX: &str = "/webhooks/twilio/";

/// A Twilio webhook endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// A new inbound call (the number's Voice URL).
    Voice,
    /// The call's status callback.
    Status,
    /// `<Dial action>`: the operator's leg ended.
    DialResult,
    /// `<Enqueue waitUrl>`: a tick while the caller waits.
    QueueWait,
    /// `<Enqueue action>`: the caller left the queue.
    QueueLeft,
    /// `<Gather action>` for the given step.
    Gather(Step),
    /// The REST redirect of a queued caller to a freed operator.
    Connect { operator_id: i64 },
    /// `<Record action>`: recording the voice message ended.
    Recorded,
    /// `<Record recordingStatusCallback>`: the recording's status.
    RecordingReady,
    /// A click-to-call callback: the operator answered; Twilio asks what to do (connect the caller).
    CallbackConnect { attempt_id: i64 },
    /// A click-to-call callback's status callback.
    CallbackStatus { attempt_id: i64 },
}

/// The route a step's follow-up request arrives at.
pub fn route_for_step(step: Step) -> Route {
    match step {
        Step::DialResult => Route::DialResult,
        Step::QueueWait => Route::QueueWait,
        Step::QueueLeft => Route::QueueLeft,
        Step::Recorded => Route::Recorded,
        Step::RecordingReady => Route::RecordingReady,
        other => Route::Gather(other),
    }
}

/// The URL-safe name of a step, used in gather paths and idempotency keys.
pub fn step_slug(step: Step) -> &'static str {
    match step {
        Step::DialResult => "dial-result",
        Step::QueueWait => "queue-wait",
        Step::QueueLeft => "queue-left",
        Step::QueueMenu => "queue-menu",
        Step::Connect => "connect",
        Step::VoicemailNumber { .. } => "voicemail-number",
        Step::VoicemailCategory { .. } => "voicemail-category",
        Step::Recorded => "recorded",
        Step::RecordingReady => "recording-ready",
    }
}

/// The step's attempt number, for steps that have one.
pub fn step_attempt(step: Step) -> Option<u8> {
    match step {
        Step::VoicemailNumber { attempt } | Step::VoicemailCategory { attempt } => Some(attempt),
        _ => None,
    }
}

fn step_from_slug(slug: &str, attempt: u8) -> Option<Step> {
    [
        Step::VoicemailNumber { attempt },
        Step::VoicemailCategory { attempt },
        Step::DialResult,
        Step::QueueWait,
        Step::QueueLeft,
        Step::QueueMenu,
        Step::Connect,
    ]
    .into_iter()
    .find(|s| step_slug(*s) == slug)
}

/// The absolute path (with its query, if any) of a route, e.g. `/webhooks/twilio/queue/wait`.
pub fn route_path(route: &Route) -> String {
    let tail = match route {
        Route::Voice => "voice".to_owned(),
        Route::Status => "status".to_owned(),
        Route::DialResult => "dial".to_owned(),
        Route::QueueWait => "queue/wait".to_owned(),
        Route::QueueLeft => "queue/left".to_owned(),
        Route::Gather(step) => match step_attempt(*step) {
            Some(n) => format!("gather/{}?attempt={n}", step_slug(*step)),
            None => format!("gather/{}", step_slug(*step)),
        },
        Route::Recorded => "record".to_owned(),
        Route::RecordingReady => "recording".to_owned(),
        Route::Connect { operator_id } => format!("connect?operator={operator_id}"),
        Route::CallbackConnect { attempt_id } => format!("callback/connect?attempt={attempt_id}"),
        Route::CallbackStatus { attempt_id } => format!("callback/status?attempt={attempt_id}"),
    };
    format!("{PREFIX}{tail}")
}

/// The route's path template without ids or query, e.g. `/webhooks/twilio/gather/{step}`: what
/// metrics label a request with (a bounded set, unlike the paths themselves).
pub fn route_template(route: &Route) -> &'static str {
    match route {
        Route::Voice => "/webhooks/twilio/voice",
        Route::Status => "/webhooks/twilio/status",
        Route::DialResult => "/webhooks/twilio/dial",
        Route::QueueWait => "/webhooks/twilio/queue/wait",
        Route::QueueLeft => "/webhooks/twilio/queue/left",
        Route::Gather(_) => "/webhooks/twilio/gather/{step}",
        Route::Recorded => "/webhooks/twilio/record",
        Route::RecordingReady => "/webhooks/twilio/recording",
        Route::Connect { .. } => "/webhooks/twilio/connect",
        Route::CallbackConnect { .. } => "/webhooks/twilio/callback/connect",
        Route::CallbackStatus { .. } => "/webhooks/twilio/callback/status",
    }
}

/// The first value of `name` in a query string, parsed as an id.
fn query_id(query: Option<&str>, name: &str) -> Option<i64> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == name)?
        .1
        .parse()
        .ok()
}

/// The route of a request path and query (as in `uri.path()`, `uri.query()`); `None` for a path
/// that is not a Twilio webhook, `connect` without a valid `operator`, or `callback/…` without a
/// valid `attempt`.
pub fn route_from_path(path: &str, query: Option<&str>) -> Option<Route> {
    let tail = path.strip_prefix(PREFIX)?;
    Some(match tail {
        "callback/connect" => Route::CallbackConnect {
            attempt_id: query_id(query, "attempt")?,
        },
        "callback/status" => Route::CallbackStatus {
            attempt_id: query_id(query, "attempt")?,
        },
        "voice" => Route::Voice,
        "status" => Route::Status,
        "dial" => Route::DialResult,
        "queue/wait" => Route::QueueWait,
        "queue/left" => Route::QueueLeft,
        "connect" => {
            let query = query?;
            let operator = form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "operator")?
                .1;
            Route::Connect {
                operator_id: operator.parse().ok()?,
            }
        }
        "record" => Route::Recorded,
        "recording" => Route::RecordingReady,
        _ => {
            let attempt = query
                .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "attempt"))
                .map(|(_, v)| v.parse::<u8>())
                .transpose()
                .ok()?
                .unwrap_or(0);
            Route::Gather(step_from_slug(tail.strip_prefix("gather/")?, attempt)?)
        }
    })
}
