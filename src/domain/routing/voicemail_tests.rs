//! The voicemail steps: number, category, recording, and what is stored at each.

use chrono::{TimeDelta, TimeZone, Utc};

use super::*;
use crate::calendar::{Calendar, HotlineHours, MOSCOW};
use crate::domain::voicemail::CallerCategory;
use crate::telephony::{Recording, RecordingStatus};

fn vm_call(from: Option<&str>) -> CallView {
    CallView {
        state: CallState::Voicemail,
        operator_id: None,
        tried: vec![],
        caller: from.and_then(|f| PhoneNumber::parse(f).ok()),
    }
}

fn run(c: &CallView, ev: EventKind) -> Decision {
    let settings = RoutingSettings::default();
    let calendar = Calendar::builtin(HotlineHours::default());
    let now = MOSCOW
        .with_ymd_and_hms(2026, 11, 28, 11, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    decide(
        c,
        &ev,
        &Situation {
            now,
            calendar: &calendar,
            settings: &settings,
            operators: &[],
            queued: 0,
            callback_eta: None,
            registered: None,
            screen: Default::default(),
        },
    )
}

fn digits(step: Step, d: Option<&str>) -> EventKind {
    EventKind::Digits {
        step,
        digits: d.map(Into::into),
    }
}

fn change(d: &Decision) -> Option<&VoicemailChange> {
    d.effects.iter().find_map(|e| {
        if let Effect::Voicemail(c) = e {
            Some(c)
        } else {
            None
        }
    })
}

fn asks(d: &Decision) -> Option<Step> {
    d.reply.iter().find_map(|v| {
        if let Verb::Gather { step, .. } = v {
            Some(*step)
        } else {
            None
        }
    })
}

#[test]
fn a_valid_caller_id_is_read_back_and_confirmed_with_hash() {
    let incoming = CallView {
        state: CallState::Incoming,
        ..vm_call(Some("+79161234567"))
    };
    // Saturday: closed, so straight to voicemail.
    let d = run(&incoming, EventKind::Incoming);
    assert_eq!(d.state, CallState::Voicemail);
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::Start {
            caller_id: Some("+79161234567".into())
        })
    );
    let Some(Verb::Gather {
        prompt,
        finish_on_key,
        ..
    }) = d.reply.iter().find(|v| matches!(v, Verb::Gather { .. }))
    else {
        panic!("{:?}", d.reply)
    };
    assert_eq!(*finish_on_key, Some('#'));
    assert!(prompt.contains(&Verb::Say(crate::speech::number_ending("4567"))));
    // A bare # (or nothing before the timeout) keeps the caller ID, confirmed.
    let c = vm_call(Some("+79161234567"));
    let d = run(&c, digits(Step::VoicemailNumber { attempt: 0 }, Some("")));
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::Number("+79161234567".into()))
    );
    assert_eq!(asks(&d), Some(Step::VoicemailCategory { attempt: 0 }));
    let d = run(&c, digits(Step::VoicemailNumber { attempt: 0 }, None));
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::Number("+79161234567".into()))
    );
}

#[test]
fn another_number_is_normalized() {
    let c = vm_call(Some("+79161234567"));
    let d = run(
        &c,
        digits(Step::VoicemailNumber { attempt: 0 }, Some("84951234567#")),
    );
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::Number("+74951234567".into()))
    );
    let d = run(
        &c,
        digits(Step::VoicemailNumber { attempt: 0 }, Some("9031112233")),
    );
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::Number("+79031112233".into()))
    );
}

#[test]
fn a_hidden_caller_id_must_enter_a_number_twice_then_is_flagged() {
    let c = vm_call(Some("anonymous"));
    let d = run(&c, digits(Step::VoicemailNumber { attempt: 0 }, None));
    assert_eq!(change(&d), None);
    assert_eq!(asks(&d), Some(Step::VoicemailNumber { attempt: 1 }));
    assert_eq!(d.reply[0], Verb::Say(Prompt::EnterNumber.utterance()));
    let d = run(
        &c,
        digits(Step::VoicemailNumber { attempt: 1 }, Some("12345")),
    );
    assert_eq!(change(&d), Some(&VoicemailChange::NumberUnconfirmed));
    assert_eq!(asks(&d), Some(Step::VoicemailCategory { attempt: 0 }));
    // A wrong entry with a valid caller ID is asked again, then the caller ID is kept and flagged.
    let c = vm_call(Some("+79161234567"));
    let d = run(
        &c,
        digits(Step::VoicemailNumber { attempt: 0 }, Some("000")),
    );
    assert_eq!(
        d.reply[0],
        Verb::Say(Prompt::NumberNotRecognised.utterance())
    );
    assert_eq!(asks(&d), Some(Step::VoicemailNumber { attempt: 1 }));
    let d = run(
        &c,
        digits(Step::VoicemailNumber { attempt: 1 }, Some("000")),
    );
    assert_eq!(change(&d), Some(&VoicemailChange::NumberUnconfirmed));
}

#[test]
fn category_then_record() {
    let c = vm_call(Some("+79161234567"));
    let d = run(
        &c,
        digits(Step::VoicemailCategory { attempt: 0 }, Some("1")),
    );
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::Category(CallerCategory::Staff))
    );
    assert!(d.reply.contains(&Verb::Record {
        max_length: TimeDelta::seconds(120),
        finish_on_key: '#'
    }));
    let d = run(
        &c,
        digits(Step::VoicemailCategory { attempt: 0 }, Some("7")),
    );
    assert_eq!(asks(&d), Some(Step::VoicemailCategory { attempt: 1 }));
    let d = run(&c, digits(Step::VoicemailCategory { attempt: 1 }, None));
    assert_eq!(change(&d), None);
    assert!(
        d.reply.iter().any(|v| matches!(v, Verb::Record { .. })),
        "records anyway"
    );
}

#[test]
fn recording_ends_the_call_and_its_status_counts_even_after_the_end() {
    let rec = Recording {
        id: "RE1".into(),
        url: "https://api.twilio.com/x/RE1".into(),
        duration: Some(TimeDelta::seconds(14)),
    };
    let c = vm_call(Some("+79161234567"));
    let d = run(
        &c,
        EventKind::Recorded {
            recording: Some(rec.clone()),
            digits: Some("#".into()),
        },
    );
    assert_eq!(d.state, CallState::VoicemailLeft);
    assert_eq!(d.reply.last(), Some(&Verb::Hangup));
    // Left on a Saturday: the caller hears when the hotline opens (Monday 30 November, 9:00).
    let said: String = d
        .reply
        .iter()
        .filter_map(|v| {
            if let Verb::Say(u) = v {
                Some(u.text.clone())
            } else {
                None
            }
        })
        .collect();
    assert!(
        said.contains("в понедельник") && said.contains("тридцатого ноября"),
        "{said}"
    );
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::Recorded(Some(rec.clone())))
    );
    let over = CallView {
        state: CallState::Completed,
        ..c
    };
    let d = run(
        &over,
        EventKind::RecordingReady {
            recording: rec.clone(),
            status: RecordingStatus::Completed,
        },
    );
    assert_eq!(d.state, CallState::Completed);
    assert_eq!(
        change(&d),
        Some(&VoicemailChange::RecordingStatus {
            recording: rec,
            status: RecordingStatus::Completed
        })
    );
    // The voicemail steps of a call that is not in voicemail are ignored.
    let queued = CallView {
        state: CallState::Queued,
        ..vm_call(None)
    };
    assert!(
        run(
            &queued,
            digits(Step::VoicemailNumber { attempt: 0 }, Some("84951234567"))
        )
        .effects
        .is_empty()
    );
}

#[test]
fn the_closing_message_tells_the_callback_estimate() {
    let settings = RoutingSettings::default();
    let calendar = Calendar::builtin(HotlineHours::default());
    let at = |d, h| {
        MOSCOW
            .with_ymd_and_hms(2026, 11, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc)
    };
    let s = Situation {
        now: at(28, 11),
        calendar: &calendar,
        settings: &settings,
        operators: &[],
        queued: 0,
        callback_eta: Some((at(30, 10), at(30, 11))),
        registered: Some(123),
        screen: Default::default(),
    };
    let ev = EventKind::Recorded {
        recording: None,
        digits: None,
    };
    let d = decide(&vm_call(Some("+79161234567")), &ev, &s);
    let said: Vec<String> = d
        .reply
        .iter()
        .filter_map(|v| match v {
            Verb::Say(u) => Some(u.text.clone()),
            _ => None,
        })
        .collect();
    assert!(
        said.iter().any(|t| t
            == "Мы позвоним вам в понедельник, тридцатого ноября, примерно с десяти до одиннадцати часов."),
        "{said:?}"
    );
    assert!(
        !said.iter().any(|t| t.contains("откроется")),
        "the estimate replaces the opening time: {said:?}"
    );
    let number = said
        .iter()
        .position(|t| t == "Номер вашей заявки: один — двадцать три.")
        .unwrap_or_else(|| panic!("the registration number is told: {said:?}"));
    assert_eq!(
        said.get(number + 1).map(String::as_str),
        Some(said[said.len() - 1].as_str()),
        "the number comes before the goodbye, after the estimate: {said:?}"
    );
    assert_eq!(d.reply.last(), Some(&Verb::Hangup));
}
