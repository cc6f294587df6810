//! A supervisor's actions on the callback list (supervisors and administrators; 403 for
//! operators): `POST /api/v1/callbacks` (a request made by hand: `number`, `category`
//! `staff`/`parent`, `source` `walk_in`/`letter`/`phone_note`, `note`, optional `topic`; 201),
//! `POST /api/v1/callbacks/{id}/reassign` (`operator` login and `reason`: the operator holds it
//! under a fresh lease) and `POST /api/v1/callbacks/{id}/close` (`reason`, optional `close_as`:
//! `closed_by_supervisor`, `rejected_insufficient_info` or `rejected_unclear`). Bad input is 400
//! with the reason, an unknown request or operator 404, a change the request's state does not
//! allow 409 (closed, being dialed, the operator already holds a request, the number already has
//! an active request). The rules are in [`crate::callbacks::Callbacks`]; the pages call the same.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;

use crate::callbacks::{ByHandInput, CallbackItem, SuperviseError};
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};

/// The routes, merged into `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/callbacks", post(create))
        .route("/callbacks/{id}/reassign", post(reassign))
        .route("/callbacks/{id}/close", post(close))
}

impl From<SuperviseError> for AppError {
    fn from(e: SuperviseError) -> AppError {
        match e {
            SuperviseError::Invalid(m) => AppError::BadRequest(m),
            SuperviseError::NotFound(m) => AppError::NotFound(m),
            SuperviseError::Conflict(m) => AppError::Conflict(m),
            SuperviseError::Store(e) => e.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    number: String,
    category: String,
    source: String,
    #[serde(alias = "summary")]
    note: String,
    topic: Option<String>,
}

/// `POST /api/v1/callbacks`: 201 with the new request (its place, estimate and reason).
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<Response, AppError> {
    user.require_supervisor()?;
    let Json(b) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let input = ByHandInput {
        number: &b.number,
        category: &b.category,
        source: &b.source,
        summary: &b.note,
        topic: b.topic.as_deref(),
    };
    let item = state
        .switchboard
        .callbacks()
        .create_by_hand(&input, &user.0.login, state.clock.now())
        .await?;
    tracing::info!(request = item.request.id, source = %b.source, "callback request made by hand");
    Ok((StatusCode::CREATED, Json(item)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    operator: String,
    reason: String,
}

/// `POST /api/v1/callbacks/{id}/reassign`: 200 with the request, claimed by the operator.
pub async fn reassign(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    body: Result<Json<ReassignBody>, JsonRejection>,
) -> Result<Json<CallbackItem>, AppError> {
    user.require_supervisor()?;
    let Json(b) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let item = state
        .switchboard
        .callbacks()
        .reassign(id, &b.operator, &b.reason, &user.0.login, state.clock.now())
        .await?;
    tracing::info!(request = id, "callback request reassigned");
    Ok(Json(item))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    reason: String,
    close_as: Option<String>,
}

/// `POST /api/v1/callbacks/{id}/close`: 200 with the closed request.
pub async fn close(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    body: Result<Json<CloseBody>, JsonRejection>,
) -> Result<Json<CallbackItem>, AppError> {
    user.require_supervisor()?;
    let Json(b) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let item = state
        .switchboard
        .callbacks()
        .close(
            id,
            b.close_as.as_deref(),
            &b.reason,
            &user.0.login,
            state.clock.now(),
        )
        .await?;
    super::mail_reply::letter_on_rejection(&state, &item.request, &user.0.login).await;
    tracing::info!(request = id, "callback request closed by a supervisor");
    Ok(Json(item))
}
