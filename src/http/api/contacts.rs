//! `GET /api/v1/callbacks/{id}/contacts`: the earlier contacts of a request's callback number —
//! calls from it, voicemails that left it, and callback requests for it with their outcomes —
//! for the operator's card, plus the address of the request's newest voicemail recording. The
//! numbers are shown in full only to the request's holder and to supervisors; everyone else sees
//! them masked like the logs do.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::phone::mask;
use crate::http::auth::AuthUser;
use crate::http::pages::operator::labels;
use crate::http::{AppError, AppState};
use crate::store::CallbackRequest;

/// The card's contacts.
#[derive(Serialize)]
pub struct ContactsJson {
    pub request_id: i64,
    /// The callback number, masked unless the viewer holds the request or supervises.
    pub number: String,
    /// Where to play the request's newest recorded voicemail, if it has one.
    pub audio_url: Option<String>,
    pub calls: Vec<CallContact>,
    pub voicemails: Vec<VoicemailContact>,
    /// The number's other requests (this one left out), newest first.
    pub requests: Vec<RequestContact>,
}

#[derive(Serialize)]
pub struct CallContact {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub at_label: String,
    pub from_number: Option<String>,
    pub state: String,
    pub state_label: &'static str,
}

#[derive(Serialize)]
pub struct VoicemailContact {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub at_label: String,
    pub request_id: Option<i64>,
    /// Attached to the request the card shows.
    pub current: bool,
    pub category_label: &'static str,
    pub audio_status: String,
    pub duration_ms: Option<i64>,
    pub audio_url: Option<String>,
}

#[derive(Serialize)]
pub struct RequestContact {
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub created_label: String,
    pub closed_label: Option<String>,
    pub state: String,
    pub state_label: &'static str,
    pub outcome: Option<String>,
    pub outcome_label: &'static str,
    pub topic: Option<String>,
    pub topic_label: Option<String>,
    pub note: Option<String>,
    pub attempts: i64,
}

/// Whether `user` may see the request's numbers in full: its holder, or a supervisor.
pub async fn sees_full_number(
    state: &AppState,
    user: &crate::store::User,
    r: &CallbackRequest,
) -> Result<bool, AppError> {
    if user.role.is_supervisor() {
        return Ok(true);
    }
    let op = state.store.operator_by_login(&user.login).await?;
    Ok(r.is_held_by(op.map(|o| o.id)))
}

/// The address of the request's newest voicemail with stored audio.
pub async fn voicemail_audio_url(
    state: &AppState,
    r: &CallbackRequest,
) -> Result<Option<String>, AppError> {
    for id in r.voicemail_ids.iter().rev() {
        if let Some(v) = state.store.voicemail(*id).await?
            && v.audio_path.is_some()
        {
            return Ok(Some(audio_url(v.id)));
        }
    }
    Ok(None)
}

fn audio_url(id: i64) -> String {
    format!("/api/v1/voicemails/{id}/audio")
}

/// `GET /api/v1/callbacks/{id}/contacts`.
pub async fn contacts(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<ContactsJson>, AppError> {
    let r = state
        .store
        .callback_request(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no callback request {id}")))?;
    let full = sees_full_number(&state, &user.0, &r).await?;
    let shown = |n: &str| if full { n.to_owned() } else { mask(n) };
    let found = state.store.number_contacts(&r.callback_number).await?;
    let settings = state.switchboard.callbacks().settings().clone();
    let calls = found
        .calls
        .into_iter()
        .map(|c| CallContact {
            id: c.id,
            at: c.started_at,
            at_label: labels::moscow(c.started_at),
            from_number: c.from_number.as_deref().map(shown),
            state_label: labels::call_state(&c.state),
            state: c.state,
        })
        .collect();
    let voicemails = found
        .voicemails
        .into_iter()
        .map(|v| VoicemailContact {
            id: v.id,
            at: v.received_at,
            at_label: labels::moscow(v.received_at),
            request_id: v.callback_request_id,
            current: v.callback_request_id == Some(r.id),
            category_label: labels::category(v.caller_category.as_deref()),
            audio_url: v.audio_path.as_ref().map(|_| audio_url(v.id)),
            audio_status: v.audio_status,
            duration_ms: v.duration_ms,
        })
        .collect();
    let requests = found
        .requests
        .into_iter()
        .filter(|o| o.id != r.id)
        .map(|o| RequestContact {
            id: o.id,
            created_at: o.created_at,
            created_label: labels::moscow(o.created_at),
            closed_label: o.closed_at.map(labels::moscow),
            state_label: labels::state(&o.state),
            state: o.state,
            outcome_label: o.outcome.as_deref().map(labels::outcome).unwrap_or(""),
            outcome: o.outcome,
            topic_label: o
                .topic
                .as_deref()
                .and_then(|t| settings.topic(t))
                .map(|t| t.label.clone()),
            topic: o.topic,
            note: o.note,
            attempts: o.attempts,
        })
        .collect();
    Ok(Json(ContactsJson {
        request_id: r.id,
        number: shown(&r.callback_number),
        audio_url: voicemail_audio_url(&state, &r).await?,
        calls,
        voicemails,
        requests,
    }))
}
