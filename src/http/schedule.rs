//! The hotline's public schedule, for the school's site (the regulation asks for it; no sign-in):
//! `GET /schedule` (a Russian page: the phone numbers, this Moscow week's hours, open now or when
//! it opens next, the next non-working and shortened days), `GET /schedule/embed` (the same,
//! compact, which the configured `[schedule] embed_origins` may show in a frame) and
//! `GET /schedule.ics` (the working windows of the next 60 days for calendar applications). A thin
//! layer over the calendar the JSON API uses ([`view`] words it, [`ics`] writes the feed); "now" is
//! the service clock. Pages are askama templates (`templates/`) with inline CSS and no external
//! assets; every answer may be cached for five minutes.

pub mod ics;
pub mod view;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::http::{AppError, AppState};
use view::Page;

/// How many days the feed covers, starting with today (Moscow).
pub const FEED_DAYS: i64 = 60;
const CACHE: &str = "public, max-age=300";
/// The pages need nothing but their own inline style.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/// The three public routes; no authentication.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/schedule", get(full))
        .route("/schedule/embed", get(embed))
        .route("/schedule.ics", get(feed))
}

#[derive(Template)]
#[template(path = "schedule.html")]
struct FullPage<'a> {
    page: &'a Page,
    /// `webcal://…/schedule.ics` from the public URL.
    subscribe_url: String,
    lookahead: i64,
    feed_days: i64,
}

#[derive(Template)]
#[template(path = "schedule_embed.html")]
struct EmbedPage<'a> {
    page: &'a Page,
}

/// `GET /schedule`: not to be framed.
async fn full(State(state): State<AppState>) -> Result<Response, AppError> {
    let page = view::page(
        &state.calendar,
        &state.config.schedule,
        state.clock.now(),
        5,
    );
    let base = &state.config.public_url;
    let subscribe_url = format!(
        "webcal://{}/schedule.ics",
        base.split_once("://")
            .map_or(base.as_str(), |(_, rest)| rest)
    );
    let html = FullPage {
        page: &page,
        subscribe_url,
        lookahead: view::LOOKAHEAD_DAYS,
        feed_days: FEED_DAYS,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(html_response(html, "'none'"))
}

/// `GET /schedule/embed`: framed by this origin and the configured ones.
async fn embed(State(state): State<AppState>) -> Result<Response, AppError> {
    let page = view::page(
        &state.calendar,
        &state.config.schedule,
        state.clock.now(),
        3,
    );
    let html = EmbedPage { page: &page }
        .render()
        .map_err(|e| AppError::Internal(e.into()))?;
    let mut ancestors = vec!["'self'"];
    ancestors.extend(
        state
            .config
            .schedule
            .embed_origins
            .iter()
            .map(String::as_str),
    );
    Ok(html_response(html, &ancestors.join(" ")))
}

/// `GET /schedule.ics`.
async fn feed(State(state): State<AppState>) -> Response {
    let host = url::Url::parse(&state.config.public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "perezvon".into());
    let phones: Vec<String> = (state.config.schedule.phone_numbers.iter())
        .map(|n| view::phone(n).shown)
        .collect();
    let body = ics::feed(
        &state.calendar,
        state.clock.now(),
        FEED_DAYS,
        &phones,
        &host,
    );
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "inline; filename=\"perezvon-schedule.ics\"",
            ),
            (header::CACHE_CONTROL, CACHE),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn html_response(html: String, frame_ancestors: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CACHE_CONTROL, CACHE.to_owned()),
            (
                header::CONTENT_SECURITY_POLICY,
                format!("{CSP}; frame-ancestors {frame_ancestors}"),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        html,
    )
        .into_response()
}

#[cfg(test)]
mod tests;
