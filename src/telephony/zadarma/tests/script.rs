//! Replies as scripts: each routing verb in Zadarma's terms, `wait_dtmf` names that round-trip,
//! and the JSON of each action.

use std::collections::BTreeMap;

use chrono::TimeDelta;
use proptest::prelude::*;
use serde_json::json;

use crate::domain::operator::ContactKind;
use crate::speech::Utterance;
use crate::telephony::zadarma::answer::{Answers, Skip};
use crate::telephony::zadarma::script::{
    Action, Script, parse_step_name, render, script_id, step_code, step_name,
};
use crate::telephony::{DialTarget, Step, Verb};

fn say(clips: &[&str]) -> Verb {
    Verb::Say(Utterance {
        text: String::new(),
        clips: clips.iter().map(|c| c.to_string()).collect(),
    })
}

fn play(c: &str) -> Action {
    Action::Play { clip: c.into() }
}

#[test]
fn a_voicemail_question_ends_on_its_keys() {
    let step = Step::VoicemailNumber { attempt: 0 };
    let reply = vec![
        say(&["a", "b"]),
        Verb::Gather {
            prompt: vec![say(&["c", "d"])],
            max_digits: 16,
            timeout: TimeDelta::seconds(7),
            finish_on_key: Some('#'),
            step,
        },
        Verb::Redirect(step),
    ];
    let s = render(&reply, "start", 8);
    assert_eq!(s.id, script_id("start"));
    let gather = Action::Gather {
        clip: Some("d".into()),
        hold: false,
        timeout: 7,
        max_digits: 16,
        step: "vn0".into(),
    };
    assert_eq!(s.actions, vec![play("a"), play("b"), play("c"), gather]);
    assert_eq!(Script::from_json(&s.to_json()), Some(s));
}

#[test]
fn the_queue_waits_in_short_ticks_and_recording_ends_the_script() {
    let reply = vec![Verb::Gather {
        prompt: vec![say(&["pos"]), Verb::Pause(TimeDelta::seconds(30))],
        max_digits: 1,
        timeout: TimeDelta::seconds(1),
        finish_on_key: None,
        step: Step::QueueMenu,
    }];
    let s = render(&reply, "k", 8);
    assert_eq!(
        s.actions,
        vec![
            play("pos"),
            Action::Gather {
                clip: None,
                hold: true,
                timeout: 8,
                max_digits: 1,
                step: "qm".into()
            }
        ]
    );
    let target = DialTarget {
        operator_id: 4,
        kind: ContactKind::Extension,
        contact: "101".into(),
    };
    let reply = vec![
        say(&["beep"]),
        Verb::Record {
            max_length: TimeDelta::seconds(120),
            finish_on_key: '#',
        },
        say(&["bye"]),
        Verb::Hangup,
    ];
    assert_eq!(
        render(&reply, "k", 8).actions,
        vec![play("beep"), Action::Record]
    );
    let reply = vec![
        Verb::Dial {
            target,
            ring_timeout: TimeDelta::seconds(20),
            caller_id: None,
        },
        Verb::Enqueue {
            queue: "main".into(),
        },
        Verb::Leave,
        Verb::Redirect(Step::VoicemailCategory { attempt: 1 }),
        Verb::Hangup,
        say(&["never"]),
    ];
    assert_eq!(
        render(&reply, "k", 8).actions,
        vec![
            Action::Dial {
                operator_id: 4,
                kind: ContactKind::Extension,
                contact: "101".into(),
                ring_secs: 20
            },
            Action::Enqueue,
            Action::Leave,
            Action::Next { step: "vc1".into() },
            Action::Hangup,
        ]
    );
}

#[test]
fn actions_as_zadarma_json() {
    let prompts: BTreeMap<String, String> = [("a".to_string(), "id-a".to_string())].into();
    let ans = Answers {
        prompts: &prompts,
        voicemail_redirect: "0-2",
        hold_music: Some("music"),
    };
    assert_eq!(
        ans.json(&play("a"), "s", None),
        Ok(json!({"ivr_play": "id-a"}))
    );
    assert_eq!(
        ans.json(&play("zz"), "s", None),
        Err(Skip::NoFile("zz".into()))
    );
    let gather = Action::Gather {
        clip: Some("a".into()),
        hold: false,
        timeout: 7,
        max_digits: 16,
        step: "vn1".into(),
    };
    assert_eq!(
        ans.json(&gather, "0123456789", None),
        Ok(
            json!({"ivr_play": "id-a", "wait_dtmf": {"timeout": 7, "attempts": 1, "maxdigits": 16,
            "name": "vn1.0123456789", "default": "0-2"}})
        )
    );
    let dial = Action::Dial {
        operator_id: 3,
        kind: ContactKind::Phone,
        contact: "+79160000000".into(),
        ring_secs: 20,
    };
    assert_eq!(ans.json(&dial, "s", None), Err(Skip::NoExtension(3)));
    assert_eq!(
        ans.json(&dial, "s", Some("102")),
        Ok(json!({"redirect": "102", "return_timeout": 20}))
    );
    assert_eq!(
        ans.json(&Action::Record, "s", None),
        Ok(json!({"redirect": "0-2", "return_timeout": 0}))
    );
    assert_eq!(
        ans.json(&Action::Hangup, "s", None),
        Ok(json!({"hangup": 1}))
    );
    assert_eq!(ans.json(&Action::Enqueue, "s", None), Err(Skip::Internal));
}

proptest! {
    #[test]
    fn step_names_round_trip(attempt in 0u8..10, kind in 0..3, key in ".{0,60}") {
        let step = match kind {
            0 => Step::QueueMenu,
            1 => Step::VoicemailNumber { attempt },
            _ => Step::VoicemailCategory { attempt },
        };
        let id = script_id(&key);
        let name = step_name(&step_code(step).unwrap(), &id);
        prop_assert_eq!(parse_step_name(&name), Some((step, id.as_str())));
    }

    #[test]
    fn foreign_names_are_not_ours(name in "[a-z0-9.]{0,20}") {
        // Only `<code>.<10 hex digits>` is ours; anything shorter never parses.
        if name.len() < 13 {
            prop_assert_eq!(parse_step_name(&name), None);
        }
    }
}
