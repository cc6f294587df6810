//! One simulated call, played the way Twilio plays it: the inbound `voice` webhook, then the reply
//! TwiML verb by verb, following every `action`, `waitUrl` and REST redirect, and finally the
//! `completed` status callback.
//!
//! Twilio's side of the call is a [`Model`]: an operator answers a `<Dial>` with `answer_prob`
//! (after a few seconds of ringing; then they talk for an exponentially distributed time with mean
//! `talk_secs`), otherwise the dial ends `no-answer` after its `timeout`; in the queue, each wait
//! tick the caller may press 1 in a `<Gather>` (`press1_prob`) or hang up (`hangup_prob`); other
//! menus are mostly answered ([`Peer::keys`]) and `<Record>` gets a short message. Every
//! Twilio-side wait (`<Pause>`, ringing, clips) is multiplied by `time_scale`; times reported back
//! to the instance (`QueueTime`, `DialCallDuration`, `CallDuration`) are in Twilio seconds, that is
//! real seconds ÷ `time_scale`. Talk time is given already compressed. A REST redirect arriving
//! through the fake API interrupts whatever the call is doing, as on Twilio. Every loop is bounded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::sync::mpsc::UnboundedReceiver;

pub use super::board::{Line, Model};
use super::board::{LiveCall, Tally};
use super::twiml::{self, Verb};
use crate::telephony::twilio::{Route, route_path};

/// At most this many TwiML documents per call.
const MAX_STEPS: usize = 200;
/// A `<Play>` clip lasts this many Twilio seconds; `<Say>` this many characters a second.
const CLIP_SECS: f64 = 1.5;
const SAY_CHARS_PER_SEC: f64 = 15.0;

/// How a call ended, as the caller saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Talked to an operator.
    Talked,
    /// Left the hold queue (pressed 1 or waited too long) and heard the goodbye.
    LeftQueue,
    /// Hung up while waiting in the queue.
    HungUp,
    /// Left a voice message (or hung up at the beep) during working hours.
    Voicemail,
    /// Told the hotline is closed (then a goodbye or voicemail).
    OffHours,
    /// Any other goodbye (nobody staffing, every operator missed the call).
    Goodbye,
    /// A webhook failed or the TwiML could not be followed.
    Error,
}

/// Where the call goes next.
pub(super) enum Next {
    Doc(String),
    Verbs(Vec<Verb>),
    /// Follow a URL (a `<Redirect>`, or the queue's REST redirect after the queue's action).
    Fetch(String),
    /// A REST redirect arrived while the call was not waiting in the queue.
    Redirect(String),
    Enqueue {
        action: Option<String>,
        wait_url: Option<String>,
        rest: Vec<Verb>,
    },
    Leave,
    Hangup,
    /// The document ran out.
    End,
    /// The caller hung up.
    Gone,
}

#[derive(Default)]
pub(super) struct Path {
    pub answered: bool,
    pub queued: bool,
    pub left_queue: bool,
    pub hung_up: bool,
    pub recorded: bool,
    pub off_hours: bool,
    /// A webhook failed (the wire lists it).
    pub webhook_failed: bool,
}

pub(super) struct Peer {
    pub line: Arc<Line>,
    pub index: usize,
    pub sid: String,
    pub from: String,
    pub rng: StdRng,
    pub inbox: UnboundedReceiver<String>,
    pub path: Path,
}

/// A Twilio SID: the prefix and 32 hex digits.
pub fn new_sid(prefix: &str, rng: &mut impl Rng) -> String {
    format!("{prefix}{:032x}", rng.r#gen::<u128>())
}

/// Plays call number `index`; its randomness comes from `seed`.
pub async fn call(line: Arc<Line>, index: usize, seed: u64) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed);
    let sid = new_sid("CA", &mut rng);
    let from = format!("+79{:09}", rng.gen_range(0..1_000_000_000u64));
    let inbox = line.mailboxes.open(&sid);
    let began = Instant::now();
    let live = LiveCall {
        sid: sid.clone(),
        from: from.clone(),
        began,
    };
    line.board.call_began(index, live.clone());
    let mut peer = Peer {
        line: line.clone(),
        index,
        sid,
        from,
        rng,
        inbox,
        path: Path::default(),
    };
    let played = peer.run().await;
    if let Err(e) = &played
        && !peer.path.webhook_failed
    {
        line.wire.note(&format!("call {index}: {e}"));
    }
    line.mailboxes.close(&peer.sid);
    let status = status_callback(&line, index, &live).await;
    line.board.call_ended(index);
    let p = &peer.path;
    match (played, status) {
        (Err(_), _) | (_, Err(_)) => Outcome::Error,
        _ if p.answered => Outcome::Talked,
        _ if p.hung_up => Outcome::HungUp,
        _ if p.off_hours => Outcome::OffHours,
        _ if p.recorded => Outcome::Voicemail,
        _ if p.left_queue => Outcome::LeftQueue,
        _ => Outcome::Goodbye,
    }
}

/// The call's final status callback: `completed`, with its duration in Twilio seconds.
pub async fn status_callback(line: &Line, index: usize, call: &LiveCall) -> Result<(), String> {
    let secs = twilio_secs(call.began.elapsed(), line.model.time_scale);
    let extra = [
        ("CallDuration", secs.to_string()),
        ("SequenceNumber", "0".to_owned()),
        ("Timestamp", chrono::Utc::now().to_rfc2822()),
        ("CallbackSource", "call-progress-events".to_owned()),
    ];
    let params = base_params(line, &call.sid, &call.from, "completed", &extra);
    let url = route_path(&Route::Status);
    line.wire.post(index, &url, &params).await.map(drop)
}

/// Twilio's parameters on every request for a call, then `extra`.
fn base_params(
    line: &Line,
    sid: &str,
    from: &str,
    status: &str,
    extra: &[(&str, String)],
) -> Vec<(String, String)> {
    call_params(&line.account_sid, &line.to_number, sid, from, status, extra)
}

/// Twilio's parameters on every request for call `sid` from `from` to the hotline's `to`, then
/// `extra`.
pub fn call_params(
    account_sid: &str,
    to: &str,
    sid: &str,
    from: &str,
    status: &str,
    extra: &[(&str, String)],
) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> = [
        ("AccountSid", account_sid),
        ("ApiVersion", "2010-04-01"),
        ("CallSid", sid),
        ("CallStatus", status),
        ("Called", to),
        ("CalledCountry", "RU"),
        ("Caller", from),
        ("CallerCountry", "RU"),
        ("Direction", "inbound"),
        ("From", from),
        ("FromCountry", "RU"),
        ("To", to),
        ("ToCountry", "RU"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    p.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    p
}

/// Real time → whole Twilio seconds.
pub fn twilio_secs(real: Duration, time_scale: f64) -> u64 {
    (real.as_secs_f64() / time_scale).round() as u64
}

impl Peer {
    pub(super) async fn post(
        &mut self,
        url: &str,
        status: &str,
        extra: &[(&str, String)],
    ) -> Result<String, String> {
        let params = base_params(&self.line, &self.sid, &self.from, status, extra);
        let reply = self.line.wire.post(self.index, url, &params).await;
        self.path.webhook_failed |= reply.is_err();
        reply
    }

    pub(super) fn scaled(&self, twilio_secs: f64) -> Duration {
        Duration::from_secs_f64((twilio_secs * self.line.model.time_scale).max(0.0))
    }

    /// Waits `d` unless a REST redirect arrives first (then returns its URL).
    pub(super) async fn wait(&mut self, d: Duration) -> Option<String> {
        if let Ok(url) = self.inbox.try_recv() {
            return Some(url);
        }
        tokio::select! {
            _ = tokio::time::sleep(d) => self.inbox.try_recv().ok(),
            url = self.inbox.recv() => url,
        }
    }

    async fn run(&mut self) -> Result<(), String> {
        let voice = self
            .post(&route_path(&Route::Voice), "ringing", &[])
            .await?;
        if voice.contains("<Dial") && self.line.board.queue_len() > 0 {
            Tally::add(&self.line.board.tally.rung_past_queue);
        }
        let mut next = Next::Doc(voice);
        for _ in 0..MAX_STEPS {
            next = match next {
                Next::Doc(doc) => {
                    let marks = &self.line.off_hours_marks;
                    self.path.off_hours |= marks.iter().any(|m| doc.contains(m.as_str()));
                    Next::Verbs(twiml::parse(&doc)?)
                }
                Next::Verbs(verbs) => self.run_verbs(&verbs, false).await?,
                Next::Redirect(url) => {
                    if self.path.queued {
                        Tally::add(&self.line.board.tally.late_redirects);
                    }
                    Next::Doc(self.post(&url, "in-progress", &[]).await?)
                }
                Next::Fetch(url) => Next::Doc(self.post(&url, "in-progress", &[]).await?),
                Next::Enqueue {
                    action,
                    wait_url,
                    rest,
                } => self.enqueue(action, wait_url, rest).await?,
                Next::Leave | Next::Hangup | Next::End | Next::Gone => return Ok(()),
            };
        }
        Err(format!(
            "the call did not end after {MAX_STEPS} TwiML documents"
        ))
    }

    /// Runs verbs in order until one moves the call elsewhere.
    pub(super) async fn run_verbs(
        &mut self,
        verbs: &[Verb],
        in_queue: bool,
    ) -> Result<Next, String> {
        for (i, verb) in verbs.iter().enumerate() {
            let next = match verb {
                Verb::Play | Verb::Say { .. } | Verb::Pause { .. } => {
                    self.media(verb).await.map(Next::Redirect)
                }
                Verb::Gather {
                    action,
                    timeout,
                    num_digits,
                    finish_on_key,
                    nested,
                } => {
                    let keys = self.keys(*num_digits, finish_on_key, in_queue);
                    self.gather(action.as_deref(), *timeout, nested, keys, in_queue)
                        .await?
                }
                Verb::Dial {
                    action,
                    timeout,
                    to,
                } if !in_queue => {
                    self.dial(action.as_deref(), *timeout, to.as_deref())
                        .await?
                }
                Verb::Enqueue { action, wait_url } if !in_queue => Some(Next::Enqueue {
                    action: action.clone(),
                    wait_url: wait_url.clone(),
                    rest: verbs[i + 1..].to_vec(),
                }),
                Verb::Dial { .. } | Verb::Enqueue { .. } => {
                    return Err("<Dial> or <Enqueue> in a queue's wait TwiML".into());
                }
                Verb::Record {
                    action,
                    max_length,
                    finish_on_key,
                    status_callback,
                } if !in_queue => {
                    self.record(
                        action.as_deref(),
                        *max_length,
                        finish_on_key,
                        status_callback.as_deref(),
                    )
                    .await?
                }
                Verb::Record { .. } => return Err("<Record> in a queue's wait TwiML".into()),
                Verb::Leave if in_queue => Some(Next::Leave),
                Verb::Leave => None,
                Verb::Hangup => Some(Next::Hangup),
                Verb::Redirect(url) => Some(Next::Fetch(url.clone())),
            };
            if let Some(next) = next {
                return Ok(next);
            }
            if let Ok(url) = self.inbox.try_recv() {
                return Ok(Next::Redirect(url));
            }
        }
        Ok(Next::End)
    }

    /// Plays a clip, speaks, or pauses; returns a redirect that interrupted it.
    pub(super) async fn media(&mut self, verb: &Verb) -> Option<String> {
        let secs = match verb {
            Verb::Play => CLIP_SECS,
            Verb::Say { chars } => *chars as f64 / SAY_CHARS_PER_SEC,
            Verb::Pause { secs } => *secs,
            _ => 0.0,
        };
        self.wait(self.scaled(secs)).await
    }
}
