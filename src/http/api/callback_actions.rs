//! What an operator does with a request they claimed: `POST /api/v1/callbacks/{id}/dial`
//! (click-to-call through the provider: exactly one call per click, the `Idempotency-Key` header
//! makes a retried click on the same request return the first attempt, and a second click while
//! the first call is still ringing or talking is refused), `POST /api/v1/callbacks/{id}/outcome`
//! (resolved, follow_up at an agreed time, no_answer, busy, wrong_number, or one of the
//! regulation's two rejection grounds; with the topic and a note) and
//! `POST /api/v1/callbacks/{id}/release` (back to the list untouched; a supervisor may release
//! anyone's claim).

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::callbacks::operator_of;
use crate::callbacks::{CallbackItem, OutcomeFailure};
use crate::domain::callback::Outcome;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::store::DialStart;
use crate::telephony::{CallbackDial, DialError, DialTarget};

/// The longest note an operator may leave.
pub const NOTE_MAX_CHARS: usize = 2000;

fn idempotency_key(headers: &HeaderMap) -> Result<String, AppError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(format!("auto:{}", uuid::Uuid::new_v4()));
    };
    let key = v
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 128 && k.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| {
            AppError::BadRequest("`Idempotency-Key` must be 1–128 visible ASCII characters".into())
        })?;
    Ok(format!("key:{key}"))
}

/// `POST /api/v1/callbacks/{id}/dial`: 201 with the new attempt; 200 with the same attempt for a
/// repeated key; 409 when the request is not held by this operator or a call is in progress;
/// 502/503 when the provider refused or could not be reached (the attempt records why).
pub async fn dial(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let key = idempotency_key(&headers)?;
    let op = operator_of(&state, &user).await?;
    let request = state
        .store
        .callback_request(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no callback request {id}")))?;
    let Some(dialer) = state.switchboard.dialer().cloned() else {
        return Err(AppError::Unavailable(
            "click-to-call needs a telephony provider (config section `twilio` or `zadarma`)"
                .into(),
        ));
    };
    let now = state.clock.now();
    let hold = state.switchboard.callbacks().settings().lease;
    let attempt = match state.store.begin_dial(id, op.id, &key, now, hold).await? {
        DialStart::Started(a) => a,
        DialStart::Replay(a) => {
            return Ok((
                StatusCode::OK,
                Json(serde_json::json!({ "attempt": a, "replayed": true })),
            )
                .into_response());
        }
        DialStart::InProgress(a) => {
            let body = serde_json::json!({
                "error": "a call for this request is already in progress",
                "attempt": a,
            });
            return Ok((StatusCode::CONFLICT, Json(body)).into_response());
        }
        DialStart::NotClaimed => {
            return Err(AppError::Conflict(
                "claim the request first (or claim it again: the lease ran out)".into(),
            ));
        }
    };
    let d = CallbackDial {
        attempt_id: attempt.id,
        operator: DialTarget {
            operator_id: op.id,
            kind: op.contact_kind,
            contact: op.contact.clone(),
        },
        caller: request.callback_number.clone(),
    };
    let login = user.0.login.as_str();
    match dialer.dial(&d).await {
        Ok(call) => {
            let a = state
                .store
                .finish_dial(attempt.id, login, Ok(&call), state.clock.now())
                .await?;
            tracing::info!(request = id, attempt = attempt.id, "callback dialed");
            Ok((
                StatusCode::CREATED,
                Json(serde_json::json!({ "attempt": a, "replayed": false })),
            )
                .into_response())
        }
        Err(e) => {
            let message = e.to_string();
            state
                .store
                .finish_dial(attempt.id, login, Err(&message), state.clock.now())
                .await?;
            tracing::warn!(request = id, attempt = attempt.id, error = %message, "callback dial failed");
            let status = match e {
                DialError::Refused(_) => StatusCode::BAD_GATEWAY,
                DialError::Unavailable(_) | DialError::NotConfigured(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
            };
            Ok((status, Json(serde_json::json!({ "error": message }))).into_response())
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    outcome: String,
    topic: Option<String>,
    note: Option<String>,
    follow_up_at: Option<DateTime<Utc>>,
}

/// `POST /api/v1/callbacks/{id}/outcome`: 200 with the request after the outcome.
pub async fn outcome(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    body: Result<Json<OutcomeBody>, JsonRejection>,
) -> Result<Json<CallbackItem>, AppError> {
    let Json(body) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let outcome: Outcome = body
        .outcome
        .parse()
        .map_err(|e: crate::domain::UnknownName| AppError::BadRequest(e.to_string()))?;
    let note = body
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > NOTE_MAX_CHARS) {
        return Err(AppError::BadRequest(format!(
            "`note` is longer than {NOTE_MAX_CHARS} characters"
        )));
    }
    if body.follow_up_at.is_some() && outcome != Outcome::FollowUp {
        return Err(AppError::BadRequest(
            "`follow_up_at` is only for the `follow_up` outcome".into(),
        ));
    }
    let op = operator_of(&state, &user).await?;
    let now = state.clock.now();
    let result = state
        .switchboard
        .callbacks()
        .outcome(
            id,
            op.id,
            &user.0.login,
            outcome,
            body.topic.as_deref(),
            note,
            body.follow_up_at,
            now,
        )
        .await;
    match result {
        Ok(item) => {
            tracing::info!(request = id, outcome = %outcome, "callback outcome recorded");
            super::mail_reply::letter_on_rejection(&state, &item.request, &user.0.login).await;
            Ok(Json(item))
        }
        Err(OutcomeFailure::Invalid(m)) => Err(AppError::BadRequest(m)),
        Err(OutcomeFailure::Rule(e)) => Err(AppError::BadRequest(e.to_string())),
        Err(OutcomeFailure::Store(e)) => Err(e.into()),
    }
}

/// `POST /api/v1/callbacks/{id}/release`: 200 with the request, open again in the list. Only its
/// holder releases a claim, or a supervisor or administrator (anyone's); 409 when the request is
/// not claimed (by the caller), 404 when there is no such request. A supervisor's release is
/// audited (`callback.release`).
pub async fn release(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<CallbackItem>, AppError> {
    let now = state.clock.now();
    let callbacks = state.switchboard.callbacks();
    let item = if user.0.role.is_supervisor() {
        // Anyone's claim, audited (`callback.release`).
        callbacks
            .release_by_supervisor(id, None, &user.0.login, now)
            .await?
    } else {
        let holder = operator_of(&state, &user).await?.id;
        callbacks
            .release(id, Some(holder), &user.0.login, now)
            .await?
    };
    tracing::info!(request = id, "callback claim released");
    Ok(Json(item))
}
