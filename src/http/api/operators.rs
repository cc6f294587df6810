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
use crate::store::Operator;

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

/// An operator as shown: the contact in full, or masked.
pub fn shown(mut op: Operator, full: bool) -> OperatorJson {
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
    let updated = override_presence(&state, user.ctx(&state), &login, body.state).await?;
    Ok(Json(shown(updated, true)))
}

/// Sets an operator's presence by hand (the API and the administration page): the rule and the
/// audit entry of [`crate::admin::operators::set_presence`], then, when the operator became
/// available, the hold-queue dispatcher is woken.
pub async fn override_presence(
    state: &AppState,
    ctx: crate::admin::Ctx<'_>,
    login: &str,
    presence: Presence,
) -> Result<Operator, crate::admin::AdminError> {
    let updated = crate::admin::operators::set_presence(ctx, login, presence).await?;
    if presence == Presence::Available {
        state.switchboard.wake_dispatcher();
    }
    Ok(updated)
}
