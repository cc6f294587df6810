//! The simulated PBX's side of the wire: every `NOTIFY_*` is a form post to
//! `/webhooks/zadarma` carrying the `Signature` Zadarma computes (base64 of the hex HMAC-SHA1 of
//! the event's own fields, keyed by the API secret: [`signature::sign`]), sent, timed and
//! recorded. A reply that is not 200 with a JSON body, or no reply within 15 s, is an error and
//! is listed in the report (at most [`KEEP_ERRORS`] in full). Latencies are kept per event name
//! (`NOTIFY_IVR` with keys is `NOTIFY_IVR+dtmf`) for the report's per-webhook table.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::telephony::zadarma::signature;

/// Errors listed in full in the report; the rest are only counted.
const KEEP_ERRORS: usize = 20;

/// A notification's form fields.
pub type Form = Vec<(String, String)>;

/// The simulated PBX's connection to the instance.
pub struct Pbx {
    http: reqwest::Client,
    url: String,
    secret: String,
    pub started: Instant,
    sent: AtomicUsize,
    latencies: Mutex<BTreeMap<String, Vec<Duration>>>,
    /// Every reply's latency, and when it was sent (for the slowest ones).
    all: Mutex<Vec<(String, Duration, Duration)>>,
    errors: Mutex<(usize, Vec<String>)>,
}

impl Pbx {
    /// Posts to `{target}/webhooks/zadarma`, signing with `secret`.
    pub fn new(http: reqwest::Client, target: &str, secret: &str) -> Pbx {
        Pbx {
            http,
            url: format!("{}/webhooks/zadarma", target.trim_end_matches('/')),
            secret: secret.to_owned(),
            started: Instant::now(),
            sent: AtomicUsize::new(0),
            latencies: Mutex::new(BTreeMap::new()),
            all: Mutex::new(Vec::new()),
            errors: Mutex::new((0, Vec::new())),
        }
    }

    /// Sends one signed notification; returns its JSON answer.
    pub async fn post(&self, call: usize, form: &Form) -> anyhow::Result<Value> {
        let event = form
            .iter()
            .find(|(k, _)| k == "event")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let route = match form.iter().any(|(k, _)| k == "wait_dtmf[name]") {
            true => format!("{event}+dtmf"),
            false => event.clone(),
        };
        match self.send(form).await {
            Ok((v, took, at)) => {
                self.record(route, took, at);
                Ok(v)
            }
            Err(e) => {
                let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
                errors.0 += 1;
                if errors.1.len() < KEEP_ERRORS {
                    errors.1.push(format!("call {call}: {route}: {e:#}"));
                }
                Err(e.context(route))
            }
        }
    }

    async fn send(&self, form: &Form) -> anyhow::Result<(Value, Duration, Duration)> {
        let s = signature::signature_string(form).context("a notification of a known event")?;
        let sig = signature::sign(&self.secret, &s);
        self.sent.fetch_add(1, Ordering::Relaxed);
        let at = self.started.elapsed();
        let t = Instant::now();
        let r = self
            .http
            .post(&self.url)
            .header("Signature", sig)
            .form(form)
            .send()
            .await?;
        let status = r.status();
        let body = r.text().await?;
        let took = t.elapsed();
        if status != reqwest::StatusCode::OK {
            let shown: String = body.chars().take(200).collect();
            bail!("HTTP {status}: {shown}");
        }
        let v = serde_json::from_str(&body).context("the answer is not JSON")?;
        Ok((v, took, at))
    }

    fn record(&self, route: String, took: Duration, at: Duration) {
        let mut l = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
        l.entry(route.clone()).or_default().push(took);
        let mut all = self.all.lock().unwrap_or_else(|p| p.into_inner());
        all.push((route, took, at));
    }

    /// Notifications sent so far.
    pub fn count(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    /// The error count and the first errors.
    pub fn errors(&self) -> (usize, Vec<String>) {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Reply latencies by route.
    pub fn by_route(&self) -> BTreeMap<String, Vec<Duration>> {
        self.latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The `n` slowest replies: route, milliseconds, seconds into the run.
    pub fn slowest(&self, n: usize) -> Vec<(String, f64, f64)> {
        let mut all = self.all.lock().unwrap_or_else(|p| p.into_inner()).clone();
        all.sort_by_key(|(_, took, _)| std::cmp::Reverse(*took));
        all.into_iter()
            .take(n)
            .map(|(r, took, at)| (r, took.as_secs_f64() * 1000.0, at.as_secs_f64()))
            .collect()
    }
}
