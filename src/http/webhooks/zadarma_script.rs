//! Carrying a Zadarma call through its scripts. Every neutral event goes through the switchboard
//! as one step, whose reply is stored as a [`Script`]; the call's reply cursor (in the database,
//! so any instance can go on) says which action was sent last. A `NOTIFY_IVR` then means:
//!
//! - with our `wait_dtmf` name: the keys answering that step (none: a timeout). In the hold
//!   queue a timeout is a tick — the caller is connected if the dispatcher reserved an operator
//!   meanwhile; else, when an announcement is due (every `routing.announce_every_secs`) or the
//!   wait nearly over, routing speaks (or ends the wait), otherwise another quiet hold period;
//! - without one, after a played file: the next action of the script. A notification arriving
//!   sooner than [`MIN_PLAY`] after the previous action was sent is a re-delivery, answered with
//!   the same action;
//! - without one, after a `redirect` to an operator: the operator did not answer (the call came
//!   back when `return_timeout` ran out).
//!
//! `Enqueue`, `Leave` and `Next` are carried out here as the neutral events Twilio would send
//! for them (a queue tick, leaving the queue, a step with no input).

use std::sync::Arc;

use anyhow::Context;
use chrono::TimeDelta;
use serde_json::{Value, json};

use super::zadarma::caller;
use crate::config::ZadarmaConfig;
use crate::domain::call::CallState;
use crate::domain::operator::ContactKind;
use crate::domain::phone::{PhoneNumber, mask};
use crate::http::AppState;
use crate::store::{Attempt, Call, Cursor};
use crate::switchboard::Incoming;
use crate::telephony::zadarma::answer::{Answers, Skip};
use crate::telephony::zadarma::dialer::CALLBACK_ID_PREFIX;
use crate::telephony::zadarma::parse::{Dtmf, Ended, Inbound, Outbound};
use crate::telephony::zadarma::script::{self, Action, Script, parse_step_name, step_of};
use crate::telephony::{CallEvent, DialOutcome, EventKind, QueueResult, Reply, Step};

/// The provider's name as stored with calls.
pub const PROVIDER: &str = "zadarma";
/// The shortest time a played clip takes: a bare `NOTIFY_IVR` sooner than this is a re-delivery.
pub const MIN_PLAY: TimeDelta = TimeDelta::milliseconds(250);
/// Internal actions followed in a row before giving up (a loop would be a bug).
const MAX_HOPS: usize = 8;

/// The call a notification is about.
#[derive(Debug, Clone)]
pub struct CallRef {
    pub id: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One notification's work.
pub struct Flow<'a> {
    state: &'a AppState,
    cfg: &'a ZadarmaConfig,
    payload: String,
}

impl<'a> Flow<'a> {
    pub fn new(state: &'a AppState, cfg: &'a ZadarmaConfig, payload: String) -> Self {
        Flow {
            state,
            cfg,
            payload,
        }
    }

    pub fn call(&self, c: &Inbound) -> CallRef {
        CallRef {
            id: c.pbx_call_id.clone(),
            from: caller(c),
            to: c.called_did.clone(),
        }
    }

    pub fn call_id(&self, id: &str) -> CallRef {
        CallRef {
            id: id.to_owned(),
            from: None,
            to: None,
        }
    }

    /// Runs one neutral event through the switchboard; returns its script (the stored one for a
    /// re-delivery).
    pub async fn step(
        &self,
        call: &CallRef,
        kind: EventKind,
        key: String,
    ) -> anyhow::Result<Script> {
        let event = CallEvent {
            call_id: call.id.clone(),
            from: call.from.clone(),
            to: call.to.clone(),
            kind,
        };
        let tick = self.cfg.hold_tick_secs;
        let script_key = key.clone();
        let render = Arc::new(move |reply: &Reply| -> anyhow::Result<String> {
            Ok(script::render(reply, &script_key, tick).to_json())
        });
        let inc = Incoming {
            provider: PROVIDER,
            event: &event,
            key: &key,
            payload: self.payload.clone(),
        };
        let text = self.state.switchboard.handle(inc, render).await?;
        Ok(Script::from_json(&text).unwrap_or_else(|| Script {
            id: script::script_id(&key),
            actions: Vec::new(),
        }))
    }

    /// A step, then the first action of its script.
    pub async fn run(&self, call: &CallRef, kind: EventKind, key: String) -> anyhow::Result<Value> {
        let mut kind = kind;
        let mut key = key;
        for _ in 0..MAX_HOPS {
            let script = self.step(call, kind, key).await?;
            match self.send(call, &script).await? {
                Next::Answer(v) => return Ok(v),
                Next::Event(k, new_key) => (kind, key) = (k, new_key),
            }
        }
        anyhow::bail!("a Zadarma script kept asking for internal steps")
    }

    /// The first action of `script` Zadarma can be sent, or the event an internal action names.
    async fn send(&self, call: &CallRef, script: &Script) -> anyhow::Result<Next> {
        let cursor = self.cursor(&call.id).await?;
        // A re-delivered notification whose script was already begun: the action sent last.
        let start = match &cursor {
            Some(c) if c.script == script.id => usize::try_from(c.position).unwrap_or(0),
            _ => 0,
        };
        self.send_from(call, script, start, cursor.as_ref()).await
    }

    async fn send_from(
        &self,
        call: &CallRef,
        script: &Script,
        start: usize,
        cursor: Option<&Cursor>,
    ) -> anyhow::Result<Next> {
        let answers = Answers {
            prompts: &self.cfg.prompts,
            voicemail_redirect: &self.cfg.voicemail_redirect,
            hold_music: self.cfg.hold_music.as_deref(),
        };
        let mut missing = Vec::new();
        for (i, action) in script.actions.iter().enumerate().skip(start) {
            let ext = match action {
                Action::Dial { .. } => self.extension(action).await?,
                _ => None,
            };
            match answers.json(action, &script.id, ext.as_deref()) {
                Ok(v) => {
                    if !missing.is_empty() {
                        tracing::warn!(clips = ?missing, "prompt clips without a Zadarma file id (zadarma.prompts_file): skipped");
                    }
                    let to = Cursor {
                        script: script.id.clone(),
                        position: i as i64,
                        at: self.state.clock.now(),
                    };
                    let same =
                        cursor.is_some_and(|c| c.script == to.script && c.position == to.position);
                    if !same {
                        self.state
                            .store
                            .move_reply_cursor(PROVIDER, &call.id, cursor, &to)
                            .await?;
                    }
                    return Ok(Next::Answer(v));
                }
                Err(Skip::NoFile(clip)) => missing.push(clip),
                Err(Skip::NoExtension(op)) => {
                    tracing::warn!(
                        operator = op,
                        "operator has no Zadarma extension (contact or zadarma.extension_of): not rung"
                    );
                    let kind = EventKind::DialEnded {
                        outcome: DialOutcome::Failed,
                        talk: TimeDelta::zero(),
                    };
                    return Ok(Next::Event(kind, format!("noext:{}:{i}", script.id)));
                }
                Err(Skip::Internal) => return self.internal(call, action, &script.id).await,
            }
        }
        Ok(Next::Answer(json!({})))
    }

    /// The neutral event an internal action stands for.
    async fn internal(&self, call: &CallRef, action: &Action, id: &str) -> anyhow::Result<Next> {
        Ok(match action {
            Action::Enqueue => {
                let (kind, _) = self.tick(call).await?;
                Next::Event(kind, format!("tick:{id}"))
            }
            Action::Leave => {
                let stored = self.stored_call(&call.id).await?;
                let waited = super::zadarma::waited(
                    stored.and_then(|c| c.queued_at),
                    self.state.clock.now(),
                );
                let kind = EventKind::QueueLeft {
                    result: QueueResult::Left,
                    waited,
                };
                Next::Event(kind, format!("left:{id}"))
            }
            Action::Next { step } => {
                let step = step_of(step).context("a stored script names an unknown step")?;
                let kind = EventKind::Digits { step, digits: None };
                Next::Event(kind, format!("next:{id}"))
            }
            _ => anyhow::bail!("not an internal action"),
        })
    }

    /// A hold-queue tick: connect to the operator the dispatcher reserved, or wait on.
    async fn tick(&self, call: &CallRef) -> anyhow::Result<(EventKind, bool)> {
        let stored = self.stored_call(&call.id).await?;
        if let Some(c) = &stored
            && c.state == CallState::Connecting.as_str()
            && let Some(op) = c.operator_id
        {
            return Ok((EventKind::Connect { operator_id: op }, true));
        }
        let queued = self.state.store.queued_calls().await?;
        let position = stored
            .as_ref()
            .and_then(|c| queued.iter().position(|q| q.id == c.id))
            .map_or(queued.len() + 1, |p| p + 1);
        let waited =
            super::zadarma::waited(stored.and_then(|c| c.queued_at), self.state.clock.now());
        let kind = EventKind::QueueWait {
            position: u32::try_from(position).unwrap_or(u32::MAX),
            waited,
        };
        Ok((kind, false))
    }

    /// `NOTIFY_IVR`.
    pub async fn ivr(&self, call: &CallRef, dtmf: Option<Dtmf>) -> anyhow::Result<Value> {
        if let Some(d) = &dtmf
            && let Some((step, _)) = parse_step_name(&d.name)
        {
            let digits = d.digits.clone().filter(|s| !s.is_empty());
            return self.keys(call, step, &d.name, digits).await;
        }
        let Some(cursor) = self.cursor(&call.id).await? else {
            tracing::info!("a Zadarma NOTIFY_IVR for a call with no script: nothing to do");
            return Ok(json!({}));
        };
        let Some(script) = self.script(&call.id, &cursor.script).await? else {
            return Ok(json!({}));
        };
        let pos = usize::try_from(cursor.position).unwrap_or(0);
        match script.actions.get(pos) {
            Some(Action::Dial { .. }) => {
                let kind = EventKind::DialEnded {
                    outcome: DialOutcome::NoAnswer,
                    talk: TimeDelta::zero(),
                };
                let key = format!("return:{}:{pos}", script.id);
                self.run(call, kind, key).await
            }
            Some(Action::Gather { step, .. }) => {
                let name = script::step_name(step, &script.id);
                let step = step_of(step).context("a stored script names an unknown step")?;
                self.keys(call, step, &name, None).await
            }
            Some(Action::Play { .. }) => {
                let now = self.state.clock.now();
                let next = if now - cursor.at < MIN_PLAY {
                    pos
                } else {
                    pos + 1
                };
                match self.send_from(call, &script, next, Some(&cursor)).await? {
                    Next::Answer(v) => Ok(v),
                    Next::Event(kind, key) => self.run(call, kind, key).await,
                }
            }
            _ => Ok(json!({})),
        }
    }

    /// Keys entered (or not) at `step`.
    async fn keys(
        &self,
        call: &CallRef,
        step: Step,
        name: &str,
        digits: Option<String>,
    ) -> anyhow::Result<Value> {
        let key = format!("dtmf:{name}:{}", digits.as_deref().unwrap_or(""));
        if step == Step::QueueMenu && digits.is_none() {
            let (kind, _) = self.tick(call).await?;
            if let EventKind::QueueWait { waited, .. } = kind
                && !self.announce_due(waited)
            {
                return Ok(self.quiet_hold(&key));
            }
            return self.run(call, kind, key).await;
        }
        self.run(call, EventKind::Digits { step, digits }, key)
            .await
    }

    /// Whether the hold period that just ended crossed an announcement time (every
    /// `routing.announce_every_secs` of waiting), or the wait is nearly over: then routing speaks.
    fn announce_due(&self, waited: TimeDelta) -> bool {
        let r = &self.state.config.routing;
        let tick = TimeDelta::seconds(i64::from(self.cfg.hold_tick_secs));
        let every = r.announce_every.num_milliseconds().max(1);
        let before = (waited - tick).max(TimeDelta::zero());
        waited + tick >= r.queue_max_wait
            || waited.num_milliseconds() / every != before.num_milliseconds() / every
    }

    /// Another hold period without a word (no step: the same answer for a re-delivery).
    fn quiet_hold(&self, key: &str) -> Value {
        let gather = Action::Gather {
            clip: None,
            hold: true,
            timeout: self.cfg.hold_tick_secs,
            max_digits: 1,
            step: script::QUIET_HOLD.into(),
        };
        let answers = Answers {
            prompts: &self.cfg.prompts,
            voicemail_redirect: &self.cfg.voicemail_redirect,
            hold_music: self.cfg.hold_music.as_deref(),
        };
        answers
            .json(&gather, &script::script_id(key), None)
            .unwrap_or_else(|_| json!({}))
    }

    async fn extension(&self, action: &Action) -> anyhow::Result<Option<String>> {
        let Action::Dial {
            operator_id,
            kind,
            contact,
            ..
        } = action
        else {
            return Ok(None);
        };
        if *kind == ContactKind::Extension {
            return Ok(Some(contact.clone()));
        }
        let ops = self.state.store.operators().await?;
        Ok(ops
            .iter()
            .find(|o| o.id == *operator_id)
            .and_then(|o| self.cfg.extension_of.get(&o.login))
            .cloned())
    }

    async fn cursor(&self, id: &str) -> anyhow::Result<Option<Cursor>> {
        Ok(self.state.store.reply_cursor(PROVIDER, id).await?)
    }

    /// The stored script `script_id` of the call.
    async fn script(&self, id: &str, script_id: &str) -> anyhow::Result<Option<Script>> {
        let Some(call) = self.stored_call(id).await? else {
            return Ok(None);
        };
        let events = self.state.store.call_events(call.id).await?;
        Ok(events
            .iter()
            .rev()
            .filter_map(|e| e.reply.as_deref().and_then(Script::from_json))
            .find(|s| s.id == script_id))
    }

    /// The action sent last, if the call has a script.
    pub async fn current_action(&self, id: &str) -> anyhow::Result<Option<Action>> {
        let Some(c) = self.cursor(id).await? else {
            return Ok(None);
        };
        let script = self.script(id, &c.script).await?;
        Ok(script.and_then(|s| s.actions.get(c.position as usize).cloned()))
    }

    pub async fn stored_call(&self, id: &str) -> anyhow::Result<Option<Call>> {
        Ok(self.state.store.call_by_provider_id(PROVIDER, id).await?)
    }

    pub async fn has_voicemail(&self, id: &str) -> anyhow::Result<bool> {
        let Some(call) = self.stored_call(id).await? else {
            return Ok(false);
        };
        Ok(self
            .state
            .store
            .voicemail_for_call(call.id)
            .await?
            .is_some())
    }

    /// The call is over: its cursor is no longer needed.
    pub async fn forget(&self, id: &str) -> anyhow::Result<()> {
        Ok(self.state.store.clear_reply_cursor(PROVIDER, id).await?)
    }

    /// `NOTIFY_OUT_START` / `NOTIFY_OUT_END`: a call from the PBX (a click-to-call) progressed.
    /// Zadarma's notification does not carry our attempt's id, so the attempt is the oldest open
    /// one placed through Zadarma whose operator has the extension `internal` and whose request's
    /// number is `destination`. OUT_START marks it `in-progress`; OUT_END ends it with the status
    /// Twilio's path would store ([`out_status`]). A re-delivery finds the attempt already in that
    /// state (or ended, so no longer open) and changes nothing.
    pub async fn outbound(&self, call: &Outbound, end: Option<&Ended>) -> anyhow::Result<()> {
        let internal = call
            .internal
            .as_deref()
            .or_else(|| end.and_then(|e| e.internal.as_deref()))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let destination = call
            .destination
            .as_deref()
            .and_then(|d| PhoneNumber::parse(d).ok());
        let shown = call.destination.as_deref().map(mask).unwrap_or_default();
        let (Some(internal), Some(destination)) = (internal, destination) else {
            tracing::info!(
                pbx_call_id = %call.pbx_call_id,
                destination = %shown,
                "a call from the PBX without an extension or a valid number: not a click-to-call"
            );
            return Ok(());
        };
        let Some(attempt) = self.attempt_for(internal, &destination).await? else {
            tracing::info!(
                pbx_call_id = %call.pbx_call_id,
                extension = internal,
                destination = %shown,
                ended = end.is_some(),
                "a call from the PBX matching no open click-to-call: ignored"
            );
            return Ok(());
        };
        let (status, is_final) = match end {
            Some(e) => (out_status(&e.disposition), true),
            None => ("in-progress", false),
        };
        if !is_final && attempt.call_status.as_deref() == Some(status) {
            tracing::debug!(
                attempt = attempt.id,
                "re-delivered NOTIFY_OUT_START: nothing to do"
            );
            return Ok(());
        }
        let Some(id) = attempt.provider_call_id.as_deref() else {
            return Ok(());
        };
        self.state
            .store
            .dial_status(id, status, is_final, self.state.clock.now())
            .await?;
        tracing::info!(
            attempt = attempt.id,
            pbx_call_id = %call.pbx_call_id,
            status,
            disposition = end.map(|e| e.disposition.as_str()).unwrap_or("-"),
            "click-to-call status from Zadarma"
        );
        Ok(())
    }

    /// The oldest open Zadarma click-to-call whose operator has `extension` and whose request's
    /// number is `number`.
    async fn attempt_for(
        &self,
        extension: &str,
        number: &PhoneNumber,
    ) -> anyhow::Result<Option<Attempt>> {
        let store = &self.state.store;
        let open = store.open_attempts_with_prefix(CALLBACK_ID_PREFIX).await?;
        if open.is_empty() {
            return Ok(None);
        }
        let ops = store.operators().await?;
        for attempt in open {
            let Some(op) = attempt
                .operator_id
                .and_then(|id| ops.iter().find(|o| o.id == id))
            else {
                continue;
            };
            let ext = if op.contact_kind == ContactKind::Extension {
                Some(op.contact.trim())
            } else {
                self.cfg.extension_of.get(&op.login).map(|s| s.trim())
            };
            if ext != Some(extension) {
                continue;
            }
            let Some(request) = store.callback_request(attempt.request_id).await? else {
                continue;
            };
            if PhoneNumber::parse(&request.callback_number).is_ok_and(|n| n == *number) {
                return Ok(Some(attempt));
            }
        }
        Ok(None)
    }
}

/// The final call status of a click-to-call from NOTIFY_OUT_END's `disposition`, in Twilio's
/// words as the callback store keeps them.
pub fn out_status(disposition: &str) -> &'static str {
    match disposition.trim().to_ascii_lowercase().as_str() {
        "answered" => "completed",
        "busy" => "busy",
        "no answer" => "no-answer",
        "cancel" => "canceled",
        _ => "failed",
    }
}

/// What follows an action.
enum Next {
    /// Send this to Zadarma.
    Answer(Value),
    /// Run this event (under this key) and send its script.
    Event(EventKind, String),
}
