//! `GET /api/v1/calendar/follow-up-slots?days=N`: the times a follow-up call may be agreed for —
//! every quarter hour inside the working windows of the next `N` working days (default 5, at
//! most 14), Moscow time, from the calendar (see `domain::callback::follow_up_slots`). The
//! operator's picker offers only these; the outcome refuses any other time by the same calendar.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::TimeDelta;
use serde::{Deserialize, Serialize};

use super::calendar::moscow_rfc3339;
use crate::calendar::{MOSCOW, moscow_date};
use crate::domain::callback::{MAX_FOLLOW_UP_DAYS, follow_up_slots};
use crate::http::pages::operator::labels;
use crate::http::{AppError, AppState};

/// The picker's step.
pub const SLOT_STEP_MINUTES: i64 = 15;

#[derive(Deserialize)]
pub struct SlotsQuery {
    days: Option<u32>,
}

/// One slot: the instant (Moscow RFC 3339, the value to send as `follow_up_at`) and its words.
#[derive(Serialize)]
pub struct SlotJson {
    pub at: String,
    pub date: String,
    /// `вторник, 1 декабря`.
    pub day: String,
    /// `10:15`.
    pub time: String,
}

/// `GET /api/v1/calendar/follow-up-slots`.
pub async fn slots(
    State(state): State<AppState>,
    q: Result<Query<SlotsQuery>, QueryRejection>,
) -> Result<Json<Vec<SlotJson>>, AppError> {
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    let days = q.days.unwrap_or(5);
    if !(1..=MAX_FOLLOW_UP_DAYS).contains(&days) {
        return Err(AppError::BadRequest(format!(
            "`days` must be between 1 and {MAX_FOLLOW_UP_DAYS}"
        )));
    }
    let now = state.clock.now();
    let step = TimeDelta::minutes(SLOT_STEP_MINUTES);
    Ok(Json(
        follow_up_slots(&state.calendar, now, days, step)
            .into_iter()
            .map(|t| {
                let date = moscow_date(t);
                SlotJson {
                    at: moscow_rfc3339(t),
                    date: date.to_string(),
                    day: labels::day(date),
                    time: t.with_timezone(&MOSCOW).format("%H:%M").to_string(),
                }
            })
            .collect(),
    ))
}
