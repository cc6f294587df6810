//! Prometheus metrics at `GET /metrics`, in the text exposition format (version 0.0.4): recorded
//! with the `metrics` crate's macros and rendered by `metrics-exporter-prometheus`, never written
//! by hand. The recorder is the process's global one, installed on first use ([`handle`]) and
//! shared by every service built in the process (the tests build several); the exporter's own
//! HTTP listener is not used. `/metrics` is an ordinary route: on the main listener, or, with
//! `metrics_listen` set, only on a second small server ([`serve`]) so that it can stay off the
//! public address. It needs no sign-in, so nothing in it may identify anyone: labels are route
//! templates (never raw paths, which carry ids), status classes, states and job kinds, and values
//! are counts and durations, never phone numbers.
//!
//! Recorded as requests come: `perezvon_http_requests_total{route,status}` for every route
//! ([`count_requests`]) and `perezvon_webhook_duration_seconds{route,status}` for provider
//! webhooks ([`record_webhook`], from the webhooks router's middleware). Read at scrape time: the
//! gauges of [`gauges`] (queue, operators, jobs, callback list) and the reconciler's repairs.
//! Recorded by the jobs: `perezvon_recordings_store_errors_total{reason}` (a recording that could
//! not be written, `disk_full` above all).

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics::Unit;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

use super::{AppError, AppState};

mod gauges;

/// Webhook latency histogram, by route template and status class.
pub const WEBHOOK_DURATION: &str = "perezvon_webhook_duration_seconds";
/// Requests answered, by route template and status class.
pub const HTTP_REQUESTS: &str = "perezvon_http_requests_total";
/// The route label of a request that matched no route.
pub const UNMATCHED: &str = "unmatched";
/// What `/metrics` answers with: the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Webhook latency buckets (seconds): a webhook should answer in milliseconds.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The handle that renders the process's metrics. The first call builds the Prometheus recorder
/// and installs it as the global `metrics` recorder (once per process; later calls, from other
/// services in the same process, share it).
pub fn handle() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(WEBHOOK_DURATION.into()), BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        metrics::describe_histogram!(
            WEBHOOK_DURATION,
            Unit::Seconds,
            "Time to answer a provider webhook, by route template and status class."
        );
        metrics::describe_counter!(
            HTTP_REQUESTS,
            "HTTP requests answered, by route template and status class."
        );
        metrics::describe_counter!(
            crate::http::rate_limit::RATE_LIMITED,
            "REST API requests refused with 429 by a rate limit, by scope (client or address)."
        );
        gauges::describe();
        metrics::describe_counter!(
            crate::jobs::download::STORE_ERRORS,
            "Recordings that could not be written to disk, by reason (disk_full, io); each is retried."
        );
        // Present at 0 from the start, so that an alert on its increase has a series to watch.
        metrics::counter!(crate::jobs::download::STORE_ERRORS, "reason" => crate::jobs::download::DISK_FULL)
            .increment(0);
        handle
    })
}

/// The router with `GET /metrics` alone.
pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

/// `GET /metrics`: refreshes the store's gauges and renders everything recorded.
pub async fn scrape(State(state): State<AppState>) -> Result<Response, AppError> {
    let body = gauges::refresh_and_render(&state).await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body).into_response())
}

/// Serves only `/metrics` (anything else is 404) on `listener`, the `metrics_listen` address,
/// until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    handle();
    let app = router()
        .fallback(|| async { AppError::NotFound("no such route".into()) })
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Moves recorded webhook latencies into their buckets every few seconds until `shutdown`, so
/// that samples do not pile up in memory between scrapes (a scrape does the same).
pub async fn upkeep(shutdown: impl Future<Output = ()>) {
    let mut tick = tokio::time::interval(Duration::from_secs(5));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tick.tick() => handle().run_upkeep(),
        }
    }
}

/// `2xx`, `4xx`, …: the status label (a class keeps the number of series small).
pub fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// The route label of a request: the template of the route it matched (a provider webhook's
/// own endpoint, e.g. `/webhooks/twilio/voice`, rather than the wildcard route serving them
/// all), or [`UNMATCHED`]. Never the raw path.
pub fn route_label(req: &Request) -> String {
    match req.extensions().get::<MatchedPath>() {
        Some(m) => super::webhooks::endpoint_template(m.as_str(), req.uri())
            .unwrap_or(m.as_str())
            .to_owned(),
        None => UNMATCHED.to_owned(),
    }
}

/// Middleware counting every request in [`HTTP_REQUESTS`].
pub async fn count_requests(req: Request, next: Next) -> Response {
    let route = route_label(&req);
    let res = next.run(req).await;
    metrics::counter!(HTTP_REQUESTS, "route" => route, "status" => status_class(res.status()))
        .increment(1);
    res
}

/// Records one webhook's answer time in [`WEBHOOK_DURATION`].
pub fn record_webhook(route: String, status: StatusCode, took: Duration) {
    metrics::histogram!(WEBHOOK_DURATION, "route" => route, "status" => status_class(status))
        .record(took.as_secs_f64());
}
