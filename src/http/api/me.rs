//! `GET /api/v1/me`: who the bearer token belongs to (lets a client check its token).

use axum::Json;

use crate::http::auth::AuthUser;
use crate::store::User;

/// The signed-in user.
pub async fn me(AuthUser(user): AuthUser) -> Json<User> {
    Json(user)
}
