//! The Zadarma / classic Novofon adapter: everything Perezvon knows about Zadarma lives here.
//!
//! Zadarma posts PBX call notifications (`NOTIFY_*`, form fields, a `Signature` header) to one URL;
//! [`parse`] turns them into typed notifications, which the webhook handler translates into the
//! neutral [`CallEvent`](crate::telephony::CallEvent)s. The routing core's reply becomes a
//! [`script::Script`] of single actions, sent one per notification ([`answer`] gives their JSON).
//! Protocol facts are in README "Zadarma / Novofon".

pub mod answer;
pub mod control;
pub mod parse;
pub mod script;
pub mod signature;

pub use control::ZadarmaControl;
pub use parse::{Notify, ParseError, parse};
pub use script::{Action, Script};
