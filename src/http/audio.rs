//! `GET /audio/prompts/{path}`: the Russian voice prompts, built into the binary from
//! `audio/prompts/` (WAV, 8 kHz mono 16-bit), for providers that `<Play>` them. Only files that
//! were embedded can be served, so no request path ever reaches the file system.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppError;

#[derive(rust_embed::RustEmbed)]
#[folder = "audio/prompts/"]
#[include = "*.wav"]
struct Prompts;

/// Serves one prompt clip.
pub async fn prompt(Path(path): Path<String>) -> Result<Response, AppError> {
    let file =
        Prompts::get(&path).ok_or_else(|| AppError::NotFound(format!("no prompt {path}")))?;
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..8]));
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "audio/wav".to_owned()),
            (header::CACHE_CONTROL, "public, max-age=86400".to_owned()),
            (header::ETAG, etag),
        ],
        file.data.into_owned(),
    )
        .into_response())
}

/// True when a clip path is embedded (used to check prompts at start and in tests).
pub fn has_prompt(path: &str) -> bool {
    Prompts::get(path).is_some()
}
