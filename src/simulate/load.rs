//! The flood's load engine: sends signed webhook requests to one target as fast as a closed loop
//! allows, or at a fixed rate, for a fixed time, and keeps only what the report needs.
//!
//! Closed loop ([`Pace::Closed`]): N workers, each with its own HTTP/1.1 keep-alive connection
//! ([`Sender`]: hyper's bare client for `http://`, so the generator takes little CPU from the
//! instance on the same cores), send a request, read the whole reply, and send the next, until the
//! time is up (requests in flight then finish). Open loop ([`Pace::Open`]): request `i` is due at
//! `i / rate` seconds; each is sent by its own task on an idle connection of a shared set (the same
//! lean connections, a new one opened when none is idle), with at most [`MAX_IN_FLIGHT`]
//! outstanding (those that cannot be sent before the time is up are counted as unsent). An
//! open-loop latency runs from the moment the request was due, not from when it could be sent, so
//! a server that falls behind shows as latency instead of quietly lowering the rate (no
//! coordinated omission). Per request the engine keeps four bytes of
//! latency (microseconds), two for the second of the run it was sent (or due) in, the status and
//! the request's index when it was answered 2xx; the request itself is made by the caller's
//! `make(index)` (signing included) just before sending.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use tokio::time::Instant;

use super::conn::Sender;
use super::wire::{self, Signed, WEBHOOK_TIMEOUT};

/// The open loop's bound on outstanding requests (and so on connections).
pub const MAX_IN_FLIGHT: usize = 1000;
/// Failures kept with their text; the rest are only counted.
const KEEP_FAILURES: usize = 5;

/// How requests are paced.
#[derive(Debug, Clone, Copy)]
pub enum Pace {
    /// This many connections, each sending its next request when the last reply is in.
    Closed { connections: usize },
    /// This many requests per second, whatever the replies do.
    Open { rate: f64 },
}

/// Makes request number `i` (each a new call).
pub type Make = Arc<dyn Fn(u64) -> Signed + Send + Sync>;

/// What the replies said, for 2xx replies: a `<Dial>` to an operator, the hold queue, or anything
/// else (off-hours greeting, voicemail, a static reply).
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Replies {
    pub dial: u64,
    pub enqueue: u64,
    pub other: u64,
}

/// Everything one run of the engine measured.
#[derive(Debug, Default)]
pub struct Tally {
    /// Reply latency of every completed request (answered or not), microseconds.
    pub micros: Vec<u32>,
    /// The second of the run each request of `micros` was sent in (open loop: due in).
    pub seconds: Vec<u16>,
    /// Requests by HTTP status; 0 = no reply (connection error or Twilio's 15 s timeout).
    pub statuses: BTreeMap<u16, u64>,
    pub replies: Replies,
    /// Indexes of the requests answered 2xx.
    pub answered: Vec<u64>,
    /// The first failures.
    pub failures: Vec<String>,
    /// Open loop: requests that fell due while all [`MAX_IN_FLIGHT`] were outstanding and were
    /// still waiting when the time was up (never sent).
    pub unsent: u64,
    pub elapsed: Duration,
}

impl Tally {
    fn record(&mut self, i: u64, second: u16, micros: u32, result: Result<(u16, String), String>) {
        self.micros.push(micros);
        self.seconds.push(second);
        let status = result.as_ref().map_or(0, |(s, _)| *s);
        *self.statuses.entry(status).or_default() += 1;
        match result {
            Ok((s, body)) if (200..300).contains(&s) => {
                self.answered.push(i);
                if body.contains("<Dial") {
                    self.replies.dial += 1;
                } else if body.contains("<Enqueue") {
                    self.replies.enqueue += 1;
                } else {
                    self.replies.other += 1;
                }
            }
            Ok((s, body)) if self.failures.len() < KEEP_FAILURES => {
                let text: String = body.chars().take(200).collect();
                self.failures
                    .push(wire::mask_numbers(&format!("HTTP {s}: {text}")));
            }
            Err(e) if self.failures.len() < KEEP_FAILURES => {
                self.failures.push(wire::mask_numbers(&e));
            }
            _ => {}
        }
    }

    fn merge(&mut self, other: Tally) {
        self.micros.extend(other.micros);
        self.seconds.extend(other.seconds);
        for (s, n) in other.statuses {
            *self.statuses.entry(s).or_default() += n;
        }
        self.replies.dial += other.replies.dial;
        self.replies.enqueue += other.replies.enqueue;
        self.replies.other += other.replies.other;
        self.answered.extend(other.answered);
        let room = KEEP_FAILURES.saturating_sub(self.failures.len());
        self.failures.extend(other.failures.into_iter().take(room));
    }

    /// Completed requests (answered or not).
    pub fn requests(&self) -> u64 {
        self.micros.len() as u64
    }
}

fn client(idle: usize) -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(WEBHOOK_TIMEOUT)
        .no_proxy()
        .http1_only()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(idle)
        .build()?)
}

fn micros_since(t: Instant) -> u32 {
    u32::try_from(t.elapsed().as_micros()).unwrap_or(u32::MAX)
}

/// The second of the run `t` falls in.
fn second_of(started: Instant, t: Instant) -> u16 {
    u16::try_from(t.saturating_duration_since(started).as_secs()).unwrap_or(u16::MAX)
}

/// Sends `make(0)`, `make(1)`, ... to `target` at `pace` for `duration`.
pub async fn run(
    target: &str,
    pace: Pace,
    duration: Duration,
    make: Make,
) -> anyhow::Result<Tally> {
    let started = Instant::now();
    let deadline = started + duration;
    let mut tally = match pace {
        Pace::Closed { connections } => {
            let next = Arc::new(AtomicU64::new(0));
            let mut workers = tokio::task::JoinSet::new();
            for _ in 0..connections {
                let mut sender = Sender::to(target, || client(1))?;
                let (make, next) = (make.clone(), next.clone());
                workers.spawn(async move {
                    let mut t = Tally::default();
                    while Instant::now() < deadline {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let r = make(i);
                        let sent = Instant::now();
                        let result = sender.webhook(&r.path, &r.body, &r.signature).await;
                        t.record(i, second_of(started, sent), micros_since(sent), result);
                    }
                    t
                });
            }
            let mut all = Tally::default();
            while let Some(t) = workers.join_next().await {
                all.merge(t?);
            }
            all
        }
        Pace::Open { rate } => {
            let http = client(MAX_IN_FLIGHT)?;
            let idle: Arc<Mutex<Vec<Sender>>> = Arc::default();
            let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
            let shared = Arc::new(Mutex::new(Tally::default()));
            let total = (rate * duration.as_secs_f64()).round() as u64;
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..total {
                let due = started + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due).await;
                let Ok(slot) =
                    tokio::time::timeout_at(deadline, slots.clone().acquire_owned()).await
                else {
                    // Time is up with every slot taken: the rest were due but never sent.
                    shared.lock().unwrap_or_else(|p| p.into_inner()).unsent = total - i;
                    break;
                };
                let slot = slot?;
                let (http, target, idle) = (http.clone(), target.to_owned(), idle.clone());
                let (make, shared) = (make.clone(), shared.clone());
                tasks.spawn(async move {
                    let r = make(i);
                    let kept = idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
                    let result = match kept.map_or_else(|| Sender::to(&target, || Ok(http)), Ok) {
                        Ok(mut sender) => {
                            let result = sender.webhook(&r.path, &r.body, &r.signature).await;
                            idle.lock().unwrap_or_else(|p| p.into_inner()).push(sender);
                            result
                        }
                        Err(e) => Err(format!("{e:#}")),
                    };
                    let us = micros_since(due);
                    shared.lock().unwrap_or_else(|p| p.into_inner()).record(
                        i,
                        second_of(started, due),
                        us,
                        result,
                    );
                    drop(slot);
                });
                while tasks.try_join_next().is_some() {}
            }
            while tasks.join_next().await.is_some() {}
            std::mem::take(&mut *shared.lock().unwrap_or_else(|p| p.into_inner()))
        }
    };
    tally.elapsed = started.elapsed();
    Ok(tally)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_told_apart_and_failures_counted() {
        let mut t = Tally::default();
        t.record(
            0,
            0,
            10,
            Ok((200, "<Response><Dial>x</Dial></Response>".into())),
        );
        t.record(
            1,
            0,
            20,
            Ok((200, "<Response><Enqueue>q</Enqueue></Response>".into())),
        );
        t.record(
            2,
            1,
            30,
            Ok((200, "<Response><Play>a</Play></Response>".into())),
        );
        t.record(3, 1, 40, Ok((403, "bad signature".into())));
        t.record(4, 2, 50, Err("connection refused".into()));
        let mut all = Tally::default();
        all.merge(t);
        assert_eq!(all.requests(), 5);
        assert_eq!(all.seconds, vec![0, 0, 1, 1, 2]);
        assert_eq!(all.answered, vec![0, 1, 2]);
        assert_eq!(
            (all.replies.dial, all.replies.enqueue, all.replies.other),
            (1, 1, 1)
        );
        assert_eq!(all.statuses, BTreeMap::from([(0, 1), (200, 3), (403, 1)]));
        assert_eq!(all.failures.len(), 2);
    }
}
