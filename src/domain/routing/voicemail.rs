//! The voicemail steps, when nobody can answer (the hotline's regulation: the caller leaves a
//! message with contact details and is called back in working hours).
//!
//! 1. The callback number: with a valid caller ID, "we will call you back at the number ending in
//!    45-67; press # to confirm or dial another number and press #"; with a hidden or invalid one,
//!    "dial your number and press #". An entry that cannot be a number is asked again; after the
//!    second failure the caller ID is kept and the voicemail flagged.
//! 2. Who is calling: 1 — school staff, 2 — parent or student (asked twice at most).
//! 3. The message after the beep (`#` ends it), then a closing message and goodbye.
//!
//! Every step is stored as it happens (effects), so a caller who hangs up at any point still
//! leaves a voicemail with what was gathered.

use chrono::{DateTime, TimeDelta, Utc};

use super::{CallView, Decision, Effect, Situation, say};
use crate::calendar::MOSCOW;
use crate::domain::call::CallState;
use crate::domain::phone::PhoneNumber;
use crate::domain::voicemail::CallerCategory;
use crate::speech::{self, Prompt};
use crate::telephony::{Recording, RecordingStatus, Reply, Step, Verb};

/// What a voicemail step changes in the stored voicemail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VoicemailChange {
    /// The voicemail begins; `caller_id` is the caller's number when it is a valid one.
    Start {
        caller_id: Option<String>,
    },
    /// The callback number, confirmed on the keypad.
    Number(String),
    /// No number could be confirmed: the caller ID is kept and the voicemail flagged.
    NumberUnconfirmed,
    Category(CallerCategory),
    /// The message was recorded (or `None`: nothing was).
    Recorded(Option<Recording>),
    /// The provider's word on the recording file.
    RecordingStatus {
        recording: Recording,
        status: RecordingStatus,
    },
}

/// How many times a keypad step is asked before moving on.
const ATTEMPTS: u8 = 2;
const NUMBER_DIGITS: u32 = 16;

fn caller_id(call: &CallView) -> Option<PhoneNumber> {
    call.caller.clone()
}

fn decision(call: &CallView, reply: Reply, change: Option<VoicemailChange>) -> Decision {
    Decision {
        reply,
        state: CallState::Voicemail,
        operator_id: None,
        tried: call.tried.clone(),
        effects: change.map(Effect::Voicemail).into_iter().collect(),
    }
}

/// The number question (first time or again).
fn ask_number(call: &CallView, attempt: u8, mut reply: Reply) -> Reply {
    let prompt = match caller_id(call) {
        Some(n) => vec![
            Verb::Say(speech::number_ending(n.last4())),
            say(Prompt::OtherNumber),
        ],
        None => vec![say(Prompt::EnterNumber)],
    };
    let step = Step::VoicemailNumber { attempt };
    reply.push(Verb::Gather {
        prompt,
        max_digits: NUMBER_DIGITS,
        timeout: TimeDelta::seconds(7),
        finish_on_key: Some('#'),
        step,
    });
    reply.push(Verb::Redirect(step));
    reply
}

fn ask_category(attempt: u8, mut reply: Reply) -> Reply {
    let step = Step::VoicemailCategory { attempt };
    let prompt = vec![say(Prompt::CategoryMenu)];
    reply.push(Verb::Gather {
        prompt,
        max_digits: 1,
        timeout: TimeDelta::seconds(6),
        finish_on_key: None,
        step,
    });
    reply.push(Verb::Redirect(step));
    reply
}

fn record(mut reply: Reply) -> Reply {
    reply.push(say(Prompt::RecordAfterBeep));
    reply.push(Verb::Record {
        max_length: TimeDelta::seconds(120),
        finish_on_key: '#',
    });
    // Twilio skips the action when nothing was recorded and goes on here.
    reply.extend([say(Prompt::Goodbye), Verb::Hangup]);
    reply
}

/// The repeat-count effect for an over-limit caller whose caller ID is a valid number.
pub(super) fn repeat(call: &CallView) -> Option<Effect> {
    caller_id(call).map(|n| Effect::Repeat(n.as_str().to_owned()))
}

/// Where a voicemail would start: a caller over the voicemails-per-day limit hears, after `reply`,
/// that no new message can be left (their request is counted again) and the call ends.
pub(super) fn over_limit(call: &CallView, s: &Situation<'_>, reply: &Reply) -> Option<Decision> {
    if !s
        .screen
        .limits
        .voicemails_over(s.screen.caller.voicemails_today)
    {
        return None;
    }
    let mut reply = reply.clone();
    reply.extend([say(Prompt::VoicemailLimit), Verb::Hangup]);
    Some(Decision {
        reply,
        state: CallState::Goodbye,
        operator_id: None,
        tried: call.tried.clone(),
        effects: repeat(call).into_iter().collect(),
    })
}

/// Starts the voicemail steps after `reply` (greeting, hours, "nobody is free" as the case may be).
pub(super) fn start(call: &CallView, reply: Reply) -> Decision {
    let change = VoicemailChange::Start {
        caller_id: caller_id(call).map(|n| n.as_str().to_owned()),
    };
    decision(call, ask_number(call, 0, reply), Some(change))
}

/// The caller answered the number question (`digits` is `None` on a timeout or a bare `#`).
pub(super) fn number_entered(call: &CallView, attempt: u8, digits: Option<&str>) -> Decision {
    let entered = digits
        .map(|d| d.trim_end_matches('#'))
        .filter(|d| !d.is_empty());
    let accepted = match entered {
        Some(d) => PhoneNumber::parse(d).ok(),
        None => caller_id(call),
    };
    match accepted {
        Some(n) => decision(
            call,
            ask_category(0, Vec::new()),
            Some(VoicemailChange::Number(n.as_str().to_owned())),
        ),
        None if attempt + 1 < ATTEMPTS => {
            let again = if entered.is_some() {
                Prompt::NumberNotRecognised
            } else {
                Prompt::EnterNumber
            };
            decision(call, ask_number(call, attempt + 1, vec![say(again)]), None)
        }
        None => decision(
            call,
            ask_category(0, Vec::new()),
            Some(VoicemailChange::NumberUnconfirmed),
        ),
    }
}

/// The caller answered the category question.
pub(super) fn category_entered(call: &CallView, attempt: u8, digits: Option<&str>) -> Decision {
    match digits.and_then(CallerCategory::from_digit) {
        Some(c) => decision(call, record(Vec::new()), Some(VoicemailChange::Category(c))),
        None if attempt + 1 < ATTEMPTS => decision(
            call,
            ask_category(attempt + 1, vec![say(Prompt::MenuRetry)]),
            None,
        ),
        None => decision(call, record(Vec::new()), None),
    }
}

/// Recording ended: thank the caller and hang up.
pub(super) fn recorded(
    call: &CallView,
    recording: Option<&Recording>,
    s: &Situation<'_>,
) -> Decision {
    let mut reply = vec![say(Prompt::MessageRecorded)];
    let registered = s
        .registered
        .map(|seq| Verb::Say(speech::registration_number(seq)));
    let local = |t: DateTime<Utc>| t.with_timezone(&MOSCOW).naive_local();
    if let Some((from, to)) = s.callback_eta {
        // The estimate from the callback list: "Мы позвоним вам в понедельник, … примерно с десяти
        // до одиннадцати часов."
        reply.push(Verb::Say(speech::callback_eta(
            local(s.now),
            local(from),
            local(to),
        )));
    } else if !s.calendar.is_open(s.now)
        && let Some(w) = s.calendar.window_at_or_after(s.now)
    {
        // No estimate: when the hotline is closed, say when the next window opens.
        let now = s.now.with_timezone(&MOSCOW).naive_local();
        reply.push(Verb::Say(speech::opens_at(
            now,
            w.start.with_timezone(&MOSCOW).naive_local(),
        )));
    }
    reply.extend(registered);
    reply.extend([say(Prompt::Goodbye), Verb::Hangup]);
    let mut d = decision(
        call,
        reply,
        Some(VoicemailChange::Recorded(recording.cloned())),
    );
    d.state = CallState::VoicemailLeft;
    d
}

/// The recording's status callback; valid whatever the call's state (it often comes after the end).
pub(super) fn recording_ready(
    call: &CallView,
    recording: &Recording,
    status: RecordingStatus,
) -> Decision {
    Decision {
        reply: Vec::new(),
        state: call.state,
        operator_id: call.operator_id,
        tried: call.tried.clone(),
        effects: vec![Effect::Voicemail(VoicemailChange::RecordingStatus {
            recording: recording.clone(),
            status,
        })],
    }
}
