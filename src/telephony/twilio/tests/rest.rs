//! The REST client against wiremock speaking Twilio's protocol: Basic auth, form bodies, 201 with a
//! call resource, Twilio's JSON errors, and which failures may be retried.

use std::time::Duration;

use base64::Engine;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::telephony::twilio::{CreateCall, TwilioClient, TwilioError};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "s3cr3t-auth-token";
const CA: &str = "CAfedcba9876543210fedcba9876543210";

fn basic() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{AC}:{TOKEN}"))
    )
}

fn calls_path() -> String {
    format!("/2010-04-01/Accounts/{AC}/Calls.json")
}

fn form_of(request: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body).into_owned().collect()
}

fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
    super::form(p)
}

fn client(server: &MockServer) -> TwilioClient {
    TwilioClient::new(&server.uri(), AC, TOKEN).unwrap()
}

fn callback() -> CreateCall {
    CreateCall {
        to: "+74951234567".into(),
        from: "+74997654321".into(),
        url: "https://hotline.example.ru/webhooks/twilio/voice".into(),
        status_callback: Some("https://hotline.example.ru/webhooks/twilio/status".into()),
        timeout_secs: 30,
    }
}

#[tokio::test]
async fn redirect_call_posts_the_url_with_basic_auth() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/2010-04-01/Accounts/{AC}/Calls/{CA}.json")))
        .and(header("authorization", basic().as_str()))
        .and(header("content-type", "application/x-www-form-urlencoded"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"sid": CA, "status": "in-progress"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let url = "https://hotline.example.ru/webhooks/twilio/connect?operator=7";
    client(&server).redirect_call(CA, url).await.unwrap();
    let received = server.received_requests().await.unwrap();
    assert_eq!(
        form_of(&received[0]),
        pairs(&[("Url", url), ("Method", "POST")])
    );
}

#[tokio::test]
async fn create_call_sends_repeated_status_events_and_returns_the_sid() {
    let server = MockServer::start().await;
    let created = serde_json::json!({"sid": "CA11112222333344445555666677778888", "status": "queued", "direction": "outbound-api"});
    Mock::given(method("POST"))
        .and(path(calls_path()))
        .and(header("authorization", basic().as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(created))
        .expect(1)
        .mount(&server)
        .await;
    let sid = client(&server).create_call(&callback()).await.unwrap();
    assert_eq!(sid, "CA11112222333344445555666677778888");
    let received = server.received_requests().await.unwrap();
    let expected = pairs(&[
        ("To", "+74951234567"),
        ("From", "+74997654321"),
        ("Url", "https://hotline.example.ru/webhooks/twilio/voice"),
        ("Method", "POST"),
        ("Timeout", "30"),
        (
            "StatusCallback",
            "https://hotline.example.ru/webhooks/twilio/status",
        ),
        ("StatusCallbackMethod", "POST"),
        ("StatusCallbackEvent", "initiated"),
        ("StatusCallbackEvent", "ringing"),
        ("StatusCallbackEvent", "answered"),
        ("StatusCallbackEvent", "completed"),
    ]);
    assert_eq!(form_of(&received[0]), expected);
}

#[tokio::test]
async fn create_call_without_status_callback_sends_no_events() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(calls_path()))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"sid": "CA1"})))
        .mount(&server)
        .await;
    let call = CreateCall {
        status_callback: None,
        ..callback()
    };
    assert_eq!(client(&server).create_call(&call).await.unwrap(), "CA1");
    let form = form_of(&server.received_requests().await.unwrap()[0]);
    assert!(
        form.iter().all(|(k, _)| !k.starts_with("StatusCallback")),
        "{form:?}"
    );
}

#[tokio::test]
async fn twilio_4xx_error_is_not_retryable_and_keeps_code_and_message() {
    let server = MockServer::start().await;
    let body = serde_json::json!({
        "code": 20404,
        "message": "The requested resource /2010-04-01/Accounts/AC/Calls/CA.json was not found",
        "more_info": "https://www.twilio.com/docs/errors/20404",
        "status": 404
    });
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(body))
        .mount(&server)
        .await;
    let err = client(&server)
        .redirect_call(CA, "https://x.example/")
        .await
        .unwrap_err();
    match &err {
        TwilioError::Http {
            status: 404,
            code: Some(20404),
            message: Some(m),
        } => assert!(m.contains("was not found")),
        other => panic!("unexpected {other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("error 20404"), "{err}");
}

#[tokio::test]
async fn phone_numbers_in_twilio_messages_are_masked() {
    let server = MockServer::start().await;
    let body = serde_json::json!({"code": 21211, "message": "The 'To' number +74951234567 is not a valid phone number.", "status": 400});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(body))
        .mount(&server)
        .await;
    let err = client(&server).create_call(&callback()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("+7******4567") && !text.contains("4951234567"),
        "{text}"
    );
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn server_errors_and_rate_limits_are_retryable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("<html>busy</html>"))
        .mount(&server)
        .await;
    let err = client(&server).create_call(&callback()).await.unwrap_err();
    assert!(
        matches!(
            err,
            TwilioError::Http {
                status: 503,
                code: None,
                message: None
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let limited = TwilioError::Http {
        status: 429,
        code: Some(20429),
        message: None,
    };
    assert!(limited.is_retryable());
}

#[tokio::test]
async fn a_slow_twilio_times_out_and_may_be_retried() {
    let server = MockServer::start().await;
    let slow = ResponseTemplate::new(200).set_delay(Duration::from_secs(5));
    Mock::given(method("POST"))
        .respond_with(slow)
        .mount(&server)
        .await;
    let client =
        TwilioClient::with_timeout(&server.uri(), AC, TOKEN, Duration::from_millis(200)).unwrap();
    let err = client
        .redirect_call(CA, "https://x.example/")
        .await
        .unwrap_err();
    assert!(matches!(err, TwilioError::Timeout), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn an_unreachable_twilio_is_a_retryable_transport_error() {
    // Nothing listens on a freshly closed port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = TwilioClient::new(&format!("http://127.0.0.1:{port}"), AC, TOKEN).unwrap();
    let err = client
        .redirect_call(CA, "https://x.example/")
        .await
        .unwrap_err();
    assert!(matches!(err, TwilioError::Transport(_)), "{err:?}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_created_call_without_sid_is_a_decode_error() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(201).set_body_string("{}"))
        .mount(&server)
        .await;
    let err = client(&server).create_call(&callback()).await.unwrap_err();
    assert!(
        matches!(err, TwilioError::Decode(_)) && !err.is_retryable(),
        "{err:?}"
    );
}

#[test]
fn debug_hides_the_token_and_sids_are_checked() {
    let client = TwilioClient::new("https://api.twilio.com", AC, TOKEN).unwrap();
    let debug = format!("{client:?}");
    assert!(debug.contains(AC) && !debug.contains(TOKEN), "{debug}");
    assert!(matches!(
        TwilioClient::new("https://api.twilio.com", "AC/../x", TOKEN),
        Err(TwilioError::Invalid(_))
    ));
}

#[tokio::test]
async fn a_call_sid_cannot_escape_the_path() {
    let client = TwilioClient::new("http://127.0.0.1:9", AC, TOKEN).unwrap();
    let err = client
        .redirect_call("../Calls", "https://x.example/")
        .await
        .unwrap_err();
    assert!(matches!(err, TwilioError::Invalid(_)) && !err.is_retryable());
}
