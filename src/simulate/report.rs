//! What a simulation found, as data ([`Report`], printed as JSON with `--json`) and as the text
//! table people read ([`Report::render`]).
//!
//! Call outcomes are as the simulated caller saw them; the server's view is the final state of each
//! simulated call from `GET /api/v1/calls` (every one should be `completed` or `abandoned` once its
//! status callback is in). Latency is per webhook, from sending to having read the reply; the
//! baseline section, when present, has the same figures for the same traffic against a static
//! reply, and the ratios perezvon ÷ baseline.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::peer::Model;
use super::staff::BreakStats;
use super::stats::Latency;

/// The whole result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Whose protocol the calls spoke.
    pub provider: super::Provider,
    /// Where the webhooks went.
    pub target: String,
    pub in_process: bool,
    pub calls: usize,
    pub rate: f64,
    pub operators: usize,
    pub model: Model,
    pub seed: u64,
    pub breaks_enabled: bool,
    /// The in-process instance's (scaled) wrap-up, in seconds.
    pub server_wrap_up_secs: Option<f64>,
    pub calls_started: usize,
    pub calls_finished: usize,
    /// True when the run hit its overall time limit.
    pub timed_out: bool,
    pub outcomes: Outcomes,
    pub queue: QueueFigures,
    pub webhooks: usize,
    pub webhook_errors: usize,
    /// Requests the fake REST API refused for a wrong signature (Zadarma; the run fails).
    pub api_refusals: usize,
    /// Voicemail recordings the fake REST API handed out (Zadarma).
    pub recordings_served: usize,
    /// The first failures, numbers masked.
    pub errors: Vec<String>,
    pub elapsed_secs: f64,
    /// Webhooks per second over the run.
    pub throughput: f64,
    pub latency: Latency,
    pub by_route: BTreeMap<String, Latency>,
    /// The slowest replies: webhook, milliseconds, seconds into the run.
    pub slowest: Vec<(String, f64, f64)>,
    pub server: ServerCalls,
    pub presence: BreakStats,
    pub baseline: Option<Baseline>,
}

/// Calls by how they ended, as the caller saw it.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Outcomes {
    pub talked: usize,
    pub left_queue: usize,
    pub hung_up: usize,
    pub voicemail: usize,
    pub off_hours: usize,
    pub goodbye: usize,
    pub error: usize,
}

/// The hold queue as the simulated Twilio saw it.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct QueueFigures {
    pub queued: usize,
    pub longest: usize,
    pub redirected: usize,
    pub pressed_1: usize,
    /// New calls rung straight to an operator while others were waiting in the queue.
    pub rung_past_queue: usize,
    /// REST redirects that reached a call after it had left the queue (Twilio follows them).
    pub late_redirects: usize,
    /// Redirects the fake REST API refused (the call was over).
    pub refused_redirects: usize,
    /// Calls rung to an operator whose phone was already ringing or talking (the run fails).
    pub double_booked: usize,
}

/// The simulated calls as the server lists them at the end.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ServerCalls {
    /// Simulated calls found in `GET /api/v1/calls?limit=500`.
    pub seen: usize,
    pub states: BTreeMap<String, usize>,
    /// Seen calls not `completed` or `abandoned`.
    pub unfinished: usize,
    /// The seen calls' voicemails by audio status (`stored`, `pending`, `unreadable`, ...).
    pub voicemail_audio: BTreeMap<String, usize>,
    /// The simulated operators' presence once every call is over; `on_call` then means a
    /// reservation the server never released.
    pub operators: BTreeMap<String, usize>,
    /// Why the list could not be read, if it could not.
    pub error: Option<String>,
}

/// The same traffic against a static reply.
#[derive(Debug, Clone, Serialize)]
pub struct Baseline {
    pub webhooks: usize,
    pub errors: usize,
    pub elapsed_secs: f64,
    pub throughput: f64,
    pub latency: Latency,
    /// perezvon ÷ baseline.
    pub ratio: Ratios,
}

/// perezvon's figures divided by the baseline's.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Ratios {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
    pub max: f64,
    pub throughput: f64,
}

impl Report {
    /// The report as text.
    pub fn render(&self) -> String {
        let mut o = String::new();
        let m = &self.model;
        let place = if self.in_process {
            "in-process instance"
        } else {
            "target"
        };
        let _ = writeln!(
            o,
            "perezvon simulate ({:?}) against the {place} {}",
            self.provider, self.target
        );
        let _ = write!(
            o,
            "  {} calls at {}/s (Poisson), {} operators, answer {}, talk {} s, press 1 {}, hang up {} per tick,\n  time scale {}, seed {}, breaks {}",
            self.calls,
            self.rate,
            self.operators,
            m.answer_prob,
            m.talk_secs,
            m.press1_prob,
            m.hangup_prob,
            m.time_scale,
            self.seed,
            if self.breaks_enabled { "on" } else { "off" }
        );
        if let Some(w) = self.server_wrap_up_secs {
            let _ = write!(o, ", server wrap-up {w:.2} s");
        }
        let _ = writeln!(o, "\n");
        let limit = if self.timed_out {
            " (TIME LIMIT HIT)"
        } else {
            ""
        };
        let _ = writeln!(
            o,
            "calls       {} started, {} finished in {:.1} s{limit}",
            self.calls_started, self.calls_finished, self.elapsed_secs
        );
        let c = &self.outcomes;
        let _ = writeln!(
            o,
            "outcomes    talked to an operator {} | left the queue for the goodbye {} | hung up {} | voicemail {} | off-hours goodbye {} | other goodbye {} | error {}",
            c.talked, c.left_queue, c.hung_up, c.voicemail, c.off_hours, c.goodbye, c.error
        );
        let q = &self.queue;
        let _ = writeln!(
            o,
            "queue       {} queued (longest {}), {} redirected to a freed operator, {} pressed 1;\n            {} new calls rung while others waited, {} late redirects, {} redirects refused;\n            {} calls rung to an operator already on a call",
            q.queued,
            q.longest,
            q.redirected,
            q.pressed_1,
            q.rung_past_queue,
            q.late_redirects,
            q.refused_redirects,
            q.double_booked
        );
        let states: Vec<String> = self
            .server
            .states
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let _ = write!(
            o,
            "server      {} simulated calls listed: {}",
            self.server.seen,
            states.join(", ")
        );
        if self.server.unfinished > 0 {
            let _ = write!(o, " — {} NOT FINISHED", self.server.unfinished);
        }
        if let Some(e) = &self.server.error {
            let _ = write!(o, " (cannot list calls: {e})");
        }
        if !self.server.voicemail_audio.is_empty() {
            let audio: Vec<String> = self
                .server
                .voicemail_audio
                .iter()
                .map(|(s, n)| format!("{s} {n}"))
                .collect();
            let _ = write!(o, "\n            voicemail audio: {}", audio.join(", "));
        }
        let p = &self.presence;
        let at_end: Vec<String> = self
            .server
            .operators
            .iter()
            .map(|(s, n)| format!("{s} {n}"))
            .collect();
        let _ = write!(
            o,
            "\noperators   {} breaks, {} returns from break, {} presence changes failed; at the end: {}",
            p.breaks,
            p.returns,
            p.failures,
            at_end.join(", ")
        );
        if let Some(n) = self.server.operators.get("on_call") {
            let _ = write!(o, " — {n} STILL ON A CALL");
        }
        let _ = writeln!(o);
        let _ = writeln!(
            o,
            "webhooks    {} sent, {} errors, {:.1}/s over the run",
            self.webhooks, self.webhook_errors, self.throughput
        );
        let _ = writeln!(
            o,
            "REST API    {} requests refused for their signature, {} recordings served\n",
            self.api_refusals, self.recordings_served
        );
        for e in &self.errors {
            let _ = writeln!(o, "  error: {e}");
        }
        let _ = writeln!(
            o,
            "latency (ms)                        n      p50      p95      p99      max     mean"
        );
        row(&mut o, "perezvon", &self.latency);
        if let Some(b) = &self.baseline {
            row(&mut o, "baseline", &b.latency);
            let r = &b.ratio;
            let _ = writeln!(
                o,
                "{:<28} {:>8} {:>7.1}x {:>7.1}x {:>7.1}x {:>7.1}x",
                "ratio", "", r.p50, r.p95, r.p99, r.max
            );
            let _ = writeln!(
                o,
                "throughput  perezvon {:.1}/s, baseline {:.1}/s ({} webhooks, {} errors), ratio {:.2}",
                self.throughput, b.throughput, b.webhooks, b.errors, r.throughput
            );
        }
        let _ = writeln!(o, "\nby webhook (perezvon)");
        for (route, l) in &self.by_route {
            row(&mut o, &format!("  {route}"), l);
        }
        let slowest: Vec<String> = self
            .slowest
            .iter()
            .map(|(route, ms, at)| format!("{route} {ms:.1} ms at {at:.1} s"))
            .collect();
        let _ = writeln!(o, "slowest: {}", slowest.join(", "));
        o
    }
}

fn row(o: &mut String, name: &str, l: &Latency) {
    let _ = writeln!(
        o,
        "{name:<28} {:>8} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
        l.count, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms, l.mean_ms
    );
}
