//! Routing decisions, one rule at a time, on the real calendar.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};

use super::*;
use crate::calendar::{Calendar, HotlineHours, MOSCOW};
use crate::telephony::DialOutcome;

fn cal() -> Calendar {
    Calendar::builtin(HotlineHours::default())
}

fn msk(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    MOSCOW
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// Tuesday 1 December 2026, 10:00 Moscow: the hotline is open.
fn open_now() -> DateTime<Utc> {
    msk(2026, 12, 1, 10, 0)
}

fn op(id: i64, presence: Presence, idle_min_ago: i64) -> OperatorView {
    let since = open_now() - TimeDelta::minutes(idle_min_ago);
    OperatorView {
        id,
        presence,
        presence_since: since,
        idle_since: (presence == Presence::Available).then_some(since),
        contact_kind: ContactKind::Sip,
        contact: format!("sip:op{id}@pbx.example"),
    }
}

fn call(state: CallState) -> CallView {
    CallView {
        state,
        operator_id: None,
        tried: Vec::new(),
        caller: None,
    }
}

fn run(c: &CallView, ev: EventKind, ops: &[OperatorView], now: DateTime<Utc>) -> Decision {
    let settings = RoutingSettings::default();
    let calendar = cal();
    decide(
        c,
        &ev,
        &Situation {
            now,
            calendar: &calendar,
            settings: &settings,
            operators: ops,
            queued: 0,
            callback_eta: None,
            registered: None,
            screen: Default::default(),
        },
    )
}

fn dialed(d: &Decision) -> Option<i64> {
    d.reply.iter().find_map(|v| match v {
        Verb::Dial { target, .. } => Some(target.operator_id),
        _ => None,
    })
}

fn spoken(d: &Decision) -> String {
    d.reply
        .iter()
        .filter_map(|v| match v {
            Verb::Say(u) => Some(u.text.clone()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn incoming_goes_to_the_longest_idle_free_operator() {
    let ops = [
        op(1, Presence::Available, 2),
        op(2, Presence::Available, 9),
        op(3, Presence::OnCall, 30),
    ];
    let d = run(
        &call(CallState::Incoming),
        EventKind::Incoming,
        &ops,
        open_now(),
    );
    assert_eq!(d.state, CallState::RingingOperator);
    assert_eq!(dialed(&d), Some(2));
    assert_eq!(d.operator_id, Some(2));
    assert_eq!(d.effects, vec![Effect::Reserve(2)]);
    assert!(matches!(d.reply[0], Verb::Say(ref u) if u == &Prompt::Greeting.utterance()));
}

#[test]
fn wrap_up_ends_by_itself() {
    let mut wrapping = op(4, Presence::WrapUp, 0);
    wrapping.presence_since = open_now() - TimeDelta::seconds(10);
    let d = run(
        &call(CallState::Incoming),
        EventKind::Incoming,
        std::slice::from_ref(&wrapping),
        open_now(),
    );
    assert_eq!(
        d.state,
        CallState::Queued,
        "still wrapping up: the caller holds"
    );
    wrapping.presence_since = open_now() - TimeDelta::seconds(31);
    let d = run(
        &call(CallState::Incoming),
        EventKind::Incoming,
        &[wrapping],
        open_now(),
    );
    assert_eq!(dialed(&d), Some(4));
}

#[test]
fn all_busy_holds_in_the_queue_and_nobody_logged_in_says_goodbye() {
    let busy = [op(1, Presence::OnCall, 0), op(2, Presence::Break, 0)];
    let d = run(
        &call(CallState::Incoming),
        EventKind::Incoming,
        &busy,
        open_now(),
    );
    assert_eq!(d.state, CallState::Queued);
    assert!(d.reply.contains(&Verb::Enqueue {
        queue: "main".into()
    }));
    assert!(d.reply.contains(&Verb::Say(Prompt::AllBusy.utterance())));
    let away = [op(1, Presence::Break, 0), op(2, Presence::Offline, 0)];
    let d = run(
        &call(CallState::Incoming),
        EventKind::Incoming,
        &away,
        open_now(),
    );
    assert_eq!(d.state, CallState::Voicemail);
    assert!(
        d.reply
            .contains(&Verb::Say(Prompt::ToVoicemail.utterance()))
    );
    assert_eq!(
        d.reply.last(),
        Some(&Verb::Redirect(Step::VoicemailNumber { attempt: 0 }))
    );
    assert_eq!(
        d.effects,
        vec![Effect::Voicemail(VoicemailChange::Start {
            caller_id: None
        })]
    );
}

#[test]
fn off_hours_says_when_the_hotline_opens() {
    let ops = [op(1, Presence::Available, 5)];
    // Friday 27 November 2026, 18:00 Moscow: closed until Monday 30 November, 9:00.
    let d = run(
        &call(CallState::Incoming),
        EventKind::Incoming,
        &ops,
        msk(2026, 11, 27, 18, 0),
    );
    assert_eq!(d.state, CallState::Voicemail);
    assert!(dialed(&d).is_none());
    assert!(matches!(
        d.effects[..],
        [Effect::Voicemail(VoicemailChange::Start { .. })]
    ));
    let text = spoken(&d);
    assert!(
        text.contains("в понедельник")
            && text.contains("тридцатого ноября")
            && text.contains("девять"),
        "{text}"
    );
    // A shortened day after 17:00 is closed too (3 November 2026); opens 5 November after the holiday.
    let d = run(
        &call(CallState::Incoming),
        EventKind::Incoming,
        &ops,
        msk(2026, 11, 3, 17, 0),
    );
    assert!(spoken(&d).contains("пятого ноября"), "{}", spoken(&d));
}

#[test]
fn no_answer_releases_with_a_miss_and_tries_the_next_operator() {
    let ops = [op(1, Presence::OnCall, 0), op(2, Presence::Available, 1)];
    let ringing = CallView {
        state: CallState::RingingOperator,
        operator_id: Some(1),
        tried: vec![],
        caller: None,
    };
    let d = run(
        &ringing,
        EventKind::DialEnded {
            outcome: DialOutcome::NoAnswer,
            talk: TimeDelta::zero(),
        },
        &ops,
        open_now(),
    );
    assert_eq!(
        d.effects[0],
        Effect::Release {
            operator_id: 1,
            missed: true
        }
    );
    assert!(d.effects.contains(&Effect::Reserve(2)));
    assert_eq!((dialed(&d), d.tried.clone()), (Some(2), vec![1]));
    // Operator 1 becomes free again but was tried: with nobody else free the caller queues.
    let ops = [op(1, Presence::Available, 0), op(2, Presence::OnCall, 0)];
    let ringing2 = CallView {
        state: CallState::RingingOperator,
        operator_id: Some(2),
        tried: vec![1],
        caller: None,
    };
    let d = run(
        &ringing2,
        EventKind::DialEnded {
            outcome: DialOutcome::Busy,
            talk: TimeDelta::zero(),
        },
        &ops,
        open_now(),
    );
    assert_eq!(d.state, CallState::Queued);
    assert_eq!(d.tried, vec![1, 2]);
    assert!(d.effects.contains(&Effect::DispatchQueue));
}

#[test]
fn answered_wraps_up_and_canceled_abandons() {
    let ringing = CallView {
        state: CallState::RingingOperator,
        operator_id: Some(7),
        tried: vec![],
        caller: None,
    };
    let d = run(
        &ringing,
        EventKind::DialEnded {
            outcome: DialOutcome::Answered,
            talk: TimeDelta::minutes(4),
        },
        &[],
        open_now(),
    );
    assert_eq!(
        (d.state, d.effects.clone(), d.reply.clone()),
        (
            CallState::Connected,
            vec![Effect::WrapUp(7)],
            vec![Verb::Hangup]
        )
    );
    let d = run(
        &ringing,
        EventKind::DialEnded {
            outcome: DialOutcome::Canceled,
            talk: TimeDelta::zero(),
        },
        &[],
        open_now(),
    );
    assert_eq!(d.state, CallState::Abandoned);
    assert_eq!(
        d.effects[0],
        Effect::Release {
            operator_id: 7,
            missed: false
        }
    );
}

#[test]
fn queue_wait_announces_position_and_wait() {
    let ops = [op(1, Presence::OnCall, 0), op(2, Presence::OnCall, 0)];
    let d = run(
        &call(CallState::Queued),
        EventKind::QueueWait {
            position: 3,
            waited: TimeDelta::seconds(20),
        },
        &ops,
        open_now(),
    );
    let Verb::Gather {
        prompt,
        step,
        max_digits,
        ..
    } = &d.reply[0]
    else {
        panic!("{:?}", d.reply)
    };
    assert_eq!((*step, *max_digits), (Step::QueueMenu, 1));
    let text: Vec<String> = prompt
        .iter()
        .filter_map(|v| {
            if let Verb::Say(u) = v {
                Some(u.text.clone())
            } else {
                None
            }
        })
        .collect();
    assert!(text[0].contains("два человека"), "{text:?}");
    // 3 × 6 min over 2 operators = 9 min.
    assert!(text[1].contains("девять минут"), "{text:?}");
    assert_eq!(prompt.last(), Some(&Verb::Pause(TimeDelta::seconds(30))));
    // Near the maximum wait the pause shortens so the caller leaves on time.
    let d = run(
        &call(CallState::Queued),
        EventKind::QueueWait {
            position: 1,
            waited: TimeDelta::seconds(110),
        },
        &ops,
        open_now(),
    );
    let Verb::Gather { prompt, .. } = &d.reply[0] else {
        panic!()
    };
    assert_eq!(prompt.last(), Some(&Verb::Pause(TimeDelta::seconds(10))));
}

#[test]
fn the_queue_is_left_on_max_wait_closing_or_empty_staff() {
    let ops = [op(1, Presence::OnCall, 0)];
    let leave = |d: Decision| d.reply == vec![Verb::Leave];
    let q = call(CallState::Queued);
    assert!(leave(run(
        &q,
        EventKind::QueueWait {
            position: 1,
            waited: TimeDelta::seconds(120)
        },
        &ops,
        open_now()
    )));
    assert!(leave(run(
        &q,
        EventKind::QueueWait {
            position: 1,
            waited: TimeDelta::seconds(5)
        },
        &[],
        open_now()
    )));
    assert!(leave(run(
        &q,
        EventKind::QueueWait {
            position: 1,
            waited: TimeDelta::seconds(5)
        },
        &ops,
        msk(2026, 12, 1, 18, 0)
    )));
    let digits = |d: &str| EventKind::Digits {
        step: Step::QueueMenu,
        digits: Some(d.into()),
    };
    assert!(leave(run(&q, digits("1"), &ops, open_now())));
    assert!(run(&q, digits("5"), &ops, open_now()).reply.is_empty());
    let d = run(
        &q,
        EventKind::QueueLeft {
            result: QueueResult::Left,
            waited: TimeDelta::seconds(120),
        },
        &ops,
        open_now(),
    );
    assert_eq!(
        (d.state, d.reply.last()),
        (
            CallState::Voicemail,
            Some(&Verb::Redirect(Step::VoicemailNumber { attempt: 0 }))
        )
    );
    let d = run(
        &q,
        EventKind::QueueLeft {
            result: QueueResult::Hangup,
            waited: TimeDelta::seconds(40),
        },
        &ops,
        open_now(),
    );
    assert_eq!(d.state, CallState::Abandoned);
}

#[test]
fn connect_after_dispatch_dials_the_reserved_operator() {
    let ops = [op(5, Presence::OnCall, 0)];
    let c = CallView {
        state: CallState::Connecting,
        operator_id: Some(5),
        tried: vec![],
        caller: None,
    };
    let d = run(&c, EventKind::Connect { operator_id: 5 }, &ops, open_now());
    assert_eq!((d.state, dialed(&d)), (CallState::RingingOperator, Some(5)));
    assert!(
        d.effects.is_empty(),
        "the dispatcher reserved the operator already"
    );
}

#[test]
fn a_late_redirect_naming_another_operator_rings_the_reserved_one() {
    let ops = [op(5, Presence::OnCall, 0), op(6, Presence::Available, 0)];
    let c = CallView {
        state: CallState::Connecting,
        operator_id: Some(5),
        tried: vec![6],
        caller: None,
    };
    let d = run(&c, EventKind::Connect { operator_id: 6 }, &ops, open_now());
    assert_eq!((d.state, dialed(&d)), (CallState::RingingOperator, Some(5)));
    assert_eq!(d.operator_id, Some(5));
}

#[test]
fn a_move_arriving_after_the_call_was_requeued_routes_it_afresh() {
    let ops = [op(6, Presence::Available, 0)];
    let c = CallView {
        state: CallState::Queued,
        operator_id: None,
        tried: vec![],
        caller: None,
    };
    let d = run(&c, EventKind::Connect { operator_id: 5 }, &ops, open_now());
    assert_eq!((d.state, dialed(&d)), (CallState::RingingOperator, Some(6)));
    assert_eq!(d.effects, vec![Effect::Reserve(6)]);
}

#[test]
fn final_status_ends_the_call_and_frees_the_operator() {
    let ringing = CallView {
        state: CallState::RingingOperator,
        operator_id: Some(3),
        tried: vec![],
        caller: None,
    };
    let done = EventKind::Status {
        status: crate::telephony::CallStatus::Completed,
        sequence: Some(4),
        duration: None,
    };
    let d = run(&ringing, done.clone(), &[], open_now());
    assert_eq!(d.state, CallState::Abandoned);
    assert!(d.effects.contains(&Effect::Release {
        operator_id: 3,
        missed: false
    }));
    let talked = CallView {
        state: CallState::Connected,
        operator_id: Some(3),
        tried: vec![],
        caller: None,
    };
    assert_eq!(
        run(&talked, done.clone(), &[], open_now()).state,
        CallState::Completed
    );
    // Nothing moves a finished call, whatever arrives late.
    let over = call(CallState::Completed);
    for ev in [
        EventKind::Incoming,
        done,
        EventKind::QueueWait {
            position: 1,
            waited: TimeDelta::zero(),
        },
    ] {
        let d = run(&over, ev, &[op(1, Presence::Available, 1)], open_now());
        assert_eq!(
            (d.state, d.reply.len(), d.effects.len()),
            (CallState::Completed, 0, 0)
        );
    }
}

#[test]
fn a_new_caller_does_not_jump_the_queue() {
    let ops = [op(1, Presence::Available, 5)];
    let settings = RoutingSettings::default();
    let calendar = cal();
    let s = Situation {
        now: open_now(),
        calendar: &calendar,
        settings: &settings,
        operators: &ops,
        queued: 2,
        callback_eta: None,
        registered: None,
        screen: Default::default(),
    };
    let d = decide(&call(CallState::Incoming), &EventKind::Incoming, &s);
    assert_eq!(d.state, CallState::Queued);
    assert!(dialed(&d).is_none());
    assert_eq!(
        d.effects,
        vec![Effect::DispatchQueue],
        "the free operator goes to the first in line"
    );
    // Nobody free (on a call, or wrapping up within the wrap-up time): the caller still joins
    // the line, and the dispatcher is not woken for nothing.
    for busy in [op(1, Presence::OnCall, 5), op(1, Presence::WrapUp, 0)] {
        let ops = [busy];
        let s = Situation {
            operators: &ops,
            ..s
        };
        let d = decide(&call(CallState::Incoming), &EventKind::Incoming, &s);
        assert_eq!(d.state, CallState::Queued);
        assert!(dialed(&d).is_none());
        assert_eq!(d.effects, vec![], "{:?}", ops[0].presence);
    }
}

#[test]
fn a_call_being_moved_to_an_operator_is_not_sent_away() {
    let ops = [op(5, Presence::OnCall, 0)];
    let moving = CallView {
        state: CallState::Connecting,
        operator_id: Some(5),
        tried: vec![],
        caller: None,
    };
    let d = run(
        &moving,
        EventKind::QueueWait {
            position: 1,
            waited: TimeDelta::seconds(500),
        },
        &ops,
        open_now(),
    );
    assert_eq!(d.reply, vec![Verb::Pause(TimeDelta::seconds(1))]);
    assert_eq!(d.state, CallState::Connecting);
    // If it leaves the queue anyway, the reserved operator is released.
    let left = EventKind::QueueLeft {
        result: QueueResult::Left,
        waited: TimeDelta::seconds(500),
    };
    let d = run(&moving, left, &ops, open_now());
    assert_eq!(d.state, CallState::Voicemail);
    assert_eq!(
        d.effects[0],
        Effect::Release {
            operator_id: 5,
            missed: false
        }
    );
    assert!(d.effects.contains(&Effect::DispatchQueue));
}
