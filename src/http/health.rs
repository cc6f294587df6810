//! Liveness and readiness. `/healthz` answers while the process runs; `/readyz` answers 200 only
//! when the database is reachable and fully migrated (503 within two seconds otherwise, however
//! long the database would keep it waiting), and always reports the calendar's data status (years
//! with official data, years running on the plain-rules fallback, warnings) and what this
//! instance's reconciler has repaired since start (`repairs`).

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::json;

use super::AppState;
use crate::calendar::MOSCOW;
use crate::store::StoreError;

/// The longest `/readyz` waits for the database: a load balancer's probe gets its 503 promptly
/// while the database is unreachable (the pool itself would wait longer for a connection).
const DATABASE_CHECK: Duration = Duration::from_secs(2);

/// `GET /healthz`.
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let now = state.clock.now();
    let today = now.with_timezone(&MOSCOW).date_naive();
    let calendar = state.calendar.status(today);
    let checked = tokio::time::timeout(DATABASE_CHECK, state.store.health()).await;
    let timed_out = Err(StoreError::Database(sqlx::Error::PoolTimedOut));
    let (ready, database) = match checked.unwrap_or(timed_out) {
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
