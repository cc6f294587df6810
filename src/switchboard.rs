//! The switchboard: the impure shell around [`crate::domain::routing::decide`]. For each provider
//! event it loads the call and the operators, asks the routing core, applies the decision's effects
//! (reserve, release, wrap up an operator; wake the dispatcher) and records the event with the
//! reply, so a re-delivered webhook gets the same answer and changes nothing. Events of one call
//! are handled one at a time.
//!
//! The dispatcher ([`Switchboard::run_dispatcher`]) is the other half: when an operator becomes free
//! (presence change, wrap-up over, a missed call released), it takes the longest-waiting queued
//! caller, reserves the longest-idle free operator for them, and asks the provider to move the call
//! (which then arrives as a `Connect` event).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::calendar::Calendar;
use crate::callbacks::Callbacks;
use crate::clock::Clock;
use crate::domain::call::CallState;
use crate::domain::callback::CallbackSettings;
use crate::domain::routing::{
    CallView, Decision, Effect, OperatorView, RoutingSettings, Situation, decide, pick_operator,
};
use crate::store::{Call, NewCallEvent, NewJob, Operator, Store};
use crate::telephony::{CallControl, CallEvent, CallbackDialer, EventKind, Reply};

mod voicemail;
pub use voicemail::{CallbackEstimate, eta_sms_text};

/// Routes provider events and dispatches the hold queue.
pub struct Switchboard {
    store: Arc<dyn Store>,
    calendar: Arc<Calendar>,
    clock: Arc<dyn Clock>,
    settings: RoutingSettings,
    wake: Notify,
    /// Woken when an event enqueued a job (e.g. a recording to download).
    jobs_wake: Arc<Notify>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The callback list voicemails join.
    callbacks: Callbacks,
    /// Whether the caller gets the callback estimate by SMS.
    sms: bool,
    /// Click-to-call through the provider, when one is configured.
    dialer: Option<Arc<dyn CallbackDialer>>,
}

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
        let callbacks =
            Callbacks::new(store.clone(), calendar.clone(), CallbackSettings::default());
        Switchboard {
            callbacks,
            sms: false,
            dialer: None,
            store,
            calendar,
            clock,
            settings,
            wake: Notify::new(),
            jobs_wake: Arc::new(Notify::new()),
            locks: Mutex::new(HashMap::new()),
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

    /// The notifier the job worker should wait on, woken whenever an event enqueues a job.
    pub fn jobs_notifier(&self) -> Arc<Notify> {
        self.jobs_wake.clone()
    }

    /// Wakes the dispatcher (an operator may have become free).
    pub fn wake_dispatcher(&self) {
        self.wake.notify_one();
    }

    /// Handles one event; `render` turns the reply into the provider's text. Returns that text
    /// (the stored one for a re-delivery).
    pub async fn handle(
        &self,
        inc: Incoming<'_>,
        render: impl Fn(&Reply) -> anyhow::Result<String>,
    ) -> anyhow::Result<String> {
        let ev = inc.event;
        let lock = self.lock_for(&ev.call_id);
        let _guard = lock.lock().await;
        if let Some(seen) = self
            .store
            .find_call_event(inc.provider, &ev.call_id, inc.key)
            .await?
        {
            tracing::info!(key = inc.key, "re-delivered event: same reply, no change");
            return match seen.reply {
                Some(r) => Ok(r),
                None => render(&Vec::new()),
            };
        }
        let now = self.clock.now();
        let call = self
            .store
            .ensure_call(
                inc.provider,
                &ev.call_id,
                ev.from.as_deref(),
                ev.to.as_deref(),
                now,
            )
            .await?;
        let view = call_view(&call)?;
        let eta = match &ev.kind {
            EventKind::Recorded { .. } if view.state == CallState::Voicemail => {
                self.callback_eta(&call, now).await?
            }
            _ => None,
        };
        let range = eta.as_ref().map(|e| (e.from, e.to));
        let decision = self
            .decide_and_reserve(&call, &view, &ev.kind, range)
            .await?;
        let (state, operator_id, tried) = if view.state.can_become(decision.state) {
            (decision.state, decision.operator_id, decision.tried.clone())
        } else {
            tracing::warn!(from = %view.state, to = %decision.state, "routing proposed a forbidden transition; kept");
            (view.state, view.operator_id, view.tried.clone())
        };
        let mut jobs = Vec::new();
        for effect in &decision.effects {
            if let Some(job) = self.apply(effect, &call, eta.as_ref()).await? {
                jobs.push(job);
            }
        }
        let text = render(&decision.reply)?;
        let record = NewCallEvent {
            provider: inc.provider.into(),
            provider_call_id: ev.call_id.clone(),
            from_number: ev.from.clone(),
            to_number: ev.to.clone(),
            event_key: inc.key.into(),
            kind: kind_name(&ev.kind).into(),
            sequence: match &ev.kind {
                EventKind::Status { sequence, .. } => sequence.map(i64::from),
                _ => None,
            },
            payload: inc.payload,
            state: state.as_str().into(),
            operator_id,
            tried,
            reply: Some(text.clone()),
            jobs,
        };
        let enqueued = !record.jobs.is_empty();
        self.store.record_call_event(&record, now).await?;
        if enqueued {
            self.jobs_wake.notify_one();
        }
        tracing::info!(
            key = inc.key,
            from = %view.state,
            to = %state,
            reply = %crate::domain::routing::describe(&decision.reply),
            "call event routed"
        );
        if state.is_final() {
            // A caller who hung up before settling a number is still someone to call back.
            self.join_callback_list(&call, now).await?;
            self.locks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(&ev.call_id);
        }
        Ok(text)
    }

    /// Decides; when the decision reserves an operator someone else just took, decides again.
    async fn decide_and_reserve(
        &self,
        call: &Call,
        view: &CallView,
        kind: &EventKind,
        callback_eta: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> anyhow::Result<Decision> {
        let mut attempt = 0;
        let queued = match kind {
            EventKind::Incoming => self.store.queued_calls().await?.len(),
            _ => 0,
        };
        loop {
            let now = self.clock.now();
            let operators = operator_views(&self.store.operators().await?);
            let s = Situation {
                now,
                calendar: &self.calendar,
                settings: &self.settings,
                operators: &operators,
                queued,
                callback_eta,
            };
            let d = decide(view, kind, &s);
            let reserve = d.effects.iter().find_map(|e| {
                if let Effect::Reserve(id) = e {
                    Some(*id)
                } else {
                    None
                }
            });
            match reserve {
                None => return Ok(d),
                Some(op) => {
                    let cutoff = now - self.settings.wrap_up;
                    if self
                        .store
                        .reserve_operator(op, call.id, cutoff, now)
                        .await?
                        || attempt == 3
                    {
                        return Ok(d);
                    }
                }
            }
            attempt += 1;
        }
    }

    /// Applies one effect; returns a job to enqueue together with the event, if the effect needs one.
    async fn apply(
        &self,
        effect: &Effect,
        call: &Call,
        eta: Option<&CallbackEstimate>,
    ) -> anyhow::Result<Option<NewJob>> {
        let now = self.clock.now();
        let call_id = call.id;
        match effect {
            Effect::Voicemail(change) => return self.voicemail(change, call, now, eta).await,
            Effect::Reserve(_) => {}
            Effect::Release {
                operator_id,
                missed,
            } => {
                let p = self
                    .store
                    .release_operator(
                        *operator_id,
                        call_id,
                        *missed,
                        self.settings.autopause_after,
                        now,
                    )
                    .await?;
                if p == Some(crate::domain::operator::Presence::Break) {
                    tracing::warn!(
                        operator_id,
                        "operator paused after missed calls (autopause)"
                    );
                }
            }
            Effect::WrapUp(op) => {
                self.store.wrap_up_operator(*op, call_id, now).await?;
            }
            Effect::DispatchQueue => self.wake_dispatcher(),
        }
        Ok(None)
    }

    fn lock_for(&self, call_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.locks.lock().unwrap_or_else(|p| p.into_inner());
        if locks.len() > 10_000 {
            locks.retain(|_, l| Arc::strong_count(l) > 1);
        }
        locks.entry(call_id.to_owned()).or_default().clone()
    }

    /// Runs the dispatcher until `shutdown` completes: on every wake-up (and every second, for
    /// wrap-ups that end by themselves) it connects queued callers to free operators.
    pub async fn run_dispatcher(
        self: Arc<Self>,
        control: Arc<dyn CallControl>,
        shutdown: impl Future<Output = ()>,
    ) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.dispatch_once(control.as_ref()).await {
                tracing::error!(error = format!("{e:#}"), "dispatcher pass failed");
            }
            tokio::select! {
                _ = &mut shutdown => break,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// One dispatcher pass; returns how many queued callers were sent to an operator.
    pub async fn dispatch_once(&self, control: &dyn CallControl) -> anyhow::Result<usize> {
        let now = self.clock.now();
        self.store
            .finish_wrap_ups(now - self.settings.wrap_up, now)
            .await?;
        if !self.calendar.is_open(now) {
            return Ok(0);
        }
        let queued = self.store.queued_calls().await?;
        let mut sent = 0;
        for call in queued.iter().filter(|c| c.provider == control.provider()) {
            let operators = operator_views(&self.store.operators().await?);
            let Some(op) = pick_operator(&operators, &call.tried, now, self.settings.wrap_up)
            else {
                break;
            };
            let op_id = op.id;
            if !self
                .store
                .reserve_operator(op_id, call.id, now - self.settings.wrap_up, now)
                .await?
            {
                continue;
            }
            if !self.store.claim_queued_call(call.id, op_id, now).await? {
                self.store
                    .release_operator(op_id, call.id, false, 0, now)
                    .await?;
                continue;
            }
            match control
                .connect_queued(&call.provider_call_id, op_id)
                .await
                .map_err(anyhow::Error::msg)
            {
                Ok(()) => {
                    sent += 1;
                    tracing::info!(
                        call = call.id,
                        operator_id = op_id,
                        "queued caller sent to a free operator"
                    );
                }
                Err(e) => {
                    tracing::warn!(
                        call = call.id,
                        error = format!("{e:#}"),
                        "could not move a queued call; it keeps its place"
                    );
                    self.store
                        .release_operator(op_id, call.id, false, 0, now)
                        .await?;
                    self.store.requeue_call(call.id, now).await?;
                    break;
                }
            }
        }
        Ok(sent)
    }
}

fn call_view(call: &Call) -> anyhow::Result<CallView> {
    let state: CallState = call
        .state
        .parse()
        .map_err(|e| anyhow::anyhow!("stored call {}: {e}", call.id))?;
    Ok(CallView {
        state,
        operator_id: call.operator_id,
        tried: call.tried.clone(),
        from: call.from_number.clone(),
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
