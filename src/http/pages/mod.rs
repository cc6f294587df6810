//! The workspace in the browser: server-rendered Russian pages (askama templates under
//! `templates/`), a stylesheet and a small script embedded in the binary (`assets/web/`), sign-in
//! and sign-out. Pages are a thin layer over the same store and services as the JSON API; their
//! scripts call that API with the session cookie and the CSRF header. Errors on pages are shown as
//! a page, not as JSON.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::AppState;
use super::error::AppError;
use super::session::PageUser;
use crate::domain::user::Role;

pub mod admin;
pub mod login;
pub mod operator;
pub mod stats;
pub mod supervise;

/// Routes of the pages and their assets.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login::form).post(login::submit))
        .route("/logout", axum::routing::post(login::logout))
        .route("/assets/{name}", get(asset))
        .merge(operator::routes())
        .merge(admin::routes())
        .merge(supervise::routes())
        .merge(stats::routes())
}

/// What every signed-in page's frame shows: who is signed in, what they may open, the CSRF token.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub user_name: String,
    pub login: String,
    pub role_label: &'static str,
    pub is_supervisor: bool,
    pub is_admin: bool,
    pub csrf: String,
    /// Which navigation entry is current: `operator`, `admin`, …
    pub active: &'static str,
}

impl Chrome {
    /// The frame for `user` on the page named `active`.
    pub fn new(user: &PageUser, active: &'static str) -> Chrome {
        let role = user.user.role;
        Chrome {
            user_name: user.user.display_name.clone(),
            login: user.user.login.clone(),
            role_label: role_label(role),
            is_supervisor: role.is_supervisor(),
            is_admin: role == Role::Admin,
            csrf: user.csrf.clone(),
            active,
        }
    }
}

/// A role's Russian name.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Operator => "оператор",
        Role::Supervisor => "руководитель",
        Role::Admin => "администратор",
    }
}

/// Renders a template into a page, or a 500 page when rendering fails.
pub fn render(t: &impl askama::Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => PageError(AppError::Internal(anyhow::anyhow!("template: {e}"))).into_response(),
    }
}

/// An error on a page: the status of the [`AppError`] with a short Russian page.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> PageError {
        PageError(e.into())
    }
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        if let AppError::Internal(e) = &self.0 {
            tracing::error!(error = format!("{e:#}"), "page failed");
        }
        let (title, message) = match &self.0 {
            AppError::Forbidden(m) => ("Доступ запрещён", m.clone()),
            AppError::NotFound(m) => ("Не найдено", m.clone()),
            AppError::BadRequest(m) | AppError::Conflict(m) => ("Не получилось", m.clone()),
            AppError::Unauthorized => ("Нужно войти", "Войдите в систему заново.".to_owned()),
            AppError::Unavailable(_) | AppError::Internal(_) => (
                "Ошибка сервера",
                "Что-то пошло не так. Попробуйте ещё раз через минуту.".to_owned(),
            ),
        };
        let html = ErrorPage { title, message }.to_string();
        (status, Html(html)).into_response()
    }
}

#[derive(rust_embed::RustEmbed)]
#[folder = "assets/web/"]
struct Assets;

/// `GET /assets/{name}`: the workspace's stylesheet and script, from the binary.
async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let Some(file) = Assets::get(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = match name.rsplit('.').next() {
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        file.data,
    )
        .into_response()
}
