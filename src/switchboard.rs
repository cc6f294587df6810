//! The switchboard: the impure shell around [`crate::domain::routing::decide`]. Each provider event
//! is one store step ([`crate::store::CallStepStore::call_step`]): inside one transaction the call's
//! state and the operators are read, the routing core decides, and the decision's effects (reserve,
//! release, wrap up an operator; the voicemail's rows and its place on the callback list; jobs) are
//! written with the event and its reply, which is sent only after the commit. A re-delivered
//! webhook gets the stored answer and changes nothing. No in-process lock is involved, so several
//! instances can share one PostgreSQL database.
//!
//! The dispatcher (`dispatch.rs`) is the other half: when an operator becomes free it moves queued
//! callers to free operators, each move a step of the same kind; the reconciler (`repair.rs`)
//! repairs what a killed process or a lost webhook left behind.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::calendar::Calendar;
use crate::callbacks::Callbacks;
use crate::clock::Clock;
use crate::domain::blocklist::CallLimits;
use crate::domain::call::CallState;
use crate::domain::callback::CallbackSettings;
use crate::domain::phone::{CallerId, PhoneNumber};
use crate::domain::routing::{CallView, Effect, OperatorView, RoutingSettings, Situation, decide};
use crate::store::{
    Call, Operator, Repairs, SharedPlanner, StepDone, StepInput, StepRequest, Store, planner,
};
use crate::telephony::{CallEvent, CallbackDialer, EventKind, Reply};
use crate::wake::{Topic, Wake};

mod dispatch;
mod plan;
mod repair;
pub mod screen;
mod voicemail;
pub use repair::ReconcileSettings;
pub use screen::Screening;
pub use voicemail::{CallbackEstimate, callback_sms_text, eta_phrase, eta_sms_text};

/// Routes provider events and dispatches the hold queue.
pub struct Switchboard {
    store: Arc<dyn Store>,
    calendar: Arc<Calendar>,
    clock: Arc<dyn Clock>,
    settings: Arc<RoutingSettings>,
    /// Wakes the dispatcher, the job worker and the live pages, here and on other instances.
    wake: Arc<Wake>,
    /// What this instance's reconciler has repaired since start. Per instance on purpose: it is
    /// reported by this instance's `/readyz`, like its metrics; the repairs are in the database.
    repairs: Mutex<Repairs>,
    /// Calls changed before this were looked at for unlisted voicemails (`None`: none yet). Per
    /// instance on purpose: only an optimisation of this reconciler's scan (each instance's
    /// reconciler scans for itself; each repair is a locked step, so two never repeat one).
    unlisted_since: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    reconcile: ReconcileSettings,
    /// The callback list voicemails join.
    callbacks: Callbacks,
    /// Whether the caller gets the callback estimate by SMS.
    sms: bool,
    /// Click-to-call through the provider, when one is configured.
    dialer: Option<Arc<dyn CallbackDialer>>,
    /// A dispatcher look is already scheduled by [`Switchboard::nudge_dispatcher`].
    nudge_pending: Arc<AtomicBool>,
    /// The blocklist and the per-number limits.
    screening: Arc<Screening>,
}

/// How soon the dispatcher looks again after a new caller was put on hold.
const NUDGE: std::time::Duration = std::time::Duration::from_millis(250);

/// Turns a reply into the provider's text (TwiML, JSON).
pub type Render = Arc<dyn Fn(&Reply) -> anyhow::Result<String> + Send + Sync>;

/// An event to handle, as the adapter parsed it.
pub struct Incoming<'a> {
    pub provider: &'static str,
    pub event: &'a CallEvent,
    /// The event's natural key within the call.
    pub key: &'a str,
    /// The raw parameters as JSON, kept with the event.
    pub payload: String,
}

impl Switchboard {
    pub fn new(
        store: Arc<dyn Store>,
        calendar: Arc<Calendar>,
        clock: Arc<dyn Clock>,
        settings: RoutingSettings,
    ) -> Self {
        crate::domain::phone::PhoneNumber::warm_up();
        let callbacks =
            Callbacks::new(store.clone(), calendar.clone(), CallbackSettings::default());
        let wake = Arc::new(Wake::new());
        let screening = Arc::new(Screening::new(
            store.clone(),
            wake.clone(),
            CallLimits::default(),
        ));
        Switchboard {
            screening,
            callbacks,
            sms: false,
            dialer: None,
            store,
            calendar,
            clock,
            settings: Arc::new(settings),
            wake,
            repairs: Mutex::new(Repairs::default()),
            unlisted_since: Mutex::new(None),
            reconcile: ReconcileSettings::default(),
            nudge_pending: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Uses these callback-list settings (the defaults otherwise).
    pub fn with_callbacks(mut self, settings: CallbackSettings) -> Self {
        self.callbacks = Callbacks::new(self.store.clone(), self.calendar.clone(), settings);
        self
    }

    /// Sends callers the callback estimate by SMS (the `sms.send` job handler must be running).
    pub fn with_sms(mut self, enabled: bool) -> Self {
        self.sms = enabled;
        self
    }

    /// Places click-to-call callbacks with `dialer`.
    pub fn with_dialer(mut self, dialer: Arc<dyn CallbackDialer>) -> Self {
        self.dialer = Some(dialer);
        self
    }

    /// The click-to-call dialer, if a provider is configured.
    pub fn dialer(&self) -> Option<&Arc<dyn CallbackDialer>> {
        self.dialer.as_ref()
    }

    /// The callback list.
    pub fn callbacks(&self) -> &Callbacks {
        &self.callbacks
    }

    /// Routing settings in force.
    pub fn settings(&self) -> &RoutingSettings {
        &self.settings
    }

    /// Shares `wake` (e.g. one started on PostgreSQL, see [`Wake::spawn_postgres`]).
    pub fn with_wake(mut self, wake: Arc<Wake>) -> Self {
        self.wake = wake;
        // An operator freed on another instance must not wait out this store's snapshot.
        let store = Arc::downgrade(&self.store);
        self.wake.on_dispatch_elsewhere(move || {
            if let Some(s) = store.upgrade() {
                s.forget_free_operators();
            }
        });
        let defaults = self.screening.defaults();
        self.screening = Arc::new(Screening::new(
            self.store.clone(),
            self.wake.clone(),
            defaults,
        ));
        self
    }

    /// Uses these per-number limits while no supervisor has set any (config `[limits]`).
    pub fn with_limits(mut self, defaults: CallLimits) -> Self {
        self.screening = Arc::new(Screening::new(
            self.store.clone(),
            self.wake.clone(),
            defaults,
        ));
        self
    }

    /// The blocklist and the per-number limits.
    pub fn screening(&self) -> &Arc<Screening> {
        &self.screening
    }

    /// The wake-ups this switchboard signals.
    pub fn wake(&self) -> &Arc<Wake> {
        &self.wake
    }

    /// The notifier the job worker should wait on, woken whenever an event enqueues a job.
    pub fn jobs_notifier(&self) -> Arc<tokio::sync::Notify> {
        self.wake.jobs_notify()
    }

    /// Wakes the dispatchers (an operator may have become free), on every instance.
    pub fn wake_dispatcher(&self) {
        self.wake.signal(Topic::Dispatch);
    }

    /// Handles one event as one step; `render` turns the reply into the provider's text. Returns
    /// that text (the stored one for a re-delivery) once the step is committed.
    pub async fn handle(&self, inc: Incoming<'_>, render: Render) -> anyhow::Result<String> {
        let ev = inc.event;
        let now = self.clock.now();
        let eta = match &ev.kind {
            EventKind::Recorded { .. } => self.callback_eta(inc.provider, &ev.call_id, now).await?,
            _ => None,
        };
        let caller = ev.from.as_deref().map(|f| Arc::new(CallerId::new(f)));
        if let Some(c) = &caller
            && screen::may_start_voicemail(&ev.kind)
        {
            // Parsed here rather than inside the step, on the SQLite writer's one thread.
            c.number();
        }
        let screen = self
            .screening
            .screen(inc.provider, &ev.call_id, caller.as_deref(), &ev.kind, now)
            .await?;
        let req = StepRequest {
            provider: inc.provider,
            provider_call_id: &ev.call_id,
            from: ev.from.as_deref(),
            to: ev.to.as_deref(),
            event_key: inc.key,
            kind: kind_name(&ev.kind),
            sequence: match &ev.kind {
                EventKind::Status { sequence, .. } => sequence.map(i64::from),
                _ => None,
            },
            payload: &inc.payload,
            now,
            create: true,
            // A new call off hours goes to the hours and voicemail whoever is logged in.
            operators: needs_operators(&ev.kind)
                && (!matches!(ev.kind, EventKind::Incoming) || self.calendar.is_open(now)),
            queued: matches!(ev.kind, EventKind::Incoming),
        };
        let dispatch = Arc::new(AtomicBool::new(false));
        let woken = dispatch.clone();
        let screened = Arc::new(std::sync::Mutex::new(None));
        let screened_by = screened.clone();
        let callback_eta = eta.as_ref().and_then(|e| e.range);
        let registered = eta
            .as_ref()
            .and_then(|e| e.reg_number.as_deref())
            .and_then(crate::domain::registration::spoken_sequence);
        let ctx = self.plan_context(now, eta);
        let calendar = self.calendar.clone();
        let kind = ev.kind.clone();
        let renderer = render.clone();
        let plan = move |input: &StepInput<'_>| {
            let view = call_view(input.call, caller.as_deref()).map_err(|e| e.to_string())?;
            let operators = free_of(operator_views(input.operators), input.unavailable);
            let s = Situation {
                now,
                calendar: &calendar,
                settings: &ctx.settings,
                operators: &operators,
                queued: usize::try_from(input.queued).unwrap_or(0),
                callback_eta,
                registered,
                screen,
            };
            let d = decide(&view, &kind, &s);
            let blocked = d.effects.iter().any(|e| matches!(e, Effect::Blocked(_)));
            let repeat = d.effects.iter().any(|e| matches!(e, Effect::Repeat(_)));
            *screened_by.lock().unwrap_or_else(|p| p.into_inner()) =
                screen::reason(&screen, &kind, blocked, repeat);
            let text = renderer(&d.reply).map_err(|e| format!("{e:#}"))?;
            let (mut p, wake) = ctx.plan(input.call, &view, d, text);
            p.mark = plan::facts_mark(&kind, view.state, calendar.is_open(now), &ctx.settings);
            woken.store(wake, Ordering::Relaxed);
            Ok(Some(p))
        };
        match self.step(&req, planner(plan)).await? {
            StepDone::Redelivered { reply } => {
                tracing::info!(key = inc.key, "re-delivered event: same reply, no change");
                match reply {
                    Some(r) => Ok(r),
                    None => render(&Vec::new()),
                }
            }
            StepDone::Skipped => render(&Vec::new()),
            StepDone::Applied(a) => {
                self.after_step(&a, dispatch.load(Ordering::Relaxed));
                let reason = *screened.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(reason) = reason {
                    metrics::counter!(screen::SCREENED, "reason" => reason).increment(1);
                    tracing::info!(key = inc.key, reason, "caller screened out");
                }
                tracing::info!(
                    key = inc.key,
                    from = %a.before,
                    to = %a.call.state,
                    "call event routed"
                );
                Ok(a.plan.reply.unwrap_or_default())
            }
        }
    }

    /// Has the dispatcher look at the queue in [`NUDGE`], once for however many new callers are
    /// put on hold meanwhile. A new call in hours may be planned on a snapshot of the operators
    /// a moment old (PostgreSQL under load, see `store::step_postgres`), so an operator who
    /// became free in that moment is matched with the held caller this soon rather than at the
    /// dispatcher's next poll.
    fn nudge_dispatcher(&self) {
        if self.nudge_pending.swap(true, Ordering::AcqRel) {
            return;
        }
        let (wake, pending) = (self.wake.clone(), self.nudge_pending.clone());
        tokio::spawn(async move {
            tokio::time::sleep(NUDGE).await;
            pending.store(false, Ordering::Release);
            wake.signal(Topic::Dispatch);
        });
    }

    /// Runs a step, again when the database reports a transient conflict between instances.
    async fn step(
        &self,
        req: &StepRequest<'_>,
        planner: SharedPlanner,
    ) -> anyhow::Result<StepDone> {
        let mut attempt = 0;
        loop {
            match self.store.call_step(req, &planner).await {
                Err(e) if e.is_transient() && attempt < 3 => {
                    attempt += 1;
                    tracing::warn!(error = %e, attempt, "call step conflicted; running it again");
                }
                Ok(StepDone::Applied(a)) => {
                    // Committed: the live pages show calls and operators; jobs may wait.
                    self.wake.signal(Topic::Live);
                    if a.jobs > 0 {
                        self.wake.signal(Topic::Jobs);
                    }
                    return Ok(StepDone::Applied(a));
                }
                r => return Ok(r?),
            }
        }
    }

    /// What follows a committed webhook step (beyond [`Switchboard::step`]'s wake-ups): wake the
    /// dispatcher, log pauses and joins.
    fn after_step(&self, a: &crate::store::step::Applied, dispatch: bool) {
        if dispatch || !a.plan.releases.is_empty() {
            self.wake_dispatcher();
        } else if a.before == "incoming" && a.call.state == "queued" {
            self.nudge_dispatcher();
        }
        for op in &a.paused {
            tracing::warn!(
                operator_id = op,
                "operator paused after missed calls (autopause)"
            );
        }
        if let Some(j) = &a.joined {
            tracing::info!(call = a.call.id, request = j.request_id(), how = ?j, "voicemail joined the callback list");
        }
    }

    fn plan_context(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        eta: Option<CallbackEstimate>,
    ) -> plan::PlanContext {
        plan::PlanContext {
            now,
            settings: self.settings.clone(),
            callbacks: self.callbacks.clone(),
            sms: self.sms,
            eta,
        }
    }

    /// Repairs made by the reconciler since start.
    pub fn repairs(&self) -> Repairs {
        *self.repairs.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The operators as routing sees them, those this step could not reserve shown busy (someone else
/// took them: they still staff the line, so a caller queues rather than going to voicemail).
fn free_of(mut ops: Vec<OperatorView>, unavailable: &[i64]) -> Vec<OperatorView> {
    for o in ops.iter_mut().filter(|o| unavailable.contains(&o.id)) {
        o.presence = crate::domain::operator::Presence::OnCall;
    }
    ops
}

/// Whether routing looks at the operators for this event.
fn needs_operators(kind: &EventKind) -> bool {
    !matches!(
        kind,
        EventKind::Digits { .. }
            | EventKind::Recorded { .. }
            | EventKind::RecordingReady { .. }
            | EventKind::Status { .. }
    )
}

/// The call as routing sees it; `known` is the webhook's caller ID, parsed once for the whole
/// handling (the stored caller ID is normally that very text).
fn call_view(call: &Call, known: Option<&CallerId>) -> anyhow::Result<CallView> {
    let state: CallState = call
        .state
        .parse()
        .map_err(|e| anyhow::anyhow!("stored call {}: {e}", call.id))?;
    Ok(CallView {
        state,
        operator_id: call.operator_id,
        tried: call.tried.clone(),
        caller: match (call.from_number.as_deref(), known) {
            (Some(f), Some(k)) if f == k.raw() => k.number().cloned(),
            (Some(f), _) => PhoneNumber::parse(f).ok(),
            (None, _) => None,
        },
    })
}

/// Operators as routing sees them.
pub fn operator_views(ops: &[Operator]) -> Vec<OperatorView> {
    ops.iter()
        .map(|o| OperatorView {
            id: o.id,
            presence: o.presence,
            presence_since: o.presence_since,
            idle_since: o.idle_since,
            contact_kind: o.contact_kind,
            contact: o.contact.clone(),
        })
        .collect()
}

fn kind_name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Incoming => "incoming",
        EventKind::DialEnded { .. } => "dial_ended",
        EventKind::QueueWait { .. } => "queue_wait",
        EventKind::QueueLeft { .. } => "queue_left",
        EventKind::Digits { .. } => "digits",
        EventKind::Connect { .. } => "connect",
        EventKind::Status { .. } => "status",
        EventKind::Recorded { .. } => "recorded",
        EventKind::RecordingReady { .. } => "recording_ready",
    }
}
