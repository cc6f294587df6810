//! The blocklist and the per-number limits in routing: who is turned away, what they hear, and
//! what is counted.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::calendar::{Calendar, HotlineHours, MOSCOW};
use crate::domain::blocklist::{CallLimits, CallerRecord};
use crate::telephony::DialOutcome;

const CALLER: &str = "+79161234567";

fn at(h: u32) -> DateTime<Utc> {
    // Tuesday 1 December 2026, Moscow: open 09–18.
    MOSCOW
        .with_ymd_and_hms(2026, 12, 1, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn free_op(now: DateTime<Utc>) -> OperatorView {
    OperatorView {
        id: 1,
        presence: Presence::Available,
        presence_since: now - TimeDelta::minutes(5),
        idle_since: Some(now - TimeDelta::minutes(5)),
        contact_kind: ContactKind::Sip,
        contact: "sip:op1@pbx.example".into(),
    }
}

fn caller(state: CallState, operator_id: Option<i64>) -> CallView {
    CallView {
        state,
        operator_id,
        tried: Vec::new(),
        caller: PhoneNumber::parse(CALLER).ok(),
    }
}

fn limits(vm: u32, calls: u32) -> CallLimits {
    CallLimits {
        voicemails_per_day: vm,
        calls_per_hour: calls,
    }
}

fn run(
    c: &CallView,
    ev: EventKind,
    ops: &[OperatorView],
    now: DateTime<Utc>,
    screen: Screen,
) -> Decision {
    let settings = RoutingSettings::default();
    let calendar = Calendar::builtin(HotlineHours::default());
    let s = Situation {
        now,
        calendar: &calendar,
        settings: &settings,
        operators: ops,
        queued: 0,
        callback_eta: None,
        registered: None,
        screen,
    };
    decide(c, &ev, &s)
}

fn said(d: &Decision, p: Prompt) -> bool {
    d.reply.contains(&say(p))
}

fn ends(d: &Decision) -> bool {
    d.reply.last() == Some(&Verb::Hangup) && d.state == CallState::Goodbye
}

fn no_voicemail(d: &Decision) -> bool {
    !d.effects.iter().any(|e| matches!(e, Effect::Voicemail(_)))
        && !d
            .reply
            .iter()
            .any(|v| matches!(v, Verb::Gather { .. } | Verb::Record { .. }))
}

#[test]
fn a_blocked_caller_hears_a_short_message_and_the_call_ends_even_with_an_operator_free() {
    let now = at(10);
    let screen = Screen {
        limits: CallLimits::default(),
        caller: CallerRecord {
            blocked_by: Some(7),
            ..Default::default()
        },
    };
    let d = run(
        &caller(CallState::Incoming, None),
        EventKind::Incoming,
        &[free_op(now)],
        now,
        screen,
    );
    assert_eq!(d.reply, vec![say(Prompt::Blocked), Verb::Hangup]);
    assert_eq!(d.state, CallState::Goodbye);
    assert_eq!(d.effects, vec![Effect::Blocked(7)]);
    assert_eq!(d.operator_id, None);
}

#[test]
fn a_caller_over_the_hourly_limit_is_told_politely_and_their_request_counted_again() {
    let now = at(10);
    let over = Screen {
        limits: limits(0, 3),
        caller: CallerRecord {
            calls_last_hour: 3,
            ..Default::default()
        },
    };
    let d = run(
        &caller(CallState::Incoming, None),
        EventKind::Incoming,
        &[free_op(now)],
        now,
        over,
    );
    assert!(ends(&d) && said(&d, Prompt::CallLimit), "{d:?}");
    assert_eq!(d.effects, vec![Effect::Repeat(CALLER.into())]);
    // One call fewer, or the limit off: routed as usual.
    for screen in [
        Screen {
            limits: limits(0, 3),
            caller: CallerRecord {
                calls_last_hour: 2,
                ..Default::default()
            },
        },
        Screen {
            limits: limits(0, 0),
            caller: CallerRecord {
                calls_last_hour: 50,
                ..Default::default()
            },
        },
    ] {
        let d = run(
            &caller(CallState::Incoming, None),
            EventKind::Incoming,
            &[free_op(now)],
            now,
            screen,
        );
        assert_eq!(d.state, CallState::RingingOperator);
        assert_eq!(d.effects, vec![Effect::Reserve(1)]);
    }
}

#[test]
fn a_hidden_caller_over_a_limit_has_no_request_to_count() {
    let now = at(10);
    let over = Screen {
        limits: limits(0, 1),
        caller: CallerRecord {
            calls_last_hour: 5,
            ..Default::default()
        },
    };
    let mut c = caller(CallState::Incoming, None);
    c.caller = PhoneNumber::parse("anonymous").ok();
    let d = run(&c, EventKind::Incoming, &[], now, over);
    assert!(ends(&d));
    assert!(d.effects.is_empty());
}

#[test]
fn over_the_daily_voicemails_no_new_voicemail_is_offered_in_hours_or_off_hours() {
    let over = Screen {
        limits: limits(2, 0),
        caller: CallerRecord {
            voicemails_today: 2,
            ..Default::default()
        },
    };
    // In hours, nobody logged in: the voicemail path.
    let d = run(
        &caller(CallState::Incoming, None),
        EventKind::Incoming,
        &[],
        at(10),
        over,
    );
    assert!(
        ends(&d) && said(&d, Prompt::VoicemailLimit) && no_voicemail(&d),
        "{d:?}"
    );
    assert!(!said(&d, Prompt::ToVoicemail));
    assert_eq!(d.effects, vec![Effect::Repeat(CALLER.into())]);
    // Off hours: the hours are told, then the limit.
    let d = run(
        &caller(CallState::Incoming, None),
        EventKind::Incoming,
        &[],
        at(20),
        over,
    );
    assert!(said(&d, Prompt::OffHours) && said(&d, Prompt::VoicemailLimit));
    assert!(ends(&d) && no_voicemail(&d));
    // Under the limit the voicemail starts as usual.
    let under = Screen {
        caller: CallerRecord {
            voicemails_today: 1,
            ..Default::default()
        },
        ..over
    };
    let d = run(
        &caller(CallState::Incoming, None),
        EventKind::Incoming,
        &[],
        at(10),
        under,
    );
    assert_eq!(d.state, CallState::Voicemail);
}

#[test]
fn the_voicemail_limit_does_not_keep_a_caller_from_an_operator() {
    let now = at(10);
    let over = Screen {
        limits: limits(1, 0),
        caller: CallerRecord {
            voicemails_today: 4,
            ..Default::default()
        },
    };
    let d = run(
        &caller(CallState::Incoming, None),
        EventKind::Incoming,
        &[free_op(now)],
        now,
        over,
    );
    assert_eq!(d.state, CallState::RingingOperator);
}

#[test]
fn an_unanswered_dial_over_the_voicemail_limit_releases_the_operator_and_ends() {
    let now = at(10);
    let over = Screen {
        limits: limits(1, 0),
        caller: CallerRecord {
            voicemails_today: 1,
            ..Default::default()
        },
    };
    let ev = EventKind::DialEnded {
        outcome: DialOutcome::NoAnswer,
        talk: TimeDelta::zero(),
    };
    let d = run(
        &caller(CallState::RingingOperator, Some(1)),
        ev,
        &[],
        now,
        over,
    );
    assert!(ends(&d) && no_voicemail(&d), "{d:?}");
    assert!(d.effects.contains(&Effect::Release {
        operator_id: 1,
        missed: true
    }));
    assert!(d.effects.contains(&Effect::Repeat(CALLER.into())));
}

#[test]
fn the_blocklist_only_turns_away_new_calls() {
    let blocked = Screen {
        limits: CallLimits::default(),
        caller: CallerRecord {
            blocked_by: Some(1),
            ..Default::default()
        },
    };
    let ev = EventKind::Digits {
        step: Step::VoicemailCategory { attempt: 0 },
        digits: Some("1".into()),
    };
    let d = run(
        &caller(CallState::Voicemail, None),
        ev,
        &[],
        at(10),
        blocked,
    );
    assert_eq!(d.state, CallState::Voicemail);
    assert!(!d.effects.iter().any(|e| matches!(e, Effect::Blocked(_))));
}
