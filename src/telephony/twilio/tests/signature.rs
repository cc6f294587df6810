//! X-Twilio-Signature: every vector of PROVIDERS.md §1.10 (from twilio-python's
//! `tests/unit/test_request_validator.py`), port handling, and the ways a request can be forged.

use proptest::prelude::*;

use super::form;
use crate::telephony::twilio::signature::{expected_signature, validate, validate_json};

const TOKEN: &str = "12345";
const URI: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";
const EXPECTED: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
const JSON_BODY: &str = r#"{"property": "value", "boolean": true}"#;
const JSON_HASH: &str = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";

fn params() -> Vec<(String, String)> {
    form(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ])
}

#[test]
fn computes_the_reference_signature() {
    assert_eq!(expected_signature(TOKEN, URI, &params()), EXPECTED);
    assert!(validate(TOKEN, URI, &params(), EXPECTED));
}

#[test]
fn explicit_ports_sign_differently() {
    let https443 = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
    let http80 = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
    let http1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert_eq!(
        expected_signature(TOKEN, https443, &params()),
        "kvajT1Ptam85bY51eRf/AJRuM3w="
    );
    assert_eq!(
        expected_signature(TOKEN, http80, &params()),
        "0ZXoZLH/DfblKGATFgpif+LLRf4="
    );
    assert_eq!(
        expected_signature(TOKEN, http1234, &params()),
        "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    );
}

#[test]
fn default_port_is_accepted_removed_or_added() {
    // Configured without a port, Twilio signed with :443 — and the other way round.
    assert!(validate(
        TOKEN,
        URI,
        &params(),
        "kvajT1Ptam85bY51eRf/AJRuM3w="
    ));
    assert!(validate(
        TOKEN,
        "https://mycompany.com:443/myapp.php?foo=1&bar=2",
        &params(),
        EXPECTED
    ));
    let http = "http://mycompany.com/myapp.php?foo=1&bar=2";
    assert!(validate(
        TOKEN,
        http,
        &params(),
        "0ZXoZLH/DfblKGATFgpif+LLRf4="
    ));
    assert!(validate(
        TOKEN,
        "http://mycompany.com:80/myapp.php?foo=1&bar=2",
        &params(),
        &expected_signature(TOKEN, http, &params())
    ));
    // https's default port is 443, not 80.
    assert!(!validate(
        TOKEN,
        URI,
        &params(),
        &expected_signature(
            TOKEN,
            "https://mycompany.com:80/myapp.php?foo=1&bar=2",
            &params()
        )
    ));
}

#[test]
fn explicit_non_default_port_is_kept_or_stripped_like_twilio_python() {
    let http1234 = "http://mycompany.com:1234/myapp.php?foo=1&bar=2";
    assert!(validate(
        TOKEN,
        http1234,
        &params(),
        "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    ));
    // https with an explicit port also validates against the port-less signature.
    assert!(validate(
        TOKEN,
        "https://mycompany.com:1234/myapp.php?foo=1&bar=2",
        &params(),
        EXPECTED
    ));
    // A signature over :1234 does not validate a URL configured without it.
    assert!(!validate(
        TOKEN,
        "http://mycompany.com/myapp.php?foo=1&bar=2",
        &params(),
        "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
    ));
}

#[test]
fn repeated_names_append_each_value_sorted() {
    let multi = form(&[
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "5678"),
        ("Digits", "1234"),
    ]);
    assert_eq!(
        expected_signature(TOKEN, URI, &multi),
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    );
    assert!(validate(TOKEN, URI, &multi, "IK+Dwps556ElfBT0I3Rgjkr1wJU="));
    // Only one of the two values: a different request.
    let single = form(&[
        ("Sid", "CA123"),
        ("SidAccount", "AC123"),
        ("Digits", "1234"),
    ]);
    assert!(!validate(
        TOKEN,
        URI,
        &single,
        "IK+Dwps556ElfBT0I3Rgjkr1wJU="
    ));
}

#[test]
fn json_body_is_checked_through_body_sha256() {
    let url = format!("{URI}&bodySHA256={JSON_HASH}");
    assert_eq!(
        expected_signature(TOKEN, &url, &[]),
        "a9nBmqA0ju/hNViExpshrM61xv4="
    );
    assert!(validate_json(
        TOKEN,
        &url,
        JSON_BODY.as_bytes(),
        "a9nBmqA0ju/hNViExpshrM61xv4="
    ));
    // Re-serialized (different bytes), tampered body, or no hash in the URL: rejected.
    let compact = r#"{"property":"value","boolean":true}"#;
    assert!(!validate_json(
        TOKEN,
        &url,
        compact.as_bytes(),
        "a9nBmqA0ju/hNViExpshrM61xv4="
    ));
    assert!(!validate_json(
        TOKEN,
        URI,
        JSON_BODY.as_bytes(),
        &expected_signature(TOKEN, URI, &[])
    ));
    assert!(!validate_json(
        "",
        &url,
        JSON_BODY.as_bytes(),
        "a9nBmqA0ju/hNViExpshrM61xv4="
    ));
    assert!(!validate_json(
        "wrong",
        &url,
        JSON_BODY.as_bytes(),
        "a9nBmqA0ju/hNViExpshrM61xv4="
    ));
}

#[test]
fn forgeries_are_rejected() {
    assert!(!validate("54321", URI, &params(), EXPECTED), "wrong token");
    assert!(!validate("", URI, &params(), EXPECTED), "empty token");
    assert!(!validate(TOKEN, URI, &params(), ""), "empty signature");
    assert!(
        !validate(TOKEN, URI, &params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8"),
        "truncated signature"
    );
    let mut tampered = params();
    tampered[1].1 = "1235".into();
    assert!(!validate(TOKEN, URI, &tampered, EXPECTED), "tampered param");
    let missing: Vec<_> = params()
        .into_iter()
        .filter(|(k, _)| k != "Caller")
        .collect();
    assert!(!validate(TOKEN, URI, &missing, EXPECTED), "missing param");
    let mut extra = params();
    extra.push(("Extra".into(), "x".into()));
    assert!(!validate(TOKEN, URI, &extra, EXPECTED), "added param");
    assert!(
        !validate(
            TOKEN,
            "https://mycompany.com/myapp.php/?foo=1&bar=2",
            &params(),
            EXPECTED
        ),
        "trailing slash"
    );
    assert!(
        !validate(
            TOKEN,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &params(),
            EXPECTED
        ),
        "scheme"
    );
}

#[test]
fn names_sort_case_sensitively_by_bytes() {
    // "Caller" < "Digits" and "To" < "a": byte order, not case-folded.
    let mixed = form(&[("a", "1"), ("To", "2")]);
    let manual = {
        use base64::Engine;
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha1::Sha1>::new_from_slice(TOKEN.as_bytes()).unwrap();
        mac.update(format!("{URI}To2a1").as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    };
    assert_eq!(expected_signature(TOKEN, URI, &mixed), manual);
}

proptest! {
    #[test]
    fn order_of_received_params_does_not_matter(mut pairs in prop::collection::vec(("[A-Za-z]{1,8}", "[ -~]{0,12}"), 0..8)) {
        let sig = expected_signature(TOKEN, URI, &pairs);
        prop_assert!(validate(TOKEN, URI, &pairs, &sig));
        pairs.reverse();
        prop_assert!(validate(TOKEN, URI, &pairs, &sig));
        pairs.push(("Zz".into(), "1".into()));
        prop_assert!(!validate(TOKEN, URI, &pairs, &sig));
    }
}
