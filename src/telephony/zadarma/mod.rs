//! The Zadarma adapter (also classic Novofon, the same platform rebranded): everything Perezvon
//! knows about Zadarma lives here.
//!
//! Zadarma posts PBX call notifications (`NOTIFY_*`, form fields) to one URL and signs each with a
//! `Signature` header over a few fields chosen by the event ([`signature`]); [`parse`] turns them
//! into typed notifications, which the webhook handler (`http/webhooks/zadarma.rs`) translates
//! into the neutral [`CallEvent`](crate::telephony::CallEvent)s. The routing core's reply becomes a
//! [`Script`] of single actions ([`script`]), sent one per notification ([`answer`] gives their
//! JSON). A queued caller is moved to a freed operator at the next hold tick ([`control`]).
//! Our requests to its REST API are signed with an `Authorization: key:signature` header over the
//! sorted, form-encoded parameters ([`api`]); [`ZadarmaClient`] ([`rest`]) sends them under the
//! API's rate limit ([`ratelimit`]); on top of it [`ZadarmaRecordings`] downloads and deletes
//! call recordings ([`recordings`]) and [`ZadarmaDialer`] places click-to-call callbacks
//! ([`dialer`]). Protocol facts are in README "Zadarma / Novofon".

pub mod answer;
pub mod api;
pub mod control;
pub mod dialer;
pub mod parse;
pub mod ratelimit;
pub mod recordings;
pub mod rest;
pub mod script;
pub mod signature;

#[cfg(test)]
mod tests;

pub use api::{auth_header, params_string};
pub use control::ZadarmaControl;
pub use dialer::{ZadarmaDialer, callback_call_id, callback_params, dial_error};
pub use parse::{Notify, ParseError, parse};
pub use ratelimit::RateLimiter;
pub use recordings::{ZadarmaRecordings, fetch_error};
pub use rest::{ZadarmaClient, ZadarmaError};
pub use script::{Action, Script};
pub use signature::{sign, signature_string, verify};
