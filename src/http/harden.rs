//! Hardening of every request and response. Each response gets `X-Content-Type-Options: nosniff`
//! and `Referrer-Policy: same-origin`; an HTML page without its own policy (the public schedule
//! sets one that allows its embedding) gets a Content Security Policy allowing only Perezvon's own
//! scripts, styles, media and event streams, and is never framed (`frame-ancestors 'none'`,
//! `X-Frame-Options: DENY`). Requests are bounded: at most [`MAX_IN_FLIGHT`] at once (more get
//! 503 with `Retry-After`, at once, rather than queueing without end), and each must produce its
//! response head within [`REQUEST_TIMEOUT`] (else 503). Event streams (`…/events`) stay open for
//! as long as the page does, so they are exempt from both.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

/// Requests handled at once; the rest are refused with 503.
pub const MAX_IN_FLIGHT: usize = 2048;
/// The longest a request may take to produce its response head.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The workspace pages' policy: nothing but Perezvon's own resources.
pub const WORKSPACE_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The shared limit on requests in flight.
#[derive(Clone)]
pub struct Limits {
    slots: Arc<Semaphore>,
    timeout: Duration,
}

impl Limits {
    pub fn new(max_in_flight: usize, timeout: Duration) -> Limits {
        Limits {
            slots: Arc::new(Semaphore::new(max_in_flight)),
            timeout,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::new(MAX_IN_FLIGHT, REQUEST_TIMEOUT)
    }
}

fn long_lived(req: &Request) -> bool {
    req.uri().path().ends_with("/events")
}

/// Middleware: the concurrency limit and the request timeout.
pub async fn limit(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    if long_lived(&req) {
        return next.run(req).await;
    }
    let Ok(_slot) = limits.slots.clone().try_acquire_owned() else {
        tracing::warn!(
            path = req.uri().path(),
            "too many requests in flight: refused"
        );
        return busy("слишком много запросов; повторите позже");
    };
    match tokio::time::timeout(limits.timeout, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::error!(
                timeout_secs = limits.timeout.as_secs(),
                "a request took too long: answered 503"
            );
            busy("запрос выполнялся слишком долго; повторите позже")
        }
    }
}

fn busy(message: &str) -> Response {
    let mut res = (
        StatusCode::SERVICE_UNAVAILABLE,
        axum::Json(serde_json::json!({ "error": message })),
    )
        .into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    res
}

/// Middleware: the security headers.
pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("same-origin"));
    let html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if html && !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(WORKSPACE_CSP),
        );
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    res
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use axum::Router;
    use axum::body::Body;
    use axum::http::{Request, StatusCode, header};
    use axum::routing::get;
    use tokio::sync::Notify;
    use tower::ServiceExt;

    use super::{Limits, WORKSPACE_CSP, headers, limit};

    fn app(limits: Limits, gate: Arc<Notify>) -> Router {
        let g = gate.clone();
        Router::new()
            .route(
                "/slow",
                get(move || {
                    let g = g.clone();
                    async move {
                        g.notified().await;
                        "done"
                    }
                }),
            )
            .route(
                "/sleep",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    "slept"
                }),
            )
            .route(
                "/board/events",
                get(|| async {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    "stream"
                }),
            )
            .route(
                "/page",
                get(|| async { axum::response::Html("<p>страница</p>") }),
            )
            .layer(axum::middleware::from_fn_with_state(limits, limit))
            .layer(axum::middleware::from_fn(headers))
    }

    fn req(path: &str) -> Request<Body> {
        Request::get(path).body(Body::empty()).unwrap()
    }

    #[tokio::test]
    async fn over_the_limit_is_refused_at_once_and_slots_come_back() {
        let gate = Arc::new(Notify::new());
        let app = app(Limits::new(1, Duration::from_secs(5)), gate.clone());
        let first = tokio::spawn(app.clone().oneshot(req("/slow")));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let refused = app.clone().oneshot(req("/page")).await.unwrap();
        assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        gate.notify_one();
        assert_eq!(first.await.unwrap().unwrap().status(), StatusCode::OK);
        let again = app.oneshot(req("/page")).await.unwrap();
        assert_eq!(again.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn slow_requests_time_out_but_event_streams_do_not() {
        let app = app(
            Limits::new(8, Duration::from_millis(50)),
            Arc::new(Notify::new()),
        );
        let slow = app.clone().oneshot(req("/sleep")).await.unwrap();
        assert_eq!(slow.status(), StatusCode::SERVICE_UNAVAILABLE);
        let stream = app.oneshot(req("/board/events")).await.unwrap();
        assert_eq!(stream.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn pages_get_the_policy_and_everything_nosniff() {
        let app = app(Limits::default(), Arc::new(Notify::new()));
        let page = app.clone().oneshot(req("/page")).await.unwrap();
        let h = page.headers();
        assert_eq!(h[header::CONTENT_SECURITY_POLICY], WORKSPACE_CSP);
        assert_eq!(h[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(h[header::REFERRER_POLICY], "same-origin");
        let text = app.oneshot(req("/sleep")).await.unwrap();
        let h = text.headers();
        assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(!h.contains_key(header::CONTENT_SECURITY_POLICY));
    }
}
