//! The dispatcher: when an operator becomes free (presence change, wrap-up over, a missed call
//! released) it goes through the hold queue in arrival order and moves each caller some free
//! operator can take (one who has not missed this caller already) to that operator. Each move is
//! a call step — the queued call is locked, the operator reserved and the call marked `connecting`
//! in one transaction — followed by the provider's REST redirect, which then arrives as a
//! `Connect` event. A redirect refused because the call is over ends the call; any other failure
//! puts the caller back in the queue; neither stops the pass for the callers behind.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Switchboard, free_of, operator_views};
use crate::domain::call::CallState;
use crate::domain::routing::pick_operator;
use crate::store::{Call, StepDone, StepInput, StepPlan, StepRequest, planner};
use crate::telephony::{CallControl, ControlError};

impl Switchboard {
    /// Runs the dispatcher until `shutdown` completes: on every wake-up (and every second, for
    /// wrap-ups that end by themselves) it connects queued callers to free operators, a pass per
    /// provider (each moves its own calls).
    pub async fn run_dispatcher(
        self: std::sync::Arc<Self>,
        controls: Vec<std::sync::Arc<dyn CallControl>>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            for control in &controls {
                if let Err(e) = self.dispatch_once(control.as_ref()).await {
                    tracing::error!(error = format!("{e:#}"), "dispatcher pass failed");
                }
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.dispatch_notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// One dispatcher pass; returns how many queued callers were sent to an operator.
    pub async fn dispatch_once(&self, control: &dyn CallControl) -> anyhow::Result<usize> {
        let now = self.clock.now();
        let wrap_up = self.settings.wrap_up;
        // Cheap when nobody is free (the common case while callers queue): one read, no write.
        let mut ops = self.store.operators().await?;
        let done_wrapping = |o: &crate::store::Operator| {
            o.presence == crate::domain::operator::Presence::WrapUp
                && o.presence_since + wrap_up <= now
        };
        if ops.iter().any(done_wrapping) {
            self.store.finish_wrap_ups(now - wrap_up, now).await?;
            ops = self.store.operators().await?;
        }
        let mut operators = operator_views(&ops);
        if !self.calendar.is_open(now) || !operators.iter().any(|o| o.is_free(now, wrap_up)) {
            return Ok(0);
        }
        let queued = self.store.queued_calls().await?;
        let mut sent = 0;
        for call in queued.iter().filter(|c| c.provider == control.provider()) {
            if !operators.iter().any(|o| o.is_free(now, wrap_up)) {
                break;
            }
            // Every free operator missed this caller: those behind may still be served.
            if pick_operator(&operators, &call.tried, now, wrap_up).is_none() {
                continue;
            }
            match self.move_to_operator(control, call, now).await {
                Ok(true) => {
                    sent += 1;
                    operators = operator_views(&self.store.operators().await?);
                }
                Ok(false) => {}
                Err(e) => tracing::error!(
                    call = call.id,
                    error = format!("{e:#}"),
                    "could not move a queued caller; trying the next"
                ),
            }
        }
        Ok(sent)
    }

    /// Moves one queued caller to the longest-idle free operator; false when the call is no longer
    /// queued, nobody could take it, or the provider refused the move.
    async fn move_to_operator(
        &self,
        control: &dyn CallControl,
        call: &Call,
        now: DateTime<Utc>,
    ) -> anyhow::Result<bool> {
        let key = format!("dispatch:{}", uuid::Uuid::new_v4());
        let wrap_up = self.settings.wrap_up;
        let plan = move |input: &StepInput<'_>| {
            let c = input.call;
            if c.state != CallState::Queued.as_str() {
                return Ok(None);
            }
            let operators = free_of(operator_views(input.operators), input.unavailable);
            let Some(op) = pick_operator(&operators, &c.tried, now, wrap_up) else {
                return Ok(None);
            };
            let mut p = StepPlan::keep(c, None);
            p.state = CallState::Connecting.as_str().into();
            p.operator_id = Some(op.id);
            p.reserve = Some((op.id, now - wrap_up));
            Ok(Some(p))
        };
        let req = internal_step(call, &key, "dispatch", now, true);
        let StepDone::Applied(a) = self.step(&req, planner(plan)).await? else {
            return Ok(false);
        };
        let Some(op) = a.call.operator_id else {
            return Ok(false);
        };
        match control.connect_queued(&call.provider_call_id, op).await {
            Ok(()) => {
                tracing::info!(
                    call = call.id,
                    operator_id = op,
                    "queued caller sent to a free operator"
                );
                Ok(true)
            }
            Err(e) => {
                let over = matches!(e, ControlError::CallOver(_));
                tracing::warn!(
                    call = call.id,
                    error = %e,
                    ended = over,
                    "could not move a queued call"
                );
                self.undo_move(call, op, over, now).await?;
                Ok(false)
            }
        }
    }

    /// The provider refused the move: the operator is free again, and the caller is back in the
    /// queue — or, when the call is over, the call ends (and its caller joins the callback list if
    /// they left a number).
    async fn undo_move(
        &self,
        call: &Call,
        op: i64,
        over: bool,
        now: DateTime<Utc>,
    ) -> anyhow::Result<()> {
        let key = format!("dispatch-failed:{}", uuid::Uuid::new_v4());
        let join = self.callbacks.attach_plan(now);
        let plan = move |input: &StepInput<'_>| {
            let c = input.call;
            if c.state != CallState::Connecting.as_str() || c.operator_id != Some(op) {
                return Ok(None);
            }
            let mut p = StepPlan::keep(c, None);
            p.operator_id = None;
            p.releases.push((op, false));
            if over {
                p.state = CallState::Abandoned.as_str().into();
                p.join = Some(join.clone());
            } else {
                p.state = CallState::Queued.as_str().into();
            }
            Ok(Some(p))
        };
        let req = internal_step(call, &key, "dispatch_failed", now, false);
        self.step(&req, planner(plan)).await?;
        Ok(())
    }
}

/// A step of ours (not the provider's) on an existing call.
pub(super) fn internal_step<'a>(
    call: &'a Call,
    key: &'a str,
    kind: &'a str,
    now: DateTime<Utc>,
    operators: bool,
) -> StepRequest<'a> {
    StepRequest {
        provider: &call.provider,
        provider_call_id: &call.provider_call_id,
        from: None,
        to: None,
        event_key: key,
        kind,
        sequence: None,
        payload: "{}",
        now,
        create: false,
        operators,
        queued: false,
    }
}
