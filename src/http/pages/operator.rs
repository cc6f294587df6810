//! The operator's page (`/`): presence, "Следующий звонок", the card of the request the operator
//! holds (number, category, reason, deadline, attempts, voicemail, earlier contacts, click-to-call,
//! outcome with topic, note and a follow-up time inside working hours, release) and the first 50
//! requests of the list. The server renders the initial state from the same services the JSON API
//! uses; `assets/web/operator.js` then acts through that API and keeps the page current from
//! `GET /events` (see `events`). A user without an operator profile sees the list only.

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::{Chrome, PageError, render};
use crate::callbacks::CallbackItem;
use crate::domain::callback::Outcome;
use crate::domain::operator::Presence;
use crate::http::AppState;
use crate::http::api::contacts::voicemail_audio_url;
use crate::http::session::PageUser;
use crate::store::ListScope;

pub mod events;
pub mod labels;

/// Requests the page lists.
pub const LIST_LIMIT: i64 = 50;

/// The page's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(page))
        .route("/events", get(events::events))
}

/// A presence button.
pub struct PresenceButton {
    pub code: &'static str,
    pub label: &'static str,
    pub pressed: bool,
}

/// An outcome button.
pub struct OutcomeButton {
    pub code: &'static str,
    pub label: &'static str,
    /// A topic is required (the caller was reached).
    pub needs_topic: bool,
}

/// The held request's card, as first rendered.
#[derive(Default)]
pub struct CardView {
    pub id: String,
    pub reg_number: String,
    /// The sender of a request by e-mail (empty for others).
    pub email: String,
    pub number: String,
    pub category: String,
    pub reason: String,
    pub when: String,
    pub attempts: String,
    pub audio_url: String,
}

/// A row of the list.
pub struct RowView {
    pub id: i64,
    pub reg_number: String,
    pub position: usize,
    pub category: &'static str,
    pub state: &'static str,
    pub mine: bool,
    pub reason: String,
    pub eta: String,
    pub created: String,
    pub repeats: i64,
    pub message: bool,
}

#[derive(askama::Template)]
#[template(path = "operator.html")]
struct OperatorPage {
    chrome: Chrome,
    operator_id: String,
    presence: String,
    presence_label: &'static str,
    presence_buttons: Vec<PresenceButton>,
    card: CardView,
    topics: Vec<(String, String)>,
    outcomes: Vec<OutcomeButton>,
    rows: Vec<RowView>,
    total: i64,
    max_attempts: u32,
    labels_json: String,
}

/// When the request is to be called: its estimate's window, else its deadline.
pub fn when(item: &CallbackItem) -> String {
    match &item.eta_window {
        Some(w) => labels::eta_window(w.from, w.to),
        None => format!("до {}", labels::moscow(item.request.deadline)),
    }
}

fn row(position: usize, item: &CallbackItem, operator_id: Option<i64>) -> RowView {
    let r = &item.request;
    RowView {
        id: r.id,
        reg_number: r.reg_number.clone().unwrap_or_default(),
        position,
        category: labels::category(r.caller_category.as_deref()),
        state: labels::state(&r.state),
        mine: r.is_held_by(operator_id),
        reason: item.reason.clone(),
        eta: item
            .eta_window
            .map(|w| labels::eta_window(w.from, w.to))
            .unwrap_or_default(),
        created: labels::moscow(r.created_at),
        repeats: r.repeat_count,
        message: !r.silent,
    }
}

/// `GET /`.
pub async fn page(State(state): State<AppState>, user: PageUser) -> Result<Response, PageError> {
    let now = state.clock.now();
    let callbacks = state.switchboard.callbacks();
    let settings = callbacks.settings();
    let op = state.store.operator_by_login(&user.user.login).await?;
    let items = callbacks
        .list(ListScope::Active, LIST_LIMIT, 0, now)
        .await?;
    let total = state.store.active_callback_count().await?;
    let op_id = op.as_ref().map(|o| o.id);
    let mut card = CardView::default();
    if let Some(o) = &op
        && let Some(r) = state.store.held_callback(o.id).await?
    {
        let audio = voicemail_audio_url(&state, &r).await?;
        let item = callbacks.item(r, None, now);
        let r = &item.request;
        card = CardView {
            id: r.id.to_string(),
            reg_number: r.reg_number.clone().unwrap_or_default(),
            email: r.email.clone().unwrap_or_default(),
            number: r.callback_number.clone(),
            category: labels::category(r.caller_category.as_deref()).to_owned(),
            reason: item.reason.clone(),
            when: when(&item),
            attempts: format!("{} из {}", r.misses, settings.max_attempts),
            audio_url: audio.unwrap_or_default(),
        };
    }
    let presence = op.as_ref().map(|o| o.presence);
    let presence_buttons = [Presence::Available, Presence::Break, Presence::Offline]
        .into_iter()
        .map(|p| PresenceButton {
            code: p.as_str(),
            label: labels::presence(p),
            pressed: presence == Some(p),
        })
        .collect();
    let outcomes = Outcome::ALL
        .iter()
        .map(|o| OutcomeButton {
            code: o.as_str(),
            label: labels::outcome(o.as_str()),
            needs_topic: o.reached(),
        })
        .collect();
    let page = OperatorPage {
        chrome: Chrome::new(&user, "operator"),
        operator_id: op_id.map(|i| i.to_string()).unwrap_or_default(),
        presence: presence.map(|p| p.as_str().to_owned()).unwrap_or_default(),
        presence_label: presence.map(labels::presence).unwrap_or(""),
        presence_buttons,
        card,
        topics: settings
            .topics
            .iter()
            .map(|t| (t.code.clone(), t.label.clone()))
            .collect(),
        outcomes,
        rows: items
            .iter()
            .enumerate()
            .map(|(i, item)| row(i + 1, item, op_id))
            .collect(),
        total,
        max_attempts: settings.max_attempts,
        labels_json: labels::labels_json().to_string().replace('<', "\\u003c"),
    };
    Ok(render(&page))
}
