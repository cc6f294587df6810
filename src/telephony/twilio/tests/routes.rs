//! The route table: every route's path, and mapping request paths back to routes.

use crate::telephony::Step;
use crate::telephony::twilio::{Route, route_from_path, route_path};

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
