//! The audit log over the API, for supervisors and administrators:
//! `GET /api/v1/audit?actor=&action=&from=YYYY-MM-DD&to=YYYY-MM-DD&limit=&before_id=`. Dates are
//! Moscow dates, both included; entries come newest first, at most `limit` (default 100, at most
//! 1000); `before_id` (the smallest id of a page) asks for the next, older page. The workspace's
//! audit page reads the same query ([`filter_of`]).

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use chrono::{NaiveDate, NaiveTime, TimeDelta};
use serde::Deserialize;

use crate::calendar::moscow_to_utc;
use crate::http::auth::AuthUser;
use crate::http::{AppError, AppState};
use crate::store::{AuditEntry, AuditFilter};

/// The query of the API and of the audit page.
#[derive(Deserialize, Default, Debug, Clone)]
pub struct AuditQuery {
    #[serde(default)]
    pub actor: String,
    #[serde(default)]
    pub action: String,
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
    pub limit: Option<i64>,
    pub before_id: Option<i64>,
}

/// Parses an optional Moscow date (`YYYY-MM-DD`, empty: none); the error is in Russian and English.
pub fn parse_date(s: &str, what: &str) -> Result<Option<NaiveDate>, AppError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| AppError::BadRequest(format!("`{what}` must be a date like 2026-12-01")))
}

/// The store filter for a query: `from`'s Moscow midnight to the Moscow midnight after `to`.
pub fn filter_of(q: &AuditQuery) -> Result<AuditFilter, AppError> {
    let midnight = NaiveTime::MIN;
    let from = parse_date(&q.from, "from")?.map(|d| moscow_to_utc(d, midnight));
    let to = parse_date(&q.to, "to")?.map(|d| moscow_to_utc(d + TimeDelta::days(1), midnight));
    Ok(AuditFilter {
        actor: q.actor.trim().to_owned(),
        action: q.action.trim().to_owned(),
        from,
        to,
        before_id: q.before_id,
        limit: q.limit.unwrap_or(100),
    })
}

/// `GET /api/v1/audit`.
pub async fn list(
    State(state): State<AppState>,
    user: AuthUser,
    q: Result<Query<AuditQuery>, QueryRejection>,
) -> Result<Json<Vec<AuditEntry>>, AppError> {
    user.require_supervisor()?;
    let Query(q) = q.map_err(|e| AppError::BadRequest(e.body_text()))?;
    Ok(Json(state.store.search_audit(&filter_of(&q)?).await?))
}
