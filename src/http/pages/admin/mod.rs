//! The administration pages for supervisors and administrators: an overview (`/admin`), users
//! (`/admin/users`, administrators only), operators (`/admin/operators`), the production calendar's
//! status (`/admin/calendar`), the audit log (`/admin/audit`) and the blocklist with the
//! per-number limits (`/admin/blocklist`). Operators get a 403 page on all of
//! them. Changes are plain HTML forms (POST with the `_csrf` field); success redirects back with a
//! short code in the query (`?done=user.create&who=ivanova`) that the page turns into a Russian
//! message in `#flash`; a refused change re-renders the page with the reason there. Every rule and
//! audit entry is in [`crate::admin`], shared with the JSON API and the CLI.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{Chrome, PageError, render};
use crate::admin::calendar::{CalendarOverview, overview as calendar_overview};
use crate::admin::{AdminError, Ctx, ErrorClass};
use crate::calendar::moscow_date;
use crate::domain::operator::Presence;
use crate::http::session::PageUser;
use crate::http::{AppError, AppState};

pub mod audit;
pub mod blocklist;
pub mod calendar;
pub mod operators;
pub mod users;

/// Routes of the administration pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview))
        .route("/admin/users", get(users::page).post(users::create))
        .route("/admin/users/{login}/role", post(users::role))
        .route("/admin/users/{login}/disable", post(users::disable))
        .route("/admin/users/{login}/enable", post(users::enable))
        .route("/admin/users/{login}/password", post(users::password))
        .route(
            "/admin/operators",
            get(operators::page).post(operators::create),
        )
        .route("/admin/operators/{login}/contact", post(operators::contact))
        .route(
            "/admin/operators/{login}/presence",
            post(operators::presence),
        )
        .route("/admin/calendar", get(calendar::page))
        .route("/admin/audit", get(audit::page))
        .route(
            "/admin/blocklist",
            get(blocklist::page).post(blocklist::create),
        )
        .route("/admin/blocklist/{id}/remove", post(blocklist::remove))
        .route("/admin/blocklist/limits", post(blocklist::limits))
}

/// The message shown in `#flash`: empty, a success, or an error.
#[derive(Debug, Clone, Default)]
pub struct Flash {
    pub text: String,
    pub error: bool,
}

impl Flash {
    pub fn error(text: String) -> Flash {
        Flash { text, error: true }
    }
}

/// The query a page is redirected to after a change.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    who: String,
}

impl DoneQuery {
    /// The Russian message for the change just made (fixed texts only: a link cannot make the page
    /// say anything else).
    pub fn flash(&self) -> Flash {
        let who = &self.who;
        let text = match self.done.as_str() {
            "user.create" => format!("Пользователь «{who}» создан."),
            "user.role" => format!("Роль пользователя «{who}» изменена."),
            "user.disable" => {
                format!("Пользователь «{who}» отключён: его сеансы и токены больше не действуют.")
            }
            "user.enable" => format!("Пользователь «{who}» снова может входить."),
            "user.password" => {
                format!("Пароль пользователя «{who}» изменён, его сеансы завершены.")
            }
            "operator.create" => format!("Оператор «{who}» добавлен (не в сети)."),
            "operator.contact" => format!("Контакт оператора «{who}» изменён."),
            "operator.presence" => format!("Состояние оператора «{who}» изменено."),
            "blocklist.add" => "Правило добавлено в список блокировки.".into(),
            "blocklist.remove" => "Блокировка снята.".into(),
            "limits.set" => "Лимиты сохранены.".into(),
            _ => String::new(),
        };
        Flash { text, error: false }
    }
}

/// 303 to `path` with the flash code of `done` for `who`.
pub fn done(path: &str, done: &str, who: &str) -> Response {
    let who: String = form_urlencoded::byte_serialize(who.as_bytes()).collect();
    Redirect::to(&format!("{path}?done={done}&who={who}")).into_response()
}

/// The administration context of the signed-in user.
pub fn ctx<'a>(state: &'a AppState, user: &'a PageUser) -> Ctx<'a> {
    Ctx {
        store: &*state.store,
        actor: &user.user.login,
        now: state.clock.now(),
    }
}

/// A refused change: the status and the Russian reason to show on the form; failures of the
/// service become the generic error page.
pub fn refused(e: AdminError) -> Result<(StatusCode, Flash), PageError> {
    let status = match e.class() {
        ErrorClass::Invalid => StatusCode::BAD_REQUEST,
        ErrorClass::NotFound => StatusCode::NOT_FOUND,
        ErrorClass::Conflict => StatusCode::CONFLICT,
        ErrorClass::Internal => return Err(PageError(AppError::from(e))),
    };
    Ok((status, Flash::error(e.russian())))
}

/// A page with a status other than 200.
pub fn with_status(status: StatusCode, mut resp: Response) -> Response {
    *resp.status_mut() = status;
    resp
}

/// A presence's Russian name.
pub fn presence_label(p: Presence) -> &'static str {
    match p {
        Presence::Available => "свободен",
        Presence::OnCall => "на звонке",
        Presence::WrapUp => "после звонка",
        Presence::Break => "перерыв",
        Presence::Offline => "не в сети",
    }
}

#[derive(askama::Template)]
#[template(path = "admin/index.html")]
struct OverviewPage {
    chrome: Chrome,
    users_total: usize,
    users_enabled: usize,
    operators_total: usize,
    operators_in: usize,
    operators_free: usize,
    cal: CalendarOverview,
}

/// `GET /admin`: counts, links and the calendar's warnings.
async fn overview(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let users = state.store.users().await?;
    let ops = state.store.operators().await?;
    let page = OverviewPage {
        chrome: Chrome::new(&user, "admin"),
        users_total: users.len(),
        users_enabled: users.iter().filter(|u| !u.disabled).count(),
        operators_total: ops.len(),
        operators_in: ops.iter().filter(|o| o.presence.is_logged_in()).count(),
        operators_free: ops
            .iter()
            .filter(|o| o.presence == Presence::Available)
            .count(),
        cal: calendar_overview(&state.calendar, moscow_date(state.clock.now())),
    };
    Ok(render(&page))
}
