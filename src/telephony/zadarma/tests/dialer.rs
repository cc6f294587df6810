//! Click-to-call against the fake Zadarma: the callback request from the operator's extension,
//! with and without `predicted`, operators without an extension, and how errors are reported.

use serde_json::json;
use wiremock::{MockServer, ResponseTemplate};

use super::fake::{client, ok, params_of, received, route, zadarma};
use crate::domain::operator::ContactKind;
use crate::telephony::zadarma::{ZadarmaDialer, callback_call_id};
use crate::telephony::{CallbackDial, CallbackDialer, DialError, DialTarget};

fn dial(kind: ContactKind, contact: &str) -> CallbackDial {
    CallbackDial {
        attempt_id: 42,
        operator: DialTarget {
            operator_id: 7,
            kind,
            contact: contact.into(),
        },
        caller: "+79001234567".into(),
    }
}

async fn callback_server(answer: ResponseTemplate) -> MockServer {
    let server = zadarma().await;
    route(&server, "GET", "/v1/request/callback/", answer).await;
    server
}

fn success() -> ResponseTemplate {
    ok(json!({"status": "success", "from": 100, "to": 79001234567u64, "time": 1714564800}))
}

#[tokio::test]
async fn the_dialer_requests_a_callback_from_the_extension() {
    let server = callback_server(success()).await;
    let dialer = ZadarmaDialer::new(client(&server), false);
    assert_eq!(dialer.provider(), "zadarma");
    let call_id = dialer
        .dial(&dial(ContactKind::Extension, "100"))
        .await
        .unwrap();
    assert_eq!(call_id, "zadarma-callback-42");
    assert_eq!(call_id, callback_call_id(42));
    let (raw, _) = params_of(&received(&server).await[0]);
    assert_eq!(raw, "format=json&from=100&to=79001234567");
}

#[tokio::test]
async fn a_predicted_callback_adds_predicted() {
    let server = callback_server(success()).await;
    let dialer = ZadarmaDialer::new(client(&server), true);
    dialer
        .dial(&dial(ContactKind::Extension, "100"))
        .await
        .unwrap();
    let (raw, _) = params_of(&received(&server).await[0]);
    assert_eq!(raw, "format=json&from=100&predicted=1&to=79001234567");
}

#[tokio::test]
async fn the_dialer_refuses_operators_without_an_extension() {
    let server = callback_server(success()).await;
    let dialer = ZadarmaDialer::new(client(&server), false);
    for (kind, contact) in [
        (ContactKind::Phone, "+74951234567"),
        (ContactKind::Sip, "sip:op@pbx.example.ru"),
    ] {
        match dialer.dial(&dial(kind, contact)).await {
            Err(DialError::NotConfigured(text)) => {
                assert!(
                    text.contains("operator 7") && text.contains("extension"),
                    "{text}"
                );
                assert!(!text.contains("74951234567"), "{text}");
            }
            other => panic!("expected NotConfigured, got {other:?}"),
        }
    }
    assert!(received(&server).await.is_empty());
}

#[tokio::test]
async fn dial_errors_say_refused_or_unavailable_without_the_number() {
    let refusal = ResponseTemplate::new(400)
        .set_body_json(json!({"status": "error", "message": "Number 79001234567 is not allowed"}));
    let server = callback_server(refusal).await;
    match ZadarmaDialer::new(client(&server), false)
        .dial(&dial(ContactKind::Extension, "100"))
        .await
    {
        Err(DialError::Refused(text)) => {
            assert!(
                text.contains("not allowed") && !text.contains("79001234567"),
                "{text}"
            )
        }
        other => panic!("expected Refused, got {other:?}"),
    }
    let server = callback_server(ResponseTemplate::new(503)).await;
    let result = ZadarmaDialer::new(client(&server), false)
        .dial(&dial(ContactKind::Extension, "100"))
        .await;
    assert!(
        matches!(result, Err(DialError::Unavailable(_))),
        "{result:?}"
    );
    let mut bad = dial(ContactKind::Extension, "100");
    bad.caller = "+7 900".into();
    let result = ZadarmaDialer::new(client(&server), false).dial(&bad).await;
    assert!(matches!(result, Err(DialError::Refused(_))), "{result:?}");
}
