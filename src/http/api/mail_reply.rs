//! An operator answering a request by e-mail: `POST /api/v1/callbacks/{id}/reply` with
//! `{"text"}` sends a letter to the request's sender, threaded to the letters of the request
//! (`In-Reply-To` the last letter from the sender, `References` all of them), kept in the
//! request's letters and history (`replied`) and sent by a durable `mail.send` job. The operator
//! must hold the request (a supervisor may answer any). 201 with the letter's id; 400 for an
//! empty or too long text; 404 for an unknown request; 409 when the request has no e-mail address
//! or is closed; 503 when no `[mail]` is configured. `GET /api/v1/callbacks/{id}/letters` lists
//! the request's letters, oldest first.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::callbacks::operator_of;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::mail::smtp::new_message_id;
use crate::notify::{MAIL_MAX_ATTEMPTS, SEND_MAIL};
use crate::store::NewJob;
use crate::store::mail::{AutoReply, MailRow};

/// The longest answer accepted.
pub const REPLY_MAX_CHARS: usize = 20_000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    text: String,
}

/// `POST /api/v1/callbacks/{id}/reply`.
pub async fn reply(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    body: Result<Json<ReplyBody>, JsonRejection>,
) -> Result<Response, AppError> {
    let Json(b) = body.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let text = b.text.trim();
    if text.is_empty() {
        return Err(AppError::BadRequest("`text` must not be empty".into()));
    }
    if text.chars().count() > REPLY_MAX_CHARS {
        return Err(AppError::BadRequest(format!(
            "`text` is longer than {REPLY_MAX_CHARS} characters"
        )));
    }
    let Some(mail) = state.config.mail.as_ref() else {
        return Err(AppError::Unavailable(
            "e-mail is not configured (section `[mail]`)".into(),
        ));
    };
    let r = state
        .store
        .callback_request(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no callback request {id}")))?;
    if !user.0.role.is_supervisor() {
        let op = operator_of(&state, &user).await?;
        if !r.is_held_by(Some(op.id)) {
            return Err(AppError::Conflict(
                "Заявка не у вас: возьмите её, чтобы ответить.".into(),
            ));
        }
    }
    let Some(to) = r.email.clone() else {
        return Err(AppError::Conflict(
            "У заявки нет адреса электронной почты.".into(),
        ));
    };
    if r.state == "closed" {
        return Err(AppError::Conflict("Заявка закрыта.".into()));
    }
    let letters = state.store.request_letters(id).await?;
    let references: Vec<String> = letters.iter().map(|l| l.message_id.clone()).collect();
    let in_reply_to = letters
        .iter()
        .rev()
        .find(|l| l.direction == "in")
        .map(|l| l.message_id.clone());
    let reg = r.reg_number.clone().unwrap_or_else(|| format!("№{id}"));
    let subject = format!("Ответ по заявке {reg}");
    let message_id = new_message_id(&mail.from_address);
    let now = state.clock.now();
    let letter_text = format!("{text}\n\n— {}\nЗаявка {reg}\n", mail.from_name);
    let job = NewJob {
        kind: SEND_MAIL.into(),
        payload: serde_json::json!({
            "to": to,
            "subject": subject,
            "text": letter_text,
            "in_reply_to": in_reply_to,
            "references": references,
            "message_id": message_id,
            "automatic": false,
        })
        .to_string(),
        dedup_key: Some(format!("mail:reply:{message_id}")),
        run_at: now,
        max_attempts: MAIL_MAX_ATTEMPTS,
    };
    let reply = AutoReply {
        message_id: message_id.clone(),
        to,
        subject,
        text: letter_text,
        job,
    };
    state
        .store
        .add_reply_letter(id, &reply, &user.0.login, now)
        .await?;
    state.switchboard.jobs_notifier().notify_one();
    tracing::info!(request = id, "an answer by e-mail queued");
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({ "message_id": message_id })),
    )
        .into_response())
}

/// `GET /api/v1/callbacks/{id}/letters`: the request's letters, oldest first.
pub async fn letters(
    State(state): State<AppState>,
    _user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<MailRow>>, AppError> {
    state
        .store
        .callback_request(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no callback request {id}")))?;
    Ok(Json(state.store.request_letters(id).await?))
}
