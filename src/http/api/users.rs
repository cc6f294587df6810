//! Users over the API, for administrators only: `GET /api/v1/users`, `POST /api/v1/users`
//! (`{"login", "display_name"?, "role", "password"}`, 201), `PUT /api/v1/users/{login}` (any of
//! `{"role", "display_name", "disabled"}`) and `POST /api/v1/users/{login}/password`
//! (`{"password"}`; the user's sessions end). The rules and the audit entries are those of
//! [`crate::admin::users`], the same the workspace pages use.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::admin::users::{self, NewUserInput};
use crate::domain::user::Role;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::store::User;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    login: String,
    #[serde(default)]
    display_name: String,
    role: Role,
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserChange {
    role: Option<Role>,
    display_name: Option<String>,
    disabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordBody {
    password: String,
}

#[derive(Serialize)]
pub struct PasswordSet {
    sessions_ended: u64,
}

fn body<T>(b: Result<Json<T>, JsonRejection>) -> Result<T, AppError> {
    b.map(|Json(b)| b)
        .map_err(|e| AppError::BadRequest(e.body_text()))
}

/// `GET /api/v1/users`.
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
) -> Result<Json<Vec<User>>, AppError> {
    user.require_admin()?;
    Ok(Json(state.store.users().await?))
}

/// `POST /api/v1/users`.
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    b: Result<Json<NewUserBody>, JsonRejection>,
) -> Result<(StatusCode, Json<User>), AppError> {
    user.require_admin()?;
    let b = body(b)?;
    let input = NewUserInput {
        login: b.login,
        display_name: b.display_name,
        role: b.role,
        password: b.password,
    };
    let created = users::create(user.ctx(&state), &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `PUT /api/v1/users/{login}`.
pub async fn update(
    State(state): State<AppState>,
    user: AuthUser,
    Path(login): Path<String>,
    b: Result<Json<UserChange>, JsonRejection>,
) -> Result<Json<User>, AppError> {
    user.require_admin()?;
    let b = body(b)?;
    let ctx = user.ctx(&state);
    let mut current = users::existing(ctx, &login).await?;
    if let Some(name) = &b.display_name {
        current = users::set_display_name(ctx, &login, name).await?;
    }
    if let Some(role) = b.role {
        current = users::set_role(ctx, &login, role).await?;
    }
    if let Some(disabled) = b.disabled {
        current = users::set_disabled(ctx, &login, disabled).await?;
    }
    Ok(Json(current))
}

/// `POST /api/v1/users/{login}/password`.
pub async fn password(
    State(state): State<AppState>,
    user: AuthUser,
    Path(login): Path<String>,
    b: Result<Json<PasswordBody>, JsonRejection>,
) -> Result<Json<PasswordSet>, AppError> {
    user.require_admin()?;
    let b = body(b)?;
    let sessions_ended = users::set_password(user.ctx(&state), &login, &b.password).await?;
    Ok(Json(PasswordSet { sessions_ended }))
}
