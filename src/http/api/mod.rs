//! The REST API under `/api/v1`: JSON in and out, bearer-token authentication where a person's data
//! is involved. One file per resource.

use axum::Router;
use axum::routing::{get, post};

use super::AppState;

pub mod calendar;
pub mod callback_actions;
pub mod callback_supervise;
pub mod callbacks;
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
        .route("/callbacks", get(callbacks::list))
        .route("/callbacks/topics", get(callbacks::topics))
        .route("/callbacks/schedule", get(callbacks::schedule))
        .route("/callbacks/claim", post(callbacks::claim))
        .route("/callbacks/{id}", get(callbacks::get))
        .route("/callbacks/{id}/dial", post(callback_actions::dial))
        .route("/callbacks/{id}/outcome", post(callback_actions::outcome))
        .route("/callbacks/{id}/release", post(callback_actions::release))
        .merge(callback_supervise::routes())
}
