//! Tests of the Twilio adapter: signature vectors from twilio-python, parsing and idempotency keys
//! per route, golden TwiML documents, the REST client against a local fake of Twilio's API, and
//! click-to-call callbacks (the dialer, their TwiML and their webhooks).

mod callback;
mod callback_webhook;
mod parse;
mod rest;
mod routes;
mod signature;
mod twiml;

/// Owned form parameters from `(name, value)` literals.
pub(super) fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
