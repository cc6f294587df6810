//! Parsing Twilio's form parameters per route, and each event's idempotency key.

use chrono::TimeDelta;

use super::form;
use crate::telephony::twilio::{ParseError, Route, event_key, parse};
use crate::telephony::{CallStatus, DialOutcome, EventKind, QueueResult, Step};

const SID: &str = "CA0123456789abcdef0123456789abcdef";

fn with_call(extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut p = form(&[
        ("AccountSid", "AC1"),
        ("CallSid", SID),
        ("From", "+74951234567"),
        ("To", "+74997654321"),
    ]);
    p.extend(form(extra));
    p
}

fn kind(route: Route, extra: &[(&str, &str)]) -> EventKind {
    parse(&route, &with_call(extra)).unwrap().kind
}

#[test]
fn incoming_call_keeps_numbers_and_ignores_unknown_params() {
    let p = with_call(&[
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("StirVerstat", "TN-Validation-Passed-A"),
    ]);
    let event = parse(&Route::Voice, &p).unwrap();
    assert_eq!(event.call_id, SID);
    assert_eq!(event.from.as_deref(), Some("+74951234567"));
    assert_eq!(event.to.as_deref(), Some("+74997654321"));
    assert_eq!(event.kind, EventKind::Incoming);
    let anonymous = parse(&Route::Voice, &form(&[("CallSid", SID), ("From", "")])).unwrap();
    assert_eq!((anonymous.from, anonymous.to), (None, None));
}

#[test]
fn every_event_needs_a_call_sid() {
    let err = parse(&Route::Voice, &form(&[("From", "+74951234567")])).unwrap_err();
    assert_eq!(err, ParseError::Missing("CallSid"));
    assert_eq!(err.field(), "CallSid");
    assert_eq!(err.to_string(), "missing parameter `CallSid`");
}

#[test]
fn status_callbacks() {
    let completed = kind(
        Route::Status,
        &[
            ("CallStatus", "completed"),
            ("SequenceNumber", "3"),
            ("CallDuration", "42"),
        ],
    );
    let expected = EventKind::Status {
        status: CallStatus::Completed,
        sequence: Some(3),
        duration: Some(TimeDelta::seconds(42)),
    };
    assert_eq!(completed, expected);
    let statuses = [
        ("queued", CallStatus::Queued),
        ("ringing", CallStatus::Ringing),
        ("in-progress", CallStatus::InProgress),
        ("busy", CallStatus::Busy),
        ("no-answer", CallStatus::NoAnswer),
        ("failed", CallStatus::Failed),
        ("canceled", CallStatus::Canceled),
    ];
    for (name, status) in statuses {
        let expected = EventKind::Status {
            status,
            sequence: None,
            duration: None,
        };
        assert_eq!(
            kind(Route::Status, &[("CallStatus", name)]),
            expected,
            "{name}"
        );
    }
    let err = parse(&Route::Status, &with_call(&[("CallStatus", "exploded")])).unwrap_err();
    assert_eq!(err.field(), "CallStatus");
    let err = parse(
        &Route::Status,
        &with_call(&[("CallStatus", "completed"), ("SequenceNumber", "x")]),
    )
    .unwrap_err();
    assert_eq!(err.field(), "SequenceNumber");
    assert_eq!(
        parse(&Route::Status, &with_call(&[])).unwrap_err(),
        ParseError::Missing("CallStatus")
    );
}

#[test]
fn dial_results() {
    let cases = [
        ("completed", DialOutcome::Answered),
        ("answered", DialOutcome::Answered),
        ("busy", DialOutcome::Busy),
        ("no-answer", DialOutcome::NoAnswer),
        ("failed", DialOutcome::Failed),
        ("canceled", DialOutcome::Canceled),
    ];
    for (name, outcome) in cases {
        let got = kind(
            Route::DialResult,
            &[
                ("DialCallStatus", name),
                ("DialCallDuration", "65"),
                ("DialBridged", "true"),
            ],
        );
        assert_eq!(
            got,
            EventKind::DialEnded {
                outcome,
                talk: TimeDelta::seconds(65)
            },
            "{name}"
        );
    }
    let no_duration = kind(Route::DialResult, &[("DialCallStatus", "busy")]);
    assert_eq!(
        no_duration,
        EventKind::DialEnded {
            outcome: DialOutcome::Busy,
            talk: TimeDelta::zero()
        }
    );
    let err = parse(
        &Route::DialResult,
        &with_call(&[("DialCallStatus", "busy"), ("DialCallDuration", "-1")]),
    )
    .unwrap_err();
    assert_eq!(err.field(), "DialCallDuration");
    assert_eq!(
        parse(&Route::DialResult, &with_call(&[])).unwrap_err(),
        ParseError::Missing("DialCallStatus")
    );
}

#[test]
fn queue_wait_and_leave() {
    let wait = kind(
        Route::QueueWait,
        &[
            ("QueuePosition", "2"),
            ("QueueTime", "95"),
            ("AvgQueueTime", "30"),
        ],
    );
    assert_eq!(
        wait,
        EventKind::QueueWait {
            position: 2,
            waited: TimeDelta::seconds(95)
        }
    );
    let err = parse(&Route::QueueWait, &with_call(&[("QueueTime", "5")])).unwrap_err();
    assert_eq!(err, ParseError::Missing("QueuePosition"));
    let err = parse(
        &Route::QueueWait,
        &with_call(&[("QueuePosition", "first"), ("QueueTime", "5")]),
    )
    .unwrap_err();
    assert_eq!(err.field(), "QueuePosition");
    let results = [
        ("bridged", QueueResult::Bridged),
        ("leave", QueueResult::Left),
        ("redirected", QueueResult::Redirected),
        ("hangup", QueueResult::Hangup),
        ("error", QueueResult::Error),
        ("system-error", QueueResult::Error),
        ("queue-full", QueueResult::Error),
    ];
    for (name, result) in results {
        let got = kind(
            Route::QueueLeft,
            &[
                ("QueueResult", name),
                ("QueueTime", "12"),
                ("QueueSid", "QU1"),
            ],
        );
        assert_eq!(
            got,
            EventKind::QueueLeft {
                result,
                waited: TimeDelta::seconds(12)
            },
            "{name}"
        );
    }
    assert_eq!(
        parse(&Route::QueueLeft, &with_call(&[("QueueResult", "gone")]))
            .unwrap_err()
            .field(),
        "QueueResult"
    );
}

#[test]
fn digits_and_connect() {
    let menu = Route::Gather(Step::QueueMenu);
    let pressed = kind(menu, &[("Digits", "1"), ("FinishedOnKey", "")]);
    assert_eq!(
        pressed,
        EventKind::Digits {
            step: Step::QueueMenu,
            digits: Some("1".into())
        }
    );
    assert_eq!(
        kind(menu, &[("Digits", "")]),
        EventKind::Digits {
            step: Step::QueueMenu,
            digits: None
        }
    );
    assert_eq!(
        kind(menu, &[]),
        EventKind::Digits {
            step: Step::QueueMenu,
            digits: None
        }
    );
    assert_eq!(
        kind(Route::Connect { operator_id: 7 }, &[]),
        EventKind::Connect { operator_id: 7 }
    );
}

#[test]
fn event_keys() {
    let key = |route: Route, extra: &[(&str, &str)]| event_key(&route, &with_call(extra));
    assert_eq!(key(Route::Voice, &[("CallStatus", "ringing")]), "voice");
    assert_eq!(
        key(
            Route::Status,
            &[("CallStatus", "completed"), ("SequenceNumber", "4")]
        ),
        "status:4"
    );
    assert_eq!(
        key(Route::Status, &[("CallStatus", "completed")]),
        "status:completed"
    );
    assert_eq!(
        key(
            Route::DialResult,
            &[("DialCallStatus", "busy"), ("DialCallSid", "CA9")]
        ),
        "dial:CA9"
    );
    assert_eq!(
        key(Route::DialResult, &[("DialCallStatus", "busy")]),
        "dial:busy"
    );
    assert_eq!(
        key(
            Route::QueueWait,
            &[("QueuePosition", "1"), ("QueueTime", "60")]
        ),
        "wait:60"
    );
    assert_eq!(
        key(Route::QueueLeft, &[("QueueResult", "hangup")]),
        "left:hangup"
    );
    assert_eq!(
        key(Route::Gather(Step::QueueMenu), &[("Digits", "1")]),
        "gather:queue-menu:1"
    );
    assert_eq!(
        key(Route::Gather(Step::QueueMenu), &[]),
        "gather:queue-menu:"
    );
    assert_eq!(key(Route::Connect { operator_id: 12 }, &[]), "connect:12");
}
