//! The webhook `Signature`: the worked example of PROVIDERS.md §2.3, the fields each event signs
//! and in which order, and refusals (forged, missing, tampered, unknown event, no secret).

use super::form;
use crate::telephony::zadarma::signature::{sign, signature_string, verify};

const SECRET: &str = "SECRET";
const START: &str = "2024-05-01 12:00:00";
const PBX: &str = "in_ae6b03b3b0765d127ec0b739209346bbc4f0d52d";

/// A notification carrying every field any event signs, with distinct values.
fn all_fields(event: &str) -> Vec<(String, String)> {
    form(&[
        ("event", event),
        ("call_start", START),
        ("pbx_call_id", PBX),
        ("caller_id", "79001234567"),
        ("called_did", "74951234567"),
        ("destination", "101"),
        ("internal", "102"),
        ("call_id_with_rec", "1458313316.343456"),
    ])
}

#[test]
fn worked_example_of_providers_md() {
    let params = form(&[
        ("event", "NOTIFY_START"),
        ("call_start", START),
        ("pbx_call_id", PBX),
        ("caller_id", "79001234567"),
        ("called_did", "74951234567"),
    ]);
    let s = signature_string(&params).unwrap();
    assert_eq!(s, "79001234567749512345672024-05-01 12:00:00");
    let expected = "ZDA5MzY4Y2U3YmEwNDA1ZWRlN2FmYzQ2YjAxZTkxNDliNzdjNzExOQ==";
    assert_eq!(sign(SECRET, &s), expected);
    assert!(verify(SECRET, &params, expected));
}

#[test]
fn each_event_signs_its_own_fields_in_order() {
    let cases = [
        ("NOTIFY_START", "7900123456774951234567"),
        ("NOTIFY_INTERNAL", "7900123456774951234567"),
        ("NOTIFY_END", "7900123456774951234567"),
        ("NOTIFY_IVR", "7900123456774951234567"),
        ("NOTIFY_ANSWER", "79001234567101"),
        ("NOTIFY_OUT_START", "102101"),
        ("NOTIFY_OUT_END", "102101"),
    ];
    for (event, head) in cases {
        let s = signature_string(&all_fields(event)).unwrap();
        assert_eq!(s, format!("{head}{START}"), "{event}");
    }
    assert_eq!(
        signature_string(&all_fields("NOTIFY_RECORD")).unwrap(),
        format!("{PBX}1458313316.343456")
    );
}

#[test]
fn signatures_match_values_computed_independently() {
    // base64(hex(HMAC-SHA1)) computed with Python's hmac/hashlib.
    let answer = form(&[
        ("event", "NOTIFY_ANSWER"),
        ("caller_id", "79001234567"),
        ("destination", "101"),
        ("call_start", START),
    ]);
    assert!(verify(
        SECRET,
        &answer,
        "ZWE0MGJmNDcwNjAzYWQ0MjYyNjhkZDBiOWY3OGM0Y2NiMWFmNWQwYQ=="
    ));
    let out = form(&[
        ("event", "NOTIFY_OUT_START"),
        ("internal", "101"),
        ("destination", "79001234567"),
        ("call_start", START),
    ]);
    assert!(verify(
        SECRET,
        &out,
        "NjVjMGU3YWQ2Njg0YTliN2NiZmE2YWFmNTc0OTAzMzQwMjVkMGIwNQ=="
    ));
    let record = form(&[
        ("event", "NOTIFY_RECORD"),
        ("pbx_call_id", PBX),
        ("call_id_with_rec", "1458313316.343456"),
    ]);
    assert!(verify(
        SECRET,
        &record,
        "MjE0NjA2YWJjYmFlNjc1OTUyYWEwODgyMTRkZWM3ODNkNTlhZTIzOQ=="
    ));
}

#[test]
fn missing_fields_count_as_empty_like_php() {
    let params = form(&[("event", "NOTIFY_START"), ("caller_id", "79001234567")]);
    assert_eq!(signature_string(&params).unwrap(), "79001234567");
}

#[test]
fn unknown_or_missing_event_is_refused() {
    let mut params = all_fields("NOTIFY_SMS");
    assert_eq!(signature_string(&params), None);
    let header = sign(SECRET, &format!("7900123456774951234567{START}"));
    assert!(!verify(SECRET, &params, &header));
    params.retain(|(k, _)| k != "event");
    assert_eq!(signature_string(&params), None);
    assert!(!verify(SECRET, &params, &header));
}

#[test]
fn forged_missing_or_raw_byte_signatures_are_refused() {
    let params = all_fields("NOTIFY_START");
    let good = sign(SECRET, &signature_string(&params).unwrap());
    assert!(verify(SECRET, &params, &good));
    assert!(!verify(SECRET, &params, ""));
    assert!(!verify("", &params, &good));
    assert!(!verify("OTHER", &params, &good));
    assert!(!verify(SECRET, &params, &good[..good.len() - 4]));
    // Base64 of the raw 20 bytes (the common mistake) is not Zadarma's signature.
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(signature_string(&params).unwrap().as_bytes());
    let raw = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    assert!(!verify(SECRET, &params, &raw));
}

#[test]
fn a_tampered_signed_field_is_refused_and_unsigned_fields_are_not_covered() {
    let params = all_fields("NOTIFY_START");
    let good = sign(SECRET, &signature_string(&params).unwrap());
    let mut tampered = params.clone();
    tampered[4].1 = "79990000000".into(); // caller_id
    assert!(!verify(SECRET, &tampered, &good));
    // pbx_call_id is not signed by NOTIFY_START: Zadarma's scheme cannot protect it.
    let mut other = params.clone();
    other[2].1 = "in_other".into();
    assert!(verify(SECRET, &other, &good));
}
