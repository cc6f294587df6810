//! Twilio webhooks: the request path (first line of the input, with its query) mapped to a route,
//! the form body (the rest) parsed into a call event, and the `X-Twilio-Signature` check.
//! Properties: nothing panics; a signature computed by our own signer over the public URL
//! verifies, with the URL's default port written or not; a changed signature or form does not;
//! a JSON body's `bodySHA256` signature verifies only for that body.

#![no_main]

use libfuzzer_sys::fuzz_target;
use perezvon::telephony::twilio::{
    expected_signature, parse, route_from_path, route_path, validate, validate_json,
};
use sha2::{Digest, Sha256};

const TOKEN: &str = "fuzz-auth-token";
const PUBLIC: &str = "https://hotline.example.ru";

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let (path, query) = match head.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (&*head, None),
    };
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();

    if let Some(route) = route_from_path(path, query) {
        let _ = parse::parse(&route, &params);
        let _ = parse::event_key(&route, &params);
        // The path we render for a route maps back to the same route.
        let rendered = route_path(&route);
        let (p, q) = match rendered.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rendered.as_str(), None),
        };
        assert_eq!(route_from_path(p, q), Some(route), "{rendered}");
    }

    // Our own signature over the URL as given verifies; a different one does not.
    let url = format!("{PUBLIC}{head}");
    let sig = expected_signature(TOKEN, &url, &params);
    assert!(validate(TOKEN, &url, &params, &sig));
    assert!(!validate(TOKEN, &url, &params, &format!("x{sig}")));
    assert!(!validate("", &url, &params, &sig));
    let mut more = params.clone();
    more.push(("Injected".into(), "1".into()));
    assert!(!validate(TOKEN, &url, &more, &sig));
    // Twilio may sign with or without the default port.
    // (When the request path starts the URL's path, query or fragment, as real ones do.)
    if head.is_empty() || head.starts_with(['/', '?', '#']) {
        let with_port = format!("{PUBLIC}:443{head}");
        assert!(validate(TOKEN, &with_port, &params, &sig), "{with_port}");
        let sig_port = expected_signature(TOKEN, &with_port, &params);
        assert!(validate(TOKEN, &url, &params, &sig_port), "{url}");
    }
    // Arbitrary URL text (no panic) and the signature as arbitrary text.
    let _ = validate(TOKEN, &head, &params, &head);

    // A JSON body: the claimed body hash must match the bytes.
    let hash = hex::encode(Sha256::digest(body));
    let json_url = format!("{PUBLIC}/webhooks/twilio/voice?bodySHA256={hash}");
    let json_sig = expected_signature(TOKEN, &json_url, &[]);
    assert!(validate_json(TOKEN, &json_url, body, &json_sig));
    let mut other = body.to_vec();
    other.push(b' ');
    assert!(!validate_json(TOKEN, &json_url, &other, &json_sig));
    let _ = validate_json(TOKEN, &head, body, &json_sig);
});
