//! The client-side rate limit of Zadarma's REST API: at most 100 requests in any rolling minute
//! (PROVIDERS.md §2.5), and nothing at all before the instant a 429 answer told us to wait for.
//!
//! Zadarma answers HTTP 429 once the account is over its limit and reports the quota in
//! `X-RateLimit-*` headers. Rather than learn the limit from refusals, [`RateLimiter`] keeps the
//! send times of the last requests and makes a request over the limit wait (asynchronously) until
//! the oldest one leaves the window. It is shared by all clones of a client, so every task talking
//! to the same account counts against one quota. When Zadarma refuses anyway (another program uses
//! the same key), [`retry_after`] reads `X-RateLimit-Reset` and [`RateLimiter::block_for`] holds
//! every request back until then.
//!
//! The limiter is per process on purpose: with several instances on one account each counts only
//! its own requests, so together they may go over the quota; Zadarma then answers 429 and every
//! instance waits out the reset it names, so a request is delayed, never lost. (Only click-to-call
//! and recording downloads use the REST API, far below the quota in practice.)

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Zadarma's overall limit: requests per [`WINDOW`].
pub const LIMIT: usize = 100;
/// The rolling window of [`LIMIT`].
pub const WINDOW: Duration = Duration::from_secs(60);
/// The wait after a 429 without a usable `X-RateLimit-Reset`.
pub const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);
/// The longest wait a 429 can impose (a bogus reset must not stop the client for days).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// `X-RateLimit-Reset` values above this are unix timestamps, smaller ones are seconds.
const TIMESTAMP_THRESHOLD: u64 = 1_000_000_000;

#[derive(Debug)]
struct State {
    /// Send times of the requests still inside the window, oldest first.
    sent: VecDeque<Instant>,
    /// No request before this instant (after a 429).
    blocked_until: Option<Instant>,
}

/// A rolling-window limiter shared by clones (cloning shares the quota).
#[derive(Debug, Clone)]
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    state: Arc<Mutex<State>>,
}

impl RateLimiter {
    /// At most `limit` requests (at least 1) in any rolling `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        RateLimiter {
            limit: limit.max(1),
            window,
            state: Arc::new(Mutex::new(State {
                sent: VecDeque::new(),
                blocked_until: None,
            })),
        }
    }

    /// Waits for a free slot, then takes it (counts the request as sent now).
    pub async fn acquire(&self) {
        loop {
            let wake = {
                let now = Instant::now();
                let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
                let window = self.window;
                while state
                    .sent
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= window)
                {
                    state.sent.pop_front();
                }
                match state.blocked_until {
                    Some(until) if until > now => until,
                    _ if state.sent.len() < self.limit => {
                        state.blocked_until = None;
                        state.sent.push_back(now);
                        return;
                    }
                    // The window is full: wait until its oldest request leaves it.
                    _ => match state.sent.front() {
                        Some(oldest) => *oldest + window,
                        None => now,
                    },
                }
            };
            tracing::debug!(
                wait_ms = wake.saturating_duration_since(Instant::now()).as_millis() as u64,
                "Zadarma API rate limit reached: the request waits"
            );
            tokio::time::sleep_until(wake).await;
        }
    }

    /// Holds every request back for `wait` from now (after a 429); never shortens a longer block.
    pub fn block_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.blocked_until.is_none_or(|current| current < until) {
            state.blocked_until = Some(until);
        }
    }
}

/// How long to wait after a 429, from its `X-RateLimit-Reset` (`reset`) at unix time `now_unix`:
/// a value above 1 000 000 000 is the unix time the quota resets, a smaller one a number of
/// seconds; missing or unreadable means [`DEFAULT_RETRY_AFTER`]. Capped at [`MAX_RETRY_AFTER`].
pub fn retry_after(reset: Option<&str>, now_unix: u64) -> Duration {
    let Some(value) = reset.and_then(|r| r.trim().parse::<u64>().ok()) else {
        return DEFAULT_RETRY_AFTER;
    };
    let secs = if value > TIMESTAMP_THRESHOLD {
        value.saturating_sub(now_unix)
    } else {
        value
    };
    Duration::from_secs(secs).min(MAX_RETRY_AFTER)
}
