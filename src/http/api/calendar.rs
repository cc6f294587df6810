//! The hotline's working calendar over HTTP: `GET /api/v1/calendar/next-window?at=<RFC 3339>` (the
//! window containing the instant or the next one; `at` defaults to now) and
//! `GET /api/v1/calendar/days?from=YYYY-MM-DD&to=YYYY-MM-DD` (at most 400 days). Public: opening
//! hours are no secret.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Calendar, MOSCOW, Window};
use crate::http::{AppError, AppState};

#[derive(Deserialize)]
pub struct NextWindowQuery {
    at: Option<String>,
}

/// A window as answered: Moscow-offset RFC 3339 times.
#[derive(Serialize)]
pub struct WindowJson {
    pub start: String,
    pub end: String,
    /// True when `at` is inside the window.
    pub open_now: bool,
}

/// Formats an instant in Moscow time, RFC 3339 with its offset (`+03:00`).
pub fn moscow_rfc3339(t: DateTime<Utc>) -> String {
    t.with_timezone(&MOSCOW)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Parses an RFC 3339 instant (any offset).
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::<FixedOffset>::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("`{s}` is not an RFC 3339 instant like 2026-12-01T09:00:00+03:00: {e}")
        })
}

/// The window containing `at` or the next one, as JSON.
pub fn window_json(calendar: &Calendar, at: DateTime<Utc>) -> Result<WindowJson, AppError> {
    let Window { start, end } = calendar.window_at_or_after(at).ok_or_else(|| {
        AppError::Conflict("the hotline has no opening hours in the coming year".into())
    })?;
    Ok(WindowJson {
        start: moscow_rfc3339(start),
        end: moscow_rfc3339(end),
        open_now: start <= at && at < end,
    })
}

/// `GET /api/v1/calendar/next-window`.
pub async fn next_window(
    State(state): State<AppState>,
    q: Result<Query<NextWindowQuery>, QueryRejection>,
) -> Result<Json<WindowJson>, AppError> {
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let at = match q.at.as_deref() {
        Some(s) => parse_instant(s).map_err(AppError::BadRequest)?,
        None => state.clock.now(),
    };
    Ok(Json(window_json(&state.calendar, at)?))
}

#[derive(Deserialize)]
pub struct DaysQuery {
    from: NaiveDate,
    to: NaiveDate,
}

#[derive(Serialize)]
pub struct DayJson {
    date: NaiveDate,
    kind: &'static str,
    open: Option<String>,
    close: Option<String>,
}

/// `GET /api/v1/calendar/days`.
pub async fn days(
    State(state): State<AppState>,
    q: Result<Query<DaysQuery>, QueryRejection>,
) -> Result<Json<Vec<DayJson>>, AppError> {
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    if q.to < q.from || (q.to - q.from).num_days() > 400 {
        return Err(AppError::BadRequest(
            "`to` must be on or after `from` and at most 400 days later".into(),
        ));
    }
    let days = q
        .from
        .iter_days()
        .take_while(|d| *d <= q.to)
        .map(|d| {
            let day = state.calendar.day(d);
            DayJson {
                date: d,
                kind: day.kind.as_str(),
                open: day
                    .hours
                    .as_ref()
                    .map(|h| h.open.format("%H:%M").to_string()),
                close: day
                    .hours
                    .as_ref()
                    .map(|h| h.close.format("%H:%M").to_string()),
            }
        })
        .collect();
    Ok(Json(days))
}
