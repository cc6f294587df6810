//! Authentication for the REST API: `Authorization: Bearer pzv_…` (the token is hashed and looked
//! up), or else the workspace's session cookie, resolved (and CSRF-checked) by
//! [`super::session::resolve`]. The request gets the [`AuthUser`] it belongs to, or 401.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use super::AppState;
use super::error::AppError;
use crate::secrets::token_hash;
use crate::store::User;

/// The signed-in user of a request.
#[derive(Debug, Clone)]
pub struct AuthUser(pub User);

impl AuthUser {
    /// 403 unless the user is a supervisor or an administrator.
    pub fn require_supervisor(&self) -> Result<(), AppError> {
        if self.0.role.is_supervisor() {
            Ok(())
        } else {
            Err(AppError::Forbidden(
                "this needs a supervisor or an administrator".into(),
            ))
        }
    }
}

impl AuthUser {
    /// 403 unless the user is an administrator.
    pub fn require_admin(&self) -> Result<(), AppError> {
        if self.0.role == crate::domain::user::Role::Admin {
            Ok(())
        } else {
            Err(AppError::Forbidden("this needs an administrator".into()))
        }
    }

    /// The administration context of this user at `state`'s clock.
    pub fn ctx<'a>(&'a self, state: &'a AppState) -> crate::admin::Ctx<'a> {
        crate::admin::Ctx {
            store: &*state.store,
            actor: &self.0.login,
            now: state.clock.now(),
        }
    }
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<AuthUser, AppError> {
        let Some(header) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
            return parts
                .extensions
                .get::<std::sync::Arc<crate::store::WebSession>>()
                .map(|s| AuthUser(s.user.clone()))
                .ok_or(AppError::Unauthorized);
        };
        let header = header.to_str().map_err(|_| AppError::Unauthorized)?;
        let token = header
            .strip_prefix("Bearer ")
            .or_else(|| header.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AppError::Unauthorized)?;
        let user = state
            .store
            .user_by_token(&token_hash(token), state.clock.now())
            .await?
            .ok_or(AppError::Unauthorized)?;
        Ok(AuthUser(user))
    }
}
