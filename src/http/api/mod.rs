//! The REST API under `/api/v1`: JSON in and out, bearer-token authentication where a person's data
//! is involved. One file per resource.

use axum::Router;
use axum::routing::{get, post, put};

use super::AppState;

pub mod audit;
pub mod blocklist;
pub mod calendar;
pub mod calendar_status;
pub mod callback_actions;
pub mod callback_supervise;
pub mod callbacks;
pub mod calls;
pub mod contacts;
pub mod follow_up;
pub mod mail_reply;
pub mod me;
pub mod operator_admin;
pub mod operators;
pub mod stats;
pub mod users;
pub mod voicemails;

/// Routes under `/api/v1`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar/next-window", get(calendar::next_window))
        .route("/calendar/days", get(calendar::days))
        .route("/calendar/follow-up-slots", get(follow_up::slots))
        .route("/me", get(me::me))
        .route("/calendar/status", get(calendar_status::status))
        .route(
            "/operators",
            get(operators::list).post(operator_admin::create),
        )
        .route("/operators/{login}", put(operator_admin::update))
        .route("/operators/{login}/presence", put(operators::set_presence))
        .route("/users", get(users::list).post(users::create))
        .route("/users/{login}", put(users::update))
        .route("/users/{login}/password", post(users::password))
        .route("/audit", get(audit::list))
        .route("/calls", get(calls::list))
        .route("/voicemails", get(voicemails::list))
        .route("/voicemails/{id}/audio", get(voicemails::audio))
        .route("/callbacks", get(callbacks::list))
        .route("/callbacks/topics", get(callbacks::topics))
        .route("/callbacks/search", get(callbacks::search))
        .route("/callbacks/schedule", get(callbacks::schedule))
        .route("/callbacks/claim", post(callbacks::claim))
        .route("/callbacks/{id}", get(callbacks::get))
        .route("/callbacks/{id}/contacts", get(contacts::contacts))
        .route("/callbacks/{id}/dial", post(callback_actions::dial))
        .route("/callbacks/{id}/outcome", post(callback_actions::outcome))
        .route("/callbacks/{id}/release", post(callback_actions::release))
        .route("/callbacks/{id}/reply", post(mail_reply::reply))
        .route("/callbacks/{id}/letters", get(mail_reply::letters))
        .route("/stats/summary", get(stats::summary))
        .route("/stats/hourly", get(stats::hourly))
        .route("/stats/daily", get(stats::daily))
        .route("/stats/operators", get(stats::operators))
        .route("/stats/abandoned", get(stats::abandoned))
        .route("/stats/forecast", get(stats::forecast))
        .route("/stats/live", get(stats::live))
        .route("/stats/callbacks", get(stats::callbacks))
        .merge(callback_supervise::routes())
        .merge(blocklist::routes())
}
