//! Golden TwiML for every verb, both speech modes, and escaping.

use chrono::TimeDelta;

use crate::domain::operator::ContactKind;
use crate::speech::Utterance;
use crate::telephony::twilio::{RenderError, SpeechMode, render};
use crate::telephony::{DialTarget, Reply, Step, Verb};

const BASE: &str = "https://hotline.example.ru";
const HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><Response>"#;

fn tts() -> SpeechMode {
    SpeechMode::default()
}

fn clips() -> SpeechMode {
    SpeechMode::Clips {
        base_url: "https://hotline.example.ru/prompts/".into(),
    }
}

fn say(text: &str, clips: &[&str]) -> Verb {
    Verb::Say(Utterance {
        text: text.into(),
        clips: clips.iter().map(|c| c.to_string()).collect(),
    })
}

fn doc(body: &str) -> String {
    format!("{HEAD}{body}</Response>")
}

fn ok(reply: Reply, speech: &SpeechMode) -> String {
    let xml = render(&reply, BASE, speech, Some("pbx.school.ru")).unwrap();
    roxmltree::Document::parse(&xml).expect("well-formed XML");
    xml
}

fn dial(kind: ContactKind, contact: &str, caller_id: Option<&str>) -> Verb {
    Verb::Dial {
        target: DialTarget {
            operator_id: 3,
            kind,
            contact: contact.into(),
        },
        ring_timeout: TimeDelta::seconds(20),
        caller_id: caller_id.map(str::to_owned),
    }
}

#[test]
fn default_speech_is_russian_polly_tatyana() {
    assert_eq!(
        tts(),
        SpeechMode::Tts {
            language: "ru-RU".into(),
            voice: "Polly.Tatyana".into()
        }
    );
}

#[test]
fn empty_reply_is_an_empty_response() {
    assert_eq!(ok(vec![], &tts()), doc(""));
}

#[test]
fn say_with_text_to_speech() {
    let xml = ok(
        vec![say(
            "Здравствуйте! Вы позвонили на линию поддержки.",
            &["ru/static/greeting.wav"],
        )],
        &tts(),
    );
    let expected = r#"<Say language="ru-RU" voice="Polly.Tatyana">Здравствуйте! Вы позвонили на линию поддержки.</Say>"#;
    assert_eq!(xml, doc(expected));
}

#[test]
fn say_with_clips_plays_each_clip() {
    let xml = ok(
        vec![say(
            "Вы первый в очереди.",
            &["ru/static/position.wav", "ru/numbers/1 м.wav"],
        )],
        &clips(),
    );
    let expected = "<Play>https://hotline.example.ru/prompts/ru/static/position.wav</Play>\
                    <Play>https://hotline.example.ru/prompts/ru/numbers/1%20%D0%BC.wav</Play>";
    assert_eq!(xml, doc(expected));
}

#[test]
fn clips_mode_without_clips_falls_back_to_tts_and_silence_renders_nothing() {
    let xml = ok(vec![say("Минуту.", &[]), say("  ", &[])], &clips());
    assert_eq!(
        xml,
        doc(r#"<Say language="ru-RU" voice="Polly.Tatyana">Минуту.</Say>"#)
    );
}

#[test]
fn pause_leave_hangup() {
    let reply = vec![
        Verb::Pause(TimeDelta::seconds(2)),
        Verb::Pause(TimeDelta::milliseconds(1500)),
        Verb::Leave,
        Verb::Hangup,
    ];
    assert_eq!(
        ok(reply, &tts()),
        doc(r#"<Pause length="2"/><Pause length="2"/><Leave/><Hangup/>"#)
    );
}

#[test]
fn dial_a_phone_sip_uri_and_extension() {
    let phone = ok(
        vec![dial(
            ContactKind::Phone,
            "+74951234567",
            Some("+74997654321"),
        )],
        &tts(),
    );
    let expected = r#"<Dial action="https://hotline.example.ru/webhooks/twilio/dial" method="POST" timeout="20" callerId="+74997654321"><Number>+74951234567</Number></Dial>"#;
    assert_eq!(phone, doc(expected));
    let sip = ok(
        vec![dial(ContactKind::Sip, "sip:op1@pbx.school.ru", None)],
        &tts(),
    );
    let expected = r#"<Dial action="https://hotline.example.ru/webhooks/twilio/dial" method="POST" timeout="20"><Sip>sip:op1@pbx.school.ru</Sip></Dial>"#;
    assert_eq!(sip, doc(expected));
    let ext = ok(vec![dial(ContactKind::Extension, "101", None)], &tts());
    let expected = r#"<Dial action="https://hotline.example.ru/webhooks/twilio/dial" method="POST" timeout="20"><Sip>sip:101@pbx.school.ru</Sip></Dial>"#;
    assert_eq!(ext, doc(expected));
}

#[test]
fn extension_without_sip_domain_is_an_error() {
    let err = render(
        &vec![dial(ContactKind::Extension, "101", None)],
        BASE,
        &tts(),
        None,
    )
    .unwrap_err();
    assert_eq!(err, RenderError::NoSipDomain { operator_id: 3 });
}

#[test]
fn enqueue() {
    let xml = ok(
        vec![Verb::Enqueue {
            queue: "hotline".into(),
        }],
        &tts(),
    );
    let expected = r#"<Enqueue action="https://hotline.example.ru/webhooks/twilio/queue/left" method="POST" waitUrl="https://hotline.example.ru/webhooks/twilio/queue/wait" waitUrlMethod="POST">hotline</Enqueue>"#;
    assert_eq!(xml, doc(expected));
}

#[test]
fn gather_nests_its_prompt() {
    let gather = |finish_on_key| Verb::Gather {
        prompt: vec![
            say(
                "Нажмите 1, чтобы оставить сообщение.",
                &["ru/static/press1.wav"],
            ),
            Verb::Pause(TimeDelta::seconds(1)),
        ],
        max_digits: 1,
        timeout: TimeDelta::seconds(5),
        finish_on_key,
        step: Step::QueueMenu,
    };
    let xml = ok(vec![gather(Some('#'))], &clips());
    let expected = r##"<Gather input="dtmf" numDigits="1" timeout="5" finishOnKey="#" action="https://hotline.example.ru/webhooks/twilio/gather/queue-menu" method="POST"><Play>https://hotline.example.ru/prompts/ru/static/press1.wav</Play><Pause length="1"/></Gather>"##;
    assert_eq!(xml, doc(expected));
    let xml = ok(vec![gather(None)], &tts());
    let expected = r#"<Gather input="dtmf" numDigits="1" timeout="5" finishOnKey="" action="https://hotline.example.ru/webhooks/twilio/gather/queue-menu" method="POST"><Say language="ru-RU" voice="Polly.Tatyana">Нажмите 1, чтобы оставить сообщение.</Say><Pause length="1"/></Gather>"#;
    assert_eq!(xml, doc(expected));
}

#[test]
fn gather_rejects_verbs_twilio_does_not_nest() {
    let reply = vec![Verb::Gather {
        prompt: vec![Verb::Hangup],
        max_digits: 1,
        timeout: TimeDelta::seconds(5),
        finish_on_key: None,
        step: Step::QueueMenu,
    }];
    assert_eq!(
        render(&reply, BASE, &tts(), None).unwrap_err(),
        RenderError::NotAllowedInGather("Hangup")
    );
}

#[test]
fn a_typical_greeting_then_queue() {
    let reply = vec![
        say("Здравствуйте!", &["ru/static/greeting.wav"]),
        Verb::Enqueue {
            queue: "hotline".into(),
        },
    ];
    let xml = render(&reply, "https://hotline.example.ru/", &clips(), None).unwrap();
    assert!(
        xml.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Play>"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"waitUrl="https://hotline.example.ru/webhooks/twilio/queue/wait""#),
        "no double slash: {xml}"
    );
}

#[test]
fn text_and_attributes_are_escaped() {
    let speech = SpeechMode::Tts {
        language: "ru-RU".into(),
        voice: "Polly.\"Tatyana\"".into(),
    };
    let reply = vec![
        say("Tom & Jerry <b>'hi'</b>\u{1}", &[]),
        Verb::Enqueue {
            queue: "a<b>&\"c\"".into(),
        },
        dial(
            ContactKind::Sip,
            "sip:o'brien@pbx.ru?x=1&y=2",
            Some("\"Школа\" <+7495>"),
        ),
    ];
    let xml = render(&reply, "https://h.ru/a&b", &speech, None).unwrap();
    let parsed = roxmltree::Document::parse(&xml).expect("well-formed XML");
    let root = parsed.root_element();
    let say = root.children().find(|n| n.has_tag_name("Say")).unwrap();
    assert_eq!(say.text(), Some("Tom & Jerry <b>'hi'</b>"));
    assert_eq!(say.attribute("voice"), Some("Polly.\"Tatyana\""));
    let enqueue = root.children().find(|n| n.has_tag_name("Enqueue")).unwrap();
    assert_eq!(enqueue.text(), Some("a<b>&\"c\""));
    assert_eq!(
        enqueue.attribute("action"),
        Some("https://h.ru/a&b/webhooks/twilio/queue/left")
    );
    let dial = root.children().find(|n| n.has_tag_name("Dial")).unwrap();
    assert_eq!(dial.attribute("callerId"), Some("\"Школа\" <+7495>"));
    assert_eq!(
        dial.first_child().unwrap().text(),
        Some("sip:o'brien@pbx.ru?x=1&y=2")
    );
    assert!(
        xml.contains("Tom &amp; Jerry &lt;b&gt;&apos;hi&apos;&lt;/b&gt;</Say>"),
        "{xml}"
    );
}
