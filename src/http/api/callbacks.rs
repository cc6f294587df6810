//! The callback list for operators (bearer token): `GET /api/v1/callbacks` (the ordered list, first
//! item first, with estimate and the Russian reason for each place; `?state=closed` for the
//! closed ones, newest first), `GET /api/v1/callbacks/{id}` (one request with its history and
//! attempts), `GET /api/v1/callbacks/topics`, `GET /api/v1/callbacks/schedule` (expected load per
//! coming window), and `POST /api/v1/callbacks/claim` (the top due
//! request, leased to the caller's operator; the one they hold if they hold one, with
//! `already_held: true`; 204 when nothing is due, 409 with the next window outside working hours).
//! Dialing, outcomes and releases are in `callback_actions`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::callbacks::{CallbackItem, Claim};
use crate::domain::callback::Topic;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::store::{Attempt, HistoryEntry, ListScope, Operator};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    q: String,
    state: Option<String>,
    limit: Option<i64>,
}

/// `GET /api/v1/callbacks/search?q=&state=&limit=`: requests found by a registration number
/// (`ШП-2026-000123`, in any state unless `state` is given), digits of the callback number, or
/// words of the summary, note or topic; `state` is `active` (the default for anything but a
/// registration number), `open`, `claimed`, `closed` or `all`; `limit` 1–500 (default 50).
pub async fn search(
    State(state): State<AppState>,
    _user: AuthUser,
    q: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    if q.q.trim().is_empty() {
        return Err(AppError::BadRequest("`q` must not be empty".into()));
    }
    if q.q.chars().count() > 200 {
        return Err(AppError::BadRequest(
            "`q` is longer than 200 characters".into(),
        ));
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::BadRequest(
            "`limit` must be between 1 and 500".into(),
        ));
    }
    let find = crate::callbacks::Find {
        state: q.state.as_deref().unwrap_or(""),
        query: &q.q,
        limit,
    };
    let items = state
        .switchboard
        .callbacks()
        .find(&find, state.clock.now())
        .await?;
    Ok(Json(items).into_response())
}

/// `GET /api/v1/callbacks`: a page of the list; the `X-Total-Count` header has the number of
/// active requests (open and claimed).
pub async fn list(
    State(state): State<AppState>,
    _user: AuthUser,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Response, AppError> {
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let scope = match q.state.as_deref().unwrap_or("active") {
        "active" => ListScope::Active,
        "closed" => ListScope::Closed,
        other => {
            return Err(AppError::BadRequest(format!(
                "`state` must be `active` or `closed`, not `{other}`"
            )));
        }
    };
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(AppError::BadRequest(
            "`limit` must be between 1 and 500".into(),
        ));
    }
    let offset = q.offset.unwrap_or(0);
    if !(0..=10_000_000).contains(&offset) {
        return Err(AppError::BadRequest(
            "`offset` must be between 0 and 10000000".into(),
        ));
    }
    let now = state.clock.now();
    let callbacks = state.switchboard.callbacks();
    let items = callbacks.list(scope, limit, offset, now).await?;
    let total = state.store.active_callback_count().await?;
    let mut response = Json(items).into_response();
    response
        .headers_mut()
        .insert("x-total-count", HeaderValue::from(total));
    Ok(response)
}

/// One request in full.
#[derive(Serialize)]
pub struct CallbackDetail {
    #[serde(flatten)]
    pub item: CallbackItem,
    pub history: Vec<HistoryEntry>,
    pub attempts: Vec<Attempt>,
}

/// `GET /api/v1/callbacks/{id}`.
pub async fn get(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<CallbackDetail>, AppError> {
    let now = state.clock.now();
    let r = state
        .store
        .callback_request(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no callback request {id}")))?;
    let callbacks = state.switchboard.callbacks();
    let eta = callbacks.eta(&r, now).await?;
    Ok(Json(CallbackDetail {
        item: callbacks.item(r, eta, now),
        history: state.store.callback_history(id).await?,
        attempts: state.store.attempts_of(id).await?,
    }))
}

/// `GET /api/v1/callbacks/schedule`: how many open requests each coming working window is
/// expected to take (from the operators on duty and the handle time), and how many lie beyond.
pub async fn schedule(
    State(state): State<AppState>,
    _user: AuthUser,
) -> Result<Json<serde_json::Value>, AppError> {
    let now = state.clock.now();
    let callbacks = state.switchboard.callbacks();
    let staffing = callbacks.staffing(now).await?;
    let (windows, beyond) = callbacks.load_by_window(now).await?;
    let msk =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&crate::calendar::MOSCOW).to_rfc3339();
    Ok(Json(serde_json::json!({
        "operators": staffing.operators,
        "handle_secs": staffing.handle.num_seconds(),
        "share_percent": staffing.share_percent,
        "windows": windows.iter().map(|(w, n)| serde_json::json!({
            "start": msk(w.start),
            "end": msk(w.end),
            "requests": n,
        })).collect::<Vec<_>>(),
        "beyond_horizon": beyond,
    })))
}

/// `GET /api/v1/callbacks/topics`: the topics an outcome may name.
pub async fn topics(State(state): State<AppState>, _user: AuthUser) -> Json<Vec<Topic>> {
    Json(state.switchboard.callbacks().settings().topics.clone())
}

/// The operator profile of the signed-in user; 403 for users who do not take calls.
pub(super) async fn operator_of(state: &AppState, user: &AuthUser) -> Result<Operator, AppError> {
    state
        .store
        .operator_by_login(&user.0.login)
        .await?
        .ok_or_else(|| no_operator(user))
}

/// 403 for a user without an operator profile.
fn no_operator(user: &AuthUser) -> AppError {
    AppError::Forbidden(format!(
        "`{}` has no operator profile: only operators work the callback list",
        user.0.login
    ))
}

/// The answer to a claim: the request, and whether the operator held it before this claim.
#[derive(Serialize)]
pub struct ClaimedItem {
    #[serde(flatten)]
    pub item: CallbackItem,
    /// True when this is the request the operator already held (one claim per operator).
    pub already_held: bool,
}

/// `POST /api/v1/callbacks/claim`: 200 with the new claim, or with the held one.
pub async fn claim(State(state): State<AppState>, user: AuthUser) -> Result<Response, AppError> {
    let Some(op) = state.store.operator_id_by_login(&user.0.login).await? else {
        return Err(no_operator(&user));
    };
    let now = state.clock.now();
    match state
        .switchboard
        .callbacks()
        .claim(op, &user.0.login, now)
        .await?
    {
        Claim::Claimed(item) => Ok(Json(ClaimedItem {
            item: *item,
            already_held: false,
        })
        .into_response()),
        Claim::Held(item) => Ok(Json(ClaimedItem {
            item: *item,
            already_held: true,
        })
        .into_response()),
        Claim::NothingDue => Ok(StatusCode::NO_CONTENT.into_response()),
        Claim::Closed(window) => {
            let next = window.map(|w| {
                serde_json::json!({
                    "start": w.start.with_timezone(&crate::calendar::MOSCOW).to_rfc3339(),
                    "end": w.end.with_timezone(&crate::calendar::MOSCOW).to_rfc3339(),
                })
            });
            let body = serde_json::json!({
                "error": "the hotline is closed: callbacks are made during working hours",
                "next_window": next,
            });
            Ok((StatusCode::CONFLICT, Json(body)).into_response())
        }
    }
}
