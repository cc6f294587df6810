//! The REST API under `/api/v1`: JSON in and out, bearer-token authentication where a person's data
//! is involved. One file per resource.

use axum::Router;
use axum::routing::get;

use super::AppState;

pub mod calendar;
pub mod calls;
pub mod me;
pub mod operators;
pub mod voicemails;

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar/next-window", get(calendar::next_window))
        .route("/calendar/days", get(calendar::days))
        .route("/me", get(me::me))
        .route("/operators", get(operators::list))
        .route(
            "/operators/{login}/presence",
            axum::routing::put(operators::set_presence),
        )
        .route("/calls", get(calls::list))
        .route("/voicemails", get(voicemails::list))
        .route("/voicemails/{id}/audio", get(voicemails::audio))
}
