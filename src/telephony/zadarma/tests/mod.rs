//! Tests of the Zadarma adapter: webhook signature vectors, REST request signing and encoding,
//! notification parsing, replies as scripts, and the REST client, recordings and click-to-call against a local fake of Zadarma's API that
//! checks every request's `Authorization` header.

mod api;
mod dialer;
mod fake;
mod parse;
mod recordings;
mod rest;
mod script;
mod signature;

/// Owned form parameters from `(name, value)` literals.
pub(super) fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}
