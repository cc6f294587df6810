//! `GET /admin/callbacks/{id}`: one request in full for a supervisor (its facts, every step of its
//! history in Russian, its click-to-call attempts with status and duration, its voicemails with a
//! player) and the forms acting on it: `POST …/release` (back to the list), `…/reassign` (to an
//! operator, with a reason), `…/close` (with a reason, optionally as one of the regulation's
//! rejections). After an action the page is shown again with a flash message.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::history::{AttemptRow, HistoryRow, attempt_row, describe};
use super::list::{operator_names, source_text};
use super::{Flash, Opt, location, msk, redirect_with, spelled, take_flash, with_flash_cleared};
use crate::callbacks::{CallbackItem, SuperviseError};
use crate::domain::callback::CloseAs;
use crate::domain::callback::supervise::{
    category_label, history_label, outcome_label, state_label,
};
use crate::domain::voicemail::CallerCategory;
use crate::http::pages::{Chrome, PageError, render};
use crate::http::session::PageUser;
use crate::http::{AppError, AppState};
use crate::store::callbacks::CallbackFilter;

pub struct Fact {
    pub label: String,
    pub value: String,
}

pub struct VoicemailRow {
    pub id: i64,
    pub received: String,
    pub duration: String,
    pub status: String,
    pub playable: bool,
}

#[derive(askama::Template)]
#[template(path = "supervise/detail.html")]
struct DetailPage {
    chrome: Chrome,
    flash: Option<Flash>,
    id: i64,
    /// The registration number, or `№id` for a request not numbered yet.
    label: String,
    number: String,
    number_href: String,
    state: String,
    state_text: String,
    is_closed: bool,
    is_claimed: bool,
    facts: Vec<Fact>,
    history: Vec<HistoryRow>,
    attempts: Vec<AttemptRow>,
    voicemails: Vec<VoicemailRow>,
    operators: Vec<Opt>,
    closings: Vec<Opt>,
}

fn facts(
    item: &CallbackItem,
    names: &HashMap<i64, String>,
    topic: &dyn Fn(&str) -> String,
) -> Vec<Fact> {
    let r = &item.request;
    let mut f = Vec::new();
    let mut push = |label: &str, value: String| {
        if !value.is_empty() {
            f.push(Fact {
                label: label.into(),
                value,
            });
        }
    };
    push("Состояние", state_label(&r.state).to_owned());
    push(
        "Кто обратился",
        r.caller_category
            .as_deref()
            .and_then(|c| c.parse::<CallerCategory>().ok())
            .map(category_label)
            .unwrap_or("не указано")
            .to_owned(),
    );
    push("Как поступила", source_text(&r.source));
    push("О чём", r.summary.clone().unwrap_or_default());
    if r.state == "claimed"
        && let Some(op) = r.claimed_by
    {
        let who = names.get(&op).cloned().unwrap_or_default();
        let until = r.lease_until.map(msk).unwrap_or_default();
        push("У оператора", format!("{who}, до {until}"));
    }
    push("Создана", msk(r.created_at));
    if r.state != "closed" {
        push("Звонить не раньше", msk(r.due_at));
        push("Срок", msk(r.deadline));
        push("Почему здесь в списке", item.reason.clone());
        push(
            "Ожидаемое время звонка",
            item.eta.map(msk).unwrap_or_default(),
        );
    }
    if let Some(t) = r.closed_at {
        push("Закрыта", msk(t));
    }
    push(
        "Результат",
        r.outcome
            .as_deref()
            .map(outcome_label)
            .unwrap_or("")
            .to_owned(),
    );
    push("Тема", r.topic.as_deref().map(topic).unwrap_or_default());
    push("Заметка оператора", r.note.clone().unwrap_or_default());
    push("Повторных обращений", r.repeat_count.to_string());
    push(
        "Попыток",
        format!("{} (без ответа: {})", r.attempts, r.misses),
    );
    f
}

/// `GET /admin/callbacks/{id}`.
pub async fn page(
    State(state): State<AppState>,
    user: PageUser,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let flash = take_flash(&headers);
    let now = state.clock.now();
    let r = state
        .store
        .callback_request(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("Заявки №{id} нет.")))?;
    let callbacks = state.switchboard.callbacks();
    let eta = callbacks.eta(&r, now).await?;
    let item = callbacks.item(r, eta, now);
    let names = operator_names(&state).await?;
    let settings = callbacks.settings();
    let topic = |code: &str| {
        settings
            .topic(code)
            .map(|t| t.label.clone())
            .unwrap_or_else(|| code.to_owned())
    };
    let history = state
        .store
        .callback_history(id)
        .await?
        .iter()
        .map(|e| HistoryRow {
            at: msk(e.at),
            actor: e.actor.clone(),
            action: history_label(&e.action).to_owned(),
            text: describe(e, &names, &topic),
        })
        .collect();
    let attempts = state
        .store
        .attempts_of(id)
        .await?
        .iter()
        .map(|a| attempt_row(a, &names))
        .collect();
    let mut voicemails = Vec::new();
    for vm_id in &item.request.voicemail_ids {
        if let Some(v) = state.store.voicemail(*vm_id).await? {
            voicemails.push(VoicemailRow {
                id: v.id,
                received: msk(v.received_at),
                duration: v
                    .duration_ms
                    .or(v.recording_duration_ms)
                    .map(|ms| format!("{} с", (ms + 500) / 1000))
                    .unwrap_or_default(),
                status: match v.audio_status.as_str() {
                    "pending" => "запись загружается",
                    "stored" => "",
                    "unreadable" => "запись не читается",
                    "missing" => "записи нет",
                    "removed" => "запись удалена по сроку хранения",
                    _ => "без записи",
                }
                .to_owned(),
                playable: v.audio_status == "stored",
            });
        }
    }
    // Who holds what, for the reassign list.
    let held: HashMap<i64, i64> = state
        .store
        .find_callbacks(&CallbackFilter {
            states: vec!["claimed".into()],
            number_patterns: Vec::new(),
            reg_number: None,
            limit: 1000,
        })
        .await?
        .into_iter()
        .filter_map(|r| Some((r.claimed_by?, r.id)))
        .collect();
    let mut operators = vec![Opt::new("", "выберите оператора", "")];
    for o in state.store.operators().await? {
        let mut label = format!("{} ({})", o.name, o.login);
        if let Some(h) = held.get(&o.id) {
            label.push_str(&format!(" — ведёт заявку №{h}"));
        }
        operators.push(Opt::new(&o.login, &label, ""));
    }
    let closings = CloseAs::ALL
        .iter()
        .map(|c| {
            Opt::new(
                c.as_str(),
                outcome_label(c.as_str()),
                "closed_by_supervisor",
            )
        })
        .collect();
    let r = &item.request;
    let page = DetailPage {
        chrome: Chrome::new(&user, "admin"),
        flash: flash.clone(),
        id,
        label: r.reg_number.clone().unwrap_or_else(|| format!("№{id}")),
        number: spelled(&r.callback_number),
        number_href: format!("tel:{}", r.callback_number),
        state: r.state.clone(),
        state_text: state_label(&r.state).to_owned(),
        is_closed: r.state == "closed",
        is_claimed: r.state == "claimed",
        facts: facts(&item, &names, &topic),
        history,
        attempts,
        voicemails,
        operators,
        closings,
    };
    Ok(with_flash_cleared(&state, &flash, render(&page)))
}

/// The result of an action as a redirect back with a message; a missing request is a 404 page.
fn after(
    state: &AppState,
    id: i64,
    result: Result<CallbackItem, SuperviseError>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(_) => Ok(redirect_with(state, &location(id), true, done)),
        Err(SuperviseError::Invalid(m) | SuperviseError::Conflict(m)) => {
            Ok(redirect_with(state, &location(id), false, &m))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize, Default)]
pub struct ReasonForm {
    #[serde(default)]
    reason: String,
    #[serde(default)]
    operator: String,
    #[serde(default)]
    close_as: String,
}

/// `POST /admin/callbacks/{id}/release`.
pub async fn release(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let result = state
        .switchboard
        .callbacks()
        .release_by_supervisor(id, Some(&f.reason), &user.user.login, state.clock.now())
        .await;
    after(
        &state,
        id,
        result,
        &format!("Заявка №{id} возвращена в очередь."),
    )
}

/// `POST /admin/callbacks/{id}/reassign`.
pub async fn reassign(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let result = state
        .switchboard
        .callbacks()
        .reassign(
            id,
            &f.operator,
            &f.reason,
            &user.user.login,
            state.clock.now(),
        )
        .await;
    let done = format!("Заявка №{id} передана оператору {}.", f.operator.trim());
    after(&state, id, result, &done)
}

/// `POST /admin/callbacks/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    user: PageUser,
    Path(id): Path<i64>,
    Form(f): Form<ReasonForm>,
) -> Result<Response, PageError> {
    user.require_supervisor()?;
    let result = state
        .switchboard
        .callbacks()
        .close(
            id,
            Some(&f.close_as),
            &f.reason,
            &user.user.login,
            state.clock.now(),
        )
        .await;
    if let Ok(item) = &result {
        crate::http::api::mail_reply::letter_on_rejection(&state, &item.request, &user.user.login)
            .await;
    }
    after(&state, id, result, &format!("Заявка №{id} закрыта."))
}
