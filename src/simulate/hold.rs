//! A simulated call waiting in Twilio's hold queue (`<Enqueue action waitUrl>`).
//!
//! While queued, Twilio requests the `waitUrl` with the caller's `QueuePosition`, `QueueTime`,
//! `CurrentQueueSize` (and `QueueSid`, `AvgQueueTime`), plays the TwiML it gets, and asks again when
//! that TwiML runs out. The call leaves the queue when the wait TwiML says `<Leave/>` (a `<Gather>`
//! action may answer with it), when the REST API redirects the call (the instance found a free
//! operator), or when the caller hangs up; each time Twilio posts the `<Enqueue>` action with
//! `QueueResult` `leave`, `redirected` or `hangup` and the time waited. After a redirect the reply
//! to that action is ignored and the redirect's URL is fetched instead (PROVIDERS.md §1.9).

use std::time::{Duration, Instant};

use rand::Rng;

use super::board::Tally;
use super::peer::{Next, Peer, twilio_secs};
use super::twiml::{self, Verb};

/// At most this many wait ticks per queued call.
const MAX_TICKS: usize = 500;
/// At most this many documents within one tick (a `<Gather>` action's reply, a `<Redirect>`).
const MAX_DOCS_PER_TICK: usize = 10;
/// A tick lasts at least this many Twilio seconds, even if the wait TwiML is empty.
const MIN_TICK_SECS: f64 = 1.0;
/// Without a `waitUrl`, Twilio plays hold music; the simulated call waits this long per tick.
const MUSIC_SECS: f64 = 10.0;

/// Why a call left the queue.
enum Left {
    Leave,
    Redirect(String),
    CallerHungUp,
    /// The wait TwiML said `<Hangup/>`.
    Hangup,
}

impl Peer {
    /// Holds in the queue, then reports leaving it to `action` and says where the call goes.
    pub(super) async fn enqueue(
        &mut self,
        action: Option<String>,
        wait_url: Option<String>,
        rest: Vec<Verb>,
    ) -> Result<Next, String> {
        let line = self.line.clone();
        self.path.queued = true;
        Tally::add(&line.board.tally.queued);
        let ticket = line.board.enter();
        let entered = Instant::now();
        let left = self.hold(wait_url.as_deref(), ticket, entered).await;
        let waited = twilio_secs(entered.elapsed(), line.model.time_scale);
        line.board.leave(ticket, waited);
        let left = left?;
        let report = |result: &str| {
            [
                ("QueueResult", result.to_owned()),
                ("QueueSid", line.queue_sid.clone()),
                ("QueueTime", waited.to_string()),
            ]
        };
        Ok(match left {
            Left::Leave => {
                self.path.left_queue = true;
                match action {
                    Some(a) => Next::Doc(self.post(&a, "in-progress", &report("leave")).await?),
                    None => Next::Verbs(rest),
                }
            }
            Left::Redirect(url) => {
                Tally::add(&line.board.tally.redirected);
                if let Some(a) = action {
                    self.post(&a, "in-progress", &report("redirected")).await?;
                }
                Next::Fetch(url)
            }
            Left::CallerHungUp => {
                self.path.hung_up = true;
                if let Some(a) = action {
                    self.post(&a, "completed", &report("hangup")).await?;
                }
                Next::Gone
            }
            Left::Hangup => Next::Hangup,
        })
    }

    async fn hold(
        &mut self,
        wait_url: Option<&str>,
        ticket: u64,
        entered: Instant,
    ) -> Result<Left, String> {
        let line = self.line.clone();
        let model = line.model;
        for tick in 0..MAX_TICKS {
            let tick_began = Instant::now();
            if let Ok(url) = self.inbox.try_recv() {
                return Ok(Left::Redirect(url));
            }
            if tick > 0 && self.rng.gen_bool(model.hangup_prob) {
                return Ok(Left::CallerHungUp);
            }
            if let Some(wait_url) = wait_url {
                let (position, size) = line.board.position(ticket);
                let waited = twilio_secs(entered.elapsed(), model.time_scale);
                let params = [
                    ("QueuePosition", position.to_string()),
                    ("QueueSid", line.queue_sid.clone()),
                    ("QueueTime", waited.to_string()),
                    ("AvgQueueTime", line.board.average_wait().to_string()),
                    ("CurrentQueueSize", size.to_string()),
                ];
                let mut doc = self.post(wait_url, "in-progress", &params).await?;
                let mut ran_out = false;
                for _ in 0..MAX_DOCS_PER_TICK {
                    let verbs = twiml::parse(&doc)?;
                    doc = match self.run_verbs(&verbs, true).await? {
                        Next::End => {
                            ran_out = true;
                            break;
                        }
                        Next::Doc(d) => d,
                        Next::Fetch(url) => self.post(&url, "in-progress", &[]).await?,
                        Next::Leave => return Ok(Left::Leave),
                        Next::Redirect(url) => return Ok(Left::Redirect(url)),
                        Next::Hangup => return Ok(Left::Hangup),
                        _ => return Err("unexpected turn in a queue's wait TwiML".into()),
                    };
                }
                if !ran_out {
                    return Err(format!(
                        "more than {MAX_DOCS_PER_TICK} documents in one queue wait tick"
                    ));
                }
            }
            let least = if wait_url.is_some() {
                MIN_TICK_SECS
            } else {
                MUSIC_SECS
            };
            let rest = self.scaled(least).saturating_sub(tick_began.elapsed());
            if rest > Duration::ZERO
                && let Some(url) = self.wait(rest).await
            {
                return Ok(Left::Redirect(url));
            }
        }
        Err(format!("still in the queue after {MAX_TICKS} wait ticks"))
    }
}
