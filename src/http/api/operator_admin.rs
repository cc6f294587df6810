//! Adding operators and changing their contact over the API, for supervisors and administrators:
//! `POST /api/v1/operators` (`{"login", "name", "contact_kind": "phone" | "sip" | "extension",
//! "contact"}`, 201; the user is created with role operator when missing) and
//! `PUT /api/v1/operators/{login}` (`{"contact_kind", "contact"}`). The rules and the audit entries
//! are those of [`crate::admin::operators`], the same the workspace pages and the CLI use.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::operators::{OperatorJson, shown};
use crate::admin::operators::{self, NewOperatorInput};
use crate::domain::operator::ContactKind;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOperatorBody {
    login: String,
    name: String,
    contact_kind: ContactKind,
    contact: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    contact_kind: ContactKind,
    contact: String,
}

/// `POST /api/v1/operators`.
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    b: Result<Json<NewOperatorBody>, JsonRejection>,
) -> Result<(StatusCode, Json<OperatorJson>), AppError> {
    user.require_supervisor()?;
    let Json(b) = b.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let input = NewOperatorInput {
        login: b.login,
        name: b.name,
        contact_kind: b.contact_kind,
        contact: b.contact,
    };
    let op = operators::create(user.ctx(&state), &input).await?;
    Ok((StatusCode::CREATED, Json(shown(op, true))))
}

/// `PUT /api/v1/operators/{login}`.
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(login): Path<String>,
    b: Result<Json<ContactBody>, JsonRejection>,
) -> Result<Json<OperatorJson>, AppError> {
    user.require_supervisor()?;
    let Json(b) = b.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let op = operators::set_contact(user.ctx(&state), &login, b.contact_kind, &b.contact).await?;
    Ok(Json(shown(op, true)))
}
