//! `GET /api/v1/calls?limit=N`: recent calls, newest first, each with its state and events
//! (supervisors and administrators; the numbers are personal data).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde::{Deserialize, Serialize};

use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::store::{Call, CallEvent};

#[derive(Deserialize)]
pub struct CallsQuery {
    limit: Option<i64>,
}

/// A call with its events.
#[derive(Serialize)]
pub struct CallJson {
    #[serde(flatten)]
    call: Call,
    events: Vec<CallEvent>,
}

/// `GET /api/v1/calls`.
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<CallsQuery>, QueryRejection>,
) -> Result<Json<Vec<CallJson>>, AppError> {
    user.require_supervisor()?;
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::BadRequest(
            "`limit` must be between 1 and 500".into(),
        ));
    }
    let mut out = Vec::new();
    for call in state.store.recent_calls(limit).await? {
        let events = state.store.call_events(call.id).await?;
        out.push(CallJson { call, events });
    }
    Ok(Json(out))
}
