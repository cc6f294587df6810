//! The HTTP layer: one axum `Router` built from per-area routers (health, REST API, webhooks, the
//! public schedule; UI comes with a later issue), wrapped in the same middleware everywhere: a
//! request id (taken from `X-Request-Id` or made up, and echoed back), a tracing span per request
//! carrying it, a body-size limit (413 beyond it), JSON errors for unknown routes, and a count of
//! every request for `/metrics` (served here unless `metrics_listen` gives it its own address).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderName;
use axum::routing::get;
use tokio::net::TcpListener;
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::calendar::Calendar;
use crate::clock::Clock;
use crate::config::Config;
use crate::store::Store;
use crate::switchboard::Switchboard;

pub mod api;
pub mod audio;
pub mod auth;
pub mod error;
pub mod harden;
pub mod health;
pub mod metrics;
pub mod pages;
pub mod rate_limit;
pub mod schedule;
pub mod session;
pub mod webhooks;

pub use error::AppError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub calendar: Arc<Calendar>,
    pub clock: Arc<dyn Clock>,
    pub switchboard: Arc<Switchboard>,
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole application's router with its middleware.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let trace = TraceLayer::new_for_http().make_span_with(|req: &Request| {
        let id = req
            .extensions()
            .get::<RequestId>()
            .and_then(|id| id.header_value().to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
    })
    .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(LatencyUnit::Micros));
    metrics::handle();
    let api_limiter = Arc::new(rate_limit::ApiLimiter::new(&state.config.web.api));
    let app = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/audio/prompts/{*path}", get(audio::prompt))
        .merge(
            Router::new()
                .nest(
                    "/api/v1",
                    api::router().layer(axum::middleware::from_fn_with_state(
                        (state.clone(), api_limiter),
                        rate_limit::limit,
                    )),
                )
                .merge(pages::router())
                .layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    session::resolve,
                )),
        )
        .merge(webhooks::router())
        .merge(schedule::router())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signal_changes,
        ));
    let app = match state.config.metrics_listen {
        None => app.merge(metrics::router()),
        Some(_) => app,
    };
    app.fallback(|| async { AppError::NotFound("no such route".into()) })
        .layer(axum::middleware::from_fn_with_state(
            harden::Limits::default(),
            harden::limit,
        ))
        .layer(axum::middleware::from_fn(harden::headers))
        .layer(axum::middleware::from_fn(metrics::count_requests))
        .layer(DefaultBodyLimit::max(limit))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(trace)
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(RequestBodyLimitLayer::new(limit)),
        )
        .with_state(state)
}

/// Middleware: a request that may have changed something (not GET, HEAD or OPTIONS) and
/// succeeded signals the live pages, here and on other instances ([`crate::wake`]).
async fn signal_changes(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let changes = !req.method().is_safe();
    let res = next.run(req).await;
    if changes && (res.status().is_success() || res.status().is_redirection()) {
        state.switchboard.wake().signal(crate::wake::Topic::Live);
    }
    res
}

/// Serves `state` on `listener` until `shutdown` completes, then lets requests in flight finish
/// (for at most 30 s).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = router(state);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let app = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    let server = tokio::spawn(async move { server.await });
    let _ = rx.await;
    match tokio::time::timeout(Duration::from_secs(30), server).await {
        Ok(joined) => joined.map_err(std::io::Error::other)?,
        Err(_) => {
            tracing::warn!("requests still running 30 s after shutdown began; stopping anyway");
            Ok(())
        }
    }
}

/// Completes on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed here, before the caller
/// starts serving, so a signal that arrives at once is never met by the default action (death with
/// no clean shutdown) while a lazily polled future has not yet registered them.
#[cfg(unix)]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let listen = |kind: SignalKind, name: &'static str| match signal(kind) {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::error!(error = %e, signal = name, "cannot listen for the signal");
            None
        }
    };
    let term = listen(SignalKind::terminate(), "SIGTERM");
    let int = listen(SignalKind::interrupt(), "SIGINT");
    async move {
        let wait = |s: Option<tokio::signal::unix::Signal>| async move {
            match s {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = wait(term) => {}
            _ = wait(int) => {}
        }
        tracing::info!("shutdown signal received; finishing requests in flight");
    }
}

/// Completes on Ctrl-C.
#[cfg(not(unix))]
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received; finishing requests in flight");
    }
}
