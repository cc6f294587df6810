//! One simulated Zadarma call, played as the PBX plays it: `NOTIFY_START`, then each answer's one
//! action. A plain `ivr_play` lasts the clip, then a bare `NOTIFY_IVR`; a `wait_dtmf` plays its
//! clip and reports the keys (or, after its timeout, none) in `NOTIFY_IVR`; a `redirect` to an
//! operator's extension rings it (`NOTIFY_INTERNAL`): the operator answers with `answer_prob`
//! after a few seconds (`NOTIFY_ANSWER`, the talk, `NOTIFY_END` `answered`), or after
//! `return_timeout` the call comes back (a bare `NOTIFY_IVR`); the redirect to the recording
//! scenario takes a short message (`NOTIFY_END` with `is_recorded=1`, then `NOTIFY_RECORD`);
//! `{"hangup":1}` or `{}` ends the call. In the hold queue (`qm.…` announcements, `qh.…` quiet
//! periods) the caller hangs up with `hangup_prob` per period (`NOTIFY_END` `cancel`) and, at an
//! announcement, presses 1 with `press1_prob`. The callback number question (`vn…`) gets an
//! `8916…` number or nothing, the category (`vc…`) 1 or 2. Every wait is scaled; loops are bounded.

use std::sync::Arc;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::line::{Ident, Line};
use super::pbx::Form;
use super::setup::{DID, VOICEMAIL};
use crate::simulate::peer::Outcome;
use crate::speech::Prompt;

/// At most this many answers per call.
const MAX_STEPS: usize = 400;

/// What happened on the way, for the outcome.
#[derive(Default)]
struct Path {
    queued: bool,
    in_queue: bool,
    off_hours: bool,
}

/// One call in progress.
struct Call {
    line: Arc<Line>,
    index: usize,
    ident: Ident,
    rng: StdRng,
    path: Path,
}

/// Places call `index` and plays it to the end.
pub async fn call(line: Arc<Line>, index: usize, seed: u64) -> Outcome {
    let mut rng = StdRng::seed_from_u64(seed);
    let ident = Ident {
        id: format!("in_{:040x}", rng.r#gen::<u128>()),
        caller: format!("7916{:07}", rng.gen_range(0..10_000_000)),
    };
    line.started(index, &ident);
    let mut c = Call {
        line: line.clone(),
        index,
        ident,
        rng,
        path: Path::default(),
    };
    let outcome = match c.play().await {
        Ok(o) => o,
        Err(_) => {
            // Leave nothing live on the server (the error itself is already counted).
            let _ = c.end("cancel", 0, None).await;
            Outcome::Error
        }
    };
    if c.path.in_queue {
        line.left_queue();
    }
    line.ended(index);
    outcome
}

impl Call {
    fn fields(&self, event: &str) -> Form {
        let i = &self.ident;
        [
            ("event", event),
            ("call_start", self.line.call_start.as_str()),
            ("pbx_call_id", i.id.as_str()),
            ("caller_id", i.caller.as_str()),
            ("called_did", DID),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    async fn post(&self, form: &Form) -> anyhow::Result<Value> {
        self.line.pbx.post(self.index, form).await
    }

    async fn sleep(&self, d: std::time::Duration) {
        tokio::time::sleep(d).await;
    }

    async fn play(&mut self) -> anyhow::Result<Outcome> {
        let off_hours = Prompt::OffHours.clip();
        let mut answer = self.post(&self.fields("NOTIFY_START")).await?;
        for _ in 0..MAX_STEPS {
            if let Some(file) = answer.get("ivr_play").and_then(Value::as_str) {
                self.path.off_hours |= file == off_hours;
            }
            if let Some(to) = answer.get("redirect").and_then(Value::as_str) {
                let to = to.to_owned();
                if to == VOICEMAIL {
                    return self.record().await;
                }
                let ring = answer["return_timeout"].as_f64().unwrap_or(20.0);
                match self.ring(&to, ring).await? {
                    Some(o) => return Ok(o),
                    None => answer = self.post(&self.fields("NOTIFY_IVR")).await?,
                }
            } else if let Some(wait) = answer.get("wait_dtmf") {
                let wait = wait.clone();
                let clip = answer.get("ivr_play").and_then(Value::as_str);
                let plays = clip.map(|f| self.line.plan.play(f)).unwrap_or_default();
                match self.keys(&wait, plays).await? {
                    Some(form) => answer = self.post(&form).await?,
                    None => return Ok(Outcome::HungUp),
                }
            } else if let Some(file) = answer.get("ivr_play").and_then(Value::as_str) {
                let plays = self.line.plan.play(file);
                self.sleep(plays).await;
                answer = self.post(&self.fields("NOTIFY_IVR")).await?;
            } else {
                // `{"hangup": 1}`, `{}` or anything else: the PBX ends the call.
                self.end("answered", 5, None).await?;
                return Ok(self.goodbye());
            }
        }
        anyhow::bail!("call {}: the answers never ended", self.index)
    }

    fn goodbye(&self) -> Outcome {
        if self.path.off_hours {
            Outcome::OffHours
        } else if self.path.queued {
            Outcome::LeftQueue
        } else {
            Outcome::Goodbye
        }
    }

    /// The PBX rings extension `ext`; `Some` when the call ended there.
    async fn ring(&mut self, ext: &str, ring: f64) -> anyhow::Result<Option<Outcome>> {
        let plan = &self.line.plan;
        if !plan.extensions.contains_key(ext) {
            anyhow::bail!(
                "call {}: redirected to `{ext}`, no simulated operator's extension",
                self.index
            );
        }
        if self.path.in_queue {
            self.path.in_queue = false;
            self.line.left_queue();
            self.line.redirected();
        }
        let ringing = [("internal".to_string(), ext.to_string())];
        let mut form = self.fields("NOTIFY_INTERNAL");
        form.extend(ringing.iter().cloned());
        self.post(&form).await?;
        let model = self.line.model;
        if !self.rng.gen_bool(model.answer_prob) {
            self.sleep(plan.scaled(ring)).await;
            return Ok(None);
        }
        let after = self.rng.gen_range(1.0..ring.clamp(1.5, 6.0));
        self.sleep(plan.scaled(after)).await;
        let i = &self.ident;
        let answered: Form = [
            ("event", "NOTIFY_ANSWER"),
            ("caller_id", i.caller.as_str()),
            ("destination", ext),
            ("call_start", self.line.call_start.as_str()),
            ("pbx_call_id", i.id.as_str()),
            ("internal", ext),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        self.post(&answered).await?;
        let u: f64 = self.rng.r#gen();
        let talk = -(1.0 - u).ln() * model.talk_secs;
        self.sleep(std::time::Duration::from_secs_f64(talk.min(3600.0)))
            .await;
        let pbx_secs = (talk / model.time_scale).round() as u64;
        let mut end = self.fields("NOTIFY_END");
        end.extend(ringing);
        self.end_with(end, "answered", pbx_secs.max(1), None)
            .await?;
        Ok(Some(Outcome::Talked))
    }

    /// The form that answers a `wait_dtmf` after its clip played; `None` when the caller hung up.
    async fn keys(
        &mut self,
        wait: &Value,
        plays: std::time::Duration,
    ) -> anyhow::Result<Option<Form>> {
        let name = wait["name"].as_str().unwrap_or("").to_owned();
        let timeout = wait["timeout"].as_f64().unwrap_or(5.0);
        let model = self.line.model;
        let hold = name.starts_with("qm.") || name.starts_with("qh.");
        let plan = &self.line.plan;
        let digits = if hold {
            if !self.path.in_queue {
                self.line.queued(!self.path.queued);
                self.path.queued = true;
                self.path.in_queue = true;
            }
            if self.rng.gen_bool(model.hangup_prob) {
                let after = self.rng.gen_range(0.0..timeout.max(0.5));
                self.sleep(plays + plan.scaled(after)).await;
                self.end("cancel", 10, None).await?;
                return Ok(None);
            }
            if name.starts_with("qm.") && self.rng.gen_bool(model.press1_prob) {
                self.line.pressed_1();
                "1".to_owned()
            } else {
                String::new()
            }
        } else if name.starts_with("vn") {
            match self.rng.gen_bool(0.7) {
                true => format!("8916{:07}", self.rng.gen_range(0..10_000_000)),
                false => String::new(),
            }
        } else if name.starts_with("vc") {
            ["1", "2"][self.rng.gen_range(0..2)].to_owned()
        } else {
            String::new()
        };
        let wait_for = match digits.is_empty() {
            true => timeout,
            false => self.rng.gen_range(0.5..2.0),
        };
        self.sleep(plays + plan.scaled(wait_for)).await;
        let default = if digits.is_empty() { "1" } else { "0" };
        let mut form = self.fields("NOTIFY_IVR");
        form.extend([
            ("wait_dtmf[name]".to_string(), name),
            ("wait_dtmf[digits]".to_string(), digits),
            (
                "wait_dtmf[default_behaviour]".to_string(),
                default.to_string(),
            ),
        ]);
        Ok(Some(form))
    }

    /// The recording scenario: a short message, the end of the call, the recording.
    async fn record(&mut self) -> anyhow::Result<Outcome> {
        let secs = self.rng.gen_range(3.0..10.0);
        self.sleep(self.line.plan.scaled(secs)).await;
        let rec = format!(
            "{}.{}",
            1_700_000_000 + self.index,
            self.rng.gen_range(100_000..1_000_000)
        );
        self.end("answered", secs.round() as u64, Some(&rec))
            .await?;
        let i = &self.ident;
        let record: Form = [
            ("event", "NOTIFY_RECORD"),
            ("pbx_call_id", i.id.as_str()),
            ("call_id_with_rec", rec.as_str()),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        self.post(&record).await?;
        self.line.recorded();
        Ok(if self.path.off_hours {
            Outcome::OffHours
        } else {
            Outcome::Voicemail
        })
    }

    async fn end(&self, disposition: &str, secs: u64, rec: Option<&str>) -> anyhow::Result<()> {
        self.end_with(self.fields("NOTIFY_END"), disposition, secs, rec)
            .await
    }

    async fn end_with(
        &self,
        mut form: Form,
        disposition: &str,
        secs: u64,
        rec: Option<&str>,
    ) -> anyhow::Result<()> {
        let mut extra = vec![
            ("duration", secs.to_string()),
            ("disposition", disposition.to_owned()),
            ("status_code", "16".to_owned()),
        ];
        match rec {
            Some(r) => extra.extend([("is_recorded", "1".into()), ("call_id_with_rec", r.into())]),
            None => extra.push(("is_recorded", "0".into())),
        }
        form.extend(extra.into_iter().map(|(k, v)| (k.to_string(), v)));
        self.post(&form).await.map(|_| ())
    }
}

/// Ends a call cut off by the time limit: the server must not think it is still live.
pub async fn cut_off(line: &Line, index: usize, ident: &Ident) {
    let form: Form = [
        ("event", "NOTIFY_END"),
        ("call_start", line.call_start.as_str()),
        ("pbx_call_id", ident.id.as_str()),
        ("caller_id", ident.caller.as_str()),
        ("called_did", DID),
        ("duration", "0"),
        ("disposition", "cancel"),
        ("is_recorded", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let _ = line.pbx.post(index, &form).await;
}
