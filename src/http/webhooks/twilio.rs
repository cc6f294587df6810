//! `POST /webhooks/twilio/...`: Twilio's voice webhooks (the number's Voice URL `voice`, the call's
//! `status` callback, and the `dial`, `queue/wait`, `queue/left`, `gather/...` and `connect` steps
//! our TwiML points at). Every request must carry a valid `X-Twilio-Signature` over the configured
//! `public_url` + path + query and the form parameters: missing or wrong → 403 and nothing changes.
//! A malformed request → 400 with the reason. If routing fails internally on a call that is waiting
//! for TwiML, the caller hears an apology instead of Twilio's generic error.

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::config::Speech;
use crate::http::{AppError, AppState};
use crate::speech::Prompt;
use crate::switchboard::Incoming;
use crate::telephony::twilio::{self, Route, SpeechMode};
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
    let event = twilio::parse(&route, &params).map_err(|e| AppError::BadRequest(e.to_string()))?;
    let key = twilio::event_key(&route, &params);
    let payload = serde_json::to_string(
        &params
            .iter()
            .cloned()
            .collect::<std::collections::BTreeMap<_, _>>(),
    )
    .unwrap_or_default();
    let speech = match &cfg.speech {
        Speech::Clips => SpeechMode::Clips {
            base_url: format!("{}/audio/prompts", state.config.public_url),
        },
        Speech::Tts { voice } => SpeechMode::Tts {
            language: "ru-RU".into(),
            voice: voice.clone(),
        },
    };
    let public_url = state.config.public_url.clone();
    let sip_domain = cfg.sip_domain.clone();
    let render = |reply: &Reply| -> anyhow::Result<String> {
        Ok(twilio::render(
            reply,
            &public_url,
            &speech,
            sip_domain.as_deref(),
        )?)
    };
    let inc = Incoming {
        provider: "twilio",
        event: &event,
        key: &key,
        payload,
    };
    match state.switchboard.handle(inc, &render).await {
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

fn twiml_response(body: String) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        body,
    )
        .into_response()
}
