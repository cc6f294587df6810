//! `POST /webhooks/twilio/...`: Twilio's voice webhooks (the number's Voice URL `voice`, the call's
//! `status` callback, and the `dial`, `queue/wait`, `queue/left`, `gather/...` and `connect` steps
//! our TwiML points at). Every request must carry a valid `X-Twilio-Signature` over the configured
//! `public_url` + path + query and the form parameters: missing or wrong → 403 and nothing changes.
//! A malformed request → 400 with the reason. If routing fails internally on a call that is waiting
//! for TwiML, the caller hears an apology instead of Twilio's generic error.
//!
//! The click-to-call callback's webhooks are not inbound-call events and skip the switchboard:
//! `callback/connect?attempt=ID` (the operator answered) is answered with an announcement and a
//! `<Dial>` to the caller, or (still 200) with an apology and a hang-up if the attempt is unknown,
//! over or placed another call, or its request is closed (or not held by the attempt's operator:
//! then the operator is told so); `callback/status?attempt=ID` records the
//! call's status on the attempt (204; a late live status after a final one is ignored).

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::config::{Speech, TwilioConfig};
use crate::domain::phone::mask;
use crate::http::{AppError, AppState};
use crate::speech::Prompt;
use crate::switchboard::Incoming;
use crate::telephony::twilio::{self, Route, SpeechMode, callback};
use crate::telephony::{Reply, Verb};

const SIGNATURE: &str = "x-twilio-signature";

/// Handles every Twilio webhook.
pub async fn webhook(
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AppError> {
    let Some(cfg) = state.config.twilio.as_ref() else {
        return Err(AppError::NotFound(
            "Twilio is not configured on this instance".into(),
        ));
    };
    let route = twilio::route_from_path(uri.path(), uri.query())
        .ok_or_else(|| AppError::NotFound(format!("no Twilio webhook at {}", uri.path())))?;
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
    let url = match uri.query() {
        Some(q) => format!("{}{}?{q}", state.config.public_url, uri.path()),
        None => format!("{}{}", state.config.public_url, uri.path()),
    };
    let signature = headers
        .get(SIGNATURE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !twilio::validate(cfg.auth_token.expose(), &url, &params, signature) {
        tracing::warn!(
            path = uri.path(),
            signed = !signature.is_empty(),
            "rejected a Twilio webhook: bad signature"
        );
        return Err(AppError::Forbidden("invalid X-Twilio-Signature".into()));
    }
    match route {
        Route::CallbackConnect { attempt_id } => {
            return callback_connect(&state, cfg, attempt_id, &params).await;
        }
        Route::CallbackStatus { attempt_id } => {
            return callback_status(&state, attempt_id, &params).await;
        }
        _ => {}
    }
    let event = twilio::parse(&route, &params).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let key = twilio::event_key(&route, &params);
    let payload = serde_json::to_string(
        &params
            .iter()
            .cloned()
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
    .unwrap_or_default();
    let speech = speech_mode(&state, cfg);
    let public_url = state.config.public_url.clone();
    let sip_domain = cfg.sip_domain.clone();
    let render = std::sync::Arc::new(move |reply: &Reply| -> anyhow::Result<String> {
        Ok(twilio::render(
            reply,
            &public_url,
            &speech,
            sip_domain.as_deref(),
        )?)
    });
    let inc = Incoming {
        provider: "twilio",
        event: &event,
        key: &key,
        payload,
    };
    match state.switchboard.handle(inc, render.clone()).await {
        Ok(twiml) => Ok(twiml_response(twiml)),
        Err(e)
            if matches!(
                route,
                Route::Voice | Route::Connect { .. } | Route::DialResult | Route::QueueLeft
            ) =>
        {
            tracing::error!(
                error = format!("{e:#}"),
                "routing failed; the caller hears an apology"
            );
            let sorry = vec![Verb::Say(Prompt::TechnicalError.utterance()), Verb::Hangup];
            Ok(twiml_response(render(&sorry).map_err(AppError::Internal)?))
        }
        Err(e) => Err(AppError::Internal(e)),
    }
}

/// How prompts are spoken: recorded clips served by us, or Twilio's Russian TTS.
fn speech_mode(state: &AppState, cfg: &TwilioConfig) -> SpeechMode {
    match &cfg.speech {
        Speech::Clips => SpeechMode::Clips {
            base_url: format!("{}/audio/prompts", state.config.public_url),
        },
        Speech::Tts { voice } => SpeechMode::Tts {
            language: "ru-RU".into(),
            voice: voice.clone(),
        },
    }
}

/// The first value of a form parameter, if present and not empty.
fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

/// `callback/connect`: the operator answered a click-to-call; connect the caller. Anything that
/// prevents it still answers 200 with TwiML, so the operator hears an apology, not Twilio's error.
async fn callback_connect(
    state: &AppState,
    cfg: &TwilioConfig,
    attempt_id: i64,
    params: &[(String, String)],
) -> Result<Response, AppError> {
    let sid = param(params, "CallSid")
        .ok_or_else(|| AppError::BadRequest("missing parameter `CallSid`".into()))?;
    let speech = speech_mode(state, cfg);
    let refuse = |why: &str| {
        tracing::warn!(
            attempt = attempt_id,
            call_sid = sid,
            "click-to-call not connected: {why}; the operator hears an apology"
        );
        Ok(twiml_response(callback::failure_twiml(&speech)))
    };
    let attempt = match state.store.attempt(attempt_id).await {
        Ok(Some(attempt)) => attempt,
        Ok(None) => return refuse("unknown attempt"),
        Err(e) => {
            tracing::error!(attempt = attempt_id, error = %e, "cannot load the click-to-call attempt");
            return refuse("the store failed");
        }
    };
    if attempt
        .provider_call_id
        .as_deref()
        .is_some_and(|placed| placed != sid)
    {
        return refuse("the request is for another call than the attempt placed");
    }
    if attempt.ended_at.is_some() || attempt.outcome.is_some() {
        return refuse("the attempt has already ended");
    }
    let request = match state.store.callback_request(attempt.request_id).await {
        Ok(Some(request)) => request,
        Ok(None) => return refuse("the attempt's request does not exist"),
        Err(e) => {
            tracing::error!(attempt = attempt_id, error = %e, "cannot load the callback request");
            return refuse("the store failed");
        }
    };
    if request.state == "closed" {
        return refuse("the request is already closed");
    }
    if !request.is_held_by(attempt.operator_id) {
        tracing::warn!(
            attempt = attempt_id,
            "click-to-call not connected: claim not held"
        );
        return Ok(twiml_response(callback::not_held_twiml(&speech)));
    }
    let Some(from) = cfg.from_number.as_deref().filter(|n| !n.is_empty()) else {
        return refuse("no hotline number configured (twilio.from_number)");
    };
    if let Err(e) = state
        .store
        .dial_status(sid, "in-progress", false, state.clock.now())
        .await
    {
        // The operator is on the line: connect anyway, the status callback will follow.
        tracing::error!(attempt = attempt_id, error = %e, "cannot record the click-to-call status");
    }
    tracing::info!(
        attempt = attempt_id,
        request = request.id,
        caller = %mask(&request.callback_number),
        "the operator answered; dialing the caller"
    );
    Ok(twiml_response(callback::connect_twiml(
        &speech,
        &Prompt::CallbackConnecting.utterance(),
        &request.callback_number,
        from,
    )))
}

/// `callback/status`: Twilio reports the click-to-call's status; a final one ends the attempt.
async fn callback_status(
    state: &AppState,
    attempt_id: i64,
    params: &[(String, String)],
) -> Result<Response, AppError> {
    let sid = param(params, "CallSid")
        .ok_or_else(|| AppError::BadRequest("missing parameter `CallSid`".into()))?;
    let status = param(params, "CallStatus")
        .ok_or_else(|| AppError::BadRequest("missing parameter `CallStatus`".into()))?;
    let is_final = twilio::is_final_status(status).ok_or_else(|| {
        let shown: String = status.chars().take(40).collect();
        AppError::BadRequest(format!(
            "malformed parameter `CallStatus`: `{shown}` is not a Twilio call status"
        ))
    })?;
    // Status callbacks may arrive out of order: a late `ringing` must not follow `completed`.
    let attempt = state.store.attempt(attempt_id).await?;
    if let Some(attempt) = &attempt
        && attempt.provider_call_id.as_deref() == Some(sid)
        && attempt.ended_at.is_some()
        && !is_final
    {
        tracing::debug!(
            attempt = attempt_id,
            status,
            "late status of an ended click-to-call ignored"
        );
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let updated = state
        .store
        .dial_status(sid, status, is_final, state.clock.now())
        .await?;
    match updated {
        Some(a) if a.id != attempt_id => tracing::warn!(
            attempt = attempt_id,
            stored = a.id,
            call_sid = sid,
            "click-to-call status for a call of another attempt"
        ),
        Some(_) => tracing::debug!(attempt = attempt_id, status, "click-to-call status"),
        None => tracing::info!(
            attempt = attempt_id,
            call_sid = sid,
            status,
            "click-to-call status for a call not (yet) recorded on any attempt"
        ),
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn twiml_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}
