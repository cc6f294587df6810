//! A call's statistical facts, derived from its events. Every step of a call leaves a [`Mark`]
//! beside its event (the state the step left the call in and what routing knew: whether the
//! hotline was open, the talk time of an answered dial, the configured wrap-up, a caller's choice
//! of voicemail in the queue). [`delta`] turns one marked event into the facts it settles, and
//! facts only ever go from unknown to known (the first value wins), so merging the deltas in event
//! order — in SQL with `coalesce` as events arrive, or in Rust with [`Facts::merge`] when the facts
//! are rebuilt from the stored events — gives the same row. A call belongs to the Moscow date and
//! hour it started.
//!
//! Definitions (the statistics' formulas build on them):
//! - *in hours*: the hotline was open when the call arrived; such a call is *offered*;
//! - *answered*: an operator talked to the caller; answered at = the dial's end − talk time; the
//!   caller's wait is counted from the call's arrival;
//! - *abandoned*: the caller hung up while still waiting for an operator (arriving, queued, being
//!   moved, or while an operator's phone rang), not during the voicemail steps;
//! - *voicemail*: the call was sent to the voicemail steps; why is told by where it came from
//!   (see [`VoicemailWhy`]); *left* when a message or a settled number followed.

use chrono::{DateTime, NaiveDate, Timelike, Utc};
use serde::{Deserialize, Serialize};

use super::call::CallState;
use crate::calendar::MOSCOW;

/// What routing knew at one step, stored with the step's event (absent fields are unknown).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The hotline was open at the step's instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// The conversation's length, reported when an operator's dial ended answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub talk_ms: Option<i64>,
    /// The after-call work the operator is given (configured wrap-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_ms: Option<i64>,
    /// The caller pressed the key that leaves the queue for voicemail.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub chose_voicemail: bool,
}

impl Mark {
    /// The mark as stored (`None` when it says nothing).
    pub fn to_stored(&self) -> Option<String> {
        (*self != Mark::default()).then(|| serde_json::to_string(self).unwrap_or_default())
    }

    /// A stored mark; unreadable or missing text is an empty mark.
    pub fn from_stored(s: Option<&str>) -> Mark {
        s.and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }
}

/// The facts of one call. Every field but the call's start is unknown until an event settles it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    pub started_at_ms: i64,
    pub in_hours: Option<bool>,
    pub queued_at_ms: Option<i64>,
    pub answered_at_ms: Option<i64>,
    pub operator_id: Option<i64>,
    pub talk_ms: Option<i64>,
    pub wrap_up_ms: Option<i64>,
    pub abandoned_at_ms: Option<i64>,
    pub voicemail_at_ms: Option<i64>,
    /// The state the call left for voicemail.
    pub voicemail_from: Option<CallState>,
    /// Whether the hotline was open when the call went to voicemail.
    pub voicemail_open: Option<bool>,
    pub voicemail_left_at_ms: Option<i64>,
    pub chose_voicemail_at_ms: Option<i64>,
    pub ended_at_ms: Option<i64>,
}

/// Why a call went to voicemail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VoicemailWhy {
    /// The hotline was closed.
    OffHours,
    /// The caller chose to leave the queue for voicemail.
    Choice,
    /// The queue's longest wait passed (or the last operator left).
    Timeout,
    /// The operators rung did not answer and nobody else was free.
    NoAnswer,
    /// Nobody was staffing the line.
    NoOperator,
}

impl Facts {
    /// The Moscow date and hour the call started, which it belongs to.
    pub fn day_hour(&self) -> (NaiveDate, u32) {
        day_hour(self.started_at_ms)
    }

    /// How long the caller waited before an operator answered.
    pub fn answer_wait_ms(&self) -> Option<i64> {
        self.answered_at_ms.map(|a| a - self.started_at_ms)
    }

    /// How long the caller waited before hanging up.
    pub fn abandon_wait_ms(&self) -> Option<i64> {
        self.abandoned_at_ms.map(|a| a - self.started_at_ms)
    }

    pub fn voicemail_why(&self) -> Option<VoicemailWhy> {
        self.voicemail_at_ms?;
        Some(if self.voicemail_open == Some(false) {
            VoicemailWhy::OffHours
        } else if self.chose_voicemail_at_ms.is_some() {
            VoicemailWhy::Choice
        } else {
            match self.voicemail_from {
                Some(CallState::Queued | CallState::Connecting) => VoicemailWhy::Timeout,
                Some(CallState::RingingOperator) => VoicemailWhy::NoAnswer,
                _ => VoicemailWhy::NoOperator,
            }
        })
    }

    /// Applies a later delta: what is known stays, what the delta knows fills the unknown.
    pub fn merge(&mut self, d: &Facts) {
        fn first<T: Clone>(a: &mut Option<T>, b: &Option<T>) {
            if a.is_none() {
                a.clone_from(b);
            }
        }
        first(&mut self.in_hours, &d.in_hours);
        first(&mut self.queued_at_ms, &d.queued_at_ms);
        first(&mut self.answered_at_ms, &d.answered_at_ms);
        first(&mut self.operator_id, &d.operator_id);
        first(&mut self.talk_ms, &d.talk_ms);
        first(&mut self.wrap_up_ms, &d.wrap_up_ms);
        first(&mut self.abandoned_at_ms, &d.abandoned_at_ms);
        first(&mut self.voicemail_at_ms, &d.voicemail_at_ms);
        first(&mut self.voicemail_from, &d.voicemail_from);
        first(&mut self.voicemail_open, &d.voicemail_open);
        first(&mut self.voicemail_left_at_ms, &d.voicemail_left_at_ms);
        first(&mut self.chose_voicemail_at_ms, &d.chose_voicemail_at_ms);
        first(&mut self.ended_at_ms, &d.ended_at_ms);
    }

    /// Whether the delta settles nothing (no write is needed).
    pub fn is_empty_delta(&self) -> bool {
        let mut bare = self.clone();
        bare.started_at_ms = 0;
        bare == Facts::default()
    }
}

/// The Moscow date and hour of an instant in milliseconds.
pub fn day_hour(ms: i64) -> (NaiveDate, u32) {
    let t = DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&MOSCOW);
    (t.date_naive(), t.hour())
}

/// One step of a call, as the facts see it.
#[derive(Debug, Clone, Copy)]
pub struct StepSeen<'a> {
    pub started_at_ms: i64,
    pub at_ms: i64,
    pub before: CallState,
    pub after: CallState,
    pub operator_id: Option<i64>,
    /// Whether this is the call's first event.
    pub first: bool,
    pub mark: &'a Mark,
}

/// What one step settles.
pub fn delta(s: &StepSeen<'_>) -> Facts {
    use CallState::*;
    let mut d = Facts {
        started_at_ms: s.started_at_ms,
        ..Facts::default()
    };
    if s.first {
        d.in_hours = s.mark.open;
    }
    if s.mark.chose_voicemail {
        d.chose_voicemail_at_ms = Some(s.at_ms);
    }
    let changed = s.before != s.after;
    if changed && s.after == Queued {
        d.queued_at_ms = Some(s.at_ms);
    }
    if changed && s.after == Connected {
        let talk = s.mark.talk_ms.unwrap_or(0).max(0);
        d.answered_at_ms = Some((s.at_ms - talk).max(s.started_at_ms));
        d.operator_id = s.operator_id;
        d.talk_ms = Some(talk);
        d.wrap_up_ms = Some(s.mark.wrap_up_ms.unwrap_or(0));
    }
    if changed && s.after == Voicemail {
        d.voicemail_at_ms = Some(s.at_ms);
        d.voicemail_from = Some(s.before);
        d.voicemail_open = s.mark.open;
    }
    if changed && s.after == VoicemailLeft {
        d.voicemail_left_at_ms = Some(s.at_ms);
    }
    if changed && s.after == Abandoned && s.before.is_waiting() {
        d.abandoned_at_ms = Some(s.at_ms);
    }
    if changed && s.after.is_final() {
        d.ended_at_ms = Some(s.at_ms);
    }
    d
}

/// The facts of a call from its marked events in order: (instant, state after, operator, mark).
pub fn rebuild<'a>(
    started_at_ms: i64,
    events: impl IntoIterator<Item = (i64, CallState, Option<i64>, &'a Mark)>,
) -> Facts {
    let mut facts = Facts {
        started_at_ms,
        ..Facts::default()
    };
    let mut before = CallState::Incoming;
    for (i, (at_ms, after, operator_id, mark)) in events.into_iter().enumerate() {
        facts.merge(&delta(&StepSeen {
            started_at_ms,
            at_ms,
            before,
            after,
            operator_id,
            first: i == 0,
            mark,
        }));
        before = after;
    }
    facts
}

#[cfg(test)]
#[path = "facts_tests.rs"]
mod tests;
