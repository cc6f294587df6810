//! `/webhooks/zadarma`: Zadarma's PBX call notifications. `GET ?zd_echo=X` answers `X` (Zadarma
//! checks the URL that way when it is saved). A `POST` is a `NOTIFY_*` form: one without `event`
//! is 400; an unknown event is answered 200 and logged; a known one must carry the `Signature` of its own fields (missing or
//! wrong → 403, nothing changes); a malformed one → 400 naming the field. Each notification becomes
//! one or more neutral events for the switchboard, each with a key that makes a re-delivery a
//! no-op (`start`, `dtmf:<wait name>:<digits>`, `end`, `record:<id>`, …); the reply to
//! `NOTIFY_START` / `NOTIFY_IVR` is the next action of the call's script (`zadarma_script.rs`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use serde_json::{Value, json};

use super::zadarma_script::{Flow, PROVIDER};
use crate::domain::call::CallState;
use crate::http::{AppError, AppState};
use crate::telephony::zadarma::parse::{Ended, Inbound};
use crate::telephony::zadarma::{Action, Notify, ParseError, parse, signature};
use crate::telephony::{CallStatus, DialOutcome, EventKind, Recording, RecordingStatus};

/// `GET /webhooks/zadarma?zd_echo=X`: the URL check.
pub async fn echo(Query(q): Query<HashMap<String, String>>) -> Response {
    match q.get("zd_echo") {
        Some(x) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            x.clone(),
        )
            .into_response(),
        None => AppError::BadRequest("expected the `zd_echo` parameter".into()).into_response(),
    }
}

/// `POST /webhooks/zadarma`: one notification.
pub async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let Some(cfg) = state.config.zadarma.as_ref() else {
        return Err(AppError::NotFound(
            "Zadarma is not configured on this instance".into(),
        ));
    };
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(AppError::BadRequest(
            "expected an application/x-www-form-urlencoded body".into(),
        ));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let Some(event) = parse::field(&params, "event") else {
        return Err(AppError::BadRequest(
            ParseError::Missing("event").to_string(),
        ));
    };
    if signature::signature_string(&params).is_none() {
        let shown: String = event.chars().take(40).collect();
        tracing::info!(event = %shown, "Zadarma notification of an unknown kind: ignored");
        return Ok(json_response(json!({})));
    }
    let sig = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !signature::verify(cfg.secret.expose(), &params, sig) {
        tracing::warn!(
            signed = !sig.is_empty(),
            "rejected a Zadarma notification: bad signature"
        );
        return Err(AppError::Forbidden("invalid Signature".into()));
    }
    let notify = match parse(&params) {
        Ok(n) => n,
        Err(ParseError::Unknown(e)) => {
            tracing::info!(event = %e, "Zadarma notification of an unknown kind: ignored");
            return Ok(json_response(json!({})));
        }
        Err(e) => return Err(AppError::BadRequest(e.to_string())),
    };
    let payload = serde_json::to_string(
        &params
            .iter()
            .cloned()
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
    .unwrap_or_default();
    let flow = Flow::new(&state, cfg, payload);
    let answer = match notify {
        Notify::Start(call) => {
            let call = flow.call(&call);
            flow.run(&call, EventKind::Incoming, "start".into()).await
        }
        Notify::Ivr { call, dtmf } => flow.ivr(&flow.call(&call), dtmf).await,
        Notify::Internal { call, internal } => {
            let status = status(CallStatus::Ringing);
            flow.step(&flow.call(&call), status, format!("internal:{internal}"))
                .await
                .map(|_| json!({}))
        }
        Notify::Answer {
            pbx_call_id,
            internal,
        } => {
            let call = flow.call_id(&pbx_call_id);
            let key = format!("answer:{}", internal.as_deref().unwrap_or("-"));
            flow.step(&call, status(CallStatus::InProgress), key)
                .await
                .map(|_| json!({}))
        }
        Notify::End { call, end } => end_of(&flow, &flow.call(&call), &end)
            .await
            .map(|_| json!({})),
        Notify::Record {
            pbx_call_id,
            call_id_with_rec,
        } => recorded(&flow, &pbx_call_id, &call_id_with_rec)
            .await
            .map(|_| json!({})),
        Notify::OutStart(out) => flow.outbound(&out, None).await.map(|_| json!({})),
        Notify::OutEnd { call, end } => flow.outbound(&call, Some(&end)).await.map(|_| json!({})),
    };
    match answer {
        Ok(v) => Ok(json_response(v)),
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "Zadarma notification failed");
            Err(AppError::Internal(e))
        }
    }
}

fn status(status: CallStatus) -> EventKind {
    EventKind::Status {
        status,
        sequence: None,
        duration: None,
    }
}

/// `NOTIFY_END`: an answered operator call ends with its talk time; a call that was handed to the
/// recording scenario ends with its message; then the call is over.
async fn end_of(
    flow: &Flow<'_>,
    call: &super::zadarma_script::CallRef,
    end: &Ended,
) -> anyhow::Result<()> {
    let stored = flow.stored_call(&call.id).await?;
    let state = stored
        .as_ref()
        .and_then(|c| c.state.parse::<CallState>().ok());
    if state == Some(CallState::RingingOperator) && end.disposition == "answered" {
        let kind = EventKind::DialEnded {
            outcome: DialOutcome::Answered,
            talk: end.duration,
        };
        flow.step(call, kind, "end:dial".into()).await?;
    }
    let recording = end.recording.as_ref().map(|id| Recording {
        id: id.clone(),
        url: String::new(),
        duration: None,
    });
    if state == Some(CallState::Voicemail)
        && flow.current_action(&call.id).await? == Some(Action::Record)
    {
        let kind = EventKind::Recorded {
            recording: recording.clone(),
            digits: None,
        };
        flow.step(call, kind, "end:recorded".into()).await?;
    }
    let kind = EventKind::Status {
        status: CallStatus::Completed,
        sequence: None,
        duration: Some(end.duration),
    };
    flow.step(call, kind, "end".into()).await?;
    if let Some(r) = recording
        && flow.has_voicemail(&call.id).await?
    {
        ready(flow, call, r).await?;
    }
    flow.forget(&call.id).await
}

/// `NOTIFY_RECORD`: a voicemail's recording is ready (an operator conversation's is not ours).
async fn recorded(flow: &Flow<'_>, pbx_call_id: &str, id: &str) -> anyhow::Result<()> {
    let call = flow.call_id(pbx_call_id);
    if !flow.has_voicemail(pbx_call_id).await? {
        tracing::info!("a Zadarma recording of a call without voicemail: not downloaded");
        return Ok(());
    }
    let r = Recording {
        id: id.to_owned(),
        url: String::new(),
        duration: None,
    };
    ready(flow, &call, r).await
}

async fn ready(
    flow: &Flow<'_>,
    call: &super::zadarma_script::CallRef,
    recording: Recording,
) -> anyhow::Result<()> {
    let key = format!("record:{}", recording.id);
    let kind = EventKind::RecordingReady {
        recording,
        status: RecordingStatus::Completed,
    };
    flow.step(call, kind, key).await.map(|_| ())
}

/// The caller as the call's neutral `from`: E.164 when it is a phone number.
pub(super) fn caller(call: &Inbound) -> Option<String> {
    call.caller_id.as_deref().map(|c| {
        crate::domain::phone::PhoneNumber::parse(c)
            .map(|n| n.as_str().to_owned())
            .unwrap_or_else(|_| c.to_owned())
    })
}

fn json_response(v: Value) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        v.to_string(),
    )
        .into_response()
}

/// Zadarma waits this long at most for a hold tick; used for a queued caller's wait.
pub(super) fn waited(
    since: Option<chrono::DateTime<chrono::Utc>>,
    now: chrono::DateTime<chrono::Utc>,
) -> TimeDelta {
    since
        .map(|s| (now - s).max(TimeDelta::zero()))
        .unwrap_or_default()
}

pub(super) const _PROVIDER: &str = PROVIDER;
