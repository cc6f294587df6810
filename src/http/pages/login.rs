//! Sign-in and sign-out. `POST /login` checks the password (Argon2id, off the async threads),
//! throttles failures per login and per client address over a window (in the database, so every
//! instance counts the same failures), and on success stores a new session and sets its cookie.
//! A cross-site sign-in attempt (`Origin` of another site) is refused. Every sign-in, failure and
//! sign-out goes to the audit log.

use std::sync::{Arc, OnceLock};

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::{PageError, render};
use crate::http::AppState;
use crate::http::session::{
    SESSION_COOKIE, client_address, cookie, peer_of, random_secret, set_cookie,
};
use crate::secrets::{token_hash, verify_password};
use crate::store::{NewAuditEntry, NewSession, WebSession};

#[derive(askama::Template)]
#[template(path = "login.html")]
struct LoginPage {
    login: String,
    next: String,
    error: String,
}

#[derive(Deserialize, Default)]
pub struct NextQuery {
    #[serde(default)]
    next: String,
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only a local path may be the target after sign-in (no open redirect).
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

fn page(status: StatusCode, login: &str, next: &str, error: &str) -> Response {
    let mut resp = render(&LoginPage {
        login: login.to_owned(),
        next: next.to_owned(),
        error: error.to_owned(),
    });
    *resp.status_mut() = status;
    resp
}

/// `GET /login`.
pub async fn form(
    session: Option<axum::Extension<Arc<WebSession>>>,
    Query(q): Query<NextQuery>,
) -> Response {
    if session.is_some() {
        return Redirect::to(safe_next(&q.next)).into_response();
    }
    page(StatusCode::OK, "", safe_next(&q.next), "")
}

/// True when the browser says the form came from another site.
fn cross_site(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        host,
    ) {
        (Some("null"), _) => true,
        (Some(origin), Some(host)) => {
            let origin_host = origin.split("://").nth(1).unwrap_or(origin);
            !origin_host.eq_ignore_ascii_case(host)
        }
        _ => false,
    }
}

/// A hash no password matches, verified for unknown logins so that they take as long as known ones.
fn dummy_hash() -> &'static str {
    static H: OnceLock<String> = OnceLock::new();
    H.get_or_init(|| crate::secrets::hash_password(&random_secret()).unwrap_or_default())
}

/// `POST /login`.
pub async fn submit(
    State(state): State<AppState>,
    req_headers: HeaderMap,
    extensions: axum::http::Extensions,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = safe_next(&f.next).to_owned();
    let login = f.login.trim().to_owned();
    if cross_site(&req_headers) {
        return Ok(page(
            StatusCode::FORBIDDEN,
            &login,
            &next,
            "Вход с чужого сайта запрещён.",
        ));
    }
    if login.is_empty() || f.password.is_empty() {
        return Ok(page(
            StatusCode::UNAUTHORIZED,
            &login,
            &next,
            "Введите логин и пароль.",
        ));
    }
    let web = &state.config.web;
    let now = state.clock.now();
    let since = now - web.login_window;
    let address = client_address(&state, &req_headers, peer_of(&extensions));
    let login_key = format!("login:{}", login.to_lowercase());
    let addr_key = format!("addr:{address}");
    let too_many = state.store.login_failures(&login_key, since).await? >= web.login_max_failures
        || state.store.login_failures(&addr_key, since).await? >= web.address_max_failures;
    if too_many {
        let msg = format!(
            "Слишком много неудачных попыток входа. Попробуйте снова через {} мин.",
            web.login_window.num_minutes()
        );
        return Ok(page(StatusCode::TOO_MANY_REQUESTS, &login, &next, &msg));
    }
    let user = state.store.user_by_login(&login).await?;
    let hash = user
        .as_ref()
        .filter(|u| !u.disabled)
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let password = f.password;
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    let Some(user) = user.filter(|u| ok && !u.disabled) else {
        state
            .store
            .note_login_failure(&[login_key, addr_key], now)
            .await?;
        audit(&state, &login, "session.login_failed", &address).await?;
        return Ok(page(
            StatusCode::UNAUTHORIZED,
            &login,
            &next,
            "Неверный логин или пароль.",
        ));
    };
    state.store.clear_login_failures(&login_key).await?;
    let token = random_secret();
    let csrf = random_secret();
    let user_agent = req_headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>();
    state
        .store
        .create_session(
            &NewSession {
                user_id: user.id,
                token_hash: &token_hash(&token),
                csrf_token: &csrf,
                expires_at: now + web.session_max,
                address: &address,
                user_agent: &user_agent,
            },
            now,
        )
        .await?;
    audit(&state, &user.login, "session.login", &address).await?;
    let cookie = set_cookie(
        &state,
        SESSION_COOKIE,
        &token,
        web.session_max.num_seconds(),
    );
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response())
}

/// `POST /logout` (CSRF-checked by the session middleware).
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(value) = cookie(&headers, SESSION_COOKIE) {
        let now = state.clock.now();
        if let Some(s) = state
            .store
            .session(&token_hash(value), now, state.config.web.session_idle)
            .await?
        {
            state.store.revoke_session(&token_hash(value), now).await?;
            audit(&state, &s.user.login, "session.logout", "").await?;
        }
    }
    let gone = set_cookie(&state, SESSION_COOKIE, "", 0);
    Ok(([(header::SET_COOKIE, gone)], Redirect::to("/login")).into_response())
}

async fn audit(
    state: &AppState,
    login: &str,
    action: &str,
    address: &str,
) -> Result<(), PageError> {
    let entry = NewAuditEntry {
        actor: login.chars().take(64).collect(),
        action: action.into(),
        subject: format!("user:{}", login.chars().take(64).collect::<String>()),
        detail: serde_json::json!({ "address": address }).to_string(),
        request_id: None,
    };
    state.store.audit(&entry, state.clock.now()).await?;
    Ok(())
}
