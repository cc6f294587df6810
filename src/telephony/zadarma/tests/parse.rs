//! Parsing `NOTIFY_*` forms: every event's fields, `wait_dtmf` as PHP form arrays, errors that
//! name the field, and no panic whatever the input.

use chrono::TimeDelta;
use proptest::prelude::*;

use super::form;
use crate::telephony::zadarma::parse::{Dtmf, Ended, Inbound, Notify, ParseError, parse};

fn inbound() -> Vec<(&'static str, &'static str)> {
    vec![
        ("call_start", "2026-12-07 10:00:00"),
        ("pbx_call_id", "in_ae6b03b3b0765d127ec0b739209346bbc4f0d52d"),
        ("caller_id", "79161234567"),
        ("called_did", "74950000000"),
    ]
}

fn call() -> Inbound {
    Inbound {
        pbx_call_id: "in_ae6b03b3b0765d127ec0b739209346bbc4f0d52d".into(),
        caller_id: Some("79161234567".into()),
        called_did: Some("74950000000".into()),
        call_start: "2026-12-07 10:00:00".into(),
    }
}

#[test]
fn start_and_ivr_with_and_without_keys() {
    let mut f = inbound();
    f.push(("event", "NOTIFY_START"));
    assert_eq!(parse(&form(&f)), Ok(Notify::Start(call())));
    f.pop();
    f.push(("event", "NOTIFY_IVR"));
    assert_eq!(
        parse(&form(&f)),
        Ok(Notify::Ivr {
            call: call(),
            dtmf: None
        })
    );
    f.extend([
        ("wait_dtmf[name]", "vn0.0123456789"),
        ("wait_dtmf[digits]", "89031112233"),
        ("wait_dtmf[default_behaviour]", "0"),
    ]);
    let want = Dtmf {
        name: "vn0.0123456789".into(),
        digits: Some("89031112233".into()),
        default: false,
    };
    assert_eq!(
        parse(&form(&f)),
        Ok(Notify::Ivr {
            call: call(),
            dtmf: Some(want)
        })
    );
}

#[test]
fn end_with_and_without_a_recording() {
    let mut f = inbound();
    f.extend([
        ("event", "NOTIFY_END"),
        ("internal", "101"),
        ("duration", "95"),
        ("disposition", "answered"),
        ("status_code", "16"),
        ("is_recorded", "1"),
        ("call_id_with_rec", "1700000000.123"),
    ]);
    let end = Ended {
        internal: Some("101".into()),
        duration: TimeDelta::seconds(95),
        disposition: "answered".into(),
        recording: Some("1700000000.123".into()),
    };
    assert_eq!(parse(&form(&f)), Ok(Notify::End { call: call(), end }));
    // is_recorded=1 without the recording's id names the field.
    let broken: Vec<_> = f
        .iter()
        .copied()
        .filter(|(k, _)| *k != "call_id_with_rec")
        .collect();
    assert_eq!(
        parse(&form(&broken)),
        Err(ParseError::Missing("call_id_with_rec"))
    );
    let mut bad = f.clone();
    bad.retain(|(k, _)| *k != "duration");
    bad.push(("duration", "soon"));
    assert!(matches!(
        parse(&form(&bad)),
        Err(ParseError::Malformed("duration", _))
    ));
}

#[test]
fn other_events_and_errors() {
    let record = form(&[
        ("event", "NOTIFY_RECORD"),
        ("pbx_call_id", "in_1"),
        ("call_id_with_rec", "17.5"),
    ]);
    assert_eq!(
        parse(&record),
        Ok(Notify::Record {
            pbx_call_id: "in_1".into(),
            call_id_with_rec: "17.5".into()
        })
    );
    let answer = form(&[
        ("event", "NOTIFY_ANSWER"),
        ("pbx_call_id", "in_1"),
        ("internal", "101"),
    ]);
    assert_eq!(
        parse(&answer),
        Ok(Notify::Answer {
            pbx_call_id: "in_1".into(),
            internal: Some("101".into())
        })
    );
    assert_eq!(parse(&form(&[])), Err(ParseError::Missing("event")));
    assert_eq!(
        parse(&form(&[("event", "NOTIFY_NEW")])),
        Err(ParseError::Unknown("NOTIFY_NEW".into()))
    );
    let start = form(&[("event", "NOTIFY_START"), ("pbx_call_id", "in_1")]);
    assert_eq!(parse(&start), Err(ParseError::Missing("call_start")));
    let spaced = form(&[
        ("event", "NOTIFY_START"),
        ("pbx_call_id", "in 1"),
        ("call_start", "x"),
    ]);
    assert!(matches!(
        parse(&spaced),
        Err(ParseError::Malformed("pbx_call_id", _))
    ));
}

proptest! {
    #[test]
    fn never_panics(fields in proptest::collection::vec(("[a-z_\\[\\]]{1,20}", ".{0,40}"), 0..12),
                    event in prop::sample::select(vec!["NOTIFY_START", "NOTIFY_IVR", "NOTIFY_END",
                        "NOTIFY_OUT_END", "NOTIFY_RECORD", "NOTIFY_INTERNAL", "NOTIFY_ANSWER", "X"])) {
        let mut f: Vec<(String, String)> = fields;
        f.push(("event".into(), event.into()));
        let _ = parse(&f);
    }
}
