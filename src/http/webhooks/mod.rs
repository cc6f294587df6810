//! Provider webhooks, one file per provider. Each handler verifies the request against the
//! configured public URL (never the `Host` header), parses it into the neutral [`CallEvent`], hands
//! it to the switchboard and renders the reply in the provider's language. A middleware times
//! every webhook for `/metrics` (`perezvon_webhook_duration_seconds`), labelled with the
//! provider endpoint's template (e.g. `/webhooks/twilio/voice`) and the status class.
//!
//! [`CallEvent`]: crate::telephony::CallEvent

use std::time::Instant;

use axum::Router;
use axum::extract::Request;
use axum::http::Uri;
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::telephony::twilio::routes::PREFIX as TWILIO_PREFIX;
use crate::telephony::twilio::{route_from_path, route_template};

pub mod twilio;
pub mod zadarma;
mod zadarma_script;

/// Routes under `/webhooks`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/webhooks/twilio/{*rest}",
            axum::routing::post(twilio::webhook),
        )
        .route(
            "/webhooks/zadarma",
            axum::routing::get(zadarma::echo).post(zadarma::webhook),
        )
        .route_layer(axum::middleware::from_fn(timed))
}

/// The template of the provider endpoint a request to a wildcard webhook route (`matched`)
/// addresses, e.g. `/webhooks/twilio/voice` or `/webhooks/twilio/connect` without its
/// `?operator=` id; `None` when it is no known endpoint (or not a webhook).
pub fn endpoint_template(matched: &str, uri: &Uri) -> Option<&'static str> {
    if matched == "/webhooks/zadarma" {
        return Some("/webhooks/zadarma");
    }
    if matched.starts_with(TWILIO_PREFIX) {
        return route_from_path(uri.path(), uri.query()).map(|r| route_template(&r));
    }
    None
}

/// Middleware recording how long each webhook took to answer.
async fn timed(req: Request, next: Next) -> Response {
    let route = super::metrics::route_label(&req);
    let start = Instant::now();
    let res = next.run(req).await;
    super::metrics::record_webhook(route, res.status(), start.elapsed());
    res
}
