//! Operators over the API: `GET /api/v1/operators` (everyone signed in; contacts are shown in full
//! only to supervisors and administrators) and `PUT /api/v1/operators/{login}/presence` with
//! `{"state": "available" | "break" | "offline" | "wrap_up"}` (the operator themself, a supervisor or
//! an administrator). `on_call` is set only by calls. Becoming available wakes the hold-queue
//! dispatcher; every change goes to the audit log.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};

use crate::domain::operator::Presence;
use crate::domain::phone::mask;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::store::{NewAuditEntry, Operator};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    state: Presence,
}

/// An operator as the API shows one.
#[derive(Serialize)]
pub struct OperatorJson {
    #[serde(flatten)]
    operator: Operator,
}

fn shown(mut op: Operator, full: bool) -> OperatorJson {
    if !full {
        op.contact = mask(&op.contact);
    }
    OperatorJson { operator: op }
}

/// `GET /api/v1/operators`.
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<OperatorJson>>, AppError> {
    let full = user.0.role.is_supervisor();
    let ops = state.store.operators().await?;
    Ok(Json(ops.into_iter().map(|o| shown(o, full)).collect()))
}

/// `PUT /api/v1/operators/{login}/presence`.
pub async fn set_presence(
    State(state): State<AppState>,
    user: AuthUser,
    Path(login): Path<String>,
    body: Result<Json<PresenceBody>, JsonRejection>,
) -> Result<Json<OperatorJson>, AppError> {
    if user.0.login != login {
        user.require_supervisor()?;
    }
    let Json(body) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    if body.state == Presence::OnCall {
        return Err(AppError::BadRequest(
            "`on_call` is set by calls, not by hand".into(),
        ));
    }
    let op = state
        .store
        .operator_by_login(&login)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no operator `{login}`")))?;
    let now = state.clock.now();
    let updated = state
        .store
        .set_presence(op.id, body.state, now)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no operator `{login}`")))?;
    let entry = NewAuditEntry {
        actor: user.0.login.clone(),
        action: "operator.presence".into(),
        subject: format!("operator:{login}"),
        detail: serde_json::json!({ "from": op.presence, "to": body.state }).to_string(),
        request_id: None,
    };
    state.store.audit(&entry, now).await?;
    if body.state == Presence::Available {
        state.switchboard.wake_dispatcher();
    }
    Ok(Json(shown(updated, true)))
}
