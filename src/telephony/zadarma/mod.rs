//! The Zadarma adapter (also classic Novofon, the same platform rebranded): the protocol pieces
//! that need no webhook handler.
//!
//! Zadarma signs its PBX call notifications with a `Signature` header over a few fields chosen by
//! the event ([`signature`]); our requests to its REST API are signed with an `Authorization:
//! key:signature` header over the sorted, form-encoded parameters ([`api`]). [`ZadarmaClient`]
//! ([`rest`]) sends those signed requests under the API's rate limit ([`ratelimit`]); on top of it
//! [`ZadarmaRecordings`] downloads and deletes call recordings ([`recordings`]) and
//! [`ZadarmaDialer`] places click-to-call callbacks ([`dialer`]). Protocol facts and their sources
//! are in `PROVIDERS.md` §2.

pub mod api;
pub mod dialer;
pub mod ratelimit;
pub mod recordings;
pub mod rest;
pub mod signature;

#[cfg(test)]
mod tests;

pub use api::{auth_header, params_string};
pub use dialer::{ZadarmaDialer, callback_call_id, callback_params, dial_error};
pub use ratelimit::RateLimiter;
pub use recordings::{ZadarmaRecordings, fetch_error};
pub use rest::{ZadarmaClient, ZadarmaError};
pub use signature::{sign, signature_string, verify};
