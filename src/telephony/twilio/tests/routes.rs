//! The route table: every route's path, and mapping request paths back to routes.

use crate::telephony::Step;
use crate::telephony::twilio::{Route, route_from_path, route_path, route_template};

#[test]
fn route_paths_round_trip() {
    let routes = [
        (Route::Voice, "/webhooks/twilio/voice"),
        (Route::Status, "/webhooks/twilio/status"),
        (Route::DialResult, "/webhooks/twilio/dial"),
        (Route::QueueWait, "/webhooks/twilio/queue/wait"),
        (Route::QueueLeft, "/webhooks/twilio/queue/left"),
        (
            Route::Gather(Step::QueueMenu),
            "/webhooks/twilio/gather/queue-menu",
        ),
        (
            Route::Connect { operator_id: 42 },
            "/webhooks/twilio/connect?operator=42",
        ),
    ];
    for (route, path) in routes {
        assert_eq!(route_path(&route), path);
        let (p, q) = path
            .split_once('?')
            .map_or((path, None), |(p, q)| (p, Some(q)));
        assert_eq!(route_from_path(p, q), Some(route), "{path}");
    }
    for step in [
        Step::DialResult,
        Step::QueueWait,
        Step::QueueLeft,
        Step::QueueMenu,
        Step::Connect,
    ] {
        let path = route_path(&Route::Gather(step));
        assert_eq!(route_from_path(&path, None), Some(Route::Gather(step)));
    }
    assert_eq!(
        route_from_path("/webhooks/twilio/connect", Some("x=1&operator=3")),
        Some(Route::Connect { operator_id: 3 })
    );
    assert_eq!(route_from_path("/webhooks/twilio/connect", None), None);
    assert_eq!(
        route_from_path("/webhooks/twilio/connect", Some("operator=abc")),
        None
    );
    assert_eq!(route_from_path("/webhooks/twilio/voice/", None), None);
    assert_eq!(route_from_path("/webhooks/twilio/gather/nope", None), None);
    assert_eq!(route_from_path("/webhooks/zadarma/voice", None), None);
}

#[test]
fn route_templates_drop_ids_and_steps() {
    let routes = [
        Route::Voice,
        Route::Status,
        Route::DialResult,
        Route::QueueWait,
        Route::QueueLeft,
        Route::Recorded,
        Route::RecordingReady,
        Route::Connect { operator_id: 42 },
        Route::CallbackConnect { attempt_id: 7 },
        Route::CallbackStatus { attempt_id: 7 },
    ];
    for route in routes {
        let path = route_path(&route);
        let bare = path.split_once('?').map_or(path.as_str(), |(p, _)| p);
        assert_eq!(route_template(&route), bare, "{route:?}");
    }
    let gather = Route::Gather(Step::VoicemailNumber { attempt: 2 });
    assert!(route_path(&gather).starts_with("/webhooks/twilio/gather/voicemail-number"));
    assert_eq!(route_template(&gather), "/webhooks/twilio/gather/{step}");
}
