//! The `Signature` header of Zadarma's webhooks: proof that a PBX call notification comes from
//! our Zadarma account.
//!
//! Zadarma does not sign the whole request. Each event signs the concatenation (no separators) of
//! two or three of its fields, chosen by `event` (PROVIDERS.md §2.2, the official PHP library's
//! `lib/Webhook/*.php`): the incoming-call events `caller_id . called_did . call_start`, the
//! answer `caller_id . destination . call_start`, outgoing calls `internal . destination .
//! call_start` and a ready recording `pbx_call_id . call_id_with_rec`. A missing field counts as
//! the empty string, as in PHP. The header is `base64(hash_hmac('sha1', string, API secret))`, and
//! PHP's `hash_hmac` returns the **lowercase hex** digest: the header is base64 of that 40-character
//! text, not of the 20 raw bytes (§2.3). Comparison is constant-time. Zadarma sends the header only
//! when the account has an API key and secret; without a secret nothing can be verified, and
//! [`verify`] refuses.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

/// The fields whose values, concatenated in this order, an event signs; `None` for an unknown event.
pub fn signed_fields(event: &str) -> Option<&'static [&'static str]> {
    match event {
        "NOTIFY_START" | "NOTIFY_INTERNAL" | "NOTIFY_END" | "NOTIFY_IVR" => {
            Some(&["caller_id", "called_did", "call_start"])
        }
        "NOTIFY_ANSWER" => Some(&["caller_id", "destination", "call_start"]),
        "NOTIFY_OUT_START" | "NOTIFY_OUT_END" => Some(&["internal", "destination", "call_start"]),
        "NOTIFY_RECORD" => Some(&["pbx_call_id", "call_id_with_rec"]),
        _ => None,
    }
}

/// The first value of `name` in the form parameters (empty when absent).
fn field<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// The string the `event` field's notification signs; `None` when the event is missing or unknown.
pub fn signature_string(params: &[(String, String)]) -> Option<String> {
    let event = params.iter().find(|(k, _)| k == "event")?.1.as_str();
    let fields = signed_fields(event)?;
    Some(fields.iter().map(|name| field(params, name)).collect())
}

/// `base64(lowercase hex(HMAC-SHA1(secret, s)))`, as PHP's `base64_encode(hash_hmac('sha1', s, secret))`.
pub fn sign(secret: &str, s: &str) -> String {
    BASE64.encode(hmac_sha1_hex(secret, s))
}

/// The lowercase hex HMAC-SHA1 of `s` keyed by `secret` (PHP `hash_hmac('sha1', s, secret)`).
pub(crate) fn hmac_sha1_hex(secret: &str, s: &str) -> String {
    // HMAC takes keys of any length: `new_from_slice` cannot fail here.
    let mut mac = match Hmac::<Sha1>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts a key of any length"),
    };
    mac.update(s.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// True when `header` is the signature Zadarma computes over `params` with our API `secret`.
/// False for an empty secret or header, or a notification whose event has no known signed fields.
pub fn verify(secret: &str, params: &[(String, String)], header: &str) -> bool {
    let header = header.trim();
    if secret.is_empty() || header.is_empty() {
        return false;
    }
    let Some(s) = signature_string(params) else {
        return false;
    };
    let expected = sign(secret, &s);
    expected.as_bytes().ct_eq(header.as_bytes()).into()
}
