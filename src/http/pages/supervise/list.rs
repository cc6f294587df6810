//! `GET /admin/callbacks`: the requests a supervisor looks through (active ones in list order and
//! the recently closed, or one state; by number or by words of the summary, note or topic), and
//! `GET`/`POST /admin/callbacks/new`: a request made by hand (a walk-in, a letter, a phone note).

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::{Flash, Opt, location, msk, redirect_with, spelled, take_flash, with_flash_cleared};
use crate::callbacks::{ByHandInput, CallbackItem, Find, SuperviseError};
use crate::domain::callback::Source;
use crate::domain::callback::supervise::{category_label, outcome_label, state_label};
use crate::domain::voicemail::CallerCategory;
use crate::http::AppState;
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;

/// One request in a table.
pub struct Row {
    pub id: i64,
    /// The registration number, or `№id` for a request not numbered yet.
    pub label: String,
    pub number: String,
    pub category: String,
    pub source: String,
    pub state: String,
    pub state_code: String,
    pub holder: String,
    pub created: String,
    pub due: String,
    pub info: String,
    pub summary: String,
}

pub struct Section {
    pub title: String,
    pub rows: Vec<Row>,
}

#[derive(askama::Template)]
#[template(path = "supervise/list.html")]
struct ListPage {
    chrome: Chrome,
    flash: Option<Flash>,
    q: String,
    states: Vec<Opt>,
    sections: Vec<Section>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    q: String,
}

/// The Russian name of a category code.
fn category_text(code: Option<&str>) -> String {
    code.and_then(|c| c.parse::<CallerCategory>().ok())
        .map(category_label)
        .unwrap_or("не указано")
        .to_owned()
}

/// The Russian name of a source code.
pub fn source_text(code: &str) -> String {
    code.parse::<Source>()
        .map(Source::label)
        .unwrap_or(code)
        .to_owned()
}

fn rows(items: Vec<CallbackItem>, names: &std::collections::HashMap<i64, String>) -> Vec<Row> {
    items
        .into_iter()
        .map(|it| {
            let r = it.request;
            let info = match (&r.state[..], &r.outcome) {
                ("closed", Some(o)) => outcome_label(o).to_owned(),
                _ => it.reason,
            };
            let holder = match (r.state.as_str(), r.claimed_by) {
                ("claimed", Some(op)) => names.get(&op).cloned().unwrap_or_default(),
                _ => String::new(),
            };
            Row {
                id: r.id,
                label: r.reg_number.clone().unwrap_or_else(|| format!("№{}", r.id)),
                number: spelled(&r.callback_number),
                category: category_text(r.caller_category.as_deref()),
                source: source_text(&r.source),
                state: state_label(&r.state).to_owned(),
                state_code: r.state.clone(),
                holder,
                created: msk(r.created_at),
                due: match r.closed_at {
                    Some(t) => format!("закрыта {}", msk(t)),
                    None => msk(r.due_at),
                },
                info,
                summary: r
                    .summary
                    .as_deref()
                    .map(|s| s.chars().take(120).collect())
                    .unwrap_or_default(),
            }
        })
        .collect()
}

/// Operator ids to "Name (login)".
pub async fn operator_names(
    state: &AppState,
) -> Result<std::collections::HashMap<i64, String>, PageError> {
    Ok(state
        .store
        .operators()
        .await?
        .into_iter()
        .map(|o| (o.id, format!("{} ({})", o.name, o.login)))
        .collect())
}

/// `GET /admin/callbacks`.
pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let flash = take_flash(&headers);
    let now = state.clock.now();
    let callbacks = state.switchboard.callbacks();
    let names = operator_names(&state).await?;
    let find = |st: &'static str, limit| Find {
        state: st,
        query: &q.q,
        limit,
    };
    let chosen = q.state.trim();
    let sections = if chosen.is_empty() {
        vec![
            Section {
                title: "В работе и в очереди".into(),
                rows: rows(callbacks.find(&find("active", 500), now).await?, &names),
            },
            Section {
                title: "Недавно закрытые".into(),
                rows: rows(callbacks.find(&find("closed", 30), now).await?, &names),
            },
        ]
    } else {
        let f = Find {
            state: chosen,
            query: &q.q,
            limit: 500,
        };
        let title = match chosen {
            "active" => "В работе и в очереди",
            "open" => "В очереди",
            "claimed" => "У операторов",
            "closed" => "Закрытые",
            _ => "Все заявки",
        };
        vec![Section {
            title: title.into(),
            rows: rows(callbacks.find(&f, now).await?, &names),
        }]
    };
    let states = vec![
        Opt::new("", "В работе и недавно закрытые", chosen),
        Opt::new("active", "В работе и в очереди", chosen),
        Opt::new("open", "В очереди", chosen),
        Opt::new("claimed", "У операторов", chosen),
        Opt::new("closed", "Закрытые", chosen),
        Opt::new("all", "Все", chosen),
    ];
    let resp = render(&ListPage {
        chrome: Chrome::new(&user, "admin"),
        flash: flash.clone(),
        q: q.q.clone(),
        states,
        sections,
    });
    Ok(with_flash_cleared(&state, &flash, resp))
}

#[derive(askama::Template)]
#[template(path = "supervise/new.html")]
struct NewPage {
    chrome: Chrome,
    error: String,
    number: String,
    note: String,
    categories: Vec<Opt>,
    sources: Vec<Opt>,
    topics: Vec<Opt>,
}

/// The form as typed (every field optional, so a half-filled form is shown again).
#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    topic: String,
}

fn new_page(state: &AppState, user: &PageUser, f: &NewForm, error: String) -> NewPage {
    let categories = CallerCategory::ALL
        .iter()
        .map(|c| Opt::new(c.as_str(), category_label(*c), &f.category))
        .collect();
    let sources = Source::BY_HAND
        .iter()
        .map(|s| Opt::new(s.as_str(), s.label(), &f.source))
        .collect();
    let mut topics = vec![Opt::new("", "не выбрана", &f.topic)];
    topics.extend(
        state
            .switchboard
            .callbacks()
            .settings()
            .topics
            .iter()
            .map(|t| Opt::new(&t.code, &t.label, &f.topic)),
    );
    NewPage {
        chrome: Chrome::new(user, "admin"),
        error,
        number: f.number.clone(),
        note: f.note.clone(),
        categories,
        sources,
        topics,
    }
}

/// `GET /admin/callbacks/new`.
pub async fn new_form(
    State(state): State<AppState>,
    user: PageUser,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let f = NewForm {
        category: "parent".into(),
        source: "walk_in".into(),
        ..NewForm::default()
    };
    Ok(render(&new_page(&state, &user, &f, String::new())))
}

/// `POST /admin/callbacks/new`: to the new request's page, or the form again with the reason.
pub async fn create(
    State(state): State<AppState>,
    user: PageUser,
    Form(f): Form<NewForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let input = ByHandInput {
        number: &f.number,
        category: &f.category,
        source: &f.source,
        summary: &f.note,
        topic: Some(f.topic.as_str()),
    };
    let now = state.clock.now();
    let result = state
        .switchboard
        .callbacks()
        .create_by_hand(&input, &user.user.login, now)
        .await;
    let (status, message) = match result {
        Ok(item) => {
            let id = item.request.id;
            tracing::info!(request = id, source = %f.source, "callback request made by hand");
            let text = format!("Заявка №{id} создана и поставлена в очередь.");
            return Ok(redirect_with(&state, &location(id), true, &text));
        }
        Err(SuperviseError::Invalid(m)) => (StatusCode::BAD_REQUEST, m),
        Err(SuperviseError::Conflict(m)) => (StatusCode::CONFLICT, m),
        Err(e) => return Err(e.into()),
    };
    let mut resp = render(&new_page(&state, &user, &f, message));
    *resp.status_mut() = status;
    Ok(resp)
}
