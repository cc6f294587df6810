//! What every simulated Zadarma call shares: the wire to the instance ([`Pbx`]), the PBX's view of
//! the configuration ([`Dialplan`]), the caller model, the `call_start` stamp, and the tallies the
//! report is made of — calls started, the hold queue (queued, the longest it got, callers moved
//! from it to an operator, 1s pressed), recordings made — and the calls still on the line, so that
//! the ones cut off by the time limit can be ended on the server.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::pbx::Pbx;
use super::setup::Dialplan;
use crate::simulate::peer::Model;

/// A call's identity as the PBX reports it.
#[derive(Debug, Clone)]
pub struct Ident {
    pub id: String,
    pub caller: String,
}

/// Counters of the run.
#[derive(Debug, Default)]
pub struct Tally {
    pub started: AtomicUsize,
    pub queued: AtomicUsize,
    pub in_queue: AtomicUsize,
    pub longest: AtomicUsize,
    pub redirected: AtomicUsize,
    pub pressed_1: AtomicUsize,
    pub recorded: AtomicUsize,
}

impl Tally {
    pub fn get(n: &AtomicUsize) -> usize {
        n.load(Ordering::Relaxed)
    }

    fn add(n: &AtomicUsize) {
        n.fetch_add(1, Ordering::Relaxed);
    }
}

/// The shared state of a run.
pub struct Line {
    pub pbx: Pbx,
    pub plan: Dialplan,
    pub model: Model,
    /// `call_start` of every call (`YYYY-MM-DD HH:MM:SS`, Moscow time on the instance's clock).
    pub call_start: String,
    pub tally: Tally,
    live: Mutex<BTreeMap<usize, Ident>>,
    ids: Mutex<Vec<String>>,
}

impl Line {
    pub fn new(pbx: Pbx, plan: Dialplan, model: Model, call_start: String) -> Line {
        Line {
            pbx,
            plan,
            model,
            call_start,
            tally: Tally::default(),
            live: Mutex::new(BTreeMap::new()),
            ids: Mutex::new(Vec::new()),
        }
    }

    pub fn started(&self, index: usize, ident: &Ident) {
        Tally::add(&self.tally.started);
        self.ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(ident.id.clone());
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(index, ident.clone());
    }

    pub fn ended(&self, index: usize) {
        self.live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&index);
    }

    /// The calls still on the line.
    pub fn live_calls(&self) -> Vec<(usize, Ident)> {
        let live = self.live.lock().unwrap_or_else(|p| p.into_inner());
        live.iter().map(|(i, c)| (*i, c.clone())).collect()
    }

    /// Every call's `pbx_call_id`.
    pub fn all_ids(&self) -> Vec<String> {
        self.ids.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A caller enters the hold queue (`first`: for the first time).
    pub fn queued(&self, first: bool) {
        if first {
            Tally::add(&self.tally.queued);
        }
        let now = self.tally.in_queue.fetch_add(1, Ordering::Relaxed) + 1;
        self.tally.longest.fetch_max(now, Ordering::Relaxed);
    }

    pub fn left_queue(&self) {
        self.tally.in_queue.fetch_sub(1, Ordering::Relaxed);
    }

    pub fn redirected(&self) {
        Tally::add(&self.tally.redirected);
    }

    pub fn pressed_1(&self) {
        Tally::add(&self.tally.pressed_1);
    }

    pub fn recorded(&self) {
        Tally::add(&self.tally.recorded);
    }
}
