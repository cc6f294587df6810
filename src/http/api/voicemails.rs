//! Voicemails for operators and supervisors: `GET /api/v1/voicemails?limit=N` (newest first) and
//! `GET /api/v1/voicemails/{id}/audio` (the normalized WAV, with HTTP Range support). Recordings
//! are personal data: only signed-in users get them, every access is written to the audit log, and
//! the file path comes from the database, never from the request.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tower::ServiceExt;
use tower_http::services::ServeFile;

use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::store::{NewAuditEntry, Voicemail};

#[derive(Deserialize)]
pub struct ListQuery {
    limit: Option<i64>,
}

/// A voicemail as the API shows it.
#[derive(Serialize)]
pub struct VoicemailJson {
    #[serde(flatten)]
    voicemail: Voicemail,
    /// Where to fetch the audio, when there is any.
    audio_url: Option<String>,
}

/// `GET /api/v1/voicemails`.
pub async fn list(
    State(state): State<AppState>,
    _user: AuthUser,
    q: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<Vec<VoicemailJson>>, AppError> {
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(AppError::BadRequest(
            "`limit` must be between 1 and 1000".into(),
        ));
    }
    let list = state.store.voicemails(limit).await?;
    Ok(Json(
        list.into_iter()
            .map(|v| {
                let audio_url = v
                    .audio_path
                    .as_ref()
                    .map(|_| format!("/api/v1/voicemails/{}/audio", v.id));
                VoicemailJson {
                    voicemail: v,
                    audio_url,
                }
            })
            .collect(),
    ))
}

/// `GET /api/v1/voicemails/{id}/audio`.
pub async fn audio(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, AppError> {
    let vm = state
        .store
        .voicemail(id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no voicemail {id}")))?;
    let Some(path) = vm.audio_path.clone() else {
        return Err(AppError::NotFound(format!(
            "voicemail {id} has no stored audio ({})",
            vm.audio_status
        )));
    };
    let entry = NewAuditEntry {
        actor: user.0.login.clone(),
        action: "voicemail.audio".into(),
        subject: format!("voicemail:{id}"),
        detail: serde_json::json!({ "range": req.headers().get(header::RANGE).and_then(|r| r.to_str().ok()) }).to_string(),
        request_id: req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).map(str::to_owned),
    };
    state.store.audit(&entry, state.clock.now()).await?;
    let (parts, _) = req.into_parts();
    let file_req = Request::from_parts(parts, Body::empty());
    let resp = ServeFile::new_with_mime(&path, &"audio/wav".parse().expect("a valid mime"))
        .oneshot(file_req)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("serving voicemail {id}: {e}")))?;
    if resp.status() == axum::http::StatusCode::NOT_FOUND {
        tracing::error!(voicemail = id, "the stored audio file is missing on disk");
        return Err(AppError::NotFound(format!(
            "the audio of voicemail {id} is missing"
        )));
    }
    let mut resp = resp.map(Body::new).into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    Ok(resp)
}
