//! From a routing [`Decision`] to the [`StepPlan`] the store commits: the decision's effects become
//! the step's operator reservation, releases and wrap-ups, the voicemail's writes, its joining the
//! callback list (when the number is settled or the call ends) and the jobs (recording download,
//! the SMS with the callback estimate). Pure: everything it needs is in [`PlanContext`].

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::CallbackEstimate;
use crate::callbacks::Callbacks;
use crate::domain::call::CallState;
use crate::domain::facts::Mark;
use crate::domain::routing::{CallView, Decision, Effect, RoutingSettings, VoicemailChange};
use crate::domain::voicemail::{
    FLAG_ABANDONED_IN_QUEUE, FLAG_NO_RECORDING, FLAG_NUMBER_UNCONFIRMED,
};
use crate::store::{AttachPlan, Call, NewJob, StepPlan, VoicemailWrite};
use crate::telephony::{DialOutcome, EventKind, RecordingStatus, Step};

/// What a plan needs besides the call and the decision (owned: the plan may run on another thread).
pub(super) struct PlanContext {
    pub now: DateTime<Utc>,
    pub settings: Arc<RoutingSettings>,
    pub callbacks: Callbacks,
    /// Whether the caller gets the callback estimate by SMS.
    pub sms: bool,
    /// The caller's callback estimate, read before the step (told at the end of a message).
    pub eta: Option<CallbackEstimate>,
}

impl PlanContext {
    /// The step for `d`, with the rendered reply `text`; the flag says whether the dispatcher
    /// should look at the queue afterwards. A transition the call's state machine forbids (a stale
    /// or out-of-order event) keeps the call as it is and applies none of the effects.
    pub fn plan(
        &self,
        call: &Call,
        view: &CallView,
        d: Decision,
        text: String,
    ) -> (StepPlan, bool) {
        if !view.state.can_become(d.state) {
            tracing::warn!(from = %view.state, to = %d.state, "routing proposed a forbidden transition; kept");
            return (StepPlan::keep(call, Some(text)), false);
        }
        let mut p = StepPlan::keep(call, Some(text));
        p.state = d.state.as_str().into();
        p.operator_id = d.operator_id;
        p.tried = d.tried;
        p.pause_after = self.settings.autopause_after;
        let mut dispatch = false;
        for effect in d.effects {
            match effect {
                Effect::Reserve(op) => p.reserve = Some((op, self.now - self.settings.wrap_up)),
                Effect::Release {
                    operator_id,
                    missed,
                } => p.releases.push((operator_id, missed)),
                Effect::WrapUp(op) => p.wrap_ups.push(op),
                Effect::DispatchQueue => dispatch = true,
                Effect::Voicemail(change) => self.voicemail(call, change, &mut p),
                Effect::Blocked(rule) => p.blocked = Some(rule),
                Effect::Repeat(number) => p.repeat = Some(number),
            }
        }
        if d.state.is_final() {
            // A caller who hung up before settling a number is still someone to call back.
            let mut join = self.callbacks.attach_plan(self.now);
            if d.state == CallState::Abandoned && self.abandoned_joins(call, view, &join) {
                p.voicemail.push(VoicemailWrite::Start {
                    caller_id: call.from_number.clone(),
                });
                p.voicemail
                    .push(VoicemailWrite::Flag(FLAG_ABANDONED_IN_QUEUE));
                join.source = "abandoned";
            }
            p.join = Some(join);
        }
        (p, dispatch)
    }

    /// Whether a caller who hung up while waiting for an operator joins the callback list: they
    /// waited at least `callbacks.abandoned_join_after_secs` (0: never) and their caller ID can be
    /// called back.
    fn abandoned_joins(&self, call: &Call, view: &CallView, join: &AttachPlan) -> bool {
        let after = self.callbacks.settings().abandoned_join_after;
        view.state.is_waiting()
            && after > chrono::TimeDelta::zero()
            && self.now - call.started_at >= after
            && call.from_number.as_deref().is_some_and(join.usable)
    }

    fn voicemail(&self, call: &Call, change: VoicemailChange, p: &mut StepPlan) {
        let w = &mut p.voicemail;
        match change {
            VoicemailChange::Start { caller_id } => w.push(VoicemailWrite::Start { caller_id }),
            VoicemailChange::Number(number) => {
                w.push(VoicemailWrite::Number {
                    number,
                    confirmed: true,
                });
                p.join = Some(self.callbacks.attach_plan(self.now));
            }
            VoicemailChange::NumberUnconfirmed => {
                w.push(VoicemailWrite::Flag(FLAG_NUMBER_UNCONFIRMED));
                p.join = Some(self.callbacks.attach_plan(self.now));
            }
            VoicemailChange::Category(c) => {
                w.push(VoicemailWrite::Category(c.as_str().into()));
                p.refresh = Some(self.callbacks.settings().priority);
            }
            VoicemailChange::Recorded(None) => {
                w.push(VoicemailWrite::Flag(FLAG_NO_RECORDING));
                p.jobs.extend(self.eta_sms(call));
            }
            VoicemailChange::Recorded(Some(rec)) => {
                w.push(VoicemailWrite::Start { caller_id: None });
                w.push(VoicemailWrite::Recording {
                    key: format!("{}:{}", call.provider, rec.id),
                    url: rec.url,
                    duration_ms: rec.duration.map(|d| d.num_milliseconds()),
                    job: None,
                });
                p.jobs.extend(self.eta_sms(call));
            }
            VoicemailChange::RecordingStatus { recording, status } => {
                w.push(VoicemailWrite::Start { caller_id: None });
                let key = format!("{}:{}", call.provider, recording.id);
                match status {
                    RecordingStatus::Completed => {
                        let payload = serde_json::json!({
                            "provider": call.provider,
                            "call_id": call.id,
                            "recording_id": recording.id,
                            "url": recording.url,
                        });
                        let job = NewJob {
                            kind: crate::jobs::DOWNLOAD_RECORDING.into(),
                            payload: payload.to_string(),
                            dedup_key: Some(format!("download:{key}")),
                            run_at: self.now,
                            max_attempts: crate::jobs::DOWNLOAD_MAX_ATTEMPTS,
                        };
                        w.push(VoicemailWrite::Recording {
                            key,
                            url: recording.url,
                            duration_ms: recording.duration.map(|d| d.num_milliseconds()),
                            job: Some(job),
                        });
                    }
                    RecordingStatus::Absent | RecordingStatus::Failed => {
                        w.push(VoicemailWrite::Flag(FLAG_NO_RECORDING));
                    }
                    RecordingStatus::InProgress => {}
                }
            }
        }
    }

    /// The SMS with the registration number and the estimate, when SMS is configured and the
    /// caller's request is on the list.
    fn eta_sms(&self, call: &Call) -> Option<NewJob> {
        let eta = self.eta.as_ref().filter(|_| self.sms)?;
        Some(crate::jobs::sms::sms_job(
            &eta.number,
            &super::callback_sms_text(eta, self.now),
            format!("sms:eta:{}", call.id),
            self.now,
        ))
    }
}

/// What routing knew at this step, for the call's statistical facts: whether the hotline was
/// open, an answered dial's talk time and the wrap-up that follows it, and a queued caller's
/// choice of voicemail (the queue menu's key 1).
pub(super) fn facts_mark(
    kind: &EventKind,
    state: CallState,
    open: bool,
    settings: &RoutingSettings,
) -> Mark {
    let mut m = Mark {
        open: Some(open),
        ..Mark::default()
    };
    match kind {
        EventKind::DialEnded {
            outcome: DialOutcome::Answered,
            talk,
        } => {
            m.talk_ms = Some(talk.num_milliseconds());
            m.wrap_up_ms = Some(settings.wrap_up.num_milliseconds());
        }
        EventKind::Digits {
            step: Step::QueueMenu,
            digits,
        } if state == CallState::Queued && digits.as_deref() == Some("1") => {
            m.chose_voicemail = true;
        }
        _ => {}
    }
    m
}
