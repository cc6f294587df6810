//! A hotline line for call-path tests: a switchboard over a test store with a manual clock, events
//! delivered as the Twilio adapter would hand them over (neutral `CallEvent`s with natural keys),
//! and an in-process provider control that records each move of a queued call (or refuses it).
#![allow(dead_code)]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeDelta, Utc};
use perezvon::calendar::{Calendar, HotlineHours};
use perezvon::clock::{Clock, ManualClock};
use perezvon::domain::operator::{ContactKind, Presence};
use perezvon::domain::routing::{RoutingSettings, describe};
use perezvon::domain::user::Role;
use perezvon::store::{Call, NewOperator, NewUser, Operator, Store};
use perezvon::switchboard::{Incoming, Switchboard};
use perezvon::telephony::{CallControl, CallEvent, ControlError, EventKind};
use perezvon::wake::Wake;

/// One instance of the service's call path.
pub struct Line {
    pub sb: Arc<Switchboard>,
    pub store: Arc<dyn Store>,
    pub clock: Arc<ManualClock>,
    pub control: Arc<FakeControl>,
}

impl Line {
    /// A line over `store` with the default routing rules and the built-in calendar.
    pub fn new(store: Arc<dyn Store>, clock: Arc<ManualClock>) -> Line {
        Line::build(store, clock, None)
    }

    /// A line whose switchboard shares `wake` (e.g. one started on PostgreSQL, so that wake-ups
    /// cross instances).
    pub fn with_wake(store: Arc<dyn Store>, clock: Arc<ManualClock>, wake: Arc<Wake>) -> Line {
        Line::build(store, clock, Some(wake))
    }

    fn build(store: Arc<dyn Store>, clock: Arc<ManualClock>, wake: Option<Arc<Wake>>) -> Line {
        let calendar = Arc::new(Calendar::builtin(HotlineHours::default()));
        let mut sb = Switchboard::new(
            store.clone(),
            calendar,
            clock.clone(),
            RoutingSettings::default(),
        );
        if let Some(w) = wake {
            sb = sb.with_wake(w);
        }
        Line {
            sb: Arc::new(sb),
            store,
            clock,
            control: Arc::new(FakeControl::default()),
        }
    }

    /// Delivers one event of `call` (caller `from`) under its natural `key`; the reply described
    /// as `domain::routing::describe` does (e.g. `say(2) dial(op 1)`).
    pub async fn event(
        &self,
        call: &str,
        from: &str,
        key: &str,
        kind: EventKind,
    ) -> anyhow::Result<String> {
        let e = CallEvent {
            call_id: call.into(),
            from: Some(from.into()),
            to: Some("+74950000000".into()),
            kind,
        };
        let inc = Incoming {
            provider: "twilio",
            event: &e,
            key,
            payload: "{}".into(),
        };
        self.sb.handle(inc, Arc::new(|r| Ok(describe(r)))).await
    }

    /// A new inbound call.
    pub async fn incoming(&self, call: &str, from: &str) -> String {
        self.event(call, from, "incoming", EventKind::Incoming)
            .await
            .unwrap()
    }

    /// One dispatcher pass through this line's fake provider.
    pub async fn dispatch(&self) -> usize {
        self.sb.dispatch_once(self.control.as_ref()).await.unwrap()
    }

    /// The call as stored.
    pub async fn call(&self, sid: &str) -> Call {
        self.store
            .call_by_provider_id("twilio", sid)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("no call {sid}"))
    }

    /// The operator as stored.
    pub async fn operator(&self, id: i64) -> Operator {
        self.store
            .operators()
            .await
            .unwrap()
            .into_iter()
            .find(|o| o.id == id)
            .unwrap()
    }

    /// Creates an operator with a SIP contact and sets their presence.
    pub async fn add_operator(&self, login: &str, presence: Presence) -> i64 {
        let now = self.clock.now();
        let u = NewUser {
            login: login.into(),
            display_name: login.into(),
            role: Role::Operator,
            password_hash: "x".into(),
        };
        let user = self.store.create_user(&u, now).await.unwrap();
        let new = NewOperator {
            user_id: user.id,
            name: login.into(),
            contact_kind: ContactKind::Sip,
            contact: format!("sip:{login}@pbx.school.example"),
        };
        let op = self.store.create_operator(&new, now).await.unwrap();
        self.store.set_presence(op.id, presence, now).await.unwrap();
        op.id
    }

    /// Moves the shared clock.
    pub fn advance(&self, secs: i64) {
        self.clock.advance(TimeDelta::seconds(secs));
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }
}

/// A provider that moves queued calls by recording the request, refuses calls named as over with
/// [`ControlError::CallOver`] and, when told to, fails every move.
#[derive(Default)]
pub struct FakeControl {
    pub moved: Mutex<Vec<(String, i64)>>,
    pub over: Mutex<HashSet<String>>,
    pub failing: std::sync::atomic::AtomicBool,
}

impl FakeControl {
    /// The moves asked for so far.
    pub fn moves(&self) -> Vec<(String, i64)> {
        self.moved.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl CallControl for FakeControl {
    fn provider(&self) -> &'static str {
        "twilio"
    }

    async fn connect_queued(&self, call_id: &str, operator_id: i64) -> Result<(), ControlError> {
        if self.over.lock().unwrap().contains(call_id) {
            return Err(ControlError::CallOver("21220".into()));
        }
        if self.failing.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(ControlError::Failed("503".into()));
        }
        self.moved
            .lock()
            .unwrap()
            .push((call_id.to_owned(), operator_id));
        Ok(())
    }
}

/// A caller's number, distinct per `i`.
pub fn caller(i: usize) -> String {
    format!("+7916{:07}", 1_000_000 + i)
}

/// A Twilio-shaped call SID, distinct per `i`.
pub fn sid(i: usize) -> String {
    format!("CA{:032x}", i + 1)
}
