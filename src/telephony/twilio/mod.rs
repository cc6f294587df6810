//! The Twilio Programmable Voice adapter: everything Perezvon knows about Twilio lives here.
//!
//! A webhook request from Twilio goes through three steps. The HTTP layer first checks its
//! `X-Twilio-Signature` against the URL Twilio was configured with ([`signature`]); then [`parse`]
//! turns the form parameters into a neutral [`CallEvent`](crate::telephony::CallEvent), and
//! [`event_key`] gives the key that makes a re-delivery a no-op; finally the routing core's
//! [`Reply`](crate::telephony::Reply) is rendered as TwiML ([`twiml`]). Every follow-up request
//! Twilio makes is addressed by a [`Route`] under `/webhooks/twilio/` ([`routes`]). Actions Twilio
//! cannot be asked for in TwiML (moving a queued caller to a freed operator, placing an outbound
//! callback) go through the REST API ([`rest`]); a click-to-call callback is placed by
//! [`TwilioDialer`] and answered by its own two webhooks ([`callback`]). Protocol facts and their
//! sources are in `PROVIDERS.md` §1.

pub mod callback;
pub mod control;
pub mod parse;
pub mod rest;
pub mod routes;
pub mod signature;
pub mod twiml;

#[cfg(test)]
mod tests;

pub use callback::{TwilioDialer, connect_twiml, dial_error, dial_to, is_final_status};
pub use control::TwilioControl;
pub use parse::{ParseError, event_key, parse};
pub use rest::{CreateCall, TwilioClient, TwilioError};
pub use routes::{Route, route_for_step, route_from_path, route_path, route_template};
pub use signature::{expected_signature, validate, validate_json};
pub use twiml::{RenderError, SpeechMode, render};
