//! The routing decision: given what just happened to a call, the operators, the calendar and the
//! queue, what should the call do next? [`decide`] is pure — "now" and every piece of state are
//! arguments — and returns the [`Reply`] for the provider, the call's next state, and the
//! [`Effect`]s the caller of `decide` must apply (reserve or release an operator, wrap up, try the
//! hold queue).
//!
//! The rules (the hotline's regulation): during working hours a call goes to the longest-idle free
//! operator; one who does not answer is skipped for this call and, after `autopause_after` misses
//! in a row, paused. When operators are logged in but all busy, the caller holds in the queue and
//! hears the position and the estimated wait, may press 1 to leave instead, and leaves after
//! `queue_max_wait`. Outside working hours the caller hears when the hotline opens next. Whoever
//! cannot be answered leaves a voice message with contact details (`voicemail.rs`).

use chrono::{DateTime, TimeDelta, Utc};

use super::blocklist::{CallLimits, CallerRecord};
use super::call::CallState;
use super::operator::{ContactKind, Presence};
use super::phone::PhoneNumber;
use crate::calendar::Calendar;
use crate::speech::Prompt;
use crate::telephony::{DialTarget, EventKind, QueueResult, Reply, Step, Verb};

/// Tunable routing rules (config section `[routing]`).
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingSettings {
    /// How long an operator's phone rings before the call moves on.
    pub ring_timeout: TimeDelta,
    /// Misses in a row after which an operator is paused (presence `break`); 0 never pauses.
    pub autopause_after: u32,
    /// After a call an operator is in `wrap_up` this long, then available again.
    pub wrap_up: TimeDelta,
    /// The longest a caller holds in the queue before being sent to voicemail.
    pub queue_max_wait: TimeDelta,
    /// Announcements of position and wait are repeated this often.
    pub announce_every: TimeDelta,
    /// Average handle time used for the wait estimate.
    pub average_handle: TimeDelta,
    /// The hold queue's name.
    pub queue: String,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            ring_timeout: TimeDelta::seconds(20),
            autopause_after: 3,
            wrap_up: TimeDelta::seconds(30),
            queue_max_wait: TimeDelta::seconds(120),
            announce_every: TimeDelta::seconds(30),
            average_handle: TimeDelta::minutes(6),
            queue: "main".into(),
        }
    }
}

/// An operator as routing sees one.
#[derive(Debug, Clone, PartialEq)]
pub struct OperatorView {
    pub id: i64,
    pub presence: Presence,
    pub presence_since: DateTime<Utc>,
    pub idle_since: Option<DateTime<Utc>>,
    pub contact_kind: ContactKind,
    pub contact: String,
}

impl OperatorView {
    /// Free to take a call now: available, or done wrapping up.
    pub fn is_free(&self, now: DateTime<Utc>, wrap_up: TimeDelta) -> bool {
        match self.presence {
            Presence::Available => true,
            Presence::WrapUp => self.presence_since + wrap_up <= now,
            _ => false,
        }
    }

    /// Staffing the line: free or busy with a call, not on a break or logged off.
    pub fn is_staffing(&self) -> bool {
        matches!(
            self.presence,
            Presence::Available | Presence::OnCall | Presence::WrapUp
        )
    }

    /// Since when the operator has been free (for longest-idle order).
    fn free_since(&self, wrap_up: TimeDelta) -> DateTime<Utc> {
        match self.presence {
            Presence::WrapUp => self.presence_since + wrap_up,
            _ => self.idle_since.unwrap_or(self.presence_since),
        }
    }

    fn target(&self) -> DialTarget {
        DialTarget {
            operator_id: self.id,
            kind: self.contact_kind,
            contact: self.contact.clone(),
        }
    }
}

/// The longest-idle free operator not in `skip`.
pub fn pick_operator<'a>(
    operators: &'a [OperatorView],
    skip: &[i64],
    now: DateTime<Utc>,
    wrap_up: TimeDelta,
) -> Option<&'a OperatorView> {
    operators
        .iter()
        .filter(|o| o.is_free(now, wrap_up) && !skip.contains(&o.id))
        .min_by_key(|o| (o.free_since(wrap_up), o.id))
}

/// The call as routing sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallView {
    pub state: CallState,
    /// The operator reserved for (ringing or talking to) this call.
    pub operator_id: Option<i64>,
    /// Operators already rung for this call without an answer.
    pub tried: Vec<i64>,
    /// The caller ID when it is a valid number (`None`: hidden, or not a number).
    pub caller: Option<PhoneNumber>,
}

/// Everything else `decide` looks at.
#[derive(Debug, Clone, Copy)]
pub struct Situation<'a> {
    pub now: DateTime<Utc>,
    pub calendar: &'a Calendar,
    pub settings: &'a RoutingSettings,
    pub operators: &'a [OperatorView],
    /// Callers already holding in the queue (a new caller does not jump ahead of them); only
    /// whether it is 0 matters.
    pub queued: usize,
    /// When the caller's callback is expected (from–to), told at the end of a voicemail.
    pub callback_eta: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The sequence number of the caller's request (the digits its registration number ends in),
    /// told at the end of a voicemail.
    pub registered: Option<u64>,
    /// The caller against the blocklist and the per-number limits.
    pub screen: Screen,
}

/// The caller against the blocklist and the per-number limits, read before the step: a blocked
/// caller hears a short message and the call ends; one over the calls-per-hour limit hears a
/// polite message and the call ends; one over the voicemails-per-day limit is not offered a new
/// voicemail. An over-limit call still raises the repeat count of the caller's open request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Screen {
    pub limits: CallLimits,
    pub caller: CallerRecord,
}

/// A change the caller of [`decide`] applies to the world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Mark the operator busy with this call (fails if someone else took them first: decide again).
    Reserve(i64),
    /// The operator did not take the call; `missed` counts toward autopause.
    Release { operator_id: i64, missed: bool },
    /// The operator's conversation ended: wrap-up time starts.
    WrapUp(i64),
    /// Operator capacity may have freed up: try to connect the longest-waiting queued caller.
    DispatchQueue,
    /// Store what a voicemail step gathered.
    Voicemail(VoicemailChange),
    /// The caller is blocked by this blocklist rule: count the attempt.
    Blocked(i64),
    /// The caller (this E.164 number) is over a limit: raise the repeat count of their open
    /// callback request, if they have one.
    Repeat(String),
}

/// What `decide` answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    pub reply: Reply,
    pub state: CallState,
    /// The operator the call is with after this decision.
    pub operator_id: Option<i64>,
    /// Operators to skip for this call from now on.
    pub tried: Vec<i64>,
    pub effects: Vec<Effect>,
}

pub(super) fn say(p: Prompt) -> Verb {
    Verb::Say(p.utterance())
}

/// Decides what the call does after `event`.
pub fn decide(call: &CallView, event: &EventKind, s: &Situation<'_>) -> Decision {
    let keep = |reply: Reply| Decision {
        reply,
        state: call.state,
        operator_id: call.operator_id,
        tried: call.tried.clone(),
        effects: Vec::new(),
    };
    if let EventKind::RecordingReady { recording, status } = event {
        return voicemail::recording_ready(call, recording, *status);
    }
    if call.state.is_final() {
        return keep(Vec::new());
    }
    match event {
        EventKind::Incoming if call.state == CallState::Incoming => {
            if let Some(d) = screened(call, s) {
                return d;
            }
            let mut d = if s.queued > 0
                && s.calendar.is_open(s.now)
                && s.operators.iter().any(OperatorView::is_staffing)
            {
                // Others are waiting: join the queue behind them; a free operator goes to the
                // first (with nobody free there is nothing to dispatch: whoever frees up next
                // wakes the dispatcher, and a new call arriving every millisecond must not).
                let free = s
                    .operators
                    .iter()
                    .any(|o| o.is_free(s.now, s.settings.wrap_up));
                Decision {
                    reply: vec![
                        say(Prompt::Greeting),
                        Verb::Enqueue {
                            queue: s.settings.queue.clone(),
                        },
                    ],
                    state: CallState::Queued,
                    operator_id: None,
                    tried: call.tried.clone(),
                    effects: if free {
                        vec![Effect::DispatchQueue]
                    } else {
                        Vec::new()
                    },
                }
            } else {
                route_new(call, s, vec![say(Prompt::Greeting)])
            };
            if d.state == CallState::Queued {
                d.reply.insert(1, say(Prompt::AllBusy));
            }
            d
        }
        EventKind::Incoming => keep(Vec::new()),
        EventKind::DialEnded { outcome, .. } => dial_ended(call, *outcome, s),
        EventKind::QueueWait { position, waited } => queue_wait(call, *position, *waited, s),
        EventKind::Digits {
            step: Step::QueueMenu,
            digits,
        } if digits.as_deref() == Some("1") => keep(vec![Verb::Leave]),
        EventKind::Digits {
            step: Step::VoicemailNumber { attempt },
            digits,
        } if call.state == CallState::Voicemail => {
            voicemail::number_entered(call, *attempt, digits.as_deref())
        }
        EventKind::Digits {
            step: Step::VoicemailCategory { attempt },
            digits,
        } if call.state == CallState::Voicemail => {
            voicemail::category_entered(call, *attempt, digits.as_deref())
        }
        EventKind::Recorded { recording, .. } if call.state == CallState::Voicemail => {
            voicemail::recorded(call, recording.as_ref(), s)
        }
        EventKind::Digits { .. } | EventKind::Recorded { .. } => keep(Vec::new()),
        EventKind::QueueLeft { result, .. } => match result {
            QueueResult::Hangup => ended(call, CallState::Abandoned, Vec::new()),
            QueueResult::Redirected | QueueResult::Bridged => keep(Vec::new()),
            QueueResult::Left | QueueResult::Error => {
                let mut d = no_operator(call, s, Vec::new());
                // Left while being moved to an operator: that operator is free again.
                if let (CallState::Connecting, Some(op)) = (call.state, call.operator_id) {
                    d.effects.insert(
                        0,
                        Effect::Release {
                            operator_id: op,
                            missed: false,
                        },
                    );
                    d.effects.push(Effect::DispatchQueue);
                }
                d
            }
        },
        EventKind::Connect { operator_id } => {
            // The operator reserved by the move is the one to ring: a late redirect of an earlier
            // move may name another one, who is not reserved for this call.
            let _named = operator_id;
            let reserved = call
                .operator_id
                .filter(|_| call.state == CallState::Connecting);
            match reserved.and_then(|r| s.operators.iter().find(|o| o.id == r)) {
                Some(op) => Decision {
                    reply: vec![say(Prompt::Connecting), dial(op, s)],
                    state: CallState::RingingOperator,
                    operator_id: Some(op.id),
                    tried: call.tried.clone(),
                    effects: Vec::new(),
                },
                // The move arrived after the reconciler gave up on it (the call is queued again,
                // the operator released): the caller is out of the queue, so route them afresh.
                _ if call.state == CallState::Queued => {
                    let mut d = route_new(call, s, Vec::new());
                    if d.state == CallState::Queued {
                        d.reply.insert(0, say(Prompt::AllBusy));
                    }
                    d
                }
                _ => no_operator(call, s, Vec::new()),
            }
        }
        EventKind::Status { status, .. } if status.is_final() => {
            let next = call.state.when_ended();
            ended(call, next, Vec::new())
        }
        EventKind::Status { .. } => keep(Vec::new()),
        EventKind::RecordingReady { .. } => unreachable!("handled above"),
    }
}

/// A new call from a blocked number or over the calls-per-hour limit: a short message, goodbye.
fn screened(call: &CallView, s: &Situation<'_>) -> Option<Decision> {
    let (prompt, effects) = if let Some(rule) = s.screen.caller.blocked_by {
        (Prompt::Blocked, vec![Effect::Blocked(rule)])
    } else if s.screen.limits.calls_over(s.screen.caller.calls_last_hour) {
        (
            Prompt::CallLimit,
            voicemail::repeat(call).into_iter().collect(),
        )
    } else {
        return None;
    };
    Some(Decision {
        reply: vec![say(prompt), Verb::Hangup],
        state: CallState::Goodbye,
        operator_id: None,
        tried: call.tried.clone(),
        effects,
    })
}

mod flow;
mod voicemail;

pub use flow::describe;
use flow::{dial, dial_ended, ended, no_operator, queue_wait, route_new};
pub use voicemail::VoicemailChange;

#[cfg(test)]
mod screen_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod voicemail_tests;
