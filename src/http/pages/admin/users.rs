//! `/admin/users`, for administrators only: the list of users with their role and state, a form
//! adding a user (`form#user-add`: login, display name, role, password), and per user a role
//! change, disabling or enabling (a disabled user's sessions end at once) and a new password (the
//! user's sessions end). The signed-in administrator's own row offers no role change or disabling.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use super::{DoneQuery, Flash, ctx, done, refused, with_status};
use crate::admin::users::{self as svc, NewUserInput};
use crate::domain::user::Role;
use crate::http::AppState;
use crate::http::pages::{Chrome, PageError, render, role_label};
use crate::http::session::PageUser;

/// A `<select>` option.
pub struct Opt {
    pub value: &'static str,
    pub label: &'static str,
    pub selected: bool,
}

fn role_options(current: &str) -> Vec<Opt> {
    Role::ALL
        .iter()
        .map(|r| Opt {
            value: r.as_str(),
            label: role_label(*r),
            selected: r.as_str() == current,
        })
        .collect()
}

struct Row {
    login: String,
    display_name: String,
    role_label: &'static str,
    roles: Vec<Opt>,
    disabled: bool,
    is_self: bool,
}

#[derive(askama::Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    flash: Flash,
    users: Vec<Row>,
    form: AddForm,
    roles: Vec<Opt>,
}

/// The add form as submitted (kept on a refusal, except the password).
#[derive(Deserialize, Default, Clone)]
pub struct AddForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

#[derive(Deserialize)]
pub struct RoleForm {
    #[serde(default)]
    role: String,
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    password: String,
}

async fn show(
    state: &AppState,
    user: &PageUser,
    flash: Flash,
    mut form: AddForm,
    status: StatusCode,
) -> Result<Response, PageError> {
    let users = state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| Row {
            is_self: u.login == user.user.login,
            roles: role_options(u.role.as_str()),
            role_label: role_label(u.role),
            login: u.login,
            display_name: u.display_name,
            disabled: u.disabled,
        })
        .collect();
    form.password.clear();
    if form.role.is_empty() {
        form.role = Role::Operator.as_str().into();
    }
    let page = UsersPage {
        chrome: Chrome::new(user, "admin"),
        flash,
        users,
        roles: role_options(&form.role),
        form,
    };
    Ok(with_status(status, render(&page)))
}

/// A refusal shown on the page with the add form empty.
async fn refusal(
    state: &AppState,
    user: &PageUser,
    e: crate::admin::AdminError,
) -> Result<Response, PageError> {
    let (status, flash) = refused(e)?;
    show(state, user, flash, AddForm::default(), status).await
}

fn parse_role(s: &str) -> Result<Role, Flash> {
    s.parse().map_err(|_| {
        Flash::error("Выберите роль: оператор, руководитель или администратор.".into())
    })
}

/// `GET /admin/users`.
pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    user.require_admin()?;
    show(&state, &user, q.flash(), AddForm::default(), StatusCode::OK).await
}

/// `POST /admin/users`.
pub async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    user.require_admin()?;
    let role = match parse_role(&f.role) {
        Ok(r) => r,
        Err(flash) => return show(&state, &user, flash, f, StatusCode::BAD_REQUEST).await,
    };
    let input = NewUserInput {
        login: f.login.clone(),
        display_name: f.display_name.clone(),
        role,
        password: f.password.clone(),
    };
    match svc::create(ctx(&state, &user), &input).await {
        Ok(u) => Ok(done("/admin/users", "user.create", &u.login)),
        Err(e) => {
            let (status, flash) = refused(e)?;
            show(&state, &user, flash, f, status).await
        }
    }
}

/// `POST /admin/users/{login}/role`.
pub async fn role(
    State(state): State<AppState>,
    user: PageUser,
    Path(login): Path<String>,
    Form(f): Form<RoleForm>,
) -> Result<Response, PageError> {
    user.require_admin()?;
    let role = match parse_role(&f.role) {
        Ok(r) => r,
        Err(flash) => {
            return show(
                &state,
                &user,
                flash,
                AddForm::default(),
                StatusCode::BAD_REQUEST,
            )
            .await;
        }
    };
    match svc::set_role(ctx(&state, &user), &login, role).await {
        Ok(u) => Ok(done("/admin/users", "user.role", &u.login)),
        Err(e) => refusal(&state, &user, e).await,
    }
}

async fn set_disabled(
    state: AppState,
    user: PageUser,
    login: String,
    disabled: bool,
) -> Result<Response, PageError> {
    user.require_admin()?;
    let code = if disabled {
        "user.disable"
    } else {
        "user.enable"
    };
    match svc::set_disabled(ctx(&state, &user), &login, disabled).await {
        Ok(u) => Ok(done("/admin/users", code, &u.login)),
        Err(e) => refusal(&state, &user, e).await,
    }
}

/// `POST /admin/users/{login}/disable`.
pub async fn disable(
    State(state): State<AppState>,
    user: PageUser,
    Path(login): Path<String>,
) -> Result<Response, PageError> {
    set_disabled(state, user, login, true).await
}

/// `POST /admin/users/{login}/enable`.
pub async fn enable(
    State(state): State<AppState>,
    user: PageUser,
    Path(login): Path<String>,
) -> Result<Response, PageError> {
    set_disabled(state, user, login, false).await
}

/// `POST /admin/users/{login}/password`.
pub async fn password(
    State(state): State<AppState>,
    user: PageUser,
    Path(login): Path<String>,
    Form(f): Form<PasswordForm>,
) -> Result<Response, PageError> {
    user.require_admin()?;
    match svc::set_password(ctx(&state, &user), &login, &f.password).await {
        Ok(_) => Ok(done("/admin/users", "user.password", &login)),
        Err(e) => refusal(&state, &user, e).await,
    }
}
