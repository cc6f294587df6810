//! What the simulated calls share: the [`Line`] (the wire to the instance, the fake API's
//! mailboxes, the account, the behaviour [`Model`]) and the [`Board`], what the simulated Twilio
//! knows across calls: who is waiting in its hold queue (for the `QueuePosition`,
//! `CurrentQueueSize` and `AvgQueueTime` it reports on every wait tick), which calls are still on
//! the line (so a run cut short can still send their final status callbacks), and a few counters
//! about the paths calls took.
//!
//! Positions follow the order calls entered the queue, as Twilio's queues are first in, first out;
//! the position reported is among this simulator's calls only.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde::Serialize;

use super::fake_api::Mailboxes;
use super::wire::Wire;

/// Twilio's side of a call: what callers and operators do.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Model {
    pub answer_prob: f64,
    pub talk_secs: f64,
    pub press1_prob: f64,
    pub hangup_prob: f64,
    pub time_scale: f64,
}

/// What every simulated call shares.
pub struct Line {
    pub wire: Wire,
    pub mailboxes: Arc<Mailboxes>,
    pub board: Board,
    pub model: Model,
    pub account_sid: String,
    /// The fake REST API's base URL (recordings live there).
    pub api_base: String,
    /// The hotline's number (`To`).
    pub to_number: String,
    pub queue_sid: String,
    /// Text that appears in a reply only when the hotline is closed.
    pub off_hours_marks: Vec<String>,
}

/// The hold queue and the calls on the line.
#[derive(Default)]
pub struct Board {
    inner: Mutex<Inner>,
    pub tally: Tally,
}

#[derive(Default)]
struct Inner {
    next_ticket: u64,
    waiting: BTreeSet<u64>,
    longest: usize,
    left: u64,
    total_wait_secs: u64,
    live: BTreeMap<usize, LiveCall>,
    sids: Vec<String>,
    /// Operators' phones ringing or talking now: contact → legs on it.
    phones: BTreeMap<String, usize>,
}

/// A call still on the line.
#[derive(Debug, Clone)]
pub struct LiveCall {
    pub sid: String,
    pub from: String,
    pub began: Instant,
}

/// Counters about the paths calls took.
#[derive(Default)]
pub struct Tally {
    /// Calls that began.
    pub started: AtomicUsize,
    /// Calls that were put in the hold queue.
    pub queued: AtomicUsize,
    /// Queued calls moved to a freed operator by a REST redirect.
    pub redirected: AtomicUsize,
    /// REST redirects that reached a call after it had left the queue.
    pub late_redirects: AtomicUsize,
    /// New calls rung straight to an operator while other callers were waiting in the queue.
    pub rung_past_queue: AtomicUsize,
    /// Calls whose caller pressed 1 in the queue.
    pub pressed_1: AtomicUsize,
    /// Dials to an operator whose phone was already ringing or talking on another call.
    pub double_booked: AtomicUsize,
}

impl Tally {
    pub fn add(counter: &AtomicUsize) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(counter: &AtomicUsize) -> usize {
        counter.load(Ordering::Relaxed)
    }
}

impl Board {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A call joins the queue; returns its ticket.
    pub fn enter(&self) -> u64 {
        let mut g = self.lock();
        let ticket = g.next_ticket;
        g.next_ticket += 1;
        g.waiting.insert(ticket);
        g.longest = g.longest.max(g.waiting.len());
        ticket
    }

    /// The call's 1-based position and the queue's size.
    pub fn position(&self, ticket: u64) -> (usize, usize) {
        let g = self.lock();
        (g.waiting.range(..ticket).count() + 1, g.waiting.len())
    }

    /// The call left the queue after `waited_secs` (Twilio seconds).
    pub fn leave(&self, ticket: u64, waited_secs: u64) {
        let mut g = self.lock();
        if g.waiting.remove(&ticket) {
            g.left += 1;
            g.total_wait_secs += waited_secs;
        }
    }

    /// Calls waiting now.
    pub fn queue_len(&self) -> usize {
        self.lock().waiting.len()
    }

    /// The longest the queue has been.
    pub fn longest_queue(&self) -> usize {
        self.lock().longest
    }

    /// Average wait of the calls that left the queue, in whole Twilio seconds.
    pub fn average_wait(&self) -> u64 {
        let g = self.lock();
        g.total_wait_secs.checked_div(g.left).unwrap_or(0)
    }

    /// A call is on the line.
    pub fn call_began(&self, index: usize, call: LiveCall) {
        Tally::add(&self.tally.started);
        let mut g = self.lock();
        g.sids.push(call.sid.clone());
        g.live.insert(index, call);
    }

    /// A call is over.
    pub fn call_ended(&self, index: usize) {
        self.lock().live.remove(&index);
    }

    /// How many calls are on the line now.
    pub fn live_count(&self) -> usize {
        self.lock().live.len()
    }

    /// The `CallSid` of every call that began.
    pub fn all_sids(&self) -> Vec<String> {
        self.lock().sids.clone()
    }

    /// An operator's phone starts ringing for a call; busy until the returned guard is dropped.
    /// A phone already busy counts a double booking.
    pub fn ring(&self, contact: &str) -> Ringing<'_> {
        let mut g = self.lock();
        let legs = g.phones.entry(contact.to_owned()).or_insert(0);
        *legs += 1;
        if *legs > 1 {
            Tally::add(&self.tally.double_booked);
        }
        Ringing {
            board: self,
            contact: contact.to_owned(),
        }
    }

    /// Calls still on the line (after a run was cut short).
    pub fn live_calls(&self) -> Vec<(usize, LiveCall)> {
        self.lock()
            .live
            .iter()
            .map(|(i, c)| (*i, c.clone()))
            .collect()
    }
}

/// An operator's phone in use by one call (see [`Board::ring`]).
pub struct Ringing<'a> {
    board: &'a Board,
    contact: String,
}

impl Drop for Ringing<'_> {
    fn drop(&mut self) {
        let mut g = self.board.lock();
        if let Some(legs) = g.phones.get_mut(&self.contact) {
            *legs -= 1;
            if *legs == 0 {
                g.phones.remove(&self.contact);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_first_in_first_out() {
        let b = Board::default();
        let (t1, t2, t3) = (b.enter(), b.enter(), b.enter());
        assert_eq!(b.position(t2), (2, 3));
        b.leave(t1, 10);
        assert_eq!((b.position(t2), b.position(t3)), ((1, 2), (2, 2)));
        b.leave(t2, 20);
        b.leave(t2, 99);
        assert_eq!(
            (b.average_wait(), b.longest_queue(), b.queue_len()),
            (15, 3, 1)
        );
    }

    #[test]
    fn a_phone_rung_twice_at_once_is_a_double_booking() {
        let b = Board::default();
        drop(b.ring("+79990000001"));
        let first = b.ring("+79990000001");
        let other = b.ring("+79990000002");
        assert_eq!(Tally::get(&b.tally.double_booked), 0);
        let second = b.ring("+79990000001");
        assert_eq!(Tally::get(&b.tally.double_booked), 1);
        drop((first, second, other));
        drop(b.ring("+79990000001"));
        assert_eq!(Tally::get(&b.tally.double_booked), 1);
    }
}
