//! The people on a simulated call at `<Gather>` and `<Dial>`: callers keying in, operators
//! answering or not.
//!
//! In the hold queue a caller presses 1 with `press1_prob` at each announcement; in other menus
//! most callers answer (one-key menus with 1 or 2, a number question mostly by confirming with its
//! finish key). A key interrupts the prompt somewhere along it; with no key Twilio waits the
//! `<Gather timeout>` and falls through. A dialed operator answers with `answer_prob` after one to
//! six seconds of ringing and talks for an exponentially distributed time (mean `talk_secs`, capped
//! at ten times that), or lets it ring for the `<Dial timeout>`; then Twilio reports the leg to the
//! `<Dial action>` with `DialCallStatus`, `DialCallSid`, `DialCallDuration` and `DialBridged`.
//! An operator's phone is busy from the ring until that report is sent: a second call rung to it
//! meanwhile is counted as a double booking ([`super::board::Board::ring`]).

use std::time::Duration;

use rand::Rng;

use super::board::Tally;
use super::peer::{Next, Peer, new_sid, twilio_secs};
use super::twiml::Verb;

/// Share of callers who answer a menu outside the queue (the rest let it time out).
const MENU_ANSWER_PROB: f64 = 0.9;

impl Peer {
    /// What the caller keys in at a `<Gather>` (`None`: nothing). In the queue: 1 with
    /// `press1_prob`. Elsewhere (menus) most callers answer: a one-key menu gets 1 or 2; a number
    /// question ended by a key mostly gets that key alone (confirming), sometimes a mobile number.
    pub(super) fn keys(
        &mut self,
        num_digits: Option<u32>,
        finish_on_key: &str,
        in_queue: bool,
    ) -> Option<String> {
        if in_queue {
            return self
                .rng
                .gen_bool(self.line.model.press1_prob)
                .then(|| "1".to_owned());
        }
        if !self.rng.gen_bool(MENU_ANSWER_PROB) {
            return None;
        }
        Some(match num_digits {
            Some(1) => ["1", "2"][self.rng.gen_range(0..2)].to_owned(),
            // Twilio does not include the finish key in `Digits`.
            _ if !finish_on_key.is_empty() && self.rng.gen_bool(0.85) => String::new(),
            _ if !finish_on_key.is_empty() => {
                format!("89{:09}", self.rng.gen_range(0..1_000_000_000u64))
            }
            _ => "1".to_owned(),
        })
    }

    pub(super) async fn gather(
        &mut self,
        action: Option<&str>,
        timeout: f64,
        nested: &[Verb],
        keys: Option<String>,
        in_queue: bool,
    ) -> Result<Option<Next>, String> {
        let keys = keys.filter(|_| action.is_some());
        // A key interrupts the prompt: the caller presses somewhere along it.
        let heard = match keys {
            Some(_) => self.rng.gen_range(0..=nested.len()),
            None => nested.len(),
        };
        for verb in &nested[..heard] {
            if let Some(url) = self.media(verb).await {
                return Ok(Some(Next::Redirect(url)));
            }
        }
        match (action, keys) {
            (Some(action), Some(digits)) => {
                if in_queue {
                    Tally::add(&self.line.board.tally.pressed_1);
                }
                let doc = self
                    .post(action, "in-progress", &[("Digits", digits)])
                    .await?;
                Ok(Some(Next::Doc(doc)))
            }
            // No key before the timeout: Twilio falls through to the next verb.
            _ => Ok(self.wait(self.scaled(timeout)).await.map(Next::Redirect)),
        }
    }

    /// Rings the operator at `to` (busy on the simulated line until the dial's outcome is sent).
    pub(super) async fn dial(
        &mut self,
        action: Option<&str>,
        timeout: f64,
        to: Option<&str>,
    ) -> Result<Option<Next>, String> {
        let line = self.line.clone();
        let phone = to.map(|t| line.board.ring(t));
        let ended = self.dial_leg(timeout).await;
        drop(phone);
        let (status, secs, bridged) = match ended {
            Ok(leg) => leg,
            Err(url) => return Ok(Some(Next::Redirect(url))),
        };
        let leg = new_sid("CA", &mut self.rng);
        let Some(action) = action else {
            return Ok(None);
        };
        let params = [
            ("DialCallStatus", status.to_owned()),
            ("DialCallSid", leg),
            ("DialCallDuration", secs.to_string()),
            ("DialBridged", bridged.to_owned()),
        ];
        Ok(Some(Next::Doc(
            self.post(action, "in-progress", &params).await?,
        )))
    }

    /// The operator's leg: rings, then talks or not; `Err` with a REST redirect that cut it short.
    async fn dial_leg(
        &mut self,
        timeout: f64,
    ) -> Result<(&'static str, u64, &'static str), String> {
        let model = self.line.model;
        if self.rng.gen_bool(model.answer_prob) {
            let ring = self.rng.gen_range(1.0..=timeout.clamp(1.0, 6.0));
            if let Some(url) = self.wait(self.scaled(ring)).await {
                return Err(url);
            }
            let u: f64 = self.rng.r#gen();
            let talk = (-(1.0 - u).ln() * model.talk_secs).min(10.0 * model.talk_secs);
            let talk = Duration::from_secs_f64(talk);
            if let Some(url) = self.wait(talk).await {
                return Err(url);
            }
            self.path.answered = true;
            Ok(("completed", twilio_secs(talk, model.time_scale), "true"))
        } else {
            if let Some(url) = self.wait(self.scaled(timeout)).await {
                return Err(url);
            }
            Ok(("no-answer", 0, "false"))
        }
    }
}
