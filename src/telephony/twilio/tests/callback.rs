//! Click-to-call through Twilio: the call's `To` for each contact kind, the created call's URLs,
//! error mapping, the connect TwiML, the callback routes, and that they are not call events.

use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::form;
use crate::domain::operator::ContactKind;
use crate::speech::{Prompt, Utterance};
use crate::telephony::twilio::callback::{empty_twiml, failure_twiml};
use crate::telephony::twilio::{
    CreateCall, ParseError, Route, SpeechMode, TwilioClient, TwilioDialer, TwilioError,
    connect_twiml, dial_error, dial_to, event_key, is_final_status, parse, route_from_path,
    route_path,
};
use crate::telephony::{CallbackDial, CallbackDialer, DialError, DialTarget};

const AC: &str = "AC0123456789abcdef0123456789abcdef";
const BASE: &str = "https://hotline.example.ru";
const HOTLINE: &str = "+74997654321";
const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#;

fn target(kind: ContactKind, contact: &str) -> DialTarget {
    DialTarget {
        operator_id: 7,
        kind,
        contact: contact.into(),
    }
}

fn click(kind: ContactKind, contact: &str) -> CallbackDial {
    CallbackDial {
        attempt_id: 42,
        operator: target(kind, contact),
        caller: "+79161234567".into(),
    }
}

fn dialer(api_base: &str, from: Option<&str>, sip_domain: Option<&str>) -> TwilioDialer {
    TwilioDialer::new(
        TwilioClient::new(api_base, AC, "token").unwrap(),
        format!("{BASE}/"),
        from.map(str::to_owned),
        sip_domain.map(str::to_owned),
    )
}

#[test]
fn to_is_the_number_the_sip_uri_or_the_extension_at_the_sip_domain() {
    let domain = Some("pbx.school.ru");
    assert_eq!(
        dial_to(&target(ContactKind::Phone, "+74951234567"), domain).unwrap(),
        "+74951234567"
    );
    assert_eq!(
        dial_to(&target(ContactKind::Sip, "sip:ivanova@pbx.school.ru"), None).unwrap(),
        "sip:ivanova@pbx.school.ru"
    );
    assert_eq!(
        dial_to(&target(ContactKind::Extension, "204"), domain).unwrap(),
        "sip:204@pbx.school.ru"
    );
    for missing in [None, Some(""), Some("  ")] {
        let err = dial_to(&target(ContactKind::Extension, "204"), missing).unwrap_err();
        assert!(
            matches!(&err, DialError::NotConfigured(m) if m.contains("operator 7") && m.contains("sip_domain")),
            "{err}"
        );
    }
}

#[test]
fn the_created_call_rings_the_operator_from_the_hotline_with_the_attempts_urls() {
    let d = dialer("http://127.0.0.1:9", Some(HOTLINE), Some("pbx.school.ru"));
    assert_eq!(d.provider(), "twilio");
    assert_eq!(d.public_url, BASE, "the trailing slash is dropped");
    let call = d
        .create_call(&click(ContactKind::Extension, "204"))
        .unwrap();
    assert_eq!(
        call,
        CreateCall {
            to: "sip:204@pbx.school.ru".into(),
            from: HOTLINE.into(),
            url: format!("{BASE}/webhooks/twilio/callback/connect?attempt=42"),
            status_callback: Some(format!("{BASE}/webhooks/twilio/callback/status?attempt=42")),
            timeout_secs: 30,
        }
    );
    assert!(
        !call.url.contains("1234567") && !call.status_callback.unwrap().contains("1234567"),
        "the caller's number never goes into a URL"
    );
}

#[test]
fn no_hotline_number_is_not_configured() {
    for from in [None, Some("")] {
        let d = dialer("http://127.0.0.1:9", from, None);
        let err = d
            .create_call(&click(ContactKind::Phone, "+74951234567"))
            .unwrap_err();
        assert!(
            matches!(&err, DialError::NotConfigured(m) if m.contains("from_number")),
            "{err}"
        );
    }
}

#[test]
fn retryable_twilio_errors_are_unavailable_the_rest_refused_with_masked_numbers() {
    let http = |status, code, message: Option<&str>| TwilioError::Http {
        status,
        code,
        message: message.map(str::to_owned),
    };
    for e in [
        TwilioError::Timeout,
        http(503, None, None),
        http(429, Some(20429), Some("Too Many Requests")),
    ] {
        assert!(matches!(dial_error(e), DialError::Unavailable(_)));
    }
    let refused = dial_error(http(
        400,
        Some(21211),
        Some("The 'To' number +79161234567 is not a valid phone number."),
    ));
    let DialError::Refused(text) = refused else {
        panic!("expected Refused, got {refused:?}");
    };
    assert!(text.contains("HTTP 400"), "{text}");
    assert!(text.contains("21211"), "{text}");
    assert!(text.contains("not a valid phone number"), "{text}");
    assert!(!text.contains("79161234567"), "{text}");
    assert!(text.contains("4567"), "{text}");
    assert!(matches!(
        dial_error(TwilioError::Decode("no sid".into())),
        DialError::Refused(_)
    ));
}

#[tokio::test]
async fn dial_returns_the_call_sid_or_the_mapped_error() {
    let server = MockServer::start().await;
    let calls = format!("/2010-04-01/Accounts/{AC}/Calls.json");
    Mock::given(method("POST"))
        .and(path(calls.as_str()))
        .respond_with(ResponseTemplate::new(201).set_body_json(
            serde_json::json!({"sid": "CA00000000000000000000000000000001", "status": "queued"}),
        ))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(calls.as_str()))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(serde_json::json!({"code": 21215, "message": "Geo permission"})),
        )
        .mount(&server)
        .await;
    let d = dialer(&server.uri(), Some(HOTLINE), None);
    let d: &dyn CallbackDialer = &d;
    let sid = d
        .dial(&click(ContactKind::Phone, "+74951234567"))
        .await
        .unwrap();
    assert_eq!(sid, "CA00000000000000000000000000000001");
    let sent: Vec<(String, String)> =
        form_urlencoded::parse(&server.received_requests().await.unwrap()[0].body)
            .into_owned()
            .collect();
    let get = |name: &str| {
        sent.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(get("To"), Some("+74951234567"));
    assert_eq!(get("From"), Some(HOTLINE));
    assert_eq!(
        get("Url"),
        Some("https://hotline.example.ru/webhooks/twilio/callback/connect?attempt=42")
    );
    assert_eq!(get("Timeout"), Some("30"));
    let err = d
        .dial(&click(ContactKind::Phone, "+74951234567"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, DialError::Refused(m) if m.contains("21215")),
        "{err}"
    );
    // An extension without a SIP domain never reaches Twilio.
    let before = server.received_requests().await.unwrap().len();
    let err = d
        .dial(&click(ContactKind::Extension, "204"))
        .await
        .unwrap_err();
    assert!(matches!(err, DialError::NotConfigured(_)));
    assert_eq!(server.received_requests().await.unwrap().len(), before);
}

#[test]
fn connect_twiml_announces_then_dials_the_caller_with_the_hotline_caller_id() {
    let xml = connect_twiml(
        &SpeechMode::default(),
        &Prompt::Connecting.utterance(),
        "+79161234567",
        HOTLINE,
    );
    roxmltree::Document::parse(&xml).expect("well-formed XML");
    let expected = format!(
        r#"{HEAD}<Say language="ru-RU" voice="Polly.Tatyana">{}</Say><Dial callerId="+74997654321" timeout="30"><Number>+79161234567</Number></Dial></Response>"#,
        Prompt::Connecting.utterance().text
    );
    assert_eq!(xml, expected);
    assert!(
        !xml.contains("action="),
        "no <Dial action>: the call ends with the caller"
    );
}

#[test]
fn connect_twiml_plays_clips_and_escapes_everything() {
    let clips = SpeechMode::Clips {
        base_url: "https://hotline.example.ru/audio/prompts".into(),
    };
    let xml = connect_twiml(
        &clips,
        &Prompt::Connecting.utterance(),
        "+7916<1>&\"",
        "+7499'\u{1}",
    );
    roxmltree::Document::parse(&xml).expect("well-formed XML");
    assert!(
        xml.contains("<Play>https://hotline.example.ru/audio/prompts/"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"callerId="+7499&apos;""#),
        "control characters dropped: {xml}"
    );
    assert!(
        xml.contains("<Number>+7916&lt;1&gt;&amp;&quot;</Number>"),
        "{xml}"
    );
    let tts = SpeechMode::Tts {
        language: "ru-RU".into(),
        voice: "Polly.Maxim".into(),
    };
    let announce = Utterance {
        text: "Звонок <от> «Ивановой» & Co".into(),
        clips: vec![],
    };
    let xml = connect_twiml(&tts, &announce, "+79161234567", HOTLINE);
    roxmltree::Document::parse(&xml).expect("well-formed XML");
    assert!(
        xml.contains(
            r#"<Say language="ru-RU" voice="Polly.Maxim">Звонок &lt;от&gt; «Ивановой» &amp; Co</Say>"#
        ),
        "{xml}"
    );
}

#[test]
fn failure_twiml_apologizes_and_hangs_up() {
    let xml = failure_twiml(&SpeechMode::default());
    roxmltree::Document::parse(&xml).expect("well-formed XML");
    assert_eq!(
        xml,
        format!(
            r#"{HEAD}<Say language="ru-RU" voice="Polly.Tatyana">{}</Say><Hangup/></Response>"#,
            Prompt::TechnicalError.utterance().text
        )
    );
    assert_eq!(empty_twiml(), format!("{HEAD}</Response>"));
}

#[test]
fn final_statuses() {
    for s in ["completed", "busy", "no-answer", "failed", "canceled"] {
        assert_eq!(is_final_status(s), Some(true), "{s}");
    }
    for s in ["queued", "initiated", "ringing", "in-progress", "answered"] {
        assert_eq!(is_final_status(s), Some(false), "{s}");
    }
    assert_eq!(is_final_status("Completed"), None);
    assert_eq!(is_final_status("done"), None);
}

#[test]
fn callback_routes_round_trip() {
    let routes = [
        (
            Route::CallbackConnect { attempt_id: 42 },
            "/webhooks/twilio/callback/connect?attempt=42",
        ),
        (
            Route::CallbackStatus { attempt_id: 7 },
            "/webhooks/twilio/callback/status?attempt=7",
        ),
    ];
    for (route, full) in routes {
        assert_eq!(route_path(&route), full);
        let (p, q) = full.split_once('?').unwrap();
        assert_eq!(route_from_path(p, Some(q)), Some(route), "{full}");
    }
    assert_eq!(
        route_from_path("/webhooks/twilio/callback/status", Some("x=1&attempt=9")),
        Some(Route::CallbackStatus { attempt_id: 9 })
    );
    for (p, q) in [
        ("/webhooks/twilio/callback/connect", None),
        ("/webhooks/twilio/callback/connect", Some("attempt=")),
        ("/webhooks/twilio/callback/connect", Some("attempt=abc")),
        ("/webhooks/twilio/callback/status", Some("operator=1")),
        ("/webhooks/twilio/callback/connect/", Some("attempt=1")),
        ("/webhooks/twilio/callback", Some("attempt=1")),
    ] {
        assert_eq!(route_from_path(p, q), None, "{p}?{q:?}");
    }
}

#[test]
fn parse_refuses_the_callback_routes() {
    let params = form(&[
        ("CallSid", "CA0123456789abcdef0123456789abcdef"),
        ("CallStatus", "in-progress"),
        ("From", HOTLINE),
        ("To", "+74951234567"),
    ]);
    let connect = Route::CallbackConnect { attempt_id: 1 };
    let status = Route::CallbackStatus { attempt_id: 1 };
    let err = parse(&connect, &params).unwrap_err();
    assert_eq!(err, ParseError::NotACallEvent("callback/connect"));
    assert_eq!(err.field(), "callback/connect");
    assert_eq!(
        err.to_string(),
        "the `callback/connect` webhook is not a call event"
    );
    assert_eq!(
        parse(&status, &params).unwrap_err(),
        ParseError::NotACallEvent("callback/status")
    );
    // Refused before anything else, even without a CallSid.
    assert_eq!(
        parse(&status, &[]).unwrap_err(),
        ParseError::NotACallEvent("callback/status")
    );
    assert_eq!(event_key(&connect, &params), "callback-connect:1");
    assert_eq!(event_key(&status, &params), "callback-status:1:in-progress");
}
