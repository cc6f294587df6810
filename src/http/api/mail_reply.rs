//! Letters to the sender of a request by e-mail. An operator answers with
//! `POST /api/v1/callbacks/{id}/reply` and `{"text"}`: a letter to the request's sender, threaded
//! to the request's letters (`In-Reply-To` the sender's last letter, `References` all of them),
//! kept in the request's letters and history (`replied`) and sent by a durable `mail.send` job.
//! The operator must hold the request (a supervisor may answer any). 201 with the letter's id;
//! 400 for an empty or too long text; 404 for an unknown request; 409 when the request has no
//! e-mail address or is closed; 503 when no `[mail]` is configured.
//! `GET /api/v1/callbacks/{id}/letters` lists the request's letters, oldest first. A request by
//! e-mail closed on one of the regulation's rejection grounds sends its sender a letter that says
//! why ([`letter_on_rejection`]).

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
use crate::notify::MailPayload;
use crate::store::CallbackRequest;
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
    if state.config.mail.is_none() {
        return Err(AppError::Unavailable(
            "e-mail is not configured (section `[mail]`)".into(),
        ));
    }
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
    if r.email.is_none() {
        return Err(AppError::Conflict(
            "У заявки нет адреса электронной почты.".into(),
        ));
    }
    if r.state == "closed" {
        return Err(AppError::Conflict("Заявка закрыта.".into()));
    }
    let subject = format!("Ответ по заявке {}", label(&r));
    let message_id = queue_letter(&state, &r, &subject, text, &user.0.login)
        .await?
        .unwrap_or_default();
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

/// The request's registration number, or `№id` before it has one.
fn label(r: &CallbackRequest) -> String {
    r.reg_number.clone().unwrap_or_else(|| format!("№{}", r.id))
}

/// Queues a letter to the request's sender, threaded to its letters, with our signature and the
/// request's number under `text`; its message id. `None` when the request has no address or no
/// `[mail]` is configured.
pub async fn queue_letter(
    state: &AppState,
    r: &CallbackRequest,
    subject: &str,
    text: &str,
    actor: &str,
) -> Result<Option<String>, AppError> {
    let (Some(mail), Some(to)) = (state.config.mail.as_ref(), r.email.clone()) else {
        return Ok(None);
    };
    let letters = state.store.request_letters(r.id).await?;
    let references: Vec<String> = letters.iter().map(|l| l.message_id.clone()).collect();
    let in_reply_to = letters
        .iter()
        .rev()
        .find(|l| l.direction == "in")
        .map(|l| l.message_id.clone());
    let message_id = new_message_id(&mail.from_address);
    let now = state.clock.now();
    let text = format!("{text}\n\n— {}\nЗаявка {}\n", mail.from_name, label(r));
    let job = MailPayload {
        to: to.clone(),
        subject: subject.to_owned(),
        text: text.clone(),
        in_reply_to,
        references,
        message_id: Some(message_id.clone()),
        automatic: false,
    }
    .job(format!("mail:reply:{message_id}"), now);
    let letter = AutoReply {
        message_id: message_id.clone(),
        to,
        subject: subject.to_owned(),
        text,
        job,
    };
    state
        .store
        .add_reply_letter(r.id, &letter, actor, now)
        .await?;
    state.switchboard.jobs_notifier().notify_one();
    Ok(Some(message_id))
}

/// After a request by e-mail was closed on one of the regulation's rejection grounds: the letter
/// that tells its sender why (nothing for other outcomes or requests without an address). A
/// failure to queue it is logged, not returned: the closing stands.
pub async fn letter_on_rejection(state: &AppState, r: &CallbackRequest, actor: &str) {
    let why = match r.outcome.as_deref() {
        Some("rejected_insufficient_info") => {
            "В обращении недостаточно информации, чтобы мы могли помочь. Напишите нам, пожалуйста, \
             снова и укажите, кто вы (родитель, учитель, сотрудник школы), вашу школу и класс, \
             логин на портале и что именно не получается (по возможности со снимком экрана)."
        }
        Some("rejected_unclear") => {
            "Вопрос в обращении сформулирован некорректно: нам не удалось понять, что требуется. \
             Напишите нам, пожалуйста, снова и опишите, что вы хотели сделать на портале и что \
             произошло вместо этого."
        }
        _ => return,
    };
    let reg = label(r);
    let text = format!("Здравствуйте!\n\nЗаявка {reg} закрыта без решения. {why}");
    let subject = format!("Заявка {reg} отклонена");
    if let Err(e) = queue_letter(state, r, &subject, &text, actor).await {
        tracing::error!(request = r.id, error = %e, "the rejection letter could not be queued");
    }
}
