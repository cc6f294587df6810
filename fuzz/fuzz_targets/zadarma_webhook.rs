//! Zadarma PBX notifications: the form body parsed into a notification, and the `Signature`
//! check. Properties: nothing panics; a notification of a known event signed by our own signer
//! (PHP's `base64(hash_hmac('sha1', …))`) verifies, also with the header's surrounding
//! whitespace; a changed signature, secret or signed field does not; an unknown event never
//! verifies; a parsed notification keeps its own `pbx_call_id`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perezvon::telephony::zadarma::parse::{Notify, field, parse};
use perezvon::telephony::zadarma::signature::{sign, signature_string, signed_fields, verify};

const SECRET: &str = "fuzz-api-secret";

fuzz_target!(|data: &[u8]| {
    let params: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    let parsed = parse(&params);
    if let Ok(n) = &parsed {
        let id = match n {
            Notify::Start(c) | Notify::Internal { call: c, .. } | Notify::End { call: c, .. } => {
                &c.pbx_call_id
            }
            Notify::Ivr { call: c, .. } => &c.pbx_call_id,
            Notify::OutStart(c) | Notify::OutEnd { call: c, .. } => &c.pbx_call_id,
            Notify::Answer { pbx_call_id, .. } | Notify::Record { pbx_call_id, .. } => pbx_call_id,
        };
        assert!(!id.trim().is_empty());
    }
    let event = params
        .iter()
        .find(|(k, _)| k == "event")
        .map(|(_, v)| v.as_str());
    match signature_string(&params) {
        Some(s) => {
            let fields = signed_fields(event.unwrap_or("")).expect("a signed event is known");
            let header = sign(SECRET, &s);
            assert!(verify(SECRET, &params, &header));
            assert!(verify(SECRET, &params, &format!(" {header}\n")));
            assert!(!verify("another-secret", &params, &header));
            assert!(!verify("", &params, &header));
            assert!(!verify(SECRET, &params, &format!("{header}A")));
            // Changing a signed field's value (its first occurrence) breaks the signature.
            let name = fields[0];
            let mut changed = params.clone();
            match changed.iter_mut().find(|(k, _)| k == name) {
                Some((_, v)) => v.push('0'),
                None => changed.insert(0, (name.to_string(), "0".into())),
            }
            assert!(!verify(SECRET, &changed, &header));
        }
        None => {
            assert!(event.is_none_or(|e| signed_fields(e).is_none()));
            assert!(!verify(SECRET, &params, &sign(SECRET, "")));
        }
    }
    let _ = field(&params, "event");
});
