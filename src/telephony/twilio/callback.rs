//! Click-to-call callbacks through Twilio: [`TwilioDialer`] implements [`CallbackDialer`].
//!
//! An operator clicks "call back" on a request; we create an outbound call to the operator
//! (`POST …/Calls.json`, PROVIDERS.md §1.12) from the hotline's number. `To` is the operator's
//! contact: an E.164 number, a SIP URI, or a PBX extension dialed as `sip:EXT@{sip domain}` (the
//! Calls API accepts SIP URIs in `To`). When the operator answers, Twilio asks the attempt's
//! `callback/connect?attempt=ID` URL what to do; the HTTP layer answers with [`connect_twiml`]: a
//! short announcement, then `<Dial callerId="{hotline}"><Number>{caller}</Number></Dial>`, so the
//! caller sees the hotline's number (the calling number is always a valid `callerId`); or, when
//! the attempt's operator no longer holds the request, with [`not_held_twiml`]. There is no
//! `<Dial action>`: when the caller hangs up the TwiML ends and so does the call. The call's status
//! changes go to `callback/status?attempt=ID` and end the attempt on a final status
//! ([`is_final_status`]). The caller's number never appears in a URL or a log line; Twilio's error
//! messages are masked before they are returned.

use std::fmt::Write as _;

use super::routes::{Route, route_path};
use super::twiml::{Ctx, SpeechMode, escape};
use super::{CreateCall, TwilioClient, TwilioError};
use crate::domain::operator::ContactKind;
use crate::domain::phone::mask_in_text;
use crate::speech::{Prompt, Utterance};
use crate::telephony::{CallbackDial, CallbackDialer, DialError, DialTarget};

/// How long the operator's phone rings before Twilio gives up, in seconds.
pub const RING_TIMEOUT_SECS: u32 = 30;
/// How long the caller's phone rings once the operator answered, in seconds.
pub const CONNECT_TIMEOUT_SECS: u32 = 30;

/// Twilio's call statuses after which nothing more happens to the call.
pub const FINAL_STATUSES: [&str; 5] = ["completed", "busy", "no-answer", "failed", "canceled"];
/// Twilio's call statuses while the call is alive (`initiated` and `answered` are the event names
/// some Twilio-compatible providers send instead of `queued` and `in-progress`).
pub const LIVE_STATUSES: [&str; 5] = ["queued", "initiated", "ringing", "in-progress", "answered"];

const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#;

/// Places click-to-call callbacks with the Twilio REST API.
#[derive(Debug, Clone)]
pub struct TwilioDialer {
    pub client: TwilioClient,
    /// The service's external base URL, as Twilio's webhooks are signed over (no trailing slash).
    pub public_url: String,
    /// The hotline's Twilio number, shown to the operator and to the caller; no dialing without it.
    pub from_number: Option<String>,
    /// Domain for dialing PBX extensions as `sip:EXT@domain`.
    pub sip_domain: Option<String>,
    /// How long the operator's phone rings, in seconds.
    pub ring_timeout_secs: u32,
}

impl TwilioDialer {
    /// A dialer ringing operators for [`RING_TIMEOUT_SECS`].
    pub fn new(
        client: TwilioClient,
        public_url: String,
        from_number: Option<String>,
        sip_domain: Option<String>,
    ) -> Self {
        TwilioDialer {
            client,
            public_url: public_url.trim_end_matches('/').to_owned(),
            from_number: from_number.filter(|n| !n.trim().is_empty()),
            sip_domain: sip_domain.filter(|d| !d.trim().is_empty()),
            ring_timeout_secs: RING_TIMEOUT_SECS,
        }
    }

    /// The outbound call for a click-to-call (what [`CallbackDialer::dial`] sends).
    pub fn create_call(&self, d: &CallbackDial) -> Result<CreateCall, DialError> {
        let from = self.from_number.clone().ok_or_else(|| {
            DialError::NotConfigured("no hotline number (config key `twilio.from_number`)".into())
        })?;
        let to = dial_to(&d.operator, self.sip_domain.as_deref())?;
        let base = self.public_url.trim_end_matches('/');
        let attempt_id = d.attempt_id;
        Ok(CreateCall {
            to,
            from,
            url: format!(
                "{base}{}",
                route_path(&Route::CallbackConnect { attempt_id })
            ),
            status_callback: Some(format!(
                "{base}{}",
                route_path(&Route::CallbackStatus { attempt_id })
            )),
            timeout_secs: self.ring_timeout_secs,
        })
    }
}

#[async_trait::async_trait]
impl CallbackDialer for TwilioDialer {
    fn provider(&self) -> &'static str {
        "twilio"
    }

    async fn dial(&self, d: &CallbackDial) -> Result<String, DialError> {
        let call = self.create_call(d)?;
        match self.client.create_call(&call).await {
            Ok(sid) => {
                tracing::info!(
                    attempt = d.attempt_id,
                    operator = d.operator.operator_id,
                    contact = %d.operator.kind,
                    call_sid = %sid,
                    "click-to-call placed: ringing the operator"
                );
                Ok(sid)
            }
            Err(e) => {
                let error = dial_error(e);
                tracing::warn!(
                    attempt = d.attempt_id,
                    operator = d.operator.operator_id,
                    error = %error,
                    "click-to-call failed"
                );
                Err(error)
            }
        }
    }
}

/// The `To` of the call to the operator: a phone number or SIP URI as is, an extension as
/// `sip:EXT@{sip_domain}` (not configured without a SIP domain).
pub fn dial_to(operator: &DialTarget, sip_domain: Option<&str>) -> Result<String, DialError> {
    match operator.kind {
        ContactKind::Phone | ContactKind::Sip => Ok(operator.contact.clone()),
        ContactKind::Extension => match sip_domain.filter(|d| !d.trim().is_empty()) {
            Some(domain) => Ok(format!("sip:{}@{domain}", operator.contact)),
            None => Err(DialError::NotConfigured(format!(
                "operator {} is reached by extension, but no SIP domain is configured \
                 (config key `twilio.sip_domain`)",
                operator.operator_id
            ))),
        },
    }
}

/// A failed `create_call` as a [`DialError`]: `Unavailable` when a retry may help (timeouts,
/// transport errors, 5xx, 429), `Refused` otherwise. The text keeps Twilio's HTTP status, error
/// code and message, with phone numbers masked. A timed-out request may still have placed the call.
pub fn dial_error(e: TwilioError) -> DialError {
    let text = mask_in_text(&e.to_string());
    if e.is_retryable() {
        DialError::Unavailable(text)
    } else {
        DialError::Refused(text)
    }
}

/// True for a Twilio call status after which the call is over; `None` for a value that is not a
/// Twilio call status.
pub fn is_final_status(status: &str) -> Option<bool> {
    if FINAL_STATUSES.contains(&status) {
        Some(true)
    } else if LIVE_STATUSES.contains(&status) {
        Some(false)
    } else {
        None
    }
}

/// The TwiML for the operator's answered leg: `announce` (clips or TTS, as `speech` says), then
/// the caller is dialed showing `caller_id`, ringing for [`CONNECT_TIMEOUT_SECS`]. No `action`:
/// the call ends when the caller hangs up (or does not answer).
pub fn connect_twiml(
    speech: &SpeechMode,
    announce: &Utterance,
    caller: &str,
    caller_id: &str,
) -> String {
    let ctx = Ctx {
        base: "",
        speech,
        sip_domain: None,
    };
    let mut out = String::from(HEAD);
    ctx.say(&mut out, announce);
    let _ = write!(
        out,
        r#"<Dial callerId="{}" timeout="{CONNECT_TIMEOUT_SECS}"><Number>{}</Number></Dial></Response>"#,
        escape(caller_id),
        escape(caller)
    );
    out
}

/// The TwiML for an answered leg that cannot be connected (unknown attempt, closed request):
/// the technical-error prompt, then hang up.
pub fn failure_twiml(speech: &SpeechMode) -> String {
    let ctx = Ctx {
        base: "",
        speech,
        sip_domain: None,
    };
    let mut out = String::from(HEAD);
    ctx.say(&mut out, &Prompt::TechnicalError.utterance());
    out.push_str("<Hangup/></Response>");
    out
}

/// The TwiML for an answered leg whose operator no longer holds the request (released, or
/// claimed by another): a short explanation, then hang up; the caller is not dialed.
pub fn not_held_twiml(speech: &SpeechMode) -> String {
    let ctx = Ctx {
        base: "",
        speech,
        sip_domain: None,
    };
    let mut out = String::from(HEAD);
    ctx.say(&mut out, &Prompt::CallbackNotHeld.utterance());
    out.push_str("<Hangup/></Response>");
    out
}

/// An empty TwiML document (for status callbacks, whose body Twilio ignores).
pub fn empty_twiml() -> String {
    format!("{HEAD}</Response>")
}
