//! The gauges `/metrics` reads from the store at every scrape (one aggregate query each, see
//! [`crate::store::metrics`]), and the reconciler's repair counts. The values are set on the
//! process's global recorder and rendered at once, under one lock: when several services share a
//! process (tests), each scrape shows its own service's values, not another's set in between.
//!
//! Every labelled series is always emitted, zero included: all five presences, the three
//! callback states, and each job kind the code knows (or the store ever reported) in each of
//! `queued`, `running`, `failed`, so that a state that empties drops to 0 instead of keeping its
//! last value.

use std::collections::BTreeSet;

use metrics::{counter, gauge};

use super::handle;
use crate::domain::call::CallState;
use crate::domain::operator::Presence;
use crate::http::AppState;
use crate::store::metrics::{CALLBACK_STATES, JOB_STATES};
use crate::store::{Repairs, StoreError};

pub const QUEUE_LENGTH: &str = "perezvon_queue_length";
pub const CALLERS_WAITING: &str = "perezvon_callers_waiting";
pub const OPERATORS: &str = "perezvon_operators";
pub const JOBS: &str = "perezvon_jobs";
pub const CALLBACKS: &str = "perezvon_callbacks";
pub const OLDEST_DUE: &str = "perezvon_callback_oldest_due_working_minutes";
pub const REPAIRS: &str = "perezvon_reconciler_repairs_total";

/// Job kinds reported even before a job of the kind exists.
const KNOWN_KINDS: [&str; 4] = [
    crate::jobs::DOWNLOAD_RECORDING,
    crate::jobs::retention::RETENTION,
    crate::jobs::privacy::PRIVACY,
    crate::jobs::sms::SEND_SMS,
];

/// Held while a scrape sets and renders; the `(kind, state)` pairs of [`JOBS`] emitted so far.
static SCRAPE: tokio::sync::Mutex<BTreeSet<(String, &'static str)>> =
    tokio::sync::Mutex::const_new(BTreeSet::new());

/// Adds the gauges' help texts to the recorder.
pub(super) fn describe() {
    metrics::describe_gauge!(
        QUEUE_LENGTH,
        "Calls waiting in the hold queue (state queued)."
    );
    metrics::describe_gauge!(
        CALLERS_WAITING,
        "Callers on the line waiting for an operator (incoming, queued, connecting, ringing_operator)."
    );
    metrics::describe_gauge!(OPERATORS, "Operators by presence.");
    metrics::describe_gauge!(JOBS, "Jobs queued, running or failed, by kind.");
    metrics::describe_gauge!(CALLBACKS, "Callback requests by state.");
    metrics::describe_gauge!(
        OLDEST_DUE,
        "Working minutes (hotline calendar) since the oldest open callback request fell due; 0 when none is due."
    );
    metrics::describe_counter!(
        REPAIRS,
        "What this instance's reconciler has repaired since start, by kind of repair."
    );
}

/// Sets every gauge from the store and the switchboard, then renders the whole exposition.
pub(super) async fn refresh_and_render(state: &AppState) -> Result<String, StoreError> {
    let mut job_series = SCRAPE.lock().await;
    let store = &state.store;
    let now = state.clock.now();

    let waiting = store.waiting_calls().await?;
    let queued: i64 = waiting
        .iter()
        .filter(|(s, _)| *s == CallState::Queued)
        .map(|(_, n)| n)
        .sum();
    gauge!(QUEUE_LENGTH).set(queued as f64);
    gauge!(CALLERS_WAITING).set(waiting.iter().map(|(_, n)| n).sum::<i64>() as f64);

    let operators = store.operators_by_presence().await?;
    for p in Presence::ALL {
        let n: i64 = operators
            .iter()
            .filter(|(q, _)| q == p)
            .map(|(_, n)| n)
            .sum();
        gauge!(OPERATORS, "state" => p.as_str()).set(n as f64);
    }

    let jobs = store.jobs_by_kind().await?;
    for kind in KNOWN_KINDS {
        for s in JOB_STATES {
            job_series.insert((kind.to_owned(), s.as_str()));
        }
    }
    for j in &jobs {
        job_series.insert((j.kind.clone(), j.state.as_str()));
    }
    for (kind, s) in job_series.iter() {
        let n: i64 = jobs
            .iter()
            .filter(|j| j.kind == *kind && j.state.as_str() == *s)
            .map(|j| j.count)
            .sum();
        gauge!(JOBS, "kind" => kind.clone(), "state" => *s).set(n as f64);
    }

    let callbacks = store.callbacks_by_state().await?;
    for s in CALLBACK_STATES {
        let n: i64 = callbacks
            .iter()
            .filter(|(q, _)| q == s)
            .map(|(_, n)| n)
            .sum();
        gauge!(CALLBACKS, "state" => s).set(n as f64);
    }

    let minutes = match store.oldest_due_callback(now).await? {
        Some(due) => state.calendar.working_between(due, now).num_milliseconds() as f64 / 60_000.0,
        None => 0.0,
    };
    gauge!(OLDEST_DUE).set(minutes);

    // Destructured in full so that a new kind of repair cannot be left out. A counter set to an
    // absolute value keeps the largest it was given: with one service per process, this one's.
    let Repairs {
        orphaned_operators,
        stuck_connecting,
        stale_queued,
        unlisted_voicemails,
        expired_claims,
        lost_endings,
    } = state.switchboard.repairs();
    for (kind, n) in [
        ("orphaned_operators", orphaned_operators),
        ("stuck_connecting", stuck_connecting),
        ("stale_queued", stale_queued),
        ("unlisted_voicemails", unlisted_voicemails),
        ("expired_claims", expired_claims),
        ("lost_endings", lost_endings),
    ] {
        counter!(REPAIRS, "kind" => kind).absolute(n);
    }

    Ok(handle().render())
}
