//! The callback list as a service: joins the pure rules of `domain::callback` (due times, ranks,
//! outcomes, the schedule) with the store and the calendar. The switchboard attaches voicemails
//! here, the recording worker refreshes a request when its audio is known, and the API lists,
//! claims and records outcomes through it. Estimates come from the operators on duty and the
//! handle time measured over the last dialed callbacks. A supervisor's actions (requests made by
//! hand, reassigning, closing, releasing) are in `supervise`.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use crate::calendar::{Calendar, Window};
use crate::domain::callback::{
    self, CallbackSettings, Eta, Next, Outcome, OutcomeError, ReasonInput, Source, Staffing,
};
use crate::domain::operator::Presence;
use crate::domain::phone::PhoneNumber;
use crate::store::{
    AttachPlan, AttachVoicemail, Attached, CallbackRequest, Claimed, ListScope, OutcomeChange,
    OutcomeNext, Store, StoreError,
};

mod supervise;
pub use supervise::{ByHandInput, Find, RELEASE_REASON, SuperviseError};

/// Dialed callbacks the handle time is averaged over.
pub const HANDLE_SAMPLE: i64 = 200;
/// Fewer measured callbacks than this and the configured default handle time is used.
pub const HANDLE_MIN_SAMPLE: i64 = 20;

/// A request as operators see it: the stored request, its estimate and the reason for its place.
#[derive(Debug, Clone, Serialize)]
pub struct CallbackItem {
    #[serde(flatten)]
    pub request: CallbackRequest,
    /// The estimated callback time (none for a claimed or closed request, or past the horizon).
    pub eta: Option<DateTime<Utc>>,
    /// The hour-wide range told to the caller.
    pub eta_window: Option<EtaWindow>,
    /// Why the request stands where it does, in Russian.
    pub reason: String,
}

/// From–to of an estimate.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
pub struct EtaWindow {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    Claimed(Box<CallbackItem>),
    /// The operator already holds this one (one claim per operator).
    Held(Box<CallbackItem>),
    /// Nothing is due now.
    NothingDue,
    /// The hotline is closed; the next window.
    Closed(Option<Window>),
}

/// Why an outcome was refused.
#[derive(Debug, thiserror::Error)]
pub enum OutcomeFailure {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Rule(#[from] OutcomeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The service; cheap to clone.
#[derive(Clone)]
pub struct Callbacks {
    store: Arc<dyn Store>,
    calendar: Arc<Calendar>,
    settings: Arc<CallbackSettings>,
}

impl Callbacks {
    pub fn new(store: Arc<dyn Store>, calendar: Arc<Calendar>, settings: CallbackSettings) -> Self {
        Callbacks {
            store,
            calendar,
            settings: Arc::new(settings),
        }
    }

    pub fn settings(&self) -> &CallbackSettings {
        &self.settings
    }

    /// Attaches the call's voicemail to its number's request (created due at the next opening,
    /// or now during hours), then refreshes category, message flag and rank.
    pub async fn attach(
        &self,
        call_id: i64,
        number: &str,
        category: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Option<Attached>, StoreError> {
        let plan = self.attach_plan(now);
        let a = AttachVoicemail {
            call_id,
            number,
            category,
            now,
            due: plan.due,
            deadline: plan.deadline,
            deadline_work_ms: plan.deadline_work_ms,
            priority: &self.settings.priority,
            source: plan.source,
            registration: &self.settings.registration,
        };
        self.store.attach_voicemail(&a).await
    }

    /// How a voicemail joining the list now is placed: due at the next opening (or now during
    /// hours), its deadline in working time, the rank rule; for a call step to apply.
    pub fn attach_plan(&self, now: DateTime<Utc>) -> AttachPlan {
        let cal = &self.calendar;
        let due = callback::due_at(cal, now);
        let deadline = callback::deadline(cal, due, self.settings.sla);
        AttachPlan {
            due,
            deadline,
            deadline_work_ms: callback::work_ms(cal, deadline),
            priority: self.settings.priority,
            usable: |n| PhoneNumber::parse(n).is_ok(),
            source: "voicemail",
            registration: self.settings.registration.clone(),
        }
    }

    /// Who works the list from `now`: the operators logged in (when open), else the planned number.
    pub async fn staffing(&self, now: DateTime<Utc>) -> Result<Staffing, StoreError> {
        let ops = self.store.operators().await?;
        let online = if self.calendar.is_open(now) {
            ops.iter()
                .filter(|o| o.presence != Presence::Offline)
                .count()
        } else {
            0
        };
        let planned = match self.settings.planned_operators {
            0 => ops.len(),
            n => n as usize,
        };
        let operators = if online > 0 { online } else { planned };
        let (avg, n) = self.store.handle_time(HANDLE_SAMPLE).await?;
        let handle = match avg {
            Some(h) if n >= HANDLE_MIN_SAMPLE && h > TimeDelta::zero() => h,
            _ => self.settings.default_handle,
        };
        Ok(Staffing {
            operators: u32::try_from(operators.max(1)).unwrap_or(u32::MAX),
            handle,
            share_percent: self.settings.share_percent,
        })
    }

    /// The estimate for one open request (by its position in the list).
    pub async fn eta(
        &self,
        r: &CallbackRequest,
        now: DateTime<Utc>,
    ) -> Result<Option<Eta>, StoreError> {
        if r.state != "open" {
            return Ok(None);
        }
        let staffing = self.staffing(now).await?;
        let position = self.store.callback_position(r).await?;
        Ok(callback::etas(&self.calendar, now, staffing, position, [r.due_at])[0])
    }

    /// The explanation and (given) estimate of a request.
    pub fn item(&self, r: CallbackRequest, eta: Option<Eta>, now: DateTime<Utc>) -> CallbackItem {
        let input = ReasonInput {
            due_at: r.due_at,
            deadline: r.deadline,
            repeat_count: r.repeat_count,
            staff: r.caller_category.as_deref() == Some("staff"),
            silent: r.silent,
            misses: r.misses,
            max_attempts: self.settings.max_attempts,
            follow_up: r.follow_up,
            source: r.source.parse().unwrap_or(Source::Voicemail),
        };
        let reason = if r.state == "closed" {
            String::new()
        } else {
            callback::reason(&input, &self.calendar, now)
        };
        CallbackItem {
            eta: eta.map(|e| e.at),
            eta_window: eta.map(|e| {
                let (from, to) = callback::eta_range(&e);
                EtaWindow { from, to }
            }),
            reason,
            request: r,
        }
    }

    /// A page of the list with estimates and explanations.
    pub async fn list(
        &self,
        scope: ListScope,
        limit: i64,
        offset: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<CallbackItem>, StoreError> {
        let page = self.store.list_callbacks(scope, limit, offset).await?;
        let open: Vec<&CallbackRequest> = page.iter().filter(|r| r.state == "open").collect();
        let mut etas = Vec::new();
        if let Some(first) = open.first() {
            let staffing = self.staffing(now).await?;
            let position = if offset == 0 {
                0
            } else {
                self.store.callback_position(first).await?
            };
            etas = callback::etas(
                &self.calendar,
                now,
                staffing,
                position,
                open.iter().map(|r| r.due_at),
            );
        }
        let mut etas = etas.into_iter();
        Ok(page
            .into_iter()
            .map(|r| {
                let eta = if r.state == "open" {
                    etas.next().flatten()
                } else {
                    None
                };
                self.item(r, eta, now)
            })
            .collect())
    }

    /// The whole schedule: the estimates of the open requests that get one, in list order, and
    /// how many open requests lie past the horizon. Only the positions that can get an estimate
    /// are read ([`callback::horizon_slots`]).
    pub async fn schedule(&self, now: DateTime<Utc>) -> Result<(Vec<(i64, Eta)>, u64), StoreError> {
        let staffing = self.staffing(now).await?;
        let slots = callback::horizon_slots(&self.calendar, now, staffing);
        let dues = self
            .store
            .open_callback_dues(i64::try_from(slots).unwrap_or(i64::MAX))
            .await?;
        let open = u64::try_from(self.store.open_callback_count().await?).unwrap_or(0);
        let etas = callback::etas(&self.calendar, now, staffing, 0, dues.iter().map(|d| d.1));
        let placed: Vec<(i64, Eta)> = dues
            .into_iter()
            .zip(etas)
            .filter_map(|((id, _), eta)| Some((id, eta?)))
            .collect();
        let beyond = open.saturating_sub(placed.len() as u64);
        Ok((placed, beyond))
    }

    /// How many open requests are expected in each coming window, and how many lie past the
    /// horizon.
    pub async fn load_by_window(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Vec<(Window, u64)>, u64), StoreError> {
        let (placed, beyond) = self.schedule(now).await?;
        let mut windows: Vec<(Window, u64)> = Vec::new();
        for (_, eta) in placed {
            // Estimates come in order, so nearly always the last window.
            match windows.iter_mut().rev().find(|(w, _)| *w == eta.window) {
                Some((_, n)) => *n += 1,
                None => windows.push((eta.window, 1)),
            }
        }
        windows.sort_by_key(|(w, _)| w.start);
        Ok((windows, beyond))
    }

    /// Leases the top due request to the operator, or gives back the one they hold; refused
    /// outside working hours.
    pub async fn claim(
        &self,
        operator_id: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Claim, StoreError> {
        if !self.calendar.is_open(now) {
            return Ok(Claim::Closed(self.calendar.window_at_or_after(now)));
        }
        match self
            .store
            .claim_callback(operator_id, actor, now, self.settings.lease)
            .await?
        {
            Some(Claimed::New(r)) => Ok(Claim::Claimed(Box::new(self.item(r, None, now)))),
            Some(Claimed::Held(r)) => Ok(Claim::Held(Box::new(self.item(r, None, now)))),
            None => Ok(Claim::NothingDue),
        }
    }

    /// Returns a claimed request to the list: the holder's (`holder`), or anyone's (`None`, for
    /// supervisors). See [`crate::store::CallbackStore::release_callback`].
    pub async fn release(
        &self,
        request_id: i64,
        holder: Option<i64>,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<CallbackItem, StoreError> {
        let r = self
            .store
            .release_callback(request_id, holder, actor, now)
            .await?;
        let eta = self.eta(&r, now).await?;
        Ok(self.item(r, eta, now))
    }

    /// Records an operator's outcome on a request they hold.
    #[allow(clippy::too_many_arguments)]
    pub async fn outcome(
        &self,
        request_id: i64,
        operator_id: i64,
        actor: &str,
        outcome: Outcome,
        topic: Option<&str>,
        note: Option<&str>,
        follow_up_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<CallbackItem, OutcomeFailure> {
        let s = &self.settings;
        if let Some(t) = topic
            && s.topic(t).is_none()
        {
            let known: Vec<&str> = s.topics.iter().map(|t| t.code.as_str()).collect();
            return Err(OutcomeFailure::Invalid(format!(
                "unknown topic `{t}`; expected one of: {}",
                known.join(", ")
            )));
        }
        if outcome.reached() && topic.is_none() {
            return Err(OutcomeFailure::Invalid(format!(
                "`topic` is required for `{outcome}`"
            )));
        }
        let current = self
            .store
            .callback_request(request_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("callback request {request_id}")))?;
        let misses = u32::try_from(current.misses).unwrap_or(u32::MAX);
        let next =
            match callback::next_after(outcome, misses, follow_up_at, &self.calendar, now, s)? {
                Next::Close { outcome, missed } => OutcomeNext::Close { outcome, missed },
                Next::Reopen {
                    due,
                    deadline,
                    missed,
                } => OutcomeNext::Reopen {
                    due,
                    deadline: deadline.map(|d| (d, callback::work_ms(&self.calendar, d))),
                    missed,
                    follow_up: outcome == Outcome::FollowUp,
                },
            };
        let change = OutcomeChange {
            request_id,
            operator_id,
            actor,
            outcome: outcome.as_str(),
            topic,
            note,
            now,
            next,
            priority: &s.priority,
        };
        let r = self.store.record_outcome(&change).await?;
        Ok(self.item(r, None, now))
    }
}

/// How often expired leases are returned to the list (claims also release them first).
pub const LEASE_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Returns requests whose lease ran out to the list every [`LEASE_SWEEP_EVERY`], until `stop`.
pub async fn sweep_leases(
    store: Arc<dyn Store>,
    clock: Arc<dyn crate::clock::Clock>,
    wake: Arc<crate::wake::Wake>,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            _ = tokio::time::sleep(LEASE_SWEEP_EVERY) => {}
        }
        match store.release_expired_callbacks(clock.now()).await {
            Ok(0) => {}
            Ok(n) => {
                wake.signal(crate::wake::Topic::Live);
                tracing::info!(released = n, "expired callback leases returned to the list")
            }
            Err(e) => tracing::warn!(error = %e, "cannot release expired callback leases"),
        }
    }
}
