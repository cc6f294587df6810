//! Liveness and readiness. `/healthz` answers while the process runs; `/readyz` answers 200 only
//! when the database is reachable and fully migrated, and always reports the calendar's data
//! status (years with official data, years running on the plain-rules fallback, warnings) and what
//! this instance's reconciler has repaired since start (`repairs`).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;
use crate::calendar::MOSCOW;

/// `GET /healthz`.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let now = state.clock.now();
    let today = now.with_timezone(&MOSCOW).date_naive();
    let calendar = state.calendar.status(today);
    let (ready, database) = match state.store.health().await {
        Ok(h) => (
            h.migrations_current,
            json!({ "reachable": true, "health": h }),
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database check failed");
            (
                false,
                json!({ "reachable": false, "backend": state.store.backend() }),
            )
        }
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "database": database,
        "calendar": calendar,
        "repairs": state.switchboard.repairs(),
    });
    (status, Json(body))
}
