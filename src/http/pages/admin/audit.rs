//! `/admin/audit`, for supervisors and administrators: the audit log newest first, filtered by
//! actor, action and a range of Moscow dates (a GET form, so a filtered view is a link), 50 entries
//! a page with a link to older ones. Times are Moscow time. The query is the API's
//! ([`crate::http::api::audit::filter_of`]).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;

use super::with_status;
use crate::calendar::MOSCOW;
use crate::http::api::audit::{AuditQuery, filter_of};
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;
use crate::http::{AppError, AppState};

const PAGE: i64 = 50;

/// Actions offered in the filter (any other may be typed).
const ACTIONS: [(&str, &str); 18] = [
    ("session.login", "вход"),
    ("session.login_failed", "неудачный вход"),
    ("session.logout", "выход"),
    ("token.create", "токен создан"),
    ("token.revoke", "токен отозван"),
    ("user.create", "пользователь создан"),
    ("user.role", "роль изменена"),
    ("user.name", "имя изменено"),
    ("user.disable", "пользователь отключён"),
    ("user.enable", "пользователь включён"),
    ("user.password", "пароль изменён"),
    ("operator.create", "оператор добавлен"),
    ("operator.contact", "контакт оператора изменён"),
    ("operator.presence", "состояние оператора изменено"),
    ("voicemail.audio", "прослушана запись"),
    ("blocklist.add", "блокировка добавлена"),
    ("blocklist.remove", "блокировка снята"),
    ("limits.set", "лимиты изменены"),
];

struct Row {
    id: i64,
    at: String,
    actor: String,
    action: String,
    action_label: &'static str,
    subject: String,
    detail: String,
}

#[derive(askama::Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    error: String,
    q: AuditQuery,
    actions: Vec<(&'static str, &'static str)>,
    rows: Vec<Row>,
    /// The link to the next, older page; empty when there is none.
    older: String,
}

fn label(action: &str) -> &'static str {
    ACTIONS
        .iter()
        .find(|(a, _)| *a == action)
        .map(|(_, l)| *l)
        .unwrap_or("")
}

/// `GET /admin/audit`.
pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let mut q = q.map(|Query(q)| q).unwrap_or_default();
    q.limit = Some(PAGE);
    let page = |error: String, q: AuditQuery, rows: Vec<Row>, older: String| AuditPage {
        chrome: Chrome::new(&user, "audit"),
        error,
        q,
        actions: ACTIONS.to_vec(),
        rows,
        older,
    };
    let filter = match filter_of(&q) {
        Ok(f) => f,
        Err(AppError::BadRequest(_)) => {
            let msg = "Даты — в виде ГГГГ-ММ-ДД, например 2026-12-01.".to_owned();
            let resp = render(&page(msg, q, Vec::new(), String::new()));
            return Ok(with_status(StatusCode::BAD_REQUEST, resp));
        }
        Err(e) => return Err(e.into()),
    };
    let entries = state.store.search_audit(&filter).await?;
    let older = match entries.last() {
        Some(last) if entries.len() as i64 == PAGE => {
            let mut link = form_urlencoded::Serializer::new(String::new());
            for (k, v) in [
                ("actor", &q.actor),
                ("action", &q.action),
                ("from", &q.from),
                ("to", &q.to),
            ] {
                if !v.is_empty() {
                    link.append_pair(k, v);
                }
            }
            link.append_pair("before_id", &last.id.to_string());
            format!("/admin/audit?{}", link.finish())
        }
        _ => String::new(),
    };
    let rows = entries
        .into_iter()
        .map(|e| Row {
            id: e.id,
            at: e
                .at
                .with_timezone(&MOSCOW)
                .format("%d.%m.%Y %H:%M:%S")
                .to_string(),
            action_label: label(&e.action),
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            detail: if e.detail == "{}" {
                String::new()
            } else {
                e.detail
            },
        })
        .collect();
    Ok(render(&page(String::new(), q, rows, older)))
}
