//! The routing rules event by event, for [`super::decide`]: where a new or re-routed caller goes
//! (operator, hold queue, or the goodbye/voicemail path), what a dial result, a queue tick and the
//! end of a call mean for the caller and the operators.

use chrono::TimeDelta;

use super::{CallView, Decision, Effect, OperatorView, Situation, pick_operator, say};
use crate::calendar::MOSCOW;
use crate::domain::call::CallState;
use crate::speech::{self, Prompt, Utterance};
use crate::telephony::{DialOutcome, Reply, Step, Verb};

/// Where a waiting caller goes: an operator, the queue, or the goodbye/voicemail path.
pub(super) fn route_new(call: &CallView, s: &Situation<'_>, mut reply: Reply) -> Decision {
    if !s.calendar.is_open(s.now) {
        return closed(call, s, reply);
    }
    if let Some(op) = pick_operator(s.operators, &call.tried, s.now, s.settings.wrap_up) {
        reply.extend([say(Prompt::Connecting), dial(op, s)]);
        return Decision {
            reply,
            state: CallState::RingingOperator,
            operator_id: Some(op.id),
            tried: call.tried.clone(),
            effects: vec![Effect::Reserve(op.id)],
        };
    }
    if s.operators.iter().any(OperatorView::is_staffing) {
        reply.push(Verb::Enqueue {
            queue: s.settings.queue.clone(),
        });
        return Decision {
            reply,
            state: CallState::Queued,
            operator_id: None,
            tried: call.tried.clone(),
            effects: Vec::new(),
        };
    }
    no_operator(call, s, reply)
}

pub(super) fn dial(op: &OperatorView, s: &Situation<'_>) -> Verb {
    Verb::Dial {
        target: op.target(),
        ring_timeout: s.settings.ring_timeout,
        caller_id: None,
    }
}

pub(super) fn dial_ended(call: &CallView, outcome: DialOutcome, s: &Situation<'_>) -> Decision {
    let Some(op) = call.operator_id else {
        return Decision {
            reply: vec![Verb::Hangup],
            ..no_change(call)
        };
    };
    match outcome {
        DialOutcome::Answered => Decision {
            reply: vec![Verb::Hangup],
            state: CallState::Connected,
            operator_id: Some(op),
            tried: call.tried.clone(),
            effects: vec![Effect::WrapUp(op)],
        },
        DialOutcome::Canceled => {
            let mut d = ended(call, CallState::Abandoned, vec![Verb::Hangup]);
            d.effects = vec![
                Effect::Release {
                    operator_id: op,
                    missed: false,
                },
                Effect::DispatchQueue,
            ];
            d
        }
        DialOutcome::Busy | DialOutcome::NoAnswer | DialOutcome::Failed => {
            let mut tried = call.tried.clone();
            tried.push(op);
            let retry = CallView {
                state: call.state,
                operator_id: None,
                tried,
                caller: call.caller.clone(),
            };
            let mut d = route_new(&retry, s, Vec::new());
            if d.state == CallState::Queued {
                d.reply.insert(0, say(Prompt::AllBusy));
            }
            d.effects.insert(
                0,
                Effect::Release {
                    operator_id: op,
                    missed: true,
                },
            );
            d.effects.push(Effect::DispatchQueue);
            d
        }
    }
}

pub(super) fn queue_wait(
    call: &CallView,
    position: u32,
    waited: TimeDelta,
    s: &Situation<'_>,
) -> Decision {
    if call.state == CallState::Connecting {
        // Being moved to a freed operator: keep the caller waiting quietly until the move lands.
        return Decision {
            reply: vec![Verb::Pause(TimeDelta::seconds(1))],
            ..no_change(call)
        };
    }
    let staffed = s.operators.iter().filter(|o| o.is_staffing()).count() as i32;
    let left = s.settings.queue_max_wait - waited;
    if call.state != CallState::Queued
        || !s.calendar.is_open(s.now)
        || staffed == 0
        || left <= TimeDelta::zero()
    {
        return Decision {
            reply: vec![Verb::Leave],
            ..no_change(call)
        };
    }
    let ahead = position.saturating_sub(1);
    let wait = s.settings.average_handle * (ahead as i32 + 1) / staffed.max(1);
    let pause = s
        .settings
        .announce_every
        .min(left)
        .max(TimeDelta::seconds(1));
    let prompt = vec![
        Verb::Say(speech::queue_position(ahead)),
        Verb::Say(speech::estimated_wait(wait)),
        say(Prompt::VoicemailOffer),
        Verb::Pause(pause),
    ];
    let gather = Verb::Gather {
        prompt,
        max_digits: 1,
        timeout: TimeDelta::seconds(1),
        finish_on_key: None,
        step: Step::QueueMenu,
    };
    Decision {
        reply: vec![gather],
        ..no_change(call)
    }
}

/// No operator can take the call: the caller leaves a voice message.
pub(super) fn no_operator(call: &CallView, s: &Situation<'_>, mut reply: Reply) -> Decision {
    if !s.calendar.is_open(s.now) {
        return closed(call, s, reply);
    }
    if let Some(d) = super::voicemail::over_limit(call, s, &reply) {
        return d;
    }
    reply.push(say(Prompt::ToVoicemail));
    super::voicemail::start(call, reply)
}

/// Outside working hours: when the hotline works and when it opens next, then voicemail.
fn closed(call: &CallView, s: &Situation<'_>, mut reply: Reply) -> Decision {
    reply.extend([say(Prompt::OffHours), say(Prompt::WorkingHours)]);
    if let Some(w) = s.calendar.window_at_or_after(s.now) {
        let now = s.now.with_timezone(&MOSCOW).naive_local();
        let opens = w.start.with_timezone(&MOSCOW).naive_local();
        reply.push(Verb::Say(speech::opens_at(now, opens)));
    }
    if let Some(d) = super::voicemail::over_limit(call, s, &reply) {
        return d;
    }
    super::voicemail::start(call, reply)
}

pub(super) fn ended(call: &CallView, state: CallState, reply: Reply) -> Decision {
    let mut effects = Vec::new();
    if let Some(op) = call.operator_id {
        match call.state {
            CallState::RingingOperator | CallState::Connecting => {
                effects.push(Effect::Release {
                    operator_id: op,
                    missed: false,
                });
                effects.push(Effect::DispatchQueue);
            }
            CallState::Connected => effects.push(Effect::WrapUp(op)),
            _ => {}
        }
    }
    Decision {
        reply,
        state,
        operator_id: call.operator_id,
        tried: call.tried.clone(),
        effects,
    }
}

fn no_change(call: &CallView) -> Decision {
    Decision {
        reply: Vec::new(),
        state: call.state,
        operator_id: call.operator_id,
        tried: call.tried.clone(),
        effects: Vec::new(),
    }
}

/// Turns an utterance list into the text a log line may show (no personal data in prompts).
pub fn describe(reply: &Reply) -> String {
    reply
        .iter()
        .map(|v| match v {
            Verb::Say(Utterance { clips, .. }) => format!("say({})", clips.len()),
            Verb::Pause(d) => format!("pause({}s)", d.num_seconds()),
            Verb::Dial { target, .. } => format!("dial(op {})", target.operator_id),
            Verb::Enqueue { queue } => format!("enqueue({queue})"),
            Verb::Gather { step, .. } => format!("gather({step:?})"),
            Verb::Record { .. } => "record".into(),
            Verb::Redirect(step) => format!("redirect({step:?})"),
            Verb::Leave => "leave".into(),
            Verb::Hangup => "hangup".into(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}
