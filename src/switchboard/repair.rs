//! The reconciler: every few seconds, on any instance, it repairs what a killed process or a
//! webhook that never came left behind — operators `on_call` for calls that are over, calls left
//! `connecting` (back to the queue), queued callers nobody has heard of for longer than the
//! longest wait (gone: the call ends), calls whose end never came (an operator rung for longer
//! than any call lasts, a finished conversation with no final status: ended, the operator freed,
//! an unanswered caller put on the callback list), voicemails with a settled number that are not
//! on the callback list, and callback claims whose lease ran out. Each repair of a call is a call step
//! (recorded as an event of the call, atomic like a webhook), logged and counted
//! ([`Switchboard::repairs`]). When nothing is wrong a pass is a handful of index lookups.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};

use super::Switchboard;
use super::dispatch::internal_step;
use crate::domain::call::CallState;
use crate::domain::voicemail::FLAG_ABANDONED_IN_QUEUE;
use crate::store::step::VoicemailWrite;
use crate::store::{Call, Repairs, StepDone, StepInput, StepPlan, planner};

/// How often the reconciler runs and when it considers something stuck.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconcileSettings {
    pub interval: Duration,
    /// A call `connecting` this long has lost its move to an operator.
    pub connecting_after: TimeDelta,
    /// Reservations younger than this are never treated as orphans (a step may be committing).
    pub orphan_after: TimeDelta,
    /// A voicemail this old with a settled number should be on the callback list.
    pub unlisted_after: TimeDelta,
    /// A call `ringing_operator` (the operator's dial, the conversation included) unchanged this
    /// long lost its end: longer than Twilio lets a dial last (its 4-hour `timeLimit`).
    pub ringing_after: TimeDelta,
    /// A call `connected` (the conversation over, the final status due at once) unchanged this
    /// long lost its final status.
    pub connected_after: TimeDelta,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        ReconcileSettings {
            interval: Duration::from_secs(5),
            connecting_after: TimeDelta::seconds(15),
            orphan_after: TimeDelta::seconds(10),
            unlisted_after: TimeDelta::seconds(5),
            ringing_after: TimeDelta::hours(4) + TimeDelta::minutes(15),
            connected_after: TimeDelta::minutes(15),
        }
    }
}

/// Calls looked at per kind of repair and pass.
const BATCH: i64 = 100;

/// What to do with a stuck call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fix {
    /// `connecting` too long: release the operator, back to the queue.
    Requeue,
    /// `queued` with no webhook for too long: the caller is gone.
    End,
    /// A voicemail with a settled number not on the list: join it.
    Join,
    /// Its end never came: over (a conversation) or abandoned (still ringing: on the callback
    /// list), the operator freed.
    Close,
}

impl Switchboard {
    /// Uses these reconciler settings (the defaults otherwise).
    pub fn with_reconcile(mut self, settings: ReconcileSettings) -> Self {
        self.reconcile = settings;
        self
    }

    /// Runs the reconciler every `interval` until `shutdown` completes.
    pub async fn run_reconciler(self: std::sync::Arc<Self>, shutdown: impl Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.reconcile_once().await {
                tracing::error!(error = format!("{e:#}"), "reconciler pass failed");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = tokio::time::sleep(self.reconcile.interval) => {}
            }
        }
    }

    /// One reconciler pass; returns what it repaired (also added to [`Switchboard::repairs`]).
    pub async fn reconcile_once(&self) -> anyhow::Result<Repairs> {
        let now = self.clock.now();
        let r = &self.reconcile;
        let mut done = Repairs {
            orphaned_operators: self
                .store
                .release_orphaned_operators(now, now - r.orphan_after)
                .await?,
            ..Repairs::default()
        };
        if done.orphaned_operators > 0 {
            tracing::warn!(
                count = done.orphaned_operators,
                "reconciler: freed operators left on calls that are over"
            );
        }
        let stuck = self
            .store
            .stale_calls("connecting", now - r.connecting_after, BATCH)
            .await?;
        done.stuck_connecting = self.fix_all(&stuck, Fix::Requeue, now).await;
        let gone = now - (self.settings.queue_max_wait + self.settings.announce_every * 2);
        let stale = self.store.stale_calls("queued", gone, BATCH).await?;
        done.stale_queued = self.fix_all(&stale, Fix::End, now).await;
        let rung = self
            .store
            .stale_calls("ringing_operator", now - r.ringing_after, BATCH)
            .await?;
        let talked = self
            .store
            .stale_calls("connected", now - r.connected_after, BATCH)
            .await?;
        done.lost_endings = self.fix_all(&rung, Fix::Close, now).await
            + self.fix_all(&talked, Fix::Close, now).await;
        // Only the calls changed since the last pass (a day back at the first), with a minute of
        // overlap; the mark stays put while a full batch suggests more are waiting.
        let until = now - r.unlisted_after;
        let since = self
            .unlisted_since
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .unwrap_or(until - TimeDelta::days(1));
        let unlisted = self
            .store
            .unlisted_voicemail_calls(since, until, BATCH)
            .await?;
        done.unlisted_voicemails = self.fix_all(&unlisted, Fix::Join, now).await;
        if (unlisted.len() as i64) < BATCH {
            *self
                .unlisted_since
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = Some(until - TimeDelta::minutes(1));
        }
        done.expired_claims = self.store.release_expired_callbacks(now).await?;
        if done.expired_claims > 0 {
            self.wake.signal(crate::wake::Topic::Live);
            tracing::info!(
                count = done.expired_claims,
                "reconciler: expired callback claims released"
            );
        }
        if done.orphaned_operators + done.stuck_connecting + done.stale_queued + done.lost_endings
            > 0
        {
            self.wake_dispatcher();
        }
        self.repairs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .add(&done);
        Ok(done)
    }

    /// Applies `fix` to each call; returns how many were repaired (a failure is logged, the rest go on).
    async fn fix_all(&self, calls: &[Call], fix: Fix, now: DateTime<Utc>) -> u64 {
        let mut n = 0;
        for call in calls {
            match self.fix(call, fix, now).await {
                Ok(true) => {
                    n += 1;
                    tracing::warn!(call = call.id, state = %call.state, ?fix, "reconciler repaired a call");
                }
                Ok(false) => {}
                Err(e) => tracing::error!(
                    call = call.id,
                    ?fix,
                    error = format!("{e:#}"),
                    "reconciler could not repair a call"
                ),
            }
        }
        n
    }

    /// One repair as a call step; false when the call moved on meanwhile (nothing to repair).
    async fn fix(&self, call: &Call, fix: Fix, now: DateTime<Utc>) -> anyhow::Result<bool> {
        let seen = (call.state.clone(), call.version);
        let join = self.callbacks.attach_plan(now);
        let plan = move |input: &StepInput<'_>| {
            let c = input.call;
            if (c.state.as_str(), c.version) != (seen.0.as_str(), seen.1) {
                return Ok(None);
            }
            let mut p = StepPlan::keep(c, None);
            match fix {
                Fix::Requeue => {
                    p.state = CallState::Queued.as_str().into();
                    p.operator_id = None;
                    p.releases.extend(c.operator_id.map(|op| (op, false)));
                }
                Fix::End => {
                    p.state = CallState::Abandoned.as_str().into();
                    p.join = Some(join.clone());
                }
                Fix::Join => p.join = Some(join.clone()),
                Fix::Close if c.state == CallState::Connected.as_str() => {
                    p.state = CallState::Completed.as_str().into();
                }
                Fix::Close => {
                    // Whether they talked is unknown: the caller goes on the callback list (at
                    // worst one call back too many), as an abandoned caller does.
                    p.state = CallState::Abandoned.as_str().into();
                    p.releases.extend(c.operator_id.map(|op| (op, false)));
                    if let Some(n) = c.from_number.as_deref().filter(|n| (join.usable)(n)) {
                        p.voicemail.push(VoicemailWrite::Start {
                            caller_id: Some(n.to_owned()),
                        });
                        p.voicemail
                            .push(VoicemailWrite::Flag(FLAG_ABANDONED_IN_QUEUE));
                        let mut j = join.clone();
                        j.source = "abandoned";
                        p.join = Some(j);
                    }
                }
            }
            Ok(Some(p))
        };
        let key = format!("repair:{}", uuid::Uuid::new_v4());
        let kind = match fix {
            Fix::Requeue => "repair_requeue",
            Fix::End => "repair_end",
            Fix::Join => "repair_join",
            Fix::Close => "repair_close",
        };
        let req = internal_step(call, &key, kind, now, false);
        Ok(match self.step(&req, planner(plan)).await? {
            StepDone::Applied(a) => fix != Fix::Join || a.joined.is_some(),
            _ => false,
        })
    }
}
