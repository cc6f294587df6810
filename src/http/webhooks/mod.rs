//! Provider webhooks, one file per provider. Each handler verifies the request against the
//! configured public URL (never the `Host` header), parses it into the neutral [`CallEvent`], hands
//! it to the switchboard and renders the reply in the provider's language.
//!
//! [`CallEvent`]: crate::telephony::CallEvent

use axum::Router;

use super::AppState;

pub mod twilio;

/// Routes under `/webhooks`.
pub fn router() -> Router<AppState> {
    Router::new().route(
        "/webhooks/twilio/{*rest}",
        axum::routing::post(twilio::webhook),
    )
}
